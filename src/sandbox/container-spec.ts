import type { ContainerCreateOptions } from 'dockerode';
import type { ServiceSpec } from './types.js';

/** Label keys on everything the sandbox creates; the start-up sweep finds its leftovers by them. */
export const LABELS = {
  managed: 'droidworks.managed',
  /** The installation (queue prefix) that owns it: a sweep never touches another installation's. */
  namespace: 'droidworks.namespace',
  runId: 'droidworks.run-id',
  role: 'droidworks.role',
  /** `<hostname>/<pid>` of the worker that created a warm-pool container. */
  poolOwner: 'droidworks.pool-owner',
} as const;

export const WORKSPACE_MOUNT = '/workspace';
export const SANDBOX_HOME = '/home/droid';
/** The container's own (idle) process; commands run by `exec` as the sandbox user. */
export const IDLE_USER = '65534:65534';
export const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Effective limits of one container, every field resolved. */
export interface ResolvedLimits {
  readonly memoryMb: number;
  readonly cpus: number;
  readonly pids: number;
  readonly tmpfsMb: number;
}

export interface RunContainerSpec {
  readonly name: string;
  readonly image: string;
  readonly workspaceDir: string;
  /** `none`, or the name of the run's internal network when it has services. */
  readonly network: string;
  readonly user: { readonly uid: number; readonly gid: number };
  readonly limits: ResolvedLimits;
  readonly labels: Readonly<Record<string, string>>;
  /** Extra environment (the egress proxy's `HTTP_PROXY`…); never host secrets. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * The hardened create options of a run container (pure): no network, read-only root, tmpfs `/tmp`
 * and home, every capability dropped, no-new-privileges, pids/memory/CPU limits, an init process
 * that reaps orphans (so a fork bomb's zombies do not hold the pids limit), and an environment
 * built from scratch: nothing of the host's. The idle process runs as `nobody`, not as the commands'
 * user, so a command's `kill -9 -1` cannot stop the container under the run.
 */
export function runContainerSpec(spec: RunContainerSpec): ContainerCreateOptions {
  const { uid, gid } = spec.user;
  const tmpfs = `rw,nosuid,nodev,size=${spec.limits.tmpfsMb}m`;
  const memory = spec.limits.memoryMb * 1024 * 1024;
  return {
    name: spec.name,
    Image: spec.image,
    // Idle until commands arrive by `exec`; `sleep infinity` exists in every coreutils image.
    Entrypoint: ['sleep'],
    Cmd: ['infinity'],
    User: IDLE_USER,
    WorkingDir: WORKSPACE_MOUNT,
    Env: [
      `HOME=${SANDBOX_HOME}`,
      `PATH=${SANDBOX_PATH}`,
      'LANG=C.UTF-8',
      'CI=true',
      ...Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`),
    ],
    Labels: { ...spec.labels },
    StopTimeout: 1,
    HostConfig: {
      NetworkMode: spec.network,
      Binds: [`${spec.workspaceDir}:${WORKSPACE_MOUNT}:rw`],
      ReadonlyRootfs: true,
      Tmpfs: {
        '/tmp': `${tmpfs},mode=1777`,
        [SANDBOX_HOME]: `${tmpfs},mode=0700,uid=${uid},gid=${gid}`,
      },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Init: true,
      PidsLimit: spec.limits.pids,
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: Math.round(spec.limits.cpus * 1e9),
      AutoRemove: false,
      Privileged: false,
      IpcMode: 'private',
      LogConfig: { Type: 'none', Config: {} },
    },
  };
}

/**
 * Create options of a service sidecar (pure). Services are ordinary images that often start as root
 * and drop privileges, so they keep Docker's default capabilities minus raw sockets; they get the
 * run's internal network only, with their name as alias.
 */
export function serviceContainerSpec(
  service: ServiceSpec,
  options: {
    name: string;
    network: string;
    limits: ResolvedLimits;
    labels: Readonly<Record<string, string>>;
  },
): ContainerCreateOptions {
  const memory = options.limits.memoryMb * 1024 * 1024;
  return {
    name: options.name,
    Image: service.image,
    ...(service.command ? { Cmd: [...service.command] } : {}),
    Env: Object.entries(service.env ?? {}).map(([k, v]) => `${k}=${v}`),
    Labels: { ...options.labels },
    Hostname: service.name,
    HostConfig: {
      NetworkMode: options.network,
      CapDrop: ['NET_RAW', 'MKNOD', 'AUDIT_WRITE'],
      SecurityOpt: ['no-new-privileges'],
      Init: true,
      PidsLimit: options.limits.pids,
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: Math.round(options.limits.cpus * 1e9),
      LogConfig: { Type: 'none', Config: {} },
    },
    NetworkingConfig: { EndpointsConfig: { [options.network]: { Aliases: [service.name] } } },
  };
}

/**
 * Options of a run's private network: `Internal` (no route out) and, because the engine may run
 * with `--iptables=false` where `Internal` alone installs no filtering, no IPv4 address on the host
 * side of the bridge: the host and everything routed through it are then unreachable.
 */
export function runNetworkSpec(name: string, labels: Readonly<Record<string, string>>) {
  return {
    Name: name,
    Driver: 'bridge',
    Internal: true,
    CheckDuplicate: true,
    Attachable: false,
    Labels: { ...labels },
    Options: { 'com.docker.network.bridge.inhibit_ipv4': 'true' },
  };
}

/** Container and directory names carry the run id (Docker allows `[a-zA-Z0-9][a-zA-Z0-9_.-]`). */
export function safeName(runId: string): string {
  return runId.replace(/[^a-zA-Z0-9_.-]/g, '_').slice(0, 100);
}
