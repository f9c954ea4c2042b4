import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { spawnRedis } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the redis-server started for this test run (never the machine's shared one). */
    redisUrl: string;
    /** Whether a Docker engine answers; Docker tests fail loudly in CI when it does not. */
    dockerAvailable: boolean;
  }
}

async function dockerAnswers(): Promise<boolean> {
  try {
    await promisify(execFile)('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 10_000 });
    return true;
  } catch {
    // No engine: Docker-backed tests are skipped locally and fail in CI (see test/support/docker.ts).
    return false;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await spawnRedis();
  project.provide('redisUrl', redis.url);
  project.provide('dockerAvailable', await dockerAnswers());
  return () => redis.stop();
}
