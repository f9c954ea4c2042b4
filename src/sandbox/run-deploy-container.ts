import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { LABELS, SANDBOX_PATH } from './container-spec.js';

export interface DeployContainerSpec {
  readonly image: string;
  /** Host directory with the repository checked out at the SHA; mounted at `/workspace`. */
  readonly checkoutDir: string;
  readonly command: string;
  /** The container's whole environment besides PATH/HOME: nothing of the host's. */
  readonly env: Readonly<Record<string, string>>;
  /** `bridge` (default), `host`, or a user-defined network: deploy tools need the network. */
  readonly network: string;
  readonly namespace: string;
  readonly user: { readonly uid: number; readonly gid: number };
  readonly memoryMb: number;
  readonly pids: number;
}

/** Create options of a deploy container (pure): network on, otherwise as locked down as a sandbox. */
export function deployContainerSpec(spec: DeployContainerSpec): Docker.ContainerCreateOptions {
  const memory = spec.memoryMb * 1024 * 1024;
  return {
    name: `dw-deploy-${randomBytes(6).toString('hex')}`,
    Image: spec.image,
    Entrypoint: ['sh', '-c'],
    Cmd: [spec.command],
    User: `${spec.user.uid}:${spec.user.gid}`,
    WorkingDir: '/workspace',
    Tty: true, // one raw output stream, no multiplexing
    Env: [
      'HOME=/tmp',
      `PATH=${SANDBOX_PATH}`,
      'LANG=C.UTF-8',
      ...Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    ],
    Labels: { [LABELS.managed]: 'true', [LABELS.namespace]: spec.namespace, [LABELS.role]: 'deploy' },
    HostConfig: {
      NetworkMode: spec.network,
      Binds: [`${spec.checkoutDir}:/workspace:rw`],
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=256m,mode=1777' },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Init: true,
      PidsLimit: spec.pids,
      Memory: memory,
      MemorySwap: memory,
      Privileged: false,
    },
  };
}

/**
 * Runs one deploy command in a fresh container and removes it: exit code and output (last 64 kB).
 * The timeout and the signal kill the container, not just the wait.
 */
export async function runDeployContainer(
  spec: DeployContainerSpec,
  options: { timeoutMs: number; signal: AbortSignal; docker?: Docker },
): Promise<{ exitCode: number; output: string }> {
  const docker = options.docker ?? new Docker();
  const container = await docker.createContainer(deployContainerSpec(spec));
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const stop = AbortSignal.any([options.signal, timeout]);
  const kill = (): void => {
    container.kill().catch(() => undefined); // it may have exited already; removal below is forced
  };
  stop.addEventListener('abort', kill, { once: true });
  try {
    await container.start();
    const result = (await container.wait()) as { StatusCode: number };
    const logs = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    const output = logs.toString('utf8').slice(-65_536);
    options.signal.throwIfAborted();
    if (timeout.aborted)
      return { exitCode: 124, output: `${output}\n[killed: no exit within ${options.timeoutMs / 1000} s]` };
    return { exitCode: result.StatusCode, output };
  } finally {
    stop.removeEventListener('abort', kill);
    await container.remove({ force: true }).catch(() => undefined); // the start-up sweep removes stragglers by label
  }
}
