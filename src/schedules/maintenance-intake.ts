import type { IntakeOutcome } from '../engine/handle-intake.js';
import { parseCommands } from '../gateway/parse-command.js';
import { isWriter, type GitHubHost } from '../github/types.js';
import type { IntakeJob } from '../queue/jobs.js';
import type { Logger } from '../util/logger.js';
import type { MaintenanceService } from './maintenance-service.js';
import { tickedWorkflows } from './render-dashboard.js';

export interface MaintenanceIntakeDeps {
  readonly github: Pick<GitHubHost, 'getPermission' | 'createComment'>;
  readonly service: MaintenanceService;
  readonly commandPrefix: string;
  readonly logger: Logger;
}

/**
 * The intake jobs scheduled maintenance owns: re-syncs (`sync`), ticked dashboard boxes
 * (`dashboard`) and `/droid run <workflow>` naming a scheduled workflow. Undefined: not ours.
 */
export function createMaintenanceIntake(d: MaintenanceIntakeDeps) {
  return async (job: IntakeJob): Promise<IntakeOutcome[] | undefined> => {
    const log = d.logger.child({ deliveryId: job.deliveryId, kind: job.kind });
    const repo = { owner: job.repo.owner, name: job.repo.name };
    if (job.kind === 'sync') {
      const result = await d.service.sync(repo.name === '*' ? undefined : [repo]);
      log.info({ ...result, event: job.event }, 'schedules re-synced');
      return [{ action: 'ignored', reason: 'schedules re-synced' }];
    }
    if (job.kind === 'dashboard') {
      const wanted = tickedWorkflows(job.text ?? '');
      if (wanted.length === 0) return [{ action: 'ignored', reason: 'no box ticked' }];
      if (!(await writer(job))) {
        log.info({ sender: job.sender.login }, 'dashboard box ticked by a non-writer; ignored');
        await d.service.refreshDashboard(repo, true); // clears the box again
        return [{ action: 'refused', reason: 'sender cannot write' }];
      }
      const outcomes: IntakeOutcome[] = [];
      for (const workflow of wanted) {
        const started = await d.service.start(repo, workflow, { trigger: 'dashboard' }, job.sender.login);
        outcomes.push(
          started.started
            ? { action: 'started', runId: started.runId }
            : { action: 'ignored', reason: started.reason },
        );
      }
      // The boxes are cleared by re-rendering the dashboard.
      await d.service.refreshDashboard(repo, true);
      return outcomes;
    }
    if (job.kind !== 'command' || !job.subject) return undefined;
    const commands = (job.commands ?? []).flatMap((line) => parseCommands(line, d.commandPrefix));
    const named = commands.flatMap((c) =>
      c.ok && c.verb === 'run' && /^[a-z0-9-]+$/.test(c.args.trim()) ? [c.args.trim()] : [],
    );
    if (named.length === 0 || named.length !== commands.length) return undefined;
    const scheduled = [];
    for (const workflow of named) if (await d.service.isScheduled(repo, workflow)) scheduled.push(workflow);
    if (scheduled.length === 0) return undefined;
    const issue = { owner: repo.owner, repo: repo.name, issueNumber: job.subject.number };
    if (!(await writer(job))) {
      await d.github.createComment(
        issue,
        `@${job.sender.login} droidworks only acts on commands from people with write access to this repository.`,
      );
      return [{ action: 'refused', reason: 'sender cannot write' }];
    }
    const outcomes: IntakeOutcome[] = [];
    for (const workflow of scheduled) {
      const started = await d.service.start(repo, workflow, { trigger: 'command' }, job.sender.login);
      await d.github.createComment(
        issue,
        started.started
          ? `Started **${workflow}** now (${started.runIds.length === 1 ? 'run' : 'runs'} ${started.runIds.map((id) => `\`${id}\``).join(', ')}); its progress is on the maintenance dashboard issue.`
          : `**${workflow}** did not start: ${started.reason}.`,
      );
      outcomes.push(started.started ? { action: 'started', runId: started.runId } : { action: 'replied' });
    }
    return outcomes;
  };

  async function writer(job: IntakeJob): Promise<boolean> {
    return isWriter(
      await d.github.getPermission({ owner: job.repo.owner, repo: job.repo.name }, job.sender.login),
    );
  }
}

export type MaintenanceIntake = ReturnType<typeof createMaintenanceIntake>;
