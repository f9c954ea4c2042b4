import { ConfigError } from '../config/config-error.js';
import type { RepoConfig } from '../config/repo-config.js';
import type { RepoSetup } from './repo-setup.js';
import type { RunJob } from '../queue/jobs.js';
import type { RunProcessor } from '../queue/run-queue.js';
import { STEP_IMPLS } from '../steps/index.js';
import { redact } from '../util/redact.js';
import type { RunContext, RunServices, RunState } from './run-context.js';
import { progressMarker, renderProgress } from './render-progress.js';
import { runSteps, StepFailedError } from './run-steps.js';

/** Minimum pause between two edits of the progress comment, unless a step forces one. */
const PROGRESS_INTERVAL_MS = 2000;

/**
 * The run processor: loads the repository's configuration and the workflow, runs its steps with the
 * engine, keeps the progress comment current, and always releases the sandbox and the workspace.
 * Returns when the run has reported its end; throws only to ask BullMQ for another attempt.
 */
export function createRunProcessor(services: RunServices): RunProcessor {
  return async (job, signal, attempt) => {
    const { runId } = job;
    const log = services.logger.child({
      runId,
      repo: `${job.repo.owner}/${job.repo.name}`,
      subject: job.subject.number,
    });
    const sink = services.ledger.sink(runId);
    const previous = await services.ledger.events(runId);
    const resumed = previous.some((e) => e.type === 'run.started');
    await sink.emit({ type: 'run.started', attempt: attempt.number, resumed, workflow: job.workflow });
    await services.ledger.setState(runId, { status: 'running', attempt: attempt.number });
    log.info({ attempt: attempt.number, resumed }, 'run started');

    const state: RunState = {
      codeRounds: 0,
      reviewRounds: 0,
      tokens: 0,
      costUsd: 0,
      stepStatus: new Map(),
      status: 'running',
    };
    const progress = progressWriter(services, job, state);

    let repoConfig: RepoConfig;
    let workflowSteps;
    let ctx: RunContext;
    try {
      const setup = await services.repoSetup(job.repo.owner, job.repo.name, signal);
      repoConfig = await repoConfigOrComment(services, job, setup);
      const workflow = setup.workflows.get(job.workflow);
      if (!workflow)
        throw new StepFailedError('load', `no valid workflow named "${job.workflow}" is installed`);
      workflowSteps = workflow.steps;
      for (const s of workflow.steps) state.stepStatus.set(s.step, 'pending');
      ctx = {
        services,
        job,
        runId,
        workflow,
        repoConfig,
        signal,
        log,
        sink,
        state,
        progress: (force) => progress.write(force),
      };
      progress.bind(ctx);
    } catch (err) {
      state.status = 'failed';
      state.error = errorText(err, services.secrets);
      await progress.write(true);
      await finish(services, runId, state, log);
      if (!(err instanceof ConfigError || err instanceof StepFailedError) && attempt.number < attempt.max)
        throw err;
      return;
    }

    let willRetry = false;
    try {
      await runSteps({
        steps: workflowSteps.map((s) => ({
          name: s.step,
          options: { ...s.with, ...(s.role ? { role: s.role } : {}) },
          retries: s.retries,
          if: s.if,
        })),
        impls: STEP_IMPLS,
        ctx,
        sink,
        signal,
        previous: resumed ? previous : undefined,
        maxLoops: repoConfig.testRounds + 2,
        onStep: async (name, status) => {
          state.stepStatus.set(name, status);
          await services.ledger.setState(runId, { step: name });
          await progress.write(status === 'failed');
        },
        onFailure: (err) => {
          if (signal.aborted) {
            state.status = 'cancelled';
            state.note = undefined;
            return;
          }
          willRetry = isRetryable(err) && attempt.number < attempt.max;
          state.error = errorText(err, services.secrets);
          if (willRetry) state.note = `Attempt ${attempt.number} of ${attempt.max} failed; retrying.`;
          else state.status = 'failed';
        },
      });
      if (state.status === 'running') state.status = 'succeeded';
    } catch (err) {
      log.warn(
        { err: errorText(err, services.secrets), willRetry, cancelled: signal.aborted },
        'run ended without success',
      );
      if (willRetry) {
        await release(ctx, log);
        throw err;
      }
    } finally {
      if (!willRetry) {
        await release(ctx, log);
        await progress.write(true);
        await finish(services, runId, state, log);
      }
    }
  };
}

/** The repository's configuration; an invalid `.droidworks.yml` gets a comment quoting every problem. */
async function repoConfigOrComment(
  services: RunServices,
  job: RunJob,
  setup: RepoSetup,
): Promise<RepoConfig> {
  if (setup.config) return setup.config;
  const err = setup.configError ?? new ConfigError([], '.droidworks.yml');
  await services.github.createComment(
    { owner: job.repo.owner, repo: job.repo.name, issueNumber: job.subject.number },
    `droidworks cannot run: \`${err.source}\` on the default branch is invalid.\n\n\`\`\`\n${err.message}\n\`\`\`\n\nFix the file and comment \`${services.config.commandPrefix} run\`.`,
  );
  throw err;
}

function isRetryable(err: unknown): boolean {
  if (err instanceof StepFailedError) return err.retryable;
  return !(err instanceof ConfigError);
}

function errorText(err: unknown, secrets: readonly string[]): string {
  return redact(err instanceof Error ? err.message : String(err), secrets).slice(0, 2000);
}

async function release(ctx: RunContext | undefined, log: RunContext['log']): Promise<void> {
  if (!ctx) return;
  const { workspace, sandbox } = ctx.state;
  try {
    await workspace?.release();
  } catch (err) {
    log.error({ err }, 'workspace release failed; the start-up sweep will remove it');
  }
  try {
    await sandbox?.release();
  } catch (err) {
    log.error({ err }, 'sandbox release failed; the start-up sweep will remove it');
  }
}

async function finish(
  services: RunServices,
  runId: string,
  state: RunState,
  log: RunContext['log'],
): Promise<void> {
  await services.ledger.setState(runId, {
    status: state.status,
    tokens: state.tokens,
    costUsd: state.costUsd ?? -1,
    ...(state.pullRequest ? { pullRequest: state.pullRequest.number } : {}),
  });
  await services.ledger.append(runId, {
    type: 'run.finished',
    status: state.status,
    tokens: state.tokens,
    costUsd: state.costUsd,
    error: state.error,
  });
  log.info({ status: state.status, tokens: state.tokens, costUsd: state.costUsd }, 'run finished');
}

/** Serialised, throttled edits of the run's one progress comment (found again by its marker). */
function progressWriter(services: RunServices, job: RunJob, state: RunState) {
  let last = 0;
  let chain: Promise<void> = Promise.resolve();
  let workflowName = job.workflow;
  let order: string[] = [];
  return {
    bind(ctx: RunContext) {
      workflowName = ctx.workflow.name;
      order = [...new Set(ctx.workflow.steps.map((s) => s.step))];
    },
    write(force = false): Promise<void> {
      const now = Date.now();
      if (!force && now - last < PROGRESS_INTERVAL_MS) return chain;
      last = now;
      const body = renderProgress({
        runId: job.runId,
        status: state.status,
        workflow: workflowName,
        steps: order.map((name) => ({ name, status: state.stepStatus.get(name) ?? 'pending' })),
        plan: state.plan,
        tests: state.tests,
        tokens: state.tokens,
        costUsd: state.costUsd,
        pullRequest: state.pullRequest,
        error: state.error,
        note: state.note,
        dashboardUrl: services.dashboardUrl?.(job.runId),
        commandPrefix: services.config.commandPrefix,
      });
      chain = chain
        .then(() =>
          services.github
            .upsertComment(
              { owner: job.repo.owner, repo: job.repo.name, issueNumber: job.subject.number },
              progressMarker(job.runId),
              redact(body, services.secrets),
            )
            .then(() => undefined),
        )
        .catch((err: unknown) => {
          // The comment is a view of the ledger; a failed edit is logged and the next one catches up.
          services.logger.warn(
            { runId: job.runId, err: errorText(err, services.secrets) },
            'progress comment update failed',
          );
        });
      return chain;
    },
  };
}
