import { CliIo, Command, UsageError, processIo } from './io';
import { isFormatError } from '../core/formats/errors';
import { ApiError, ApiUnreachableError } from './api-client';

/**
 * The `summit` command: a table of sub-commands. Each entry is `<noun> <verb>` (or a single word) mapped to the
 * module that implements it, loaded lazily so `summit stone inspect` does not pay for the graph code.
 */
export const COMMANDS: Record<string, { usage: string; load: () => Promise<Command> }> = {
  'stone inspect': { usage: 'stone inspect <file.stone> [--json]', load: async () => (await import('./stone')).inspect },
  'stone extract': { usage: 'stone extract <file.stone> <dir>', load: async () => (await import('./stone')).extract },
  'recipe check': { usage: 'recipe check <path>... [--json]', load: async () => (await import('./recipe')).check },
  'manifest inspect': {
    usage: 'manifest inspect <manifest.bin> [--json]',
    load: async () => (await import('./manifest')).inspect,
  },
  'index write': { usage: 'index write --out <dir> <stone files or folders>...', load: async () => (await import('./repo-index')).write },
  'index inspect': { usage: 'index inspect <stone.index> [--json]', load: async () => (await import('./repo-index')).inspect },
  'index history': { usage: 'index history <index> [--json]', load: async () => (await import('./index-admin')).history },
  'index promote': { usage: 'index promote <index> [--to unstable] [--from volatile] [--json]', load: async () => (await import('./index-admin')).promote },
  'index tag': { usage: 'index tag <index> <tag> <history> [--replace] [--json]', load: async () => (await import('./index-admin')).tag },
  'index rollback': { usage: 'index rollback <index> <volatile|unstable> <history> [--json]', load: async () => (await import('./index-admin')).rollback },
  'index prune': { usage: 'index prune <index> --keep N [--dry-run] [--json]', load: async () => (await import('./index-admin')).prune },
  'hook install': {
    usage: 'hook install <repo> --repository <id> [--url <api url>] [--token <hook token>] [--ref <branch>] [--data-dir <dir>] [--force]',
    load: async () => (await import('./hook')).install,
  },
  'tokens create': {
    usage: 'tokens create <name> --role viewer|contributor|builder|admin [--repositories a,b] [--expires 30d|<ISO date>] [--json]',
    load: async () => (await import('./tokens')).create,
  },
  'tokens list': { usage: 'tokens list [--json]', load: async () => (await import('./tokens')).list },
  'tokens revoke': { usage: 'tokens revoke <token id> [--json]', load: async () => (await import('./tokens')).revoke },
  'tasks list': { usage: 'tasks list [--status a,b] [--repository r] [--source s] [--limit n] [--cursor c] [--json]', load: async () => (await import('./tasks')).list },
  'tasks show': { usage: 'tasks show <task id> [--json]', load: async () => (await import('./tasks')).show },
  'tasks retry': { usage: 'tasks retry <task id> [--json]', load: async () => (await import('./tasks')).retry },
  'tasks cancel': { usage: 'tasks cancel <task id> [--json]', load: async () => (await import('./tasks')).cancel },
  'tasks priority': { usage: 'tasks priority <task id> <n> [--reason text] [--json]', load: async () => (await import('./tasks')).priority },
  'tasks verify': { usage: 'tasks verify <task id> [--json]', load: async () => (await import('./verifications')).verify },
  'verifications list': { usage: 'verifications list [--result r] [--repository r] [--builder b] [--limit n] [--json]', load: async () => (await import('./verifications')).list },
  'tasks approve': { usage: 'tasks approve <task id> [--reason text] [--json]', load: async () => (await import('./tasks')).approve },
  'builders list': { usage: 'builders list [--json]', load: async () => (await import('./builders')).list },
  'builders drain': { usage: 'builders drain <builder id> [--reason text] [--json]', load: async () => (await import('./builders')).drain },
  'builders resume': { usage: 'builders resume <builder id> [--reason text] [--json]', load: async () => (await import('./builders')).resume },
  try: { usage: 'try <repository> <ref> [--name <name>] [--ttl 2d] [--json]', load: async () => (await import('./try')).start },
  'tries list': { usage: 'tries list [--all] [--repository r] [--json]', load: async () => (await import('./try')).list },
  'tries expire': { usage: 'tries expire <name> [--json]', load: async () => (await import('./try')).expire },
  'tries sweep': { usage: 'tries sweep [--dry-run] [--json]', load: async () => (await import('./try')).sweep },
  'builders enrol-token': { usage: 'builders enrol-token --trust trusted|community [--expires 12h] [--json]', load: async () => (await import('./builders')).enrolToken },
  'builders trust': { usage: 'builders trust <builder id> trusted|community [--reason text] [--json]', load: async () => (await import('./builders')).trust },
  'builders revoke': { usage: 'builders revoke <builder id> [--reason text] [--json]', load: async () => (await import('./builders')).revoke },
  'repos list': { usage: 'repos list [--json]', load: async () => (await import('./repos')).list },
  'repos add': { usage: 'repos add <id> --project <p> --url <url> [--ref <branch>] [--cascade] [--networking] [--promote unstable] [--base <index>] [--verify-rate 0..1] [--verify-packages a,b] [--json]', load: async () => (await import('./repos')).add },
  'repos refresh': { usage: 'repos refresh <id> [--json]', load: async () => (await import('./repos')).refresh },
  'repos remove': { usage: 'repos remove <id>', load: async () => (await import('./repos')).remove },
  'repos pause': { usage: 'repos pause <id> [--reason text] [--json]', load: async () => (await import('./repos')).pause },
  'repos resume': { usage: 'repos resume <id> [--reason text] [--json]', load: async () => (await import('./repos')).resume },
  'repos protect': { usage: 'repos protect <id> [package or glob]... [--reason text] [--json]', load: async () => (await import('./repos')).protect },
  'farm show': { usage: 'farm show [--json]', load: async () => (await import('./farm')).show },
  'farm pause': { usage: 'farm pause [--reason text] [--json]', load: async () => (await import('./farm')).pause },
  'farm resume': { usage: 'farm resume [--reason text] [--json]', load: async () => (await import('./farm')).resume },
  'tasks log': { usage: 'tasks log <task id> [-f] [--tail N]', load: async () => (await import('./tasks-log')).log },
  'waves list': { usage: 'waves list [--json] [--limit N] [--repository <id>]', load: async () => (await import('./waves')).list },
  'waves watch': { usage: 'waves watch <wave id> [--every <seconds>]', load: async () => (await import('./waves')).watch },
  'waves cancel': { usage: 'waves cancel <wave id> [--json]', load: async () => (await import('./waves')).cancel },
  graph: { usage: 'graph <recipes-dir> [--arch A] [--json]', load: async () => (await import('./graph')).graph },
  simulate: {
    usage: 'simulate <recipes-dir> --builders N [--policy critical-path|aeryn|first-idle] [--durations file.json] [--arch A] [--json]',
    load: async () => (await import('./graph')).simulate,
  },
};

function usage(): string {
  return ['usage: summit <command>', '', 'commands:', ...Object.values(COMMANDS).map((c) => `  summit ${c.usage}`)].join('\n');
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(usage());
    return argv.length === 0 ? 2 : 0;
  }
  const twoWords = `${argv[0]} ${argv[1] ?? ''}`;
  const [key, rest] = COMMANDS[twoWords] ? [twoWords, argv.slice(2)] : [argv[0], argv.slice(1)];
  const entry = COMMANDS[key];
  if (!entry) {
    io.err(`summit: unknown command "${argv.slice(0, 2).join(' ')}"\n${usage()}`);
    return 2;
  }
  try {
    const command = await entry.load();
    return await command(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`summit ${key}: ${err.message}\nusage: summit ${entry.usage}`);
      return 2;
    }
    if (isFormatError(err) || err instanceof ApiError || err instanceof ApiUnreachableError) {
      io.err(`summit ${key}: ${err.message}`);
      return 1;
    }
    if (err && typeof err === 'object' && 'code' in err && typeof (err as NodeJS.ErrnoException).path === 'string') {
      const e = err as NodeJS.ErrnoException;
      io.err(`summit ${key}: ${e.path}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`);
      return 1;
    }
    throw err;
  }
}
