import type { Config } from '../config/load-config.js';
import { DEFAULT_REPO_CONFIG } from '../config/repo-config.js';
import type { RepoSetup } from '../engine/repo-setup.js';
import type { GitHubHost } from '../github/types.js';
import type { ScheduleStore, Tick } from '../queue/job-schedulers.js';
import type { RunJob } from '../queue/jobs.js';
import type { RunQueue } from '../queue/run-queue.js';
import type { Logger } from '../util/logger.js';
import {
  desiredSchedules,
  isMaintenanceWorkflow,
  schedulerIdFor,
  type DesiredSchedule,
  type ServedRepo,
} from './desired-schedules.js';
import type { MaintenanceStore } from './maintenance-store.js';
import { admitBranches, maintenanceBranch } from './limits.js';
import { DASHBOARD_LABEL, DASHBOARD_MARKER, DASHBOARD_TITLE, renderDashboard } from './render-dashboard.js';
import { planSync, type SyncResult } from './sync-schedules.js';
import { createHash } from 'node:crypto';
import { NpmRegistryError } from './npm-registry-client.js';
import { planNpmUpdates } from './plan-npm-updates.js';

export interface MaintenanceServiceDeps {
  readonly config: Pick<Config, 'repositories' | 'commandPrefix' | 'queuePrefix' | 'npmRegistry'> & {
    readonly sandbox: { readonly egress: Pick<Config['sandbox']['egress'], 'hosts'> };
  };
  readonly github: GitHubHost;
  readonly repoSetup: (owner: string, repo: string, signal?: AbortSignal) => Promise<RepoSetup>;
  readonly runs: RunQueue;
  readonly schedules: ScheduleStore;
  readonly store: MaintenanceStore;
  readonly logger: Logger;
  /** Repositories served when `DROIDWORKS_REPOSITORIES` is not set (App: every installation's). */
  readonly listInstallationRepos?: () => Promise<ServedRepo[]>;
  readonly dashboardUrl?: (runId: string) => string | undefined;
  readonly now?: () => number;
}

export type StartOutcome =
  | {
      readonly started: true;
      /** The first run started; {@link runIds} lists every one (one per dependency group). */
      readonly runId: string;
      readonly runIds: readonly string[];
    }
  | { readonly started: false; readonly reason: string };

/**
 * Scheduled maintenance: which repositories are served, their schedules as BullMQ job schedulers,
 * what a tick does (limits, dashboard, one run), and `/droid run <workflow>` and the dashboard's
 * checkboxes. The runs themselves go through the one workflow engine.
 */
export function createMaintenanceService(d: MaintenanceServiceDeps) {
  const now = d.now ?? Date.now;
  const log = d.logger.child({ component: 'schedules' });
  const full = (r: ServedRepo): string => `${r.owner}/${r.name}`;

  async function servedRepos(): Promise<ServedRepo[]> {
    const listed = d.listInstallationRepos ? await d.listInstallationRepos() : undefined;
    const narrow = d.config.repositories;
    if (!listed)
      return (narrow ?? []).map((r) => {
        const [owner = '', name = ''] = r.split('/');
        return { owner, name };
      });
    return narrow ? listed.filter((r) => narrow.includes(full(r).toLowerCase())) : listed;
  }

  async function setupSchedules(repo: ServedRepo) {
    const setup = await d.repoSetup(repo.owner, repo.name);
    const found = desiredSchedules(repo, setup);
    const problems = [
      ...(setup.configError ? [`${setup.configError.source} is invalid: ${setup.configError.message}`] : []),
      ...setup.problems.map(
        (p) => `${p.source}: ${p.problems.map((q) => `${q.path}: ${q.message}`).join('; ')}`,
      ),
      ...found.problems,
    ];
    return { setup, schedules: found.schedules, problems };
  }

  /**
   * Makes the job schedulers match the repositories' configuration: new or changed schedules are
   * upserted, unchanged ones left alone (so a tick missed while everything was down still runs),
   * and schedulers of removed workflows or repositories removed. `only` limits it to some repositories.
   */
  async function sync(only?: readonly ServedRepo[]): Promise<SyncResult> {
    const repos = only ?? (await servedRepos());
    const desired: DesiredSchedule[] = [];
    await inBatches(repos, SYNC_PARALLEL, async (repo) => {
      try {
        const found = await setupSchedules(repo);
        desired.push(...found.schedules);
        if (await d.store.setProblems(full(repo), found.problems))
          if (found.problems.length > 0 || found.schedules.length > 0) await refreshDashboard(repo, true);
      } catch (err) {
        // One unreadable repository keeps its schedules as they are; the others still sync.
        log.warn({ repo: full(repo), err }, 'could not read the repository configuration; schedules kept');
        desired.push(
          ...(await d.schedules.list())
            .filter((s) => s.data && full(s.data) === full(repo))
            .map((s) => ({
              id: s.id,
              owner: repo.owner,
              name: repo.name,
              workflow: s.data!.workflow,
              cron: s.cron,
              timezone: s.timezone,
              delaySec: s.data!.delaySec,
            })),
        );
      }
    });
    const stored = await d.schedules.list();
    const plan = planSync(desired, stored, only ? repos.map((r) => full(r).toLowerCase()) : undefined);
    await inBatches(plan.upsert, SYNC_PARALLEL, (s) =>
      d.schedules.upsert(
        s.id,
        { cron: s.cron, timezone: s.timezone },
        { owner: s.owner, name: s.name, workflow: s.workflow, delaySec: s.delaySec },
      ),
    );
    await inBatches(plan.remove, SYNC_PARALLEL, (id) => d.schedules.remove(id));
    log.info(
      {
        repos: repos.length,
        upserted: plan.upsert.length,
        removed: plan.remove.length,
        unchanged: plan.unchanged,
      },
      'schedules synced',
    );
    return { upserted: plan.upsert.length, removed: plan.remove.length, unchanged: plan.unchanged };
  }

  /** The dashboard issue (found by its label, created once). */
  async function ensureDashboard(repo: ServedRepo): Promise<number> {
    const ref = { owner: repo.owner, repo: repo.name };
    const found = await d.github.findIssueByLabel(ref, DASHBOARD_LABEL);
    if (found) return found.number;
    const created = await d.github.createIssue(ref, {
      title: DASHBOARD_TITLE,
      body: `${DASHBOARD_MARKER}\n\n_Preparing…_`,
      labels: [DASHBOARD_LABEL],
    });
    // Two processes may have raced: the oldest labelled issue is the dashboard; close any other.
    const winner = await d.github.findIssueByLabel(ref, DASHBOARD_LABEL);
    if (winner && winner.number !== created.number) {
      await d.github.updateIssue({ ...ref, issueNumber: created.number }, { state: 'closed' });
      return winner.number;
    }
    return created.number;
  }

  /** Re-renders the dashboard issue from Redis and the configuration. */
  async function refreshDashboard(repo: ServedRepo, create = false): Promise<void> {
    const ref = { owner: repo.owner, repo: repo.name };
    const existing = await d.github.findIssueByLabel(ref, DASHBOARD_LABEL);
    if (!existing && !create) return;
    const number = existing?.number ?? (await ensureDashboard(repo));
    const { setup, schedules } = await setupSchedules(repo);
    const [lastRuns, groupRuns, waiting, problems, cost, prs] = await Promise.all([
      d.store.lastRuns(full(repo)),
      Promise.all(schedules.map((s) => d.store.groupRuns(full(repo), s.workflow))),
      d.store.waiting(full(repo)),
      d.store.problems(full(repo)),
      d.store.costThisMonth(full(repo), now()),
      d.github.listPullRequests(ref, { state: 'open' }),
    ]);
    const body = renderDashboard({
      workflows: schedules.map((s, i) => ({
        workflow: s.workflow,
        cron: s.cron,
        timezone: s.timezone,
        lastRun: lastRuns.get(s.workflow),
        groupRuns: [...(groupRuns[i] ?? [])]
          .map(([group, run]) => ({ group, run }))
          .sort((a, b) => a.group.localeCompare(b.group)),
        waiting: waiting.get(s.workflow),
      })),
      openPrs: prs
        .filter((p) => p.headRef.startsWith('droid/maintenance/'))
        .map((p) => ({ number: p.number, title: p.title, branch: p.headRef })),
      problems,
      costUsd: cost,
      maxCostUsdPerMonth: (setup.config ?? DEFAULT_REPO_CONFIG).maintenance.maxCostUsdPerMonth,
      commandPrefix: d.config.commandPrefix,
      dashboardUrl: d.dashboardUrl,
      now: now(),
    });
    await d.github.updateIssue({ ...ref, issueNumber: number }, { body });
  }

  /**
   * Starts `workflow` for `repo` now, unless a limit says it must wait (then the dashboard says so).
   * A run of the same workflow that is still waiting covers this request too (never two queued).
   * `dependency-update` with `group: none | by-scope` starts one run per group that has updates,
   * each on its own branch and PR; the PR limits apply per group (a group's open PR is refreshed).
   */
  async function start(
    repo: ServedRepo,
    workflow: string,
    trigger: NonNullable<RunJob['maintenance']>,
    requestedBy: string,
    delaySec = 0,
  ): Promise<StartOutcome> {
    const name = full(repo);
    const setup = await d.repoSetup(repo.owner, repo.name);
    const definition = setup.workflows.get(workflow);
    if (!definition) return { started: false, reason: `no workflow named ${workflow} is installed` };
    const config = setup.config ?? DEFAULT_REPO_CONFIG;
    const record = (outcome: string, runId?: string) =>
      d.store.recordTick(name, workflow, {
        at: trigger.tickAt,
        trigger: trigger.trigger,
        outcome,
        runId,
        by: requestedBy,
        processedAt: now(),
      });
    const refuse = async (reason: string): Promise<StartOutcome> => {
      await record('waiting');
      await d.store.setWaiting(name, workflow, reason);
      await refreshDashboard(repo, true);
      log.info({ repo: name, workflow, reason }, 'maintenance run waits');
      return { started: false, reason };
    };
    const spent = await d.store.costThisMonth(name, now());
    if (spent >= config.maintenance.maxCostUsdPerMonth)
      return refuse(
        `the monthly maintenance cost ceiling ($${config.maintenance.maxCostUsdPerMonth.toFixed(2)}, spent $${spent.toFixed(2)}) is reached; schedules wait until next month`,
      );
    let groups: readonly (string | undefined)[] = [undefined];
    if (workflow === 'dependency-update') {
      const planned = await dependencyGroups(repo, config);
      if ('problem' in planned) return refuse(planned.problem);
      groups = planned.groups;
      // The dashboard shows the groups planned now; a group with nothing to update leaves it.
      await d.store.keepGroupRuns(
        name,
        workflow,
        groups.filter((g) => g !== undefined),
      );
    }
    const branchOf = (group: string | undefined) =>
      maintenanceBranch(workflow, dependencyGroupOf(workflow, group));
    const admission = opensPullRequests(definition.steps.map((s) => s.step))
      ? admitBranches({
          branches: groups.map(branchOf),
          openBranches: (
            await d.github.listPullRequests({ owner: repo.owner, repo: repo.name }, { state: 'open' })
          ).map((p) => p.headRef),
          openedToday: await d.store.prsOpenedToday(name, now()),
          limits: config.limits,
        })
      : { admitted: groups.map(branchOf), waits: [] };
    const waits = admission.waits.map((w) => {
      const group = groups.find((g) => branchOf(g) === w.branch);
      return group ? `group ${group}: ${w.reason}` : w.reason;
    });
    const started: string[] = [];
    let folded: string | undefined;
    for (const group of groups) {
      const branch = branchOf(group);
      if (!admission.admitted.includes(branch)) continue;
      const queued = await enqueueRun(repo, workflow, group, branch, trigger, requestedBy, delaySec);
      if ('runId' in queued) started.push(queued.runId);
      else folded = queued.reason;
    }
    if (started.length === 0 && waits.length > 0) return refuse(waits.join('; '));
    await d.store.setWaiting(name, workflow, waits.length > 0 ? waits.join('; ') : undefined);
    if (started.length === 0) {
      await record('folded');
      return { started: false, reason: folded ?? 'a run of this workflow is already waiting to start' };
    }
    await record('started', started[0]);
    await refreshDashboard(repo, true);
    return { started: true, runId: started[0]!, runIds: started };
  }

  /** Queues one run (of one dependency group), unless one of the same is waiting or running. */
  async function enqueueRun(
    repo: ServedRepo,
    workflow: string,
    group: string | undefined,
    branch: string,
    trigger: NonNullable<RunJob['maintenance']>,
    requestedBy: string,
    delaySec: number,
  ): Promise<{ runId: string } | { reason: string }> {
    const issueNumber = await ensureDashboard(repo);
    const key = `${schedulerIdFor(repo, workflow)}${group ? `/${group}` : ''}`;
    const slots = [`maint@${key}#a`, `maint@${key}#b`];
    const states = await Promise.all(slots.map((s) => d.runs.stateOf(s)));
    if (
      states.some(
        (s) => s === 'waiting' || s === 'delayed' || s === 'prioritized' || s === 'waiting-children',
      )
    )
      return { reason: 'a run of this workflow is already waiting to start' };
    const free = slots[states.findIndex((s) => s === 'unknown' || s === 'completed' || s === 'failed')];
    if (!free) return { reason: 'a run of this workflow is already running' };
    const origin = `${trigger.trigger}:${key}:${trigger.tickAt ?? now()}`;
    const runId = `maint-${workflow.slice(0, 24)}-${createHash('sha256').update(origin).digest('hex').slice(0, 10)}`;
    const data: RunJob = {
      runId,
      workflow,
      repo: { owner: repo.owner, name: repo.name },
      subject: {
        type: 'issue',
        number: issueNumber,
        title: `${workflow}${group ? ` (${group})` : ''} (scheduled maintenance)`,
      },
      requestedBy,
      branch,
      queuedAt: now(),
      maintenance: trigger,
      exclusive: key,
      ...(group ? { dependencyGroup: group } : {}),
    };
    const result = await d.runs.enqueue(data, { jobId: free, delayMs: delaySec * 1000 });
    log.info(
      { repo: full(repo), workflow, group, runId, added: result.added, trigger: trigger.trigger },
      'maintenance run queued',
    );
    return result.added ? { runId: result.runId } : { reason: 'a run of this workflow is already queued' };
  }

  /**
   * The dependency groups that have updates now (`group: none | by-scope`), read from the default
   * branch's package.json and the registry; `[undefined]` (one run, the `all` group) otherwise.
   */
  async function dependencyGroups(
    repo: ServedRepo,
    config: typeof DEFAULT_REPO_CONFIG,
  ): Promise<{ groups: readonly (string | undefined)[] } | { problem: string }> {
    const policy = config.maintenance['dependency-update'];
    if (!policy || policy.group === 'all') return { groups: [undefined] };
    const file = await d.github.getFileAtDefaultBranch(
      { owner: repo.owner, repo: repo.name },
      'package.json',
    );
    if (!file) return { groups: [undefined] };
    try {
      const updates = await planNpmUpdates({
        packageJson: file.content,
        registry: d.config.npmRegistry,
        pins: d.config.sandbox.egress.hosts,
        policy,
      });
      const groups = [...new Set(updates.map((u) => u.group))];
      return { groups: groups.length > 0 ? groups : [undefined] };
    } catch (err) {
      if (!(err instanceof NpmRegistryError)) throw err;
      log.warn({ repo: full(repo), err }, 'could not plan the dependency groups');
      return { problem: `the dependency groups could not be planned: ${err.message}` };
    }
  }

  /** One tick of a schedule: a run unless the workflow is gone (then the scheduler goes too). */
  async function onTick(tick: Tick): Promise<void> {
    const repo = { owner: tick.data.owner, name: tick.data.name };
    const { schedules } = await setupSchedules(repo);
    if (!schedules.some((s) => s.id === tick.schedulerId)) {
      log.info({ schedulerId: tick.schedulerId }, 'tick of a schedule that no longer exists; removing it');
      await d.schedules.remove(tick.schedulerId);
      return;
    }
    await start(
      repo,
      tick.data.workflow,
      { trigger: 'schedule', tickAt: tick.at },
      'schedule',
      tick.data.delaySec,
    );
  }

  return {
    servedRepos,
    sync,
    onTick,
    start,
    refreshDashboard,
    ensureDashboard,
    isMaintenanceWorkflow,
    /** Whether `workflow` runs on a schedule in `repo` (so `/droid run <workflow>` may start it). */
    async isScheduled(repo: ServedRepo, workflow: string): Promise<boolean> {
      const { schedules } = await setupSchedules(repo);
      return schedules.some((s) => s.workflow === workflow);
    },
  };
}

export type MaintenanceService = ReturnType<typeof createMaintenanceService>;

/** Repositories read, and schedulers written, at once during a sync. */
const SYNC_PARALLEL = 16;

/** Runs `fn` over `items`, at most `size` at a time. */
async function inBatches<T>(
  items: readonly T[],
  size: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, lane));
}

/** A dependency-update run's group (`all` when the policy does not group); none for other workflows. */
function dependencyGroupOf(workflow: string, group: string | undefined): string | undefined {
  return workflow === 'dependency-update' ? (group ?? 'all') : undefined;
}

function opensPullRequests(steps: readonly string[]): boolean {
  return steps.includes('publish') || steps.includes('dependency-update');
}
