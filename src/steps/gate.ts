import { decideGate } from '../deploy/decide-gate.js';
import type { RunContext } from '../engine/run-context.js';
import { StepFailedError, type StepImpl } from '../engine/run-steps.js';
import { deployStateOf, repoOf, showDeploy } from './deploy-state.js';

/** Thrown when checks never finished within `gateTimeoutMinutes`. */
export class GateTimeoutError extends StepFailedError {
  constructor(
    readonly pending: readonly string[],
    minutes: number,
  ) {
    super('gate', `the gate timed out after ${minutes} minutes; never finished: ${pending.join(', ')}`);
  }
}

/**
 * Waits until CI has judged the commit: reads the combined status and every check run, decides
 * with {@link decideGate}, and waits for a CI webhook (or the periodic re-check) while checks are
 * pending or missing. A red gate fails the run with the failing checks in the progress comment;
 * no deployment exists until the gate opens.
 */
export const gate: StepImpl<RunContext> = {
  async run(ctx) {
    const d = deployStateOf(ctx, 'gate');
    if (d.action === 'rollback') return undefined;
    const { signals, recheckMs } = d.services;
    const minutes = d.config.gateTimeoutMinutes;
    const deadline = ctx.job.queuedAt + minutes * 60_000;
    const watcher = await signals.watchCi(d.repoFull, d.sha);
    let last = '';
    try {
      for (;;) {
        const observed = await ctx.services.github.getCombinedStatusAndChecks(repoOf(ctx), d.sha, {
          signal: ctx.signal,
        });
        const decision = decideGate(
          d.config.requireChecks,
          observed.checkRuns.map((r) => ({
            name: r.name,
            status: r.status,
            conclusion: r.conclusion,
            url: r.htmlUrl ?? r.detailsUrl,
          })),
          observed.statuses.map((s) => ({ context: s.context, state: s.state, url: s.targetUrl })),
        );
        d.gate = {
          verdict: decision.verdict === 'deploy' ? 'open' : decision.verdict === 'block' ? 'red' : 'waiting',
          checks: decision.checks,
        };
        const summary = JSON.stringify(decision.checks.map((c) => [c.name, c.state]));
        if (summary !== last) {
          last = summary;
          await ctx.sink.emit({
            type: 'deploy.gate',
            sha: d.sha,
            verdict: decision.verdict,
            checks: decision.checks.map((c) => ({ name: c.name, state: c.state, detail: c.detail })),
          });
          await showDeploy(ctx, d);
        }
        if (decision.verdict === 'deploy') return undefined;
        if (decision.verdict === 'block')
          throw new StepFailedError(
            'gate',
            `CI failed on ${d.sha.slice(0, 12)}: ${decision.failed.map((c) => `${c.name} (${c.detail})`).join(', ')}; nothing was deployed`,
          );
        const left = deadline - Date.now();
        if (left <= 0) {
          const pending = decision.waiting.map((c) => `${c.name} (${c.detail})`);
          d.gate = { ...d.gate, verdict: 'timed out', note: `never finished: ${pending.join(', ')}` };
          await showDeploy(ctx, d);
          throw new GateTimeoutError(pending, minutes);
        }
        await watcher.next(Math.min(recheckMs, left), ctx.signal);
      }
    } finally {
      await watcher.close();
    }
  },
};
