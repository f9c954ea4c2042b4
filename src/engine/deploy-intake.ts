import type { DeployEnv } from '../config/deploy-env.js';
import { checkDeployConfig } from '../deploy/check-deploy-config.js';
import type { DeploySignals } from '../deploy/deploy-signals.js';
import type { GitHubHost } from '../github/types.js';
import type { IntakeJob, RunJob, SubjectRef } from '../queue/jobs.js';
import type { Logger } from '../util/logger.js';
import { matchWorkflow } from '../workflows/match-workflow.js';
import type { IntakeDeps, IntakeOutcome } from './handle-intake.js';
import { newRunId } from './handle-intake.js';
import { progressMarker, renderProgress } from './render-progress.js';

/** What intake needs for the deploy stage (built in `cli/serve-worker.ts`). */
export interface DeployIntakeDeps {
  readonly github: GitHubHost;
  readonly signals: DeploySignals;
  readonly env: DeployEnv;
}

const short = (sha: string): string => sha.slice(0, 12);

/**
 * Merges and CI events. A merge into the default branch starts the `deploy` workflow for its merge
 * commit (as `deploy.on` says); a CI event (from anyone, bots included: it starts no agent work)
 * wakes the gates waiting on that commit.
 */
export async function handleDeployEvent(
  job: IntakeJob,
  deps: IntakeDeps,
  log: Logger,
): Promise<IntakeOutcome[]> {
  const deploy = deps.deploy;
  if (!deploy) return [{ action: 'ignored', reason: 'deploy stage not enabled' }];
  const repoFull = `${job.repo.owner}/${job.repo.name}`;
  if (job.kind === 'ci') {
    if (!job.sha) return [{ action: 'ignored', reason: 'CI event without a commit' }];
    await deploy.signals.notifyCi(repoFull, job.sha);
    return [{ action: 'ignored', reason: 'CI event: waiting gates re-read the checks' }];
  }
  const subject = job.subject;
  if (!subject || !job.sha) return [{ action: 'ignored', reason: 'merge without a pull request or commit' }];
  const repo = { owner: job.repo.owner, repo: job.repo.name };
  const setup = await deps.repoSetup(job.repo.owner, job.repo.name);
  const issue = { ...repo, issueNumber: subject.number };
  if (!setup.config) {
    const problems = setup.configError?.problems.filter((p) => p.path.startsWith('deploy')) ?? [];
    if (problems.length > 0)
      await deploy.github.createComment(
        issue,
        `droidworks did not deploy \`${short(job.sha)}\`: the \`deploy:\` block of \`.droidworks.yml\` is invalid.\n\n${problems.map((p) => `- \`${p.path}\`: ${p.message}`).join('\n')}`,
      );
    return [{ action: 'ignored', reason: 'invalid .droidworks.yml' }];
  }
  const config = setup.config.deploy;
  if (!config) return [{ action: 'ignored', reason: 'no deploy: block' }];
  if (config.on === 'command') return [{ action: 'ignored', reason: 'deploy.on is command' }];
  if (config.on === 'droid' && !subject.headRef?.startsWith('droid/'))
    return [{ action: 'ignored', reason: 'deploy.on is droid and this is not a droid pull request' }];
  const pull = await deploy.github.getPullRequest(repo, subject.number);
  const defaultBranch = job.repo.defaultBranch ?? (await deploy.github.getRepo(repo)).defaultBranch;
  if (pull.baseRef !== defaultBranch)
    return [{ action: 'ignored', reason: `merged into ${pull.baseRef}, not ${defaultBranch}` }];
  return [await enqueueDeploy(job, subject, deps, deploy, { action: 'deploy', sha: job.sha }, log)];
}

/** `/droid deploy [environment]` and `/droid rollback [environment]` from a writer. */
export async function handleDeployCommand(
  verb: 'deploy' | 'rollback',
  args: string,
  job: IntakeJob,
  subject: SubjectRef,
  deps: IntakeDeps,
  log: Logger,
): Promise<IntakeOutcome> {
  const deploy = deps.deploy;
  const repo = { owner: job.repo.owner, repo: job.repo.name };
  const issue = { ...repo, issueNumber: subject.number };
  const reply = async (body: string): Promise<IntakeOutcome> => {
    await deps.github.createComment(issue, body);
    return { action: 'replied' };
  };
  if (!deploy) return reply(`\`${verb}\` is not enabled in this installation.`);
  const setup = await deps.repoSetup(job.repo.owner, job.repo.name);
  if (!setup.config)
    return reply(
      `droidworks cannot ${verb}: \`.droidworks.yml\` is invalid.\n\n${(setup.configError?.problems ?? []).map((p) => `- \`${p.path}\`: ${p.message}`).join('\n')}`,
    );
  const config = setup.config.deploy;
  if (!config) return reply(`droidworks cannot ${verb}: \`.droidworks.yml\` has no \`deploy:\` block.`);
  const environment = args.trim().split(/\s+/)[0] || undefined;
  if (environment && !config.environments.some((e) => e.name === environment))
    return reply(
      `No environment named \`${environment}\`. Known: ${config.environments.map((e) => `\`${e.name}\``).join(', ')}.`,
    );
  const sha = verb === 'deploy' ? (await deploy.github.getDefaultBranchSha(repo)).sha : undefined;
  return enqueueDeploy(job, subject, deps, deploy, { action: verb, sha, environment }, log);
}

async function enqueueDeploy(
  job: IntakeJob,
  subject: SubjectRef,
  deps: IntakeDeps,
  deploy: DeployIntakeDeps,
  request: { action: 'deploy' | 'rollback'; sha?: string; environment?: string },
  log: Logger,
): Promise<IntakeOutcome> {
  const repo = { owner: job.repo.owner, repo: job.repo.name };
  const issue = { ...repo, issueNumber: subject.number };
  const setup = await deps.repoSetup(job.repo.owner, job.repo.name);
  const config = setup.config?.deploy;
  if (!config) return { action: 'ignored', reason: 'no deploy: block' };
  // Secrets the server lacks and hosts it forbids: one comment naming every problem, no run.
  const problems = checkDeployConfig(config, deploy.env);
  if (problems.length > 0) {
    await deploy.github.createComment(
      issue,
      `droidworks did not deploy${request.sha ? ` \`${short(request.sha)}\`` : ''}: the \`deploy:\` block of \`.droidworks.yml\` has problems.\n\n${problems.map((p) => `- \`${p.path}\`: ${p.message}`).join('\n')}`,
    );
    return { action: 'refused', reason: 'deploy configuration problems' };
  }
  const definition =
    (job.kind === 'merge'
      ? matchWorkflow(
          setup.workflows,
          {
            kind: 'event',
            event: 'pull_request.closed',
            subjectType: 'pull',
            conditions: [
              'merged',
              ...(subject.headRef?.startsWith('droid/') ? (['droid-pull'] as const) : []),
            ],
          },
          { triggerLabel: deps.triggerLabel },
        )
      : matchWorkflow(
          setup.workflows,
          { kind: 'command', verb: request.action, subjectType: subject.type },
          { triggerLabel: deps.triggerLabel },
        )) ?? setup.workflows.get('deploy');
  if (!definition) return { action: 'ignored', reason: 'no deploy workflow' };
  const workflow = definition.name;
  const runId = newRunId(job.repo.name, subject.number, job.deliveryId, workflow);
  const seq = await deploy.signals.nextSeq();
  const data: RunJob = {
    runId,
    workflow,
    repo: job.repo,
    installationId: job.installationId,
    subject,
    requestedBy: job.sender.login,
    deliveryId: job.deliveryId,
    queuedAt: Date.now(),
    deploy: { action: request.action, sha: request.sha, environment: request.environment, seq },
  };
  // The progress comment and the ledger first: a deploy run can start (and write its comment) the
  // moment it is enqueued, and two writers that both find no comment would create two.
  const note =
    request.action === 'rollback'
      ? `Rolling back ${request.environment ?? 'the last environment'}.`
      : `Deploying \`${short(request.sha ?? '')}\`${request.environment ? ` to ${request.environment}` : ''} once CI has judged it.`;
  const view = {
    runId,
    workflow,
    steps: [],
    tokens: 0,
    costUsd: 0,
    commandPrefix: deps.commandPrefix,
    dashboardUrl: deps.dashboardUrl?.(runId),
  };
  const { comment } = await deps.github.upsertComment(
    issue,
    progressMarker(runId),
    renderProgress({ ...view, status: 'queued', note }),
  );
  await deps.ledger.setState(runId, {
    status: 'queued',
    workflow,
    subject: `${job.repo.owner}/${job.repo.name}#${subject.number}`,
    subjectType: subject.type,
    by: job.sender.login,
    trigger: `${deps.commandPrefix} ${request.action}`,
    queuedAt: Date.now(),
    ...(request.sha ? { sha: request.sha } : {}),
  });
  await deps.ledger.append(runId, {
    type: 'run.queued',
    workflow,
    by: job.sender.login,
    deliveryId: job.deliveryId,
    deploy: { action: request.action, sha: request.sha ?? null, environment: request.environment ?? null },
  });
  if (request.sha)
    await deploy.signals.register(`${job.repo.owner}/${job.repo.name}`, seq, runId, request.sha);
  const result = await deps.runs.enqueue(data);
  if (!result.added && result.runId !== runId) {
    await deploy.signals.unregister(`${job.repo.owner}/${job.repo.name}`, runId, request.sha ?? '');
    await deps.ledger.setState(runId, { status: 'cancelled' });
    await deploy.github.updateComment(
      repo,
      comment.id,
      renderProgress({
        ...view,
        status: 'cancelled',
        note: `Not started: a droidworks run is already ${result.state === 'active' ? 'running' : 'queued'} here (\`${result.runId}\`). Try again when it ends.`,
      }),
    );
    return { action: 'already_running', runId: result.runId };
  }
  log.info({ runId, workflow, sha: request.sha, action: request.action }, 'deploy run queued');
  return { action: 'started', runId };
}
