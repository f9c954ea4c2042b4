import { CronExpressionParser } from 'cron-parser';
import type { LastRun } from './maintenance-store.js';

/** Label that finds the one maintenance dashboard issue of a repository. */
export const DASHBOARD_LABEL = 'droid:dashboard';
export const DASHBOARD_TITLE = 'droidworks maintenance dashboard';
export const DASHBOARD_MARKER = '<!-- droidworks:dashboard -->';

/** One workflow line of the dashboard. */
export interface DashboardWorkflow {
  readonly workflow: string;
  readonly cron: string;
  readonly timezone: string | undefined;
  readonly lastRun?: LastRun;
  /**
   * The last run of each dependency group (`group: none | by-scope`), in order; when there are any,
   * they replace {@link lastRun}: the groups run at once, each with its own outcome and PR.
   */
  readonly groupRuns?: ReadonlyArray<{ readonly group: string; readonly run: LastRun }>;
  readonly waiting?: string;
}

export interface DashboardView {
  readonly workflows: readonly DashboardWorkflow[];
  readonly openPrs: ReadonlyArray<{ number: number; title: string; branch: string }>;
  readonly problems: readonly string[];
  readonly costUsd: number;
  readonly maxCostUsdPerMonth: number;
  readonly commandPrefix: string;
  readonly dashboardUrl?: (runId: string) => string | undefined;
  /** "now" for next-run times. */
  readonly now: number;
}

const box = (workflow: string): string => `<!-- droidworks:run-workflow=${workflow} -->`;

/** The next tick of a schedule after `now`, written in the schedule's own time zone. Pure. */
export function nextRunText(cron: string, timezone: string | undefined, now: number): string {
  try {
    const next = CronExpressionParser.parse(cron, {
      currentDate: new Date(now),
      ...(timezone ? { tz: timezone } : {}),
    })
      .next()
      .toDate();
    const text = new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone ?? 'UTC',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }).format(next);
    return `${text} (${timezone ?? 'UTC'})`;
  } catch {
    return 'unknown (invalid schedule)';
  }
}

/** The dashboard issue's body. Each workflow line has a checkbox; ticking it runs the workflow now. Pure. */
export function renderDashboard(v: DashboardView): string {
  const runText = (last: LastRun): string => {
    const link = v.dashboardUrl?.(last.runId);
    return `${link ? `[\`${last.runId}\`](${link})` : `\`${last.runId}\``} ${last.status}${last.costUsd === null ? '' : `, $${last.costUsd.toFixed(2)}`}${last.pullRequest ? `, PR #${last.pullRequest.number}` : ''}${last.note ? ` (${last.note})` : ''}`;
  };
  const lines = v.workflows.map((w) => {
    const lastLines = w.groupRuns?.length
      ? w.groupRuns.map((g) => `  - last run (\`${g.group}\`): ${runText(g.run)}`)
      : [`  - last run: ${w.lastRun ? runText(w.lastRun) : 'never'}`];
    return [
      `- [ ] ${box(w.workflow)}**${w.workflow}** (\`${w.cron}\`)`,
      ...lastLines,
      `  - next run: ${nextRunText(w.cron, w.timezone, v.now)}`,
      ...(w.waiting ? [`  - ⏸️ waiting: ${w.waiting}`] : []),
    ].join('\n');
  });
  const waiting = v.workflows.filter((w) => w.waiting);
  return [
    DASHBOARD_MARKER,
    '## Maintenance workflows',
    'Tick a box to run that workflow now (writers only), or comment `' +
      `${v.commandPrefix} run <workflow>\`.`,
    lines.join('\n') || '_No maintenance workflow is scheduled for this repository._',
    '## Open pull requests',
    v.openPrs.map((p) => `- #${p.number} ${p.title} (\`${p.branch}\`)`).join('\n') || '_none_',
    '## Waiting',
    waiting.map((w) => `- **${w.workflow}**: ${w.waiting}`).join('\n') || '_nothing waits_',
    '## Config problems',
    v.problems.map((p) => `- ${p}`).join('\n') || '_none_',
    `<sub>Maintenance spend this month: $${v.costUsd.toFixed(2)} of $${v.maxCostUsdPerMonth.toFixed(2)}.</sub>`,
  ].join('\n\n');
}

/** Workflows whose box is ticked in a dashboard body (as edited by a user). Pure. */
export function tickedWorkflows(body: string): string[] {
  return [...body.matchAll(/^\s*[-*] \[[xX]\] <!-- droidworks:run-workflow=([a-z0-9-]+) -->/gm)].map(
    (m) => m[1]!,
  );
}
