/**
 * Build hosts for tests, made of Linux network namespaces: a "farm network" (a bridge in this namespace with the
 * address the farm's services listen on) and one namespace per host, joined to it by a veth pair, with an
 * address of its own on the same private /24. A process run in a host's namespace sees only its loopback and
 * that link: it reaches Temporal, the API and vessel on the farm network's address, never on this namespace's
 * 127.0.0.1, and it serves on its own address. Deleting a host's veth cuts that host off, as a pulled cable would.
 *
 * Processes are run in a host with `nsenter --net=/run/netns/<name>`, not `ip netns exec`: the latter also
 * mounts a fresh /sys for the namespace, which hides the cgroup file systems mounted below /sys/fs/cgroup, and a
 * builder needs them (systemd-nspawn fails with "Failed to determine whether the unified cgroups hierarchy is
 * used", and the builder's own build cgroups cannot be made). Only the network namespace differs; nspawn inside
 * it works as on the host (builds use --private-network anyway).
 *
 * Names are unique per test process; `destroy()` removes everything, and an exit handler does it too when a
 * test file dies without its afterAll. Needs root and iproute2.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';

export interface NetHost {
  /** The network namespace's name (`ip netns list`). */
  name: string;
  /** This host's address on the farm network. */
  address: string;
  /** The veth end in this namespace, on the bridge; deleting it deletes the host's end too. */
  link: string;
  /** A command prefix that runs a program in this host's network namespace. */
  prefix: string[];
  /** Pull the cable: delete the host's veth pair. */
  cut(): void;
}

export interface FarmNetwork {
  /** The bridge's address, where the farm's services listen. */
  address: string;
  bridge: string;
  hosts: NetHost[];
  addHost(): NetHost;
  destroy(): void;
}

/** Undefined when network namespaces can be made here, else why not. */
export function netnsUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  for (const [tool, args] of [['ip', ['-V']], ['nsenter', ['--version']]] as const) {
    const probe = spawnSync(tool, args, { stdio: 'ignore' });
    if (probe.error || probe.status !== 0) return `${tool} is not installed (iproute2, util-linux)`;
  }
  return undefined;
}

const run = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
const quiet = (...args: string[]) => spawnSync('ip', args, { stdio: 'ignore' });

/** A /24 in 10.0.0.0/8 that no interface here uses yet. */
function freeSubnet(): string {
  const used = execFileSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' });
  for (;;) {
    const subnet = `10.${randomInt(100, 250)}.${randomInt(0, 255)}`;
    if (!used.includes(` ${subnet}.`)) return subnet;
  }
}

export function createFarmNetwork(): FarmNetwork {
  // Interface names hold at most 15 characters: "sf" + 5 digits + a role and a number fit.
  const tag = `sf${String(process.pid % 100_000).padStart(5, '0')}`;
  const subnet = freeSubnet();
  const bridge = `${tag}br`;
  const hosts: NetHost[] = [];
  let destroyed = false;

  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    process.removeListener('exit', destroy);
    for (const h of hosts) {
      quiet('link', 'del', h.link);
      quiet('netns', 'del', h.name);
    }
    quiet('link', 'del', bridge);
  };
  process.once('exit', destroy);

  try {
    quiet('link', 'del', bridge);
    run('link', 'add', bridge, 'type', 'bridge');
    run('addr', 'add', `${subnet}.1/24`, 'dev', bridge);
    run('link', 'set', bridge, 'up');
  } catch (err) {
    destroy();
    throw err;
  }

  const addHost = (): NetHost => {
    const n = hosts.length + 1;
    const name = `${tag}h${n}`;
    const link = `${tag}v${n}`;
    const inside = `${tag}i${n}`;
    const address = `${subnet}.${10 + n}`;
    const host: NetHost = {
      name, address, link,
      prefix: ['nsenter', `--net=/run/netns/${name}`, '--'],
      cut: () => void quiet('link', 'del', link),
    };
    hosts.push(host);
    quiet('netns', 'del', name);
    run('netns', 'add', name);
    run('link', 'add', link, 'type', 'veth', 'peer', 'name', inside);
    run('link', 'set', inside, 'netns', name);
    run('link', 'set', link, 'master', bridge);
    run('link', 'set', link, 'up');
    run('-n', name, 'addr', 'add', `${address}/24`, 'dev', inside);
    run('-n', name, 'link', 'set', inside, 'up');
    run('-n', name, 'link', 'set', 'lo', 'up');
    return host;
  };

  return { address: `${subnet}.1`, bridge, hosts, addHost, destroy };
}
