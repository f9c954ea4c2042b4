import type { Redis } from 'ioredis';
import { handleIntake } from '../engine/handle-intake.js';
import { createAbandonedRunHandler, createRunProcessor } from '../engine/process-run.js';
import { isRetryable } from '../engine/run-failure.js';
import type { RunServices } from '../engine/run-context.js';
import { createApprovals } from '../queue/approvals.js';
import { intakeJobSchema, runJobSchema } from '../queue/jobs.js';
import { createQueues } from '../queue/queues.js';
import { createRedisConnection } from '../queue/redis-connection.js';
import { createRunQueue, startIntakeWorker, startRunWorker } from '../queue/run-queue.js';
import { startMaintenance } from '../queue/maintenance.js';
import { createRepoSlots } from '../queue/repo-slots.js';
import { redeliverFailed } from '../engine/redeliver-failed.js';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { createRunMetrics, withRunMetrics, type RunMetrics } from '../engine/run-metrics.js';
import { serveWorkerMetrics } from './serve-worker-metrics.js';
import { githubReadiness } from './github-readiness.js';
import { startSchedules } from '../schedules/start-schedules.js';
import type { Tracer } from '@opentelemetry/api';
import { traceRun, withRunTracing } from '../telemetry/run-spans.js';

export interface RunningWorker {
  /** Run metrics of this worker (served on `DROIDWORKS_WORKER_METRICS_PORT` when set). */
  readonly metrics?: RunMetrics;
  /** Base URL of `/metrics`, `/healthz`, `/readyz`, when served. */
  readonly metricsUrl?: string;
  close(): Promise<void>;
}

export interface ServeWorkerOptions {
  readonly services: RunServices;
  readonly redisUrl: string;
  /** The connection the services' ledger uses (closed by the caller). */
  readonly redis: Redis;
  /** Run lock duration; a killed worker's run is picked up by another after it. @defaultValue 30 s */
  readonly lockDurationMs?: number;
  /** Traces runs, steps, model calls and sandbox commands (`OTEL_EXPORTER_OTLP_ENDPOINT`). */
  readonly tracer?: Tracer;
}

/**
 * Starts the worker half: start-up sweeps (containers and worktrees of runs that are not live),
 * the intake worker (authorization, commands) and the run worker (workflows).
 */
export async function serveWorker(o: ServeWorkerOptions): Promise<RunningWorker> {
  const metrics = createRunMetrics(new Registry());
  const metered = withRunMetrics(o.services, metrics);
  const services = o.tracer ? withRunTracing(metered, o.tracer) : metered;
  const tracer = o.tracer;
  const { config, logger } = services;
  const prefix = config.queuePrefix;
  const connection = createRedisConnection(o.redisUrl, { role: 'worker' });
  const subscriber = createRedisConnection(o.redisUrl, { role: 'worker' });
  const queues = createQueues(connection, prefix);
  const runQueue = createRunQueue(queues, connection);
  const approvals = createApprovals(connection, prefix);
  await runQueue.setGlobalConcurrency(config.concurrency.global);

  // A run is live while its job is waiting or active; anything else labelled with a run id is debris.
  const isLive = async (runId: string): Promise<boolean> => {
    const state = await services.ledger.state(runId);
    return state.status === 'running' || state.status === 'queued'
      ? (await queues.runs.getJobs(['active', 'waiting', 'delayed', 'prioritized'])).some(
          (j) => j.data.runId === runId,
        )
      : false;
  };
  const swept = await services.sandboxes.sweep(isLive);
  const worktrees = await services.workspaces.sweep(isLive);
  if (swept.containers.length || swept.networks.length || worktrees.length)
    logger.info(
      { containers: swept.containers.length, networks: swept.networks.length, worktrees: worktrees.length },
      'start-up sweep removed leftovers of dead runs',
    );

  // BullMQ's own Redis connections report through these instead of raw stack traces.
  const onError = (err: Error, worker: string): void =>
    logger.warn({ err: err.message, worker }, 'queue worker error (Redis unreachable?); it reconnects');
  const schedules = await startSchedules({ services, connection, runs: runQueue, onError });
  const intake = await startIntakeWorker({
    onError,
    connection,
    prefix,
    retryable: isRetryable,
    processor: async (data) => {
      const job = intakeJobSchema.parse(data);
      await handleIntake(job, {
        github: services.github,
        runs: runQueue,
        ledger: services.ledger,
        commandPrefix: config.commandPrefix,
        triggerLabel: config.triggerLabel,
        repoSetup: (owner, repo) => services.repoSetup(owner, repo),
        logger,
        dashboardUrl: services.dashboardUrl,
        approve: (subject, by) => approvals.approve(subject, by),
        deploy: services.deploy
          ? { github: services.github, signals: services.deploy.signals, env: config.deploy }
          : undefined,
        maintenance: schedules.intake,
      });
    },
  });
  const processor = createRunProcessor({
    ...services,
    maintenance: schedules.hooks,
    waitForApproval: (s, t, signal) => approvals.wait(s, t, signal),
  });
  const endAbandoned = createAbandonedRunHandler(services, async (job) => {
    const current = await runQueue.current(job.repo, job.subject);
    return current?.runId === job.runId;
  });
  const runs = await startRunWorker({
    onError,
    connection,
    subscriber,
    prefix,
    concurrency: config.concurrency.global,
    lockDurationMs: o.lockDurationMs,
    repoSlots: {
      slots: createRepoSlots(connection, prefix, config.concurrency.perRepo, 60_000),
      retryMs: 5_000,
      renewMs: 20_000,
    },
    onRepoFull: async (job) => {
      await services.ledger.append(job.runId, {
        type: 'run.waiting',
        reason: 'repository concurrency limit',
      });
    },
    processor: (data, signal, attempt) => {
      const job = runJobSchema.parse(data);
      if (!tracer) return processor(job, signal, attempt);
      return traceRun(
        tracer,
        job,
        attempt.number,
        () => processor(job, signal, attempt),
        async () => (await services.ledger.state(job.runId)).status,
      );
    },
    retryable: isRetryable,
    onJobFailed: (job) =>
      endAbandoned(job).catch((err: unknown) =>
        logger.error(
          { err, runId: job.runId },
          'could not end a run BullMQ gave up on; it shows its last state',
        ),
      ),
  });
  // The redelivery sweeper needs the App's deliveries API; with a token there is nothing to list.
  const maintenance =
    config.github.auth?.kind === 'app'
      ? await startMaintenance({
          onError,
          connection,
          prefix,
          tasks: {
            'redeliver-failed-webhooks': {
              everyMs: 5 * 60_000,
              run: async (signal) => void (await redeliverFailed(services.github, logger, { signal })),
            },
          },
        })
      : undefined;
  const metricsServer =
    config.workerMetricsPort === undefined
      ? undefined
      : await serveWorkerMetrics({
          registry: metrics.registry,
          port: config.workerMetricsPort,
          host: config.http.host,
          logger,
          // What running a workflow needs; the gateway's /readyz checks only Redis.
          readiness: [
            { name: 'redis', check: async () => void (await connection.ping()) },
            githubReadiness(config.github),
          ],
        });
  if (metricsServer) collectDefaultMetrics({ register: metrics.registry, prefix: 'droidworks_worker_' });
  logger.info({ concurrency: config.concurrency.global, sandbox: config.sandbox.backend }, 'worker ready');
  return {
    metrics,
    metricsUrl: metricsServer?.url,
    async close() {
      await metricsServer?.close();
      await maintenance?.close();
      await schedules.close();
      await intake.close();
      await runs.close();
      await services.sandboxes.close();
      await services.workspaces.close();
      await queues.close();
      connection.disconnect();
      subscriber.disconnect();
    },
  };
}
