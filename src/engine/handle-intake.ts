import { createHash } from 'node:crypto';
import {
  commandHelp,
  MAX_COMMANDS_PER_COMMENT,
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
import { commentMarker, isWriter, type GitHubHost, type IssueRef } from '../github/types.js';
import { endRun } from './end-run.js';
import type { RunLedger } from '../ledger/index.js';
import { progressMarker, renderProgress } from './render-progress.js';
import { handleDeployCommand, handleDeployEvent, type DeployIntakeDeps } from './deploy-intake.js';
import type { MaintenanceIntake } from '../schedules/maintenance-intake.js';

/** What intake needs from GitHub. */
export type IntakeGitHub = Pick<
  GitHubHost,
  'getPermission' | 'createComment' | 'upsertComment' | 'addReaction' | 'addLabels' | 'removeLabel'
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
  /** The deploy stage; without it merges and CI events are only recorded. */
  readonly deploy?: DeployIntakeDeps;
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
  if (job.kind === 'merge' || job.kind === 'ci') return handleDeployEvent(job, deps, log);
  if (!subject) return [{ action: 'ignored', reason: 'no issue or pull request' }];

  const repo = { owner, repo: name };
  const issue = { ...repo, issueNumber: subject.number };
  const permission = job.dashboardAdmin ? 'admin' : await deps.github.getPermission(repo, job.sender.login);
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
    await replyOnce(
      deps,
      job,
      issue,
      'refused',
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
        'start',
      ),
    ];

  const outcomes: IntakeOutcome[] = [];
  const parsed = (job.commands ?? []).flatMap((line) => parseCommands(line, deps.commandPrefix));
  // The gateway already keeps at most this many; a job from an older gateway is held to it here.
  const commands = parsed.slice(0, MAX_COMMANDS_PER_COMMENT);
  const ignored = (job.commandsIgnored ?? 0) + parsed.length - commands.length;
  if (job.commentId !== undefined && commands.some((c) => c.ok))
    await deps.github.addReaction(repo, { commentId: job.commentId }, 'eyes');
  for (const [i, command] of commands.entries())
    outcomes.push(await runCommand(command, job, subject, deps, log, `command-${i}`));
  if (ignored > 0) {
    log.info({ ignored }, 'commands over the per-comment limit ignored');
    await replyOnce(
      deps,
      job,
      issue,
      'ignored-commands',
      `droidworks acts on at most ${MAX_COMMANDS_PER_COMMENT} commands per comment; the other ${ignored} were ignored.`,
    );
    outcomes.push({ action: 'replied' });
  }
  return outcomes;
}

async function runCommand(
  command: ParsedCommand,
  job: IntakeJob,
  subject: SubjectRef,
  deps: IntakeDeps,
  log: Logger,
  key: string,
): Promise<IntakeOutcome> {
  const { owner, name } = job.repo;
  const reply = async (body: string): Promise<IntakeOutcome> => {
    await replyOnce(deps, job, { owner, repo: name, issueNumber: subject.number }, key, body);
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
        key,
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
      return handleDeployCommand(command.verb, command.args, job, subject, deps, log);
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
    const issue = { owner: job.repo.owner, repo: job.repo.name, issueNumber: subject.number };
    await endRun(
      { ledger: deps.ledger, github: deps.github, log: deps.logger },
      { runId, issue, status: 'cancelled', tokens: 0, costUsd: 0 },
      () =>
        writeProgress(deps, issue, runId, {
          status: 'cancelled',
          workflow,
          note: `Cancelled by @${job.sender.login} before it started.`,
        }),
    );
  }
  return runId;
}

/**
 * Starts a run (at most one per subject): its ledger state `queued` and its progress comment are
 * written before the job is enqueued, so a worker that picks it up at once finds both (its first
 * progress write edits that comment, its `running` is never overwritten). A retried intake job
 * finds the same run id, state and comment and adds nothing.
 */
async function start(
  job: IntakeJob,
  deps: IntakeDeps,
  trigger: TriggerInput,
  instructions: string | undefined,
  log: Logger,
  key: string,
): Promise<IntakeOutcome> {
  const subject = job.subject!;
  const issue = { owner: job.repo.owner, repo: job.repo.name, issueNumber: subject.number };
  const setup = await deps.repoSetup(job.repo.owner, job.repo.name);
  const own = setup.problems.filter((p) => p.origin !== 'builtin');
  for (const p of setup.problems.filter((p) => p.origin === 'builtin'))
    log.error({ source: p.source, problems: p.problems }, 'a built-in workflow is invalid and was left out');
  if (own.length > 0)
    await replyOnce(
      deps,
      job,
      issue,
      `${key}-problems`,
      `Some of this repository's droidworks workflows are invalid and were left out:\n\n${formatProblems(own)}`,
    );
  const definition = matchWorkflow(setup.workflows, trigger, { triggerLabel: deps.triggerLabel });
  if (!definition) {
    log.info({ trigger }, 'no workflow listens to this trigger');
    if (trigger.kind === 'command')
      await replyOnce(
        deps,
        job,
        issue,
        key,
        `\`${deps.commandPrefix} ${trigger.verb}\` does nothing on ${subject.type === 'pull' ? 'a pull request' : 'an issue'} here: no workflow of this repository listens to it.`,
      );
    return { action: 'ignored', reason: 'no workflow for this trigger' };
  }
  // An invalid repository file that meant to replace this built-in: running the built-in instead
  // would do what the repository asked not to.
  const shadow = own.find((p) => definition.origin === 'builtin' && p.name === definition.name);
  if (shadow) {
    log.info(
      { workflow: definition.name, source: shadow.source },
      'refused: the workflow override is invalid',
    );
    await replyOnce(
      deps,
      job,
      issue,
      `${key}-invalid-override`,
      `droidworks did not start \`${definition.name}\`: this repository's \`${shadow.source}\` replaces it and is invalid (see above). Fix it and comment \`${deps.commandPrefix} run\`.`,
    );
    return { action: 'refused', reason: `invalid workflow ${shadow.source}` };
  }
  const workflow = definition.name;
  const runId = newRunId(job.repo.name, subject.number, job.deliveryId, workflow);

  const current = await deps.runs.current(job.repo, subject);
  if (current && current.runId !== runId) return alreadyActive(deps, job, issue, key, current, log);

  const status = await deps.ledger.initState(runId, {
    workflow,
    subject: `${job.repo.owner}/${job.repo.name}#${subject.number}`,
    subjectType: subject.type,
    by: job.sender.login,
    trigger:
      trigger.kind === 'command'
        ? `${deps.commandPrefix} ${trigger.verb}`
        : trigger.kind === 'event'
          ? trigger.event
          : trigger.kind,
    queuedAt: Date.now(),
    ...(subject.title ? { title: subject.title.slice(0, 200) } : {}),
  });
  if (status !== 'queued') {
    log.info({ runId, status }, 'this delivery already started its run');
    return { action: 'started', runId };
  }
  if ((await deps.ledger.events(runId)).length === 0)
    await deps.ledger.append(runId, {
      type: 'run.queued',
      workflow,
      by: job.sender.login,
      deliveryId: job.deliveryId,
    });
  await writeProgress(deps, issue, runId, { status: 'queued', workflow });

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
    // Another trigger enqueued its run between our look-up and our enqueue: ours never starts.
    await endRun(
      { ledger: deps.ledger, github: deps.github, log },
      { runId, issue, status: 'cancelled', tokens: 0, costUsd: 0 },
      () =>
        writeProgress(deps, issue, runId, {
          status: 'cancelled',
          workflow,
          note: `Not started: run \`${result.runId}\` of this ${subject.type === 'pull' ? 'pull request' : 'issue'} is already ${result.state === 'active' ? 'running' : 'queued'}.`,
        }),
    );
    return { action: 'already_running', runId: result.runId };
  }
  log.info({ runId, workflow }, 'run queued');
  return { action: 'started', runId };
}

async function alreadyActive(
  deps: IntakeDeps,
  job: IntakeJob,
  issue: IssueRef,
  key: string,
  current: { runId: string; state: string; position?: number },
  log: Logger,
): Promise<IntakeOutcome> {
  log.info({ runId: current.runId, state: current.state }, 'a run is already active for this subject');
  await replyOnce(
    deps,
    job,
    issue,
    key,
    `A droidworks run is already ${current.state === 'active' ? 'running' : 'queued'} here (\`${current.runId}\`${current.position ? `, position ${current.position}` : ''}). \`${deps.commandPrefix} cancel\` stops it.`,
  );
  return { action: 'already_running', runId: current.runId };
}

/** Writes a run's progress comment before its worker does (queued, or cancelled before it ran). */
async function writeProgress(
  deps: IntakeDeps,
  issue: IssueRef,
  runId: string,
  view: { status: 'queued' | 'cancelled'; workflow: string; note?: string },
): Promise<void> {
  await deps.github.upsertComment(
    issue,
    progressMarker(runId),
    renderProgress({
      runId,
      ...view,
      steps: [],
      tokens: 0,
      costUsd: 0,
      commandPrefix: deps.commandPrefix,
      dashboardUrl: deps.dashboardUrl?.(runId),
    }),
  );
}

/**
 * Answers on the issue once per delivery and `key`: the comment carries a hidden marker, so a
 * retried intake job edits its earlier reply instead of adding another.
 */
async function replyOnce(
  deps: IntakeDeps,
  job: IntakeJob,
  issue: IssueRef,
  key: string,
  text: string,
): Promise<void> {
  const marker = replyMarker(job.deliveryId, key);
  await deps.github.upsertComment(issue, marker, `${marker}\n${text}`);
}

/** The hidden marker of one intake reply: `<!-- droidworks:reply delivery=<id> key=<key> -->`. */
export function replyMarker(deliveryId: string, key: string): string {
  return commentMarker(`reply delivery=${deliveryId.replace(/\s+/g, '_')} key=${key}`);
}

function formatProblems(problems: IntakeProblems): string {
  return problems
    .map((p) => `- \`${p.source}\`:\n${p.problems.map((q) => `  - ${q.path}: ${q.message}`).join('\n')}`)
    .join('\n');
}
type IntakeProblems = RepoSetup['problems'];

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
