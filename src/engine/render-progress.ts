import type { RunStatus } from '../ledger/run-status.js';

/** The state of a run as the progress comment shows it. */
export interface ProgressView {
  readonly runId: string;
  readonly status: RunStatus;
  readonly workflow: string;
  readonly steps: ReadonlyArray<{
    readonly name: string;
    readonly status: 'pending' | 'running' | 'done' | 'failed' | 'skipped';
  }>;
  readonly plan?: readonly string[];
  readonly tests?: {
    readonly passed: boolean;
    readonly failedTests: readonly string[];
    readonly round: number;
    readonly command: string;
  };
  readonly tokens: number;
  readonly costUsd: number | null;
  readonly pullRequest?: { readonly number: number; readonly url: string; readonly draft: boolean };
  readonly error?: string;
  readonly queuePosition?: number;
  readonly dashboardUrl?: string;
  readonly commandPrefix: string;
  readonly note?: string;
}

/** Hidden marker that lets any worker find a run's progress comment again (idempotent comments). */
export function progressMarker(runId: string): string {
  return `<!-- droidworks:progress run=${runId} -->`;
}

const STATUS_LINE: Record<ProgressView['status'], string> = {
  queued: '⏳ Queued',
  running: '🤖 Working',
  waiting_approval: '✋ Waiting for plan approval',
  succeeded: '✅ Done',
  failed: '❌ Failed',
  cancelled: '🛑 Cancelled',
  superseded: '⏭️ Superseded',
};
const STEP_ICON = { pending: '⬜', running: '🔄', done: '✅', failed: '❌', skipped: '➖' } as const;

/** Renders the one progress comment, edited in place for the whole run. Pure. */
export function renderProgress(v: ProgressView): string {
  const out: string[] = [
    progressMarker(v.runId),
    `### ${STATUS_LINE[v.status]} · droidworks \`${v.workflow}\``,
    '',
  ];
  if (v.status === 'queued' && v.queuePosition !== undefined)
    out.push(`Position in queue: **${v.queuePosition}**.`, '');
  if (v.note) out.push(v.note, '');
  if (v.steps.length > 0) {
    out.push(v.steps.map((s) => `${STEP_ICON[s.status]} ${s.name}`).join(' → '), '');
  }
  if (v.plan && v.plan.length > 0) {
    const finished = v.status === 'succeeded';
    out.push('**Plan**', ...v.plan.map((item) => `- [${finished ? 'x' : ' '}] ${oneLine(item)}`), '');
  }
  if (v.tests) {
    const t = v.tests;
    out.push(
      t.passed
        ? `**Tests** \`${t.command}\`: passing (round ${t.round}).`
        : `**Tests** \`${t.command}\`: failing in round ${t.round}${
            t.failedTests.length
              ? `: ${t.failedTests
                  .slice(0, 10)
                  .map((n) => `\`${oneLine(n)}\``)
                  .join(', ')}`
              : ''
          }.`,
      '',
    );
  }
  if (v.pullRequest)
    out.push(
      `**Pull request** ${v.pullRequest.draft ? '(draft) ' : ''}#${v.pullRequest.number}: ${v.pullRequest.url}`,
      '',
    );
  if (v.error) out.push(`**What went wrong:** ${v.error}`, '');
  const cost = v.costUsd === null ? 'cost unknown' : `$${v.costUsd.toFixed(2)}`;
  out.push(
    `<sub>${v.tokens.toLocaleString('en-US')} tokens · ${cost} · run \`${v.runId}\`${v.dashboardUrl ? ` · [dashboard](${v.dashboardUrl})` : ''}${
      v.status === 'running' || v.status === 'queued' || v.status === 'waiting_approval'
        ? ` · \`${v.commandPrefix} cancel\` to stop`
        : ` · \`${v.commandPrefix} help\` for commands`
    }</sub>`,
  );
  return out.join('\n');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/<!--/g, '&lt;!--').slice(0, 300);
}
