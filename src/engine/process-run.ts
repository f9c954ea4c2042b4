import type { ConfigError } from '../config/config-error.js';
import { DEFAULT_REPO_CONFIG, type RepoConfig } from '../config/repo-config.js';
import type { RunJob } from '../queue/jobs.js';
import type { RunProcessor } from '../queue/run-queue.js';
import { STEP_IMPLS } from '../steps/index.js';
import { tracedSteps } from '../telemetry/run-spans.js';
import { redact } from '../util/redact.js';
import { decideRunEnd, endRun } from './end-run.js';
import { initialRunState, type RunContext, type RunServices, type RunState } from './run-context.js';
import { describeFailure } from './run-failure.js';
import { isFinalStatus } from '../ledger/run-status.js';
import { progressMarker, renderProgress } from './render-progress.js';
import { runSteps, StepFailedError, UnknownStepError } from './run-steps.js';

/** A run started this often without ending (its workers died) is ended as failed. */
export const MAX_RUN_STARTS = 6;

/** Minimum pause between two edits of the progress comment, unless a step forces one. */
const PROGRESS_INTERVAL_MS = 2000;

/**
 * The run processor: loads the repository's configuration and the workflow, runs its steps with the
 * engine, keeps the progress comment current, and always releases the sandbox and the workspace.
 * Every way an attempt stops goes through {@link decideRunEnd}: another attempt (it throws, for
 * BullMQ) or {@link endRun}, the one place a run ends. A run whose ledger already says it ended (its
 * worker died after ending it) is not run again.
 */
export function createRunProcessor(services: RunServices): RunProcessor {
  return async (job, signal, attempt) => {
    const { runId } = job;
    const log = services.logger.child({
      runId,
      repo: `${job.repo.owner}/${job.repo.name}`,
      subject: job.subject.number,
    });
    const stored = await services.ledger.state(runId);
    if (isFinalStatus(stored.status)) {
      log.info({ status: stored.status }, 'run already ended; nothing to do');
      return;
    }
    const sink = services.ledger.sink(runId);
    const previous = await services.ledger.events(runId);
    const starts = previous.filter((e) => e.type === 'run.started').length;
    const resumed = starts > 0;
    if (starts >= MAX_RUN_STARTS) {
      // Its workers keep dying (killed, out of memory): the run ends here instead of for ever.
      await endAbandoned(services, job, starts);
      return;
    }
    await sink.emit({ type: 'run.started', attempt: attempt.number, resumed, workflow: job.workflow });
    await services.ledger.setState(runId, { status: 'running', attempt: attempt.number });
    log.info({ attempt: attempt.number, resumed }, 'run started');

    const state = initialRunState();
    const progress = progressWriter(services, job, state);

    let failure: { error: unknown } | undefined;
    const decide = () => decideRunEnd({ failure, aborted: signal.aborted, attempt, status: state.status });
    // The first failure decides what the comment says while `failure`/`always` steps still run.
    const noteFailure = (err: unknown): void => {
      if (failure) return;
      failure = { error: err };
      const decision = decide();
      const text = describeFailure(err, services.secrets);
      if (decision.action === 'retry') {
        state.note = `Attempt ${attempt.number} of ${attempt.max} failed; retrying.`;
        state.error = text;
        state.retrying = true;
        return;
      }
      state.status = decision.status;
      // A step's note (the deploy view, "the agent stopped early") stays next to the failure.
      if (decision.status === 'cancelled') state.note = undefined;
      state.error = decision.status === 'cancelled' ? undefined : text;
    };

    let ctx: RunContext | undefined;
    let repoConfig: RepoConfig | undefined;
    try {
      const setup = await services.repoSetup(job.repo.owner, job.repo.name, signal);
      if (!setup.config) throw invalidRepoConfig(setup.configError, services.config.commandPrefix);
      repoConfig = setup.config;
      const workflow = setup.workflows.get(job.workflow);
      if (!workflow)
        throw new StepFailedError('load', `no valid workflow named "${job.workflow}" is installed`);
      const missing = workflow.steps.find((s) => !STEP_IMPLS[s.step]);
      if (missing) throw new UnknownStepError(missing.step);
      for (const s of workflow.steps) state.stepStatus.set(s.step, 'pending');
      const runCtx: RunContext = {
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
      ctx = runCtx;
      progress.bind(runCtx);
      await runSteps({
        steps: workflow.steps.map((s) => ({
          name: s.step,
          options: { ...s.with, ...(s.role ? { role: s.role } : {}) },
          retries: s.retries,
          if: s.if,
        })),
        impls: services.tracer ? tracedSteps(STEP_IMPLS, services.tracer, services.secrets) : STEP_IMPLS,
        ctx: runCtx,
        sink,
        signal,
        previous: resumed ? previous : undefined,
        maxLoops: repoConfig.testRounds + 2,
        onStep: async (name, status) => {
          state.stepStatus.set(name, status);
          await services.ledger.setState(runId, { step: name });
          await progress.write(status === 'failed');
        },
        onFailure: noteFailure,
      });
    } catch (err) {
      noteFailure(err);
    }
    await release(ctx, log);

    const decision = decide();
    if (failure)
      log.warn(
        { err: describeFailure(failure.error, services.secrets), decision },
        'run attempt ended without success',
      );
    if (decision.action === 'retry') {
      await progress.write(true);
      await sink.emit({ type: 'run.retrying', attempt: attempt.number, error: state.error });
      throw failure!.error;
    }
    state.status = decision.status;
    await endRun(
      { ledger: services.ledger, github: services.github, log },
      {
        runId,
        issue: { owner: job.repo.owner, repo: job.repo.name, issueNumber: job.subject.number },
        status: decision.status,
        error: decision.status === 'cancelled' ? undefined : state.error,
        tokens: state.tokens,
        costUsd: state.costUsd,
        pullRequest: state.pullRequest?.number,
        // Deploy runs and maintenance runs (their subject is the dashboard issue) touch no labels.
        labels: job.deploy || job.maintenance ? undefined : (repoConfig ?? DEFAULT_REPO_CONFIG).labels,
      },
      () => progress.write(true),
    );
  };
}

/** An invalid `.droidworks.yml`: every problem, and how to go on. */
function invalidRepoConfig(err: ConfigError | undefined, prefix: string): StepFailedError {
  const source = err?.source ?? '.droidworks.yml';
  return new StepFailedError(
    'load',
    `\`${source}\` on the default branch is invalid; fix it and comment \`${prefix} run\`.\n\n\`\`\`\n${err?.message ?? 'unreadable'}\n\`\`\``,
    false,
    { cause: err },
  );
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
            { runId: job.runId, err: describeFailure(err, services.secrets) },
            'progress comment update failed',
          );
        });
      return chain;
    },
  };
}

/**
 * Ends a run whose job BullMQ gave up on without its processor ending it (its workers died or
 * lost the lock more often than allowed): the same `endRun` as every other exit, and what its
 * dead attempts left behind (container, network, worktree) is removed. Does nothing when the run
 * already ended or is still queued for another attempt.
 */
export function createAbandonedRunHandler(
  services: RunServices,
  stillQueued: (job: RunJob) => Promise<boolean>,
) {
  return async (job: RunJob): Promise<void> => {
    const stored = await services.ledger.state(job.runId);
    if (isFinalStatus(stored.status) || (await stillQueued(job))) return;
    const starts = (await services.ledger.events(job.runId)).filter((e) => e.type === 'run.started').length;
    await endAbandoned(services, job, starts);
  };
}

/** Ends a run its workers could not finish, removing what their attempts left behind. */
async function endAbandoned(services: RunServices, job: RunJob, starts: number): Promise<void> {
  const { runId } = job;
  const log = services.logger.child({ runId, repo: `${job.repo.owner}/${job.repo.name}` });
  const stored = await services.ledger.state(runId);
  const error = `the run stopped ${starts} time(s) before finishing (its worker was killed or lost its lock) and is not tried again; comment \`${services.config.commandPrefix} run\` to start over.`;
  const mine = (id: string): boolean => id !== runId;
  await services.sandboxes
    .sweep(mine)
    .catch((err: unknown) => log.warn({ err }, 'abandoned run: sandbox sweep failed'));
  await services.workspaces
    .sweep(mine)
    .catch((err: unknown) => log.warn({ err }, 'abandoned run: workspace sweep failed'));
  const labels = await services
    .repoSetup(job.repo.owner, job.repo.name)
    .then((s) => (s.config ?? DEFAULT_REPO_CONFIG).labels)
    .catch((err: unknown) => {
      log.warn({ err }, 'abandoned run: repository settings unreadable; default labels used');
      return DEFAULT_REPO_CONFIG.labels;
    });
  const issue = { owner: job.repo.owner, repo: job.repo.name, issueNumber: job.subject.number };
  const tokens = Number(stored.tokens ?? 0);
  await endRun(
    { ledger: services.ledger, github: services.github, log },
    { runId, issue, status: 'failed', error, tokens, costUsd: null, labels },
    async () => {
      const body = renderProgress({
        runId,
        status: 'failed',
        workflow: job.workflow,
        steps: [],
        tokens,
        costUsd: null,
        error,
        dashboardUrl: services.dashboardUrl?.(runId),
        commandPrefix: services.config.commandPrefix,
      });
      await services.github
        .upsertComment(issue, progressMarker(runId), redact(body, services.secrets))
        .catch((err: unknown) => log.warn({ err }, 'abandoned run: progress comment not updated'));
    },
  );
}
