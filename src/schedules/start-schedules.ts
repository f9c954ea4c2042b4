import type { WorkerErrorHandler } from '../queue/run-queue.js';
import type { Redis } from 'ioredis';
import type { RunServices } from '../engine/run-context.js';
import { createScheduleStore, startTickWorker } from '../queue/job-schedulers.js';
import type { RunQueue } from '../queue/run-queue.js';
import { createMaintenanceIntake, type MaintenanceIntake } from './maintenance-intake.js';
import { createMaintenanceService, type MaintenanceService } from './maintenance-service.js';
import { MaintenanceStore } from './maintenance-store.js';
import { createMaintenanceRunHooks, type MaintenanceRunHooks } from './run-hooks.js';

export interface RunningSchedules {
  readonly service: MaintenanceService;
  readonly hooks: MaintenanceRunHooks;
  readonly intake: MaintenanceIntake;
  close(): Promise<void>;
}

/**
 * The worker's scheduled maintenance: syncs every served repository's schedules into BullMQ job
 * schedulers at start, then processes their ticks (one job per tick, whatever the number of workers).
 */
export async function startSchedules(o: {
  readonly services: RunServices;
  readonly connection: Redis;
  readonly runs: RunQueue;
  /** Errors of the tick worker's own Redis connections. */
  readonly onError?: WorkerErrorHandler;
}): Promise<RunningSchedules> {
  const { services, connection } = o;
  const { config, logger, github } = services;
  const schedules = createScheduleStore(connection, config.queuePrefix);
  const store = new MaintenanceStore(connection, config.queuePrefix);
  const service = createMaintenanceService({
    config,
    github,
    repoSetup: services.repoSetup,
    runs: o.runs,
    schedules,
    store,
    logger,
    dashboardUrl: services.dashboardUrl,
    listInstallationRepos:
      config.github.auth?.kind === 'app'
        ? async () => (await github.listInstallationRepos()).map((r) => ({ owner: r.owner, name: r.repo }))
        : undefined,
  });
  const hooks = createMaintenanceRunHooks({
    github,
    store,
    refreshDashboard: (repo) => service.refreshDashboard(repo, true),
  });
  try {
    await service.sync();
  } catch (err) {
    // The next installation or push event syncs again; runs for issues do not wait for this.
    logger.error({ err }, 'syncing schedules at start failed; they stay as they were');
  }
  const worker = await startTickWorker({
    connection,
    prefix: config.queuePrefix,
    processor: (tick) => service.onTick(tick),
    onError: o.onError,
  });
  return {
    service,
    hooks,
    intake: createMaintenanceIntake({
      github,
      service,
      commandPrefix: config.commandPrefix,
      logger,
    }),
    async close() {
      await worker.close();
      await schedules.close();
    },
  };
}
