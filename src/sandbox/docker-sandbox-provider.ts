import { randomBytes } from 'node:crypto';
import { chown, mkdir, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import type { Config } from '../config/load-config.js';
import type { Logger } from '../util/logger.js';
import {
  LABELS,
  runContainerSpec,
  runNetworkSpec,
  safeName,
  serviceContainerSpec,
  type ResolvedLimits,
} from './container-spec.js';
import { demuxStream } from './demux-stream.js';
import {
  discardPrimed,
  dockerExec,
  primeExec,
  type DockerExecContext,
  type PrimedExec,
} from './docker-exec.js';
import { ensureEgressImage } from './egress-image.js';
import { proxyEnv, startRunEgressProxy } from './egress-proxy-sidecar.js';
import {
  SandboxError,
  SandboxImageMissingError,
  SandboxReleasedError,
  ServiceHealthError,
} from './errors.js';
import { OutputCap } from './output-cap.js';
import {
  ENGINE_CALL_TIMEOUT_MS,
  REMOVE_TIMEOUT_MS,
  removeContainer as removeDockerContainer,
  removeNetwork as removeDockerNetwork,
  statusOf,
  withEngineTimeout,
} from './docker-engine-calls.js';
import { sweepDocker } from './sweep-docker.js';
import type { AcquireOptions, Sandbox, SandboxProvider, ServiceSpec, SweepReport } from './types.js';
import { WarmPool, type WarmContainer } from './warm-pool.js';

export type SandboxSettings = Config['sandbox'];

export interface DockerSandboxDeps {
  readonly logger: Logger;
  /** Where directories the provider chooses (warm-pool slots, workspaces) live, e.g. `<dataDir>/sandboxes`. */
  readonly workRoot: string;
  /** @defaultValue `new Docker()` (`DOCKER_HOST` or the default socket) */
  readonly docker?: Docker;
  /** Numeric user commands run as. @defaultValue 1000:1000 */
  readonly user?: { readonly uid: number; readonly gid: number };
  /** Bytes kept per output stream. @defaultValue 262144 */
  readonly maxOutputBytes?: number;
  /** How long removing a container or network may take before release gives up on it. @defaultValue 60000 */
  readonly removeTimeoutMs?: number;
  /** How long creating or starting a container, or creating a network, may take. @defaultValue 60000 */
  readonly engineTimeoutMs?: number;
  /**
   * Labels everything this provider creates; its sweep removes only this namespace's leftovers, so
   * installations (and test stacks) sharing one Docker engine never remove each other's containers.
   * @defaultValue `default`
   */
  readonly namespace?: string;
}

export interface DockerSandboxProvider extends SandboxProvider {
  /** Resolves when the warm pool holds its configured number of idle containers (tests, benchmarks). */
  warmed(signal?: AbortSignal): Promise<void>;
}

const DEFAULT_USER = { uid: 1000, gid: 1000 };

/**
 * How long a command waits for its primed exec (an exec start normally answers in well under a
 * second) before it aborts it and starts its own: an engine that never answers one exec start must
 * not hang the run.
 */
const PRIME_WAIT_MS = 5_000;

/** The primed exec if it is ready within `ms`; otherwise the priming is aborted and discarded. */
async function primedWithin(
  taken: Promise<PrimedExec | undefined>,
  priming: AbortController | undefined,
  ms: number,
  log: Logger,
): Promise<PrimedExec | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  const primed = await Promise.race([taken, late]).finally(() => clearTimeout(timer));
  if (primed !== 'late') return primed;
  log.warn({ waitedMs: ms }, 'sandbox: the Docker engine did not start a primed exec; starting a new one');
  priming?.abort();
  void taken.then(discardPrimed);
  return undefined;
}

/**
 * The Docker backend: one hardened container per run (see `runContainerSpec`), commands by `exec`,
 * optional service sidecars on a private internal network, an optional warm pool of started
 * containers for the default image.
 */
export function createDockerSandboxProvider(
  settings: SandboxSettings,
  deps: DockerSandboxDeps,
): DockerSandboxProvider {
  const docker = deps.docker ?? new Docker();
  const removeTimeoutMs = deps.removeTimeoutMs ?? REMOVE_TIMEOUT_MS;
  const removeContainer = (id: string) => removeDockerContainer(docker, id, removeTimeoutMs);
  const removeNetwork = (id: string) => removeDockerNetwork(docker, id, removeTimeoutMs);
  const engineTimeoutMs = deps.engineTimeoutMs ?? ENGINE_CALL_TIMEOUT_MS;
  const user = deps.user ?? DEFAULT_USER;
  const namespace = deps.namespace ?? 'default';
  const log = deps.logger.child({ component: 'sandbox', backend: 'docker' });
  const wsRoot = join(deps.workRoot, 'ws');
  const baseLimits: ResolvedLimits = {
    memoryMb: settings.memoryMb,
    cpus: settings.cpus,
    pids: settings.pids,
    tmpfsMb: 512,
  };
  const poolOwner = `${hostname()}/${process.pid}`;
  /** The egress proxy image's tag, built once per provider on the first run that needs it. */
  let egressImage: Promise<string> | undefined;

  const makeDir = async (prefix: string): Promise<string> => {
    const dir = join(wsRoot, `${prefix}.${randomBytes(4).toString('hex')}`);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    if (process.getuid?.() === 0) await chown(dir, user.uid, user.gid);
    return dir;
  };

  const createStarted = async (options: Docker.ContainerCreateOptions, signal?: AbortSignal) => {
    // A create the engine answers after its timeout leaves a labelled container: the sweep's.
    const container = await withEngineTimeout('create a container', engineTimeoutMs, signal, (s) =>
      docker.createContainer({ ...options, abortSignal: s }),
    ).catch((err: unknown) => {
      // Create answers 404 only for a missing image; nothing is pulled, so no retry can help.
      if (statusOf(err) === 404) throw new SandboxImageMissingError(options.Image ?? '', { cause: err });
      throw err;
    });
    try {
      await withEngineTimeout(`start container ${container.id.slice(0, 12)}`, engineTimeoutMs, signal, (s) =>
        container.start({ abortSignal: s }),
      );
    } catch (err) {
      await removeContainer(container.id).catch((e: unknown) =>
        log.warn({ err: e }, 'sandbox could not remove a container that failed to start'),
      );
      throw err;
    }
    return container;
  };

  const pool = new WarmPool({
    size: settings.warmPool,
    log,
    create: async (signal) => {
      const workspaceDir = await makeDir('pool');
      const container = await createStarted(
        runContainerSpec({
          name: `dw-pool-${randomBytes(6).toString('hex')}`,
          image: settings.image,
          workspaceDir,
          network: 'none',
          user,
          limits: baseLimits,
          labels: {
            [LABELS.managed]: 'true',
            [LABELS.namespace]: namespace,
            [LABELS.role]: 'pool',
            [LABELS.poolOwner]: poolOwner,
          },
        }),
        signal,
      ).catch(async (err: unknown) => {
        await rm(workspaceDir, { recursive: true, force: true });
        throw err;
      });
      const primed = await primeExec(execContext(container, log), signal).catch((err: unknown) => {
        log.warn({ err }, 'warm pool could not prime an exec; the first command will start its own');
        return undefined;
      });
      return { container, workspaceDir, primed };
    },
    destroy: async (entry) => {
      discardPrimed(entry.primed);
      await removeContainer(entry.container.id);
      await rm(entry.workspaceDir, { recursive: true, force: true });
    },
  });

  const acquire = async (options: AcquireOptions): Promise<Sandbox> => {
    const { runId, signal } = options;
    signal?.throwIfAborted();
    const allow = options.networkAllowlist ?? [];
    const image = options.image ?? settings.image;
    const limits: ResolvedLimits = { ...baseLimits, ...stripUndefined(options.limits) };
    const runLog = log.child({ runId });
    const labels = { [LABELS.managed]: 'true', [LABELS.namespace]: namespace, [LABELS.runId]: runId };
    const suffix = randomBytes(3).toString('hex');
    const services = options.services ?? [];

    const usePool =
      image === settings.image &&
      !options.workspaceDir &&
      services.length === 0 &&
      allow.length === 0 &&
      options.limits === undefined;
    let warm = usePool ? pool.take() : undefined;
    const warmDir = join(wsRoot, `${safeName(runId)}.${suffix}`);
    // The bind mount follows the directory, so the slot can take the run's name. A slot that cannot
    // be moved is removed (container and directory) and the run gets a new container below.
    if (warm && !(await moveWarmSlot(warm, warmDir, runLog))) warm = undefined;
    if (warm) {
      runLog.debug({ containerId: warm.container.id }, 'sandbox acquired from the warm pool');
      return makeSandbox({
        runId,
        container: warm.container,
        workspaceDir: warmDir,
        ownDir: true,
        network: undefined,
        services: [],
        limits,
        runLog,
        primed: warm.primed,
        // Named after its run once the first command is done, not competing with it.
        renameTo: `dw-run-${safeName(runId)}-${suffix}`,
      });
    }

    const ownDir = !options.workspaceDir;
    const workspaceDir = options.workspaceDir ?? (await makeDir(safeName(runId)));
    let network: string | undefined;
    const started: Docker.Container[] = [];
    const serviceContainers: Docker.Container[] = [];
    try {
      if (services.length > 0 || allow.length > 0) {
        network = `dw-net-${safeName(runId)}-${suffix}`;
        await withEngineTimeout(`create network ${network}`, engineTimeoutMs, signal, (s) =>
          docker.createNetwork({ ...runNetworkSpec(network!, labels), abortSignal: s }),
        );
      }
      if (network && allow.length > 0) {
        // The only way out of the run's internal network: a proxy that admits the allowed hosts.
        const image = (egressImage ??= ensureEgressImage(docker, settings.image, signal).catch(
          (err: unknown) => {
            egressImage = undefined;
            throw err;
          },
        ));
        await startRunEgressProxy({
          docker,
          settings: settings.egress,
          image,
          name: `dw-egress-${safeName(runId)}-${suffix}`,
          runNetwork: network,
          allow,
          labels,
          log: runLog,
          track: (c) => started.push(c),
          signal,
        });
      }
      if (network && services.length > 0) {
        for (const service of services) {
          const container = await createStarted(
            serviceContainerSpec(service, {
              name: `dw-svc-${safeName(runId)}-${safeName(service.name)}-${suffix}`,
              network,
              limits,
              labels: { ...labels, [LABELS.role]: 'service' },
            }),
            signal,
          );
          serviceContainers.push(container);
          started.push(container);
        }
        await Promise.all(
          services.map((s, i) => waitHealthy(serviceContainers[i] as Docker.Container, s, runId, signal)),
        );
      }
      const container = await createStarted(
        runContainerSpec({
          name: `dw-run-${safeName(runId)}-${suffix}`,
          image,
          workspaceDir,
          network: network ?? 'none',
          user,
          limits,
          labels: { ...labels, [LABELS.role]: 'run' },
          ...(allow.length > 0 ? { env: proxyEnv(services.map((s) => s.name)) } : {}),
        }),
        signal,
      );
      runLog.debug({ containerId: container.id, services: services.length }, 'sandbox acquired');
      return makeSandbox({
        runId,
        container,
        workspaceDir,
        ownDir,
        network,
        services: started,
        limits,
        runLog,
        ...stripUndefined({
          commandTimeoutMs: options.limits?.commandTimeoutMs,
          maxOutputBytes: options.limits?.maxOutputBytes,
        }),
      });
    } catch (err) {
      await Promise.all(started.map((c) => removeContainer(c.id)));
      if (network) await removeNetwork(network);
      if (ownDir) await rm(workspaceDir, { recursive: true, force: true });
      if (err instanceof ServiceHealthError || signal?.aborted) throw err;
      throw new SandboxError('acquire', runId, { cause: err });
    }
  };

  /** Moves a warm slot's directory to the run's name; on failure removes the slot and says false. */
  async function moveWarmSlot(warm: WarmContainer, to: string, runLog: Logger): Promise<boolean> {
    try {
      await rename(warm.workspaceDir, to);
      return true;
    } catch (err) {
      runLog.warn({ err }, 'sandbox could not move a warm slot to its run; removing it, starting a new one');
      discardPrimed(warm.primed);
      await removeContainer(warm.container.id).catch((e: unknown) =>
        runLog.warn({ err: e }, 'sandbox could not remove a warm container; the start-up sweep will'),
      );
      await rm(warm.workspaceDir, { recursive: true, force: true });
      return false;
    }
  }

  function makeSandbox(args: {
    runId: string;
    container: Docker.Container;
    workspaceDir: string;
    ownDir: boolean;
    network: string | undefined;
    services: Docker.Container[];
    limits: ResolvedLimits;
    runLog: Logger;
    commandTimeoutMs?: number;
    maxOutputBytes?: number;
    primed?: PrimedExec;
    renameTo?: string;
  }): Sandbox {
    const ctx = execContext(args.container, args.runLog, args);
    let released: Promise<void> | undefined;
    let renameTo = args.renameTo;
    // One exec is kept primed for the next command, started once the previous command is over (so
    // nothing that command does, like `kill -9 -1`, reaches it).
    let next: Promise<PrimedExec | undefined> = Promise.resolve(args.primed);
    // Release aborts a priming still in flight. Docker may never answer an exec start that raced
    // the container's removal, nor close a hijacked stream whose container is gone (moby#41657):
    // such a request kept a socket to the engine open, and the process alive, for minutes.
    let priming: AbortController | undefined;
    const primeNext = () => {
      priming = new AbortController();
      next = primeExec(ctx, priming.signal).catch((err: unknown) => {
        args.runLog.debug({ err }, 'sandbox could not prime an exec; the next command starts its own');
        return undefined;
      });
    };
    if (!args.primed) primeNext();
    return {
      runId: args.runId,
      workspaceDir: args.workspaceDir,
      user,
      backend: 'docker',
      containerId: args.container.id,
      exec: async (command, options) => {
        if (released) throw new SandboxReleasedError(args.runId);
        const taken = next;
        const takenPriming = priming;
        next = Promise.resolve(undefined);
        const primed = await primedWithin(taken, takenPriming, PRIME_WAIT_MS, args.runLog);
        try {
          return await dockerExec(ctx, command, options, primed);
        } finally {
          if (!released) primeNext();
          if (renameTo && !released) {
            const name = renameTo;
            renameTo = undefined;
            args.container
              .rename({ name })
              .catch((err: unknown) =>
                args.runLog.debug({ err }, 'sandbox could not rename a warm container'),
              );
          }
        }
      },
      release: () => {
        released ??= (async () => {
          priming?.abort();
          void next.then(discardPrimed);
          await removeContainer(args.container.id);
          await Promise.all(args.services.map((c) => removeContainer(c.id)));
          if (args.network) await removeNetwork(args.network);
          if (args.ownDir) await rm(args.workspaceDir, { recursive: true, force: true });
          args.runLog.debug('sandbox released');
        })();
        return released;
      },
    };
  }

  function execContext(
    container: Docker.Container,
    execLog: Logger,
    overrides: { commandTimeoutMs?: number; maxOutputBytes?: number } = {},
  ): DockerExecContext {
    return {
      container,
      user: `${user.uid}:${user.gid}`,
      defaultTimeoutMs: overrides.commandTimeoutMs ?? settings.commandTimeoutSec * 1000,
      maxOutputBytes: overrides.maxOutputBytes ?? deps.maxOutputBytes ?? 262_144,
      log: execLog,
      oom: { kills: 0 },
    };
  }

  async function waitHealthy(
    container: Docker.Container,
    service: ServiceSpec,
    runId: string,
    signal?: AbortSignal,
  ) {
    if (!service.health) return;
    const deadline = Date.now() + (service.healthTimeoutMs ?? 60_000);
    let last = '';
    while (Date.now() < deadline) {
      signal?.throwIfAborted();
      const exec = await container.exec({
        Cmd: ['/bin/sh', '-c', service.health],
        AttachStdout: true,
        AttachStderr: true,
      });
      const out = new OutputCap(2048);
      await demuxStream((await exec.start({ hijack: true, stdin: false })) as Readable, (_k, c) =>
        out.push(c),
      );
      const info = await exec.inspect();
      if (info.ExitCode === 0) return;
      last = out.text();
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new ServiceHealthError(runId, service.name, last);
  }

  return {
    acquire,
    warmed: (signal) => pool.filled(signal),
    sweep: (isLive, signal): Promise<SweepReport> =>
      sweepDocker({ docker, isLive, poolOwner, namespace, workRoot: wsRoot, log, signal }),
    close: () => pool.close(),
  };
}

function stripUndefined<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export type { WarmContainer };
