import { readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type { Logger } from '../util/logger.js';
import { LABELS } from './container-spec.js';
import { removeContainer, removeNetwork } from './docker-engine-calls.js';
import type { SweepReport } from './types.js';

export interface SweepDockerOptions {
  readonly docker: Docker;
  readonly isLive: (runId: string) => boolean | Promise<boolean>;
  /** This worker's warm-pool owner label: its own pool is kept. */
  readonly poolOwner: string;
  /** Only containers and networks labelled with this namespace are considered. */
  readonly namespace: string;
  /** Directory of provider-chosen workspace dirs (`<runId>.<hex>`, `pool.<hex>`). */
  readonly workRoot: string;
  readonly log: Logger;
  readonly signal?: AbortSignal;
}

/**
 * Start-up clean-up: removes containers and networks labelled `droidworks.managed` whose run is
 * not live, warm-pool containers of dead workers on this host (owner `<host>/<pid>` whose pid is
 * gone), and provider-chosen directories nobody uses any more.
 */
export async function sweepDocker(o: SweepDockerOptions): Promise<SweepReport> {
  const filters = JSON.stringify({ label: [`${LABELS.managed}=true`, `${LABELS.namespace}=${o.namespace}`] });
  const containers = await o.docker.listContainers({ all: true, filters, abortSignal: o.signal });
  const removed: string[] = [];
  const keptDirs = new Set<string>();
  const liveRuns = new Map<string, boolean>();
  const live = async (runId: string) => {
    let v = liveRuns.get(runId);
    if (v === undefined) liveRuns.set(runId, (v = await o.isLive(runId)));
    return v;
  };
  for (const info of containers) {
    o.signal?.throwIfAborted();
    const labels = info.Labels ?? {};
    const runId = labels[LABELS.runId];
    const owner = labels[LABELS.poolOwner];
    let stale = false;
    if (runId !== undefined) stale = !(await live(runId));
    else if (owner !== undefined) stale = owner !== o.poolOwner && ownerIsDead(owner);
    if (!stale) {
      for (const m of info.Mounts ?? []) if (m.Source) keptDirs.add(m.Source);
      continue;
    }
    await removeContainer(o.docker, info.Id);
    removed.push(info.Id);
  }
  const networks = await o.docker.listNetworks({ filters, abortSignal: o.signal });
  const removedNetworks: string[] = [];
  for (const net of networks) {
    const runId = net.Labels?.[LABELS.runId];
    if (runId === undefined || (await live(runId))) continue;
    await removeNetwork(o.docker, net.Id);
    removedNetworks.push(net.Name);
  }
  await sweepDirs(o.workRoot, keptDirs, live, o.log);
  if (removed.length + removedNetworks.length > 0)
    o.log.info(
      { containers: removed.length, networks: removedNetworks.length },
      'sandbox sweep removed leftovers',
    );
  return { containers: removed, networks: removedNetworks };
}

/** A pool owner `<host>/<pid>` on this host whose process no longer exists. Other hosts: unknown, kept. */
function ownerIsDead(owner: string): boolean {
  const [host, pid] = owner.split('/');
  if (host !== hostname() || !pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function sweepDirs(
  root: string,
  kept: Set<string>,
  live: (runId: string) => Promise<boolean>,
  log: Logger,
): Promise<void> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const name of names) {
    const dir = join(root, name);
    if (kept.has(dir)) continue;
    const m = /^(.+)\.[0-9a-f]{6,8}$/.exec(name);
    if (!m?.[1]) continue;
    // `pool.<hex>` dirs not mounted by a kept container are orphans; run dirs go when their run is dead.
    if (m[1] !== 'pool' && (await live(m[1]))) continue;
    await rm(dir, { recursive: true, force: true });
    log.debug({ dir }, 'sandbox sweep removed a directory');
  }
}
