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
  'hook install': {
    usage: 'hook install <repo> --repository <id> [--url <api url>] [--token <hook token>] [--ref <branch>] [--data-dir <dir>] [--force]',
    load: async () => (await import('./hook')).install,
  },
  'waves list': { usage: 'waves list [--json] [--limit N] [--repository <id>]', load: async () => (await import('./waves')).list },
  'waves watch': { usage: 'waves watch <wave id> [--every <seconds>]', load: async () => (await import('./waves')).watch },
  'waves cancel': { usage: 'waves cancel <wave id> [--json]', load: async () => (await import('./waves')).cancel },
  graph: { usage: 'graph <recipes-dir> [--json]', load: async () => (await import('./graph')).graph },
  simulate: {
    usage: 'simulate <recipes-dir> --builders N [--policy critical-path|aeryn|first-idle] [--durations file.json] [--json]',
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
