import { createHash } from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';
import { MAINTENANCE_WORKFLOWS, type MaintenanceWorkflowName } from '../config/maintenance-config.js';
import type { RepoConfig } from '../config/repo-config.js';
import type { ScheduleSpec, WorkflowDefinition } from '../workflows/parse-workflow.js';

/** A served repository. */
export interface ServedRepo {
  readonly owner: string;
  readonly name: string;
}

/** One schedule a repository should have: a BullMQ job scheduler with this id. */
export interface DesiredSchedule {
  readonly id: string;
  readonly owner: string;
  readonly name: string;
  readonly workflow: string;
  readonly cron: string;
  readonly timezone: string | undefined;
  /** This repository's start delay within the schedule's `jitterSec` window. */
  readonly delaySec: number;
}

/** What a repository's configuration says about schedules. */
export interface RepoSchedules {
  readonly schedules: DesiredSchedule[];
  /** Schedules left out, in words (shown on the dashboard issue). */
  readonly problems: string[];
}

/** What {@link desiredSchedules} reads of a repository's setup. */
export interface ScheduleSource {
  /** Undefined when `.droidworks.yml` is invalid (then only repository workflows are scheduled). */
  readonly config: Pick<RepoConfig, 'maintenance'> | undefined;
  readonly workflows: ReadonlyMap<string, WorkflowDefinition>;
}

const SEP = '/';

/** Scheduler id of a repository's workflow: `owner/name/workflow`, lowercase (GitHub names ignore case). */
export function schedulerIdFor(repo: ServedRepo, workflow: string): string {
  return [repo.owner, repo.name, workflow].join(SEP).toLowerCase();
}

/** The repository (`owner/name`, lowercase) a scheduler id belongs to. */
export function repoOfSchedulerId(id: string): string {
  return id.split(SEP).slice(0, 2).join(SEP);
}

/**
 * A stable share of a `jitterSec` window for one repository and workflow: the same on every
 * process and every restart, and spread evenly over the window across many repositories. Pure.
 */
export function jitterDelaySec(id: string, jitterSec: number): number {
  if (jitterSec <= 0) return 0;
  const n = createHash('sha256').update(id).digest().readUInt32BE(0);
  return n % (jitterSec + 1);
}

/** Why a cron expression or time zone cannot be scheduled, or undefined when it can. Pure. */
export function scheduleProblem(spec: ScheduleSpec): string | undefined {
  if (spec.timezone !== undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: spec.timezone });
    } catch {
      return `unknown time zone "${spec.timezone}" (use an IANA name such as Europe/Berlin)`;
    }
  }
  const fields = spec.cron.trim().split(/\s+/);
  if (!spec.cron.trim().startsWith('@') && fields.length !== 5 && fields.length !== 6)
    return `"${spec.cron}" is not a cron expression: it needs 5 fields (minute hour day month weekday) or 6 with seconds first`;
  try {
    CronExpressionParser.parse(spec.cron, spec.timezone ? { tz: spec.timezone } : {});
  } catch (err) {
    return `"${spec.cron}" is not a valid cron expression: ${err instanceof Error ? err.message : String(err)}`;
  }
  return undefined;
}

/**
 * The schedules a repository should have, from its setup. Pure.
 * - A repository's own workflow with a `schedule:` trigger runs on it.
 * - A built-in maintenance workflow runs only when `.droidworks.yml` enables it under `maintenance:`,
 *   on the schedule given there.
 * Invalid schedules are left out and described in `problems`.
 */
export function desiredSchedules(repo: ServedRepo, source: ScheduleSource): RepoSchedules {
  const schedules: DesiredSchedule[] = [];
  const problems: string[] = [];
  const add = (workflow: string, spec: ScheduleSpec, where: string): void => {
    const problem = scheduleProblem(spec);
    if (problem) {
      problems.push(`${where}: ${problem}`);
      return;
    }
    const id = schedulerIdFor(repo, workflow);
    schedules.push({
      id,
      owner: repo.owner,
      name: repo.name,
      workflow,
      cron: spec.cron.trim(),
      timezone: spec.timezone,
      delaySec: jitterDelaySec(id, spec.jitterSec ?? 0),
    });
  };
  for (const def of source.workflows.values())
    if (def.origin === 'repository' && def.trigger.schedule)
      add(def.name, def.trigger.schedule, `${def.source} trigger.schedule`);

  const maintenance = source.config?.maintenance;
  for (const name of MAINTENANCE_WORKFLOWS) {
    const entry = maintenance?.[name];
    if (!entry) continue;
    if (schedules.some((s) => s.workflow === name)) continue; // the repository's own file wins
    if (!source.workflows.has(name)) {
      problems.push(`maintenance.${name}: no workflow named ${name} is installed`);
      continue;
    }
    add(
      name,
      { cron: entry.schedule, timezone: entry.timezone, jitterSec: entry.jitterSec },
      `.droidworks.yml maintenance.${name}.schedule`,
    );
  }
  return { schedules, problems };
}

export const isMaintenanceWorkflow = (name: string): name is MaintenanceWorkflowName =>
  (MAINTENANCE_WORKFLOWS as readonly string[]).includes(name);
