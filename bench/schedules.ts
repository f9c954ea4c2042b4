/**
 * Schedules benchmark: 1,000 served repositories, each with two schedules (a repository prompt
 * workflow on `0 9 * * 1` with `jitterSec: 3600`, and `stale-branches` enabled in `.droidworks.yml`),
 * synced into BullMQ job schedulers on a private redis-server with the real sync code
 * (`createMaintenanceService().sync()`; the repositories' setups come from memory, not GitHub).
 *
 * Measures: time of the cold sync (empty Redis, 2,000 schedulers created); Redis memory they take
 * (`used_memory` after − before); the re-sync at start when nothing changed (diff: nothing written)
 * against a baseline that upserts every scheduler again (what a sync without the diff would do),
 * alternated three times; and the spread of start times that `jitterSec` gives the 1,000 repositories.
 *
 * Targets (issue 13): sync under 10 s and under 20 MB of Redis. Prints, never asserts.
 * Run: npx tsx bench/schedules.ts
 */
import { Redis } from 'ioredis';
import { parseRepoConfig } from '../src/config/repo-config.js';
import type { RepoSetup } from '../src/engine/repo-setup.js';
import type { GitHubHost } from '../src/github/types.js';
import { createScheduleStore } from '../src/queue/job-schedulers.js';
import { startEmbeddedRedis } from '../src/queue/embedded-redis.js';
import type { RunQueue } from '../src/queue/run-queue.js';
import { createMaintenanceService } from '../src/schedules/maintenance-service.js';
import { MaintenanceStore } from '../src/schedules/maintenance-store.js';
import { createLogger } from '../src/util/logger.js';
import { loadWorkflows, builtinWorkflowsDir } from '../src/workflows/load-workflows.js';
import { Writable } from 'node:stream';

const REPOS = 1000;
const ROUNDS = 3;
const PREFIX = 'benchsched';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]): string =>
  `median ${median(xs).toFixed(0)} ms (range ${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

async function main(): Promise<void> {
  const redisServer = await startEmbeddedRedis();
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  try {
    const config = parseRepoConfig(
      'maintenance:\n  stale-branches: { schedule: "0 4 * * 0", timezone: Europe/Berlin }\n',
    );
    const loaded = await loadWorkflows({
      builtinDir: builtinWorkflowsDir(),
      repoFiles: [
        {
          path: '.droidworks/workflows/changelog.md',
          content:
            '---\ndescription: weekly changelog\ntrigger: { schedule: { cron: "0 9 * * 1", timezone: Europe/Berlin, jitterSec: 3600 } }\n---\nUpdate CHANGELOG.md.',
        },
      ],
    });
    const setup: RepoSetup = {
      commitSha: 'x',
      config,
      configError: undefined,
      workflows: loaded.workflows,
      problems: [],
    };
    const repositories = Array.from({ length: REPOS }, (_, i) => `org${i % 10}/repo-${i}`);
    const logger = createLogger({
      level: 'warn',
      destination: new Writable({ write: (_c, _e, cb) => cb() }),
    });
    const schedules = createScheduleStore(redis, PREFIX);
    const service = createMaintenanceService({
      config: {
        repositories,
        commandPrefix: '/droid',
        queuePrefix: PREFIX,
        npmRegistry: 'http://registry.invalid',
        sandbox: { egress: { hosts: {} } },
      },
      github: {} as GitHubHost, // not reached: no config problems, no ticks
      repoSetup: async () => setup,
      runs: {} as RunQueue,
      schedules,
      store: new MaintenanceStore(redis, PREFIX),
      logger,
    });

    const before = await usedMemory(redis);
    let t = performance.now();
    const cold = await service.sync();
    const coldMs = performance.now() - t;
    const after = await usedMemory(redis);
    const stored = await schedules.list();

    const target: number[] = [];
    const baseline: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      t = performance.now();
      const r = await service.sync();
      target.push(performance.now() - t);
      if (r.upserted !== 0) throw new Error(`re-sync changed ${r.upserted} schedulers`);
      t = performance.now();
      // Baseline: a sync without the diff upserts every scheduler again (and so resets due ticks).
      for (const s of stored) await schedules.upsert(s.id, { cron: s.cron, timezone: s.timezone }, s.data!);
      baseline.push(performance.now() - t);
    }

    const delays = stored
      .filter((s) => s.id.endsWith('/changelog'))
      .map((s) => s.data!.delaySec)
      .sort((a, b) => a - b);
    const pct = (p: number): number =>
      delays[Math.min(delays.length - 1, Math.floor((p / 100) * delays.length))]!;
    const buckets = new Array<number>(6).fill(0);
    for (const d of delays) buckets[Math.min(5, Math.floor(d / 600))]! += 1;

    console.log(`schedules: ${REPOS} repositories × 2 schedules`);
    console.log(
      `  cold sync: ${coldMs.toFixed(0)} ms, ${cold.upserted} schedulers created (target < 10,000 ms)`,
    );
    console.log(
      `  Redis memory for them: ${((after - before) / 1024 / 1024).toFixed(2)} MB (target < 20 MB)`,
    );
    console.log(`  re-sync, nothing changed (diff, nothing written): ${fmt(target)}`);
    console.log(`  baseline re-sync upserting all ${stored.length}: ${fmt(baseline)}`);
    console.log(
      `  jitter (jitterSec 3600 on 0 9 * * 1): start delay p0 ${pct(0)} s, p50 ${pct(50)} s, p99 ${pct(99)} s, max ${delays.at(-1)} s; per 10 min: ${buckets.join(' / ')}`,
    );
    await schedules.close();
  } finally {
    redis.disconnect();
    await redisServer.stop();
  }
}

await main();
