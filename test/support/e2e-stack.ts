import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { startStack, type Stack } from '../../src/cli/start-stack.js';
import { RunLedger } from '../../src/ledger/index.js';
import { createRedisConnection } from '../../src/queue/redis-connection.js';
import { createLogger } from '../../src/util/logger.js';
import { startFakeModelServer, type FakeModelServer } from './fake-model-server.js';
import { scriptedHandler } from './scripted-model.js';
import { waitFor } from './wait-for.js';

export const run = promisify(execFile);

export interface E2E {
  readonly stack: Stack;
  readonly model: FakeModelServer;
  /** Every log line droidworks wrote, for "no secret in logs" assertions. */
  readonly logs: string[];
  /**
   * {@link waitFor}, and when it fails (a timeout, a probe that threw) the error also shows the
   * stack's last log lines, so a stalled run in CI says which step it was waiting in.
   */
  waitFor<T>(
    what: string,
    probe: () => T | undefined | false | Promise<T | undefined | false>,
    timeoutMs?: number,
    intervalMs?: number,
  ): Promise<T>;
  close(): Promise<void>;
}

/**
 * The whole product on loopback for end-to-end tests: the forge, a real Redis, the real gateway and
 * worker with the Docker sandbox, and the fake model server speaking both wire formats (the planner
 * and reviewer through the Anthropic SDK, the coder through the OpenAI SDK).
 */
export async function startE2E(
  redisUrl: string,
  options: { env?: Record<string, string>; lockDurationMs?: number; noWorker?: boolean } = {},
): Promise<E2E> {
  const model = await startFakeModelServer({ handler: scriptedHandler() });
  const logs: string[] = [];
  const logger = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(chunk.toString());
        cb();
      },
    }),
  });
  const stack = await startStack({
    logger,
    redisUrl,
    lockDurationMs: options.lockDurationMs,
    noWorker: options.noWorker,
    env: {
      OPENAI_API_KEY: 'sk-test-openai-key-0123456789abcdef',
      OPENAI_BASE_URL: model.openaiBaseUrl,
      ANTHROPIC_API_KEY: 'sk-ant-test-key-0123456789abcdef',
      ANTHROPIC_BASE_URL: model.anthropicBaseUrl,
      DROIDWORKS_MODEL_PLANNER: 'anthropic:claude-haiku-4-5',
      DROIDWORKS_MODEL_CODER: 'openai:gpt-5.1',
      DROIDWORKS_MODEL_REVIEWER: 'anthropic:claude-haiku-4-5',
      DROIDWORKS_MODEL_SUMMARIZER: 'openai:gpt-5-mini',
      DROIDWORKS_SANDBOX_MEMORY_MB: '512',
      DROIDWORKS_COMMAND_TIMEOUT_SEC: '60',
      ...options.env,
    },
  });
  return {
    stack,
    model,
    logs,
    waitFor: (what, probe, timeoutMs, intervalMs) =>
      waitFor(what, probe, timeoutMs, intervalMs).catch(async (err: unknown) => {
        const runs = await recentRuns(stack).catch((e: unknown) => `(run ledgers unreadable: ${String(e)})`);
        throw new Error(
          [
            err instanceof Error ? err.message : String(err),
            runs,
            recentLogs(logs),
            modelRequests(model),
          ].join('\n'),
          { cause: err },
        );
      }),
    async close() {
      await stack.close();
      await model.close();
    },
  };
}

/** Clones `branch` of the forge repository and runs its tests on the host, as a reviewer would. */
export async function testsPassOnBranch(
  stack: Stack,
  branch: string,
): Promise<{ passed: boolean; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'dw-check-'));
  try {
    const token = stack.forge.installationToken(stack.repo.owner);
    const auth = `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
    await run('git', [
      '-c',
      `http.extraHeader=${auth}`,
      'clone',
      '--quiet',
      '--branch',
      branch,
      stack.forge.gitUrl(stack.repo.owner, stack.repo.name),
      dir,
    ]);
    try {
      const { stdout, stderr } = await run('node', ['--test'], { cwd: dir });
      return { passed: true, output: stdout + stderr };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      return { passed: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Containers of this stack's installation (its sandbox namespace) that still exist. */
export async function droidworksContainers(stack: Stack): Promise<string[]> {
  const { stdout } = await run('docker', [
    'ps',
    '-aq',
    '--filter',
    'label=droidworks.managed=true',
    '--filter',
    `label=droidworks.namespace=${stack.config.queuePrefix}`,
  ]);
  return stdout.split('\n').filter(Boolean);
}

/** Opens an issue about the sample repository's bug (as alice, a writer); labels it `droid` unless told not to. */
export function openIssue(
  stack: Stack,
  options: { title?: string; body?: string; label?: boolean } = {},
): { number: number } {
  const repo = stack.repo.full;
  const issue = stack.forge.createIssue(repo, {
    title: options.title ?? 'add() returns the wrong result',
    body: options.body ?? 'fix add',
    as: 'alice',
  });
  if (options.label !== false) stack.forge.addLabel(repo, issue.number, 'droid', 'alice');
  return issue;
}

/** The body of a run's progress comment on issue or PR `n`, if there is one. */
export function progressOf(stack: Stack, n: number): string | undefined {
  return stack.forge.comments(stack.repo.full, n).find((c) => c.body.includes('droidworks:progress'))?.body;
}

/** `droid:done` / `droid:failed` once a run has reported on issue or PR `n`. */
export function outcomeOf(stack: Stack, n: number): string | undefined {
  return stack.forge.issue(stack.repo.full, n).labels.find((l) => l.startsWith('droid:'));
}

/** The last `count` log lines, one short line each (`time level [runId component] msg {fields}`). */
export function recentLogs(logs: readonly string[], count = 60): string {
  const lines = logs.slice(-count).map((raw) => {
    try {
      const {
        time,
        level,
        msg,
        runId,
        component,
        service: _s,
        pid: _p,
        hostname: _h,
        ...rest
      } = JSON.parse(raw) as Record<string, unknown>;
      const at = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '?';
      const who = [runId, component].filter(Boolean).join(' ');
      const fields = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
      return `${at} ${String(level)}${who ? ` [${who}]` : ''} ${String(msg)}${fields}`.slice(0, 400);
    } catch {
      return raw.trim().slice(0, 400);
    }
  });
  return `last ${lines.length} of ${logs.length} log lines of the stack:\n  ${lines.join('\n  ')}`;
}

/** One line per request the fake model server received: time order, format, role hint, state. */
function modelRequests(model: FakeModelServer): string {
  const lines = model.requests.map(
    (r, i) =>
      `#${i} ${r.format} ${r.model} tools=${r.toolNames.length}${r.answered ? ' answered' : ''}${r.aborted ? ' aborted' : ''}`,
  );
  return `model requests (${lines.length}):\n  ${lines.join('\n  ')}`;
}

/** The stack's recent runs: state, and each ledger event with its time (where a run waited shows as a gap). */
async function recentRuns(stack: Stack): Promise<string> {
  const redis = createRedisConnection(stack.redisUrl, { role: 'worker' });
  try {
    const ledger = new RunLedger(redis, stack.config.queuePrefix);
    const out: string[] = [];
    for (const run of await ledger.recent(5)) {
      out.push(`run ${run.runId} ${JSON.stringify(run.state)}`);
      for (const e of (await ledger.events(run.runId)).slice(-40)) {
        const { type, at, id: _id, ...rest } = e;
        const at23 = new Date(at).toISOString().slice(11, 23);
        out.push(`  ${at23} ${type} ${JSON.stringify(rest).slice(0, 200)}`);
      }
    }
    return `runs of the stack (newest first):\n  ${out.join('\n  ') || '(none)'}`;
  } finally {
    redis.disconnect();
  }
}
