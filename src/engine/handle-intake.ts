import { createHash } from 'node:crypto';
import {
  commandHelp,
  parseCommands,
  type CommandVerb,
  type ParsedCommand,
} from '../gateway/parse-command.js';
import { matchWorkflow, type TriggerInput } from '../workflows/match-workflow.js';
import type { EventCondition } from '../workflows/parse-workflow.js';
import type { RepoSetup } from './repo-setup.js';
import type { IntakeJob, RunJob, SubjectRef } from '../queue/jobs.js';
import type { RunQueue } from '../queue/run-queue.js';
import type { Logger } from '../util/logger.js';
import { isWriter, type GitHubHost } from '../github/types.js';
import type { RunLedger } from './ledger.js';
import { progressMarker, renderProgress } from './render-progress.js';
import type { MaintenanceIntake } from '../schedules/maintenance-intake.js';

/** What intake needs from GitHub. */
export type IntakeGitHub = Pick<
  GitHubHost,
  'getPermission' | 'createComment' | 'upsertComment' | 'addReaction'
>;

export interface IntakeDeps {
  readonly github: IntakeGitHub;
  readonly runs: RunQueue;
  readonly ledger: RunLedger;
  readonly commandPrefix: string;
  readonly triggerLabel: string;
  /** The repository's workflows (built-ins plus its own) and settings. */
  readonly repoSetup: (owner: string, repo: string) => Promise<RepoSetup>;
  readonly logger: Logger;
  readonly dashboardUrl?: (runId: string) => string | undefined;
  /** Marks a plan approved for a subject (read by the `approve` step). */
  readonly approve?: (subject: string, by: string) => Promise<void>;
  /** Scheduled maintenance's own intake (re-syncs, dashboard boxes, `/droid run <workflow>`). */
  readonly maintenance?: MaintenanceIntake;
}

export type IntakeOutcome =
  | { readonly action: 'started'; readonly runId: string }
  | { readonly action: 'already_running'; readonly runId: string }
  | { readonly action: 'refused'; readonly reason: string }
  | { readonly action: 'cancelled'; readonly runId?: string }
  | { readonly action: 'replied' }
  | { readonly action: 'ignored'; readonly reason: string };

/** The trigger an intake job stands for, in the terms workflow definitions use. Pure. */
export function triggerOf(
  job: IntakeJob,
  subject: SubjectRef,
  triggerLabel: string,
  verb?: CommandVerb,
): TriggerInput {
  const subjectType = subject.type;
  if (job.kind === 'label') return { kind: 'label', label: triggerLabel, subjectType };
  if (job.kind === 'review') {
    const conditions: EventCondition[] = subject.headRef?.startsWith('droid/') ? ['droid-pull'] : [];
    return { kind: 'event', event: `${job.event}.${job.action ?? ''}`, subjectType, conditions };
  }
  return { kind: 'command', verb: verb ?? 'run', subjectType };
}

/**
 * First thing in the worker for every webhook-born job: authorize the sender with the collaborator
 * permission API (cheap), then start, cancel or answer. A refused sender never costs a run.
 */
export async function handleIntake(job: IntakeJob, deps: IntakeDeps): Promise<IntakeOutcome[]> {
  const maintained = await deps.maintenance?.(job);
  if (maintained) return maintained;
  if (job.kind === 'sync' || job.kind === 'dashboard')
    return [{ action: 'ignored', reason: 'no schedules here' }];
  const log = deps.logger.child({ deliveryId: job.deliveryId, kind: job.kind });
  const { owner, name } = job.repo;
  const subject = job.subject;
  if (job.kind === 'merge' || job.kind === 'ci') {
    log.info('deploy stage is not enabled in this release; event recorded only');
    return [{ action: 'ignored', reason: 'deploy stage not enabled' }];
  }
  if (!subject) return [{ action: 'ignored', reason: 'no issue or pull request' }];

  const repo = { owner, repo: name };
  const issue = { ...repo, issueNumber: subject.number };
  const permission = await deps.github.getPermission(repo, job.sender.login);
  const writer = isWriter(permission);

  if (job.kind === 'unlabel' || job.kind === 'closed') {
    if (!writer && job.kind === 'unlabel') return [{ action: 'ignored', reason: 'sender cannot write' }];
    const runId = await cancelRun(job, subject, deps, job.kind);
    log.info({ runId }, 'cancel requested by issue state');
    return [{ action: 'cancelled', runId }];
  }

  if (!writer) {
    log.info({ sender: job.sender.login, permission }, 'refused: sender lacks write permission');
    const what = job.kind === 'label' ? 'labels' : job.kind === 'review' ? 'reviews' : 'commands';
    await deps.github.createComment(
      issue,
      `@${job.sender.login} droidworks only acts on ${what} from people with write access to this repository (yours: \`${permission}\`).`,
    );
    return [{ action: 'refused', reason: `permission ${permission}` }];
  }

  if (job.kind === 'label' || job.kind === 'review')
    return [
      await start(
        job,
        deps,
        triggerOf(job, subject, deps.triggerLabel),
        job.kind === 'review' ? job.text : undefined,
        log,
      ),
    ];

  const outcomes: IntakeOutcome[] = [];
  const commands = (job.commands ?? []).flatMap((line) => parseCommands(line, deps.commandPrefix));
  if (job.commentId !== undefined && commands.some((c) => c.ok))
    await deps.github.addReaction(repo, { commentId: job.commentId }, 'eyes');
  for (const command of commands) outcomes.push(await runCommand(command, job, subject, deps, log));
  return outcomes;
}

async function runCommand(
  command: ParsedCommand,
  job: IntakeJob,
  subject: SubjectRef,
  deps: IntakeDeps,
  log: Logger,
): Promise<IntakeOutcome> {
  const { owner, name } = job.repo;
  const reply = async (body: string): Promise<IntakeOutcome> => {
    await deps.github.createComment({ owner, repo: name, issueNumber: subject.number }, body);
    return { action: 'replied' };
  };
  if (!command.ok) {
    const why =
      command.error === 'missing_args'
        ? `\`${command.verb}\` needs instructions.`
        : `Unknown command \`${command.verb}\`.`;
    return reply(`${why}\n\n${commandHelp(deps.commandPrefix)}`);
  }
  switch (command.verb) {
    case 'run':
    case 'retry':
    case 'fix':
      return start(
        job,
        deps,
        triggerOf(job, subject, deps.triggerLabel, command.verb),
        command.args || undefined,
        log,
      );
    case 'cancel': {
      const runId = await cancelRun(job, subject, deps, 'command');
      if (!runId) return reply('Nothing to cancel: no run is waiting or running here.');
      return { action: 'cancelled', runId };
    }
    case 'status': {
      const current = await deps.runs.current(job.repo, subject);
      if (!current) return reply('No run is waiting or running here.');
      const state = await deps.ledger.state(current.runId);
      return reply(
        `Run \`${current.runId}\` is **${current.state}**${current.position ? ` (position ${current.position} in the queue)` : ''}${state.step ? `, step \`${state.step}\`` : ''}.`,
      );
    }
    case 'approve': {
      await deps.approve?.(`${owner}/${name}#${subject.number}`.toLowerCase(), job.sender.login);
      return { action: 'replied' };
    }
    case 'deploy':
    case 'rollback':
      return reply(`\`${command.verb}\` is not enabled in this installation yet.`);
    case 'help':
      return reply(commandHelp(deps.commandPrefix));
  }
}

/**
 * Cancels the subject's run. A running one is aborted by its worker, which reports it; a waiting one
 * never starts, so its progress comment is marked cancelled here.
 */
async function cancelRun(
  job: IntakeJob,
  subject: SubjectRef,
  deps: IntakeDeps,
  why: string,
): Promise<string | undefined> {
  const cancelled = await deps.runs.cancel(job.repo, subject);
  if (!cancelled) return undefined;
  const { runId, workflow } = cancelled;
  await deps.ledger.append(runId, { type: 'run.cancel_requested', by: job.sender.login, why });
  if (!cancelled.wasRunning) {
    await deps.ledger.setState(runId, { status: 'cancelled' });
    await deps.github.upsertComment(
      { owner: job.repo.owner, repo: job.repo.name, issueNumber: subject.number },
      progressMarker(runId),
      renderProgress({
        runId,
        status: 'cancelled',
        workflow,
        steps: [],
        tokens: 0,
        costUsd: 0,
        commandPrefix: deps.commandPrefix,
        note: `Cancelled by @${job.sender.login} before it started.`,
      }),
    );
  }
  return runId;
}

/** Enqueues a run (at most one per subject) and acknowledges it with the progress comment. */
async function start(
  job: IntakeJob,
  deps: IntakeDeps,
  trigger: TriggerInput,
  instructions: string | undefined,
  log: Logger,
): Promise<IntakeOutcome> {
  const subject = job.subject!;
  const issue = { owner: job.repo.owner, repo: job.repo.name, issueNumber: subject.number };
  const setup = await deps.repoSetup(job.repo.owner, job.repo.name);
  if (setup.problems.length > 0)
    await deps.github.createComment(
      issue,
      `Some of this repository's droidworks workflows are invalid and were left out:\n\n${setup.problems
        .map((p) => `- \`${p.source}\`:\n${p.problems.map((q) => `  - ${q.path}: ${q.message}`).join('\n')}`)
        .join('\n')}`,
    );
  const definition = matchWorkflow(setup.workflows, trigger, { triggerLabel: deps.triggerLabel });
  if (!definition) {
    log.info({ trigger }, 'no workflow listens to this trigger');
    if (trigger.kind === 'command')
      await deps.github.createComment(
        issue,
        `\`${deps.commandPrefix} ${trigger.verb}\` does nothing on ${subject.type === 'pull' ? 'a pull request' : 'an issue'} here: no workflow of this repository listens to it.`,
      );
    return { action: 'ignored', reason: 'no workflow for this trigger' };
  }
  const workflow = definition.name;
  const runId = newRunId(job.repo.name, subject.number, job.deliveryId, workflow);
  const data: RunJob = {
    runId,
    workflow,
    repo: job.repo,
    installationId: job.installationId,
    subject,
    requestedBy: job.sender.login,
    instructions,
    branch: subject.type === 'pull' ? subject.headRef : undefined,
    deliveryId: job.deliveryId,
    queuedAt: Date.now(),
  };
  const result = await deps.runs.enqueue(data);
  if (!result.added && result.runId !== runId) {
    log.info({ runId: result.runId, state: result.state }, 'a run is already active for this subject');
    await deps.github.createComment(
      { owner: job.repo.owner, repo: job.repo.name, issueNumber: subject.number },
      `A droidworks run is already ${result.state === 'active' ? 'running' : 'queued'} here (\`${result.runId}\`${result.position ? `, position ${result.position}` : ''}). \`${deps.commandPrefix} cancel\` stops it.`,
    );
    return { action: 'already_running', runId: result.runId };
  }
  await deps.ledger.setState(runId, {
    status: 'queued',
    workflow,
    subject: `${job.repo.owner}/${job.repo.name}#${subject.number}`,
    ...(subject.title ? { title: subject.title.slice(0, 200) } : {}),
  });
  await deps.ledger.append(runId, {
    type: 'run.queued',
    workflow,
    by: job.sender.login,
    deliveryId: job.deliveryId,
  });
  // Acknowledge at once; the run edits this same comment from now on (found again by its marker).
  await deps.github.upsertComment(
    { owner: job.repo.owner, repo: job.repo.name, issueNumber: subject.number },
    progressMarker(runId),
    renderProgress({
      runId,
      status: 'queued',
      workflow,
      steps: [],
      tokens: 0,
      costUsd: 0,
      queuePosition: result.position,
      commandPrefix: deps.commandPrefix,
      dashboardUrl: deps.dashboardUrl?.(runId),
    }),
  );
  log.info({ runId, workflow }, 'run queued');
  return { action: 'started', runId };
}

/**
 * Run ids name what they are about and are derived from the delivery that started them, so a
 * retried intake job recognises the run it already queued: `<repo>-<number>-<hash>`.
 */
export function newRunId(repo: string, number: number, deliveryId: string, workflow: string): string {
  const hash = createHash('sha256').update(`${deliveryId}:${workflow}`).digest('hex').slice(0, 10);
  return `${repo
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 30)}-${number}-${hash}`;
}
