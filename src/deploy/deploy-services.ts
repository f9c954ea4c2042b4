import type { Redis } from 'ioredis';
import type { DeployEnv } from '../config/deploy-env.js';
import { DeployLock } from './deploy-lock.js';
import { DeploySignals } from './deploy-signals.js';

/** Runs a command in a fresh container with the repository checked out (command deployers and health checks). */
export type DeployContainerRunner = (input: {
  readonly repo: { readonly owner: string; readonly repo: string };
  readonly sha: string;
  readonly image: string;
  readonly command: string;
  /** Only these variables reach the container (the named secrets plus the deploy request). */
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}) => Promise<{ exitCode: number; output: string }>;

/** What the deploy steps need besides GitHub and the ledger. Built once in `cli/`. */
export interface DeployServices {
  readonly env: DeployEnv;
  readonly signals: DeploySignals;
  readonly lock: DeployLock;
  /** Default image of `command` deployers. */
  readonly runnerImage: string;
  /** How often a waiting gate reads the checks without a webhook (lost deliveries). @defaultValue 30000 */
  readonly recheckMs: number;
  /** Absent when the sandbox backend cannot run deploy containers (`DROIDWORKS_SANDBOX=process`). */
  readonly runContainer?: DeployContainerRunner;
}

export function createDeployServices(o: {
  readonly redis: Redis;
  readonly prefix: string;
  readonly env: DeployEnv;
  readonly runnerImage: string;
  readonly recheckMs?: number;
  readonly lockTtlMs?: number;
  readonly runContainer?: DeployContainerRunner;
}): DeployServices {
  return {
    env: o.env,
    signals: new DeploySignals(o.redis, o.prefix),
    lock: new DeployLock(o.redis, o.prefix, o.lockTtlMs),
    runnerImage: o.runnerImage,
    recheckMs: o.recheckMs ?? 30_000,
    runContainer: o.runContainer,
  };
}
