import { html } from 'hono/html';
import { describeEvent, unreachable, type StoredRunEvent } from '../../../ledger/index.js';
import { isoTime, type Html } from './format.js';

/**
 * One ledger event as an item of the run page's transcript: the same markup on the first render
 * and when it arrives live over server-sent events. Every kind is handled (a new one is a type
 * error here); text is escaped by the template.
 */
export function transcriptItem(e: StoredRunEvent, startedAt: number): Html {
  const { cls, body } = render(e);
  return html`<li class="${cls}" data-type="${e.type}" id="ev-${e.id}">
    <span class="t" title="${isoTime(e.at)} UTC">+${((e.at - startedAt) / 1000).toFixed(1)}s</span
    ><span class="k">${e.type}</span> ${body}
  </li>`;
}

function render(e: StoredRunEvent): { cls: string; body: Html | string } {
  const line = describeEvent(e);
  switch (e.type) {
    case 'step.started':
    case 'step.resumed':
      return {
        cls: 'step',
        body: html`<strong>${e.step}</strong>${e.type === 'step.resumed' ? ' (resumed)' : ''}`,
      };
    case 'step.failed':
      return { cls: 'bad', body: html`<strong>${e.step}</strong> failed: ${e.error}` };
    case 'run.finished':
      return { cls: e.status === 'succeeded' ? 'step' : 'bad', body: line };
    case 'plan':
      return {
        cls: '',
        body: html`plan
          <ol>
            ${e.items.map((i) => html`<li>${i}</li>`)}
          </ol>`,
      };
    case 'agent.model':
      if (e.error !== undefined) return { cls: 'warn', body: line };
      return {
        cls: '',
        body: html`${e.role} · ${e.provider ?? ''}:${e.model ?? ''} · ${e.inputTokens ?? 0} in /
        ${e.outputTokens ?? 0} out ${e.text ? html`<pre class="model-text">${e.text}</pre>` : ''}
        ${
          e.toolCalls && e.toolCalls.length > 0
            ? html`<ul class="tool-calls">
                ${e.toolCalls.map(
                  (t) =>
                    html`<li>
                      <code>${t.name}</code>
                      <details>
                        <summary>arguments</summary>
                        <pre>${t.arguments}</pre>
                      </details>
                    </li>`,
                )}
              </ul>`
            : ''
        }`,
      };
    case 'agent.tool':
      return {
        cls: e.ok ? '' : 'warn',
        body: html`<code>${e.tool}</code>
          ${e.ok ? html`<span class="ok">ok</span>` : html`<span class="bad-text">failed</span>`} ·
          ${e.durationMs} ms${e.error ? html`<pre>${e.error}</pre>` : ''}`,
      };
    case 'tests':
      return {
        cls: e.passed ? '' : 'warn',
        body: html`<code>${e.command}</code>
          ${e.passed ? html`<span class="ok">passed</span>` : html`<span class="bad-text">failed</span>`}
          ${e.round !== undefined ? `(round ${e.round})` : ''}
          ${
            e.failedTests && e.failedTests.length > 0
              ? html`<ul>
                  ${e.failedTests.map((n) => html`<li><code>${n}</code></li>`)}
                </ul>`
              : ''
          }
          ${
            e.output
              ? html`<details>
                  <summary>test output</summary>
                  <pre>${e.output}</pre>
                </details>`
              : ''
          }`,
      };
    case 'review':
      return {
        cls: e.approved ? '' : 'warn',
        body: html`review: ${e.approved ? html`<span class="ok">approved</span>` : 'changes requested'}
        ${
          e.findings.length > 0
            ? html`<ul>
                ${e.findings.map((f) => html`<li>${f}</li>`)}
              </ul>`
            : ''
        }`,
      };
    case 'pushed':
      return {
        cls: '',
        body: html`${line}
        ${
          e.diff
            ? html`<details>
                <summary>diff</summary>
                ${diffBlock(e.diff)}
              </details>`
            : ''
        }`,
      };
    case 'deploy.gate':
      return {
        cls: e.verdict === 'block' ? 'bad' : '',
        body: html`deploy gate: <strong>${e.verdict}</strong> at <code>${e.sha.slice(0, 12)}</code> ${
            e.checks.length > 0
              ? html`<ul>
                  ${e.checks.map(
                    (c) =>
                      html`<li
                        class="${c.state === 'passed' ? 'ok' : c.state === 'failed' ? 'bad-text' : ''}"
                      >
                        ${c.name}: ${c.state}${c.detail ? ` (${c.detail})` : ''}
                      </li>`,
                  )}
                </ul>`
              : ''
          }`,
      };
    case 'deploy.health':
      return {
        cls: e.healthy ? '' : 'bad',
        body: html`health of <strong>${e.environment}</strong>:
          ${e.healthy ? html`<span class="ok">healthy</span>` : html`<span class="bad-text">unhealthy</span>`}
          (${e.reason})`,
      };
    case 'deploy.deployer':
      return { cls: e.ok ? '' : 'bad', body: line };
    case 'deploy.rollback':
      return { cls: e.result === 'restored' ? 'warn' : 'bad', body: line };
    case 'run.cancel_requested':
    case 'step.retry':
    case 'model.retry':
    case 'model.fallback':
    case 'run.retrying':
    case 'deploy.incident':
      return { cls: 'warn', body: line };
    case 'run.queued':
    case 'run.started':
    case 'run.waiting':
    case 'step.completed':
    case 'step.loop':
    case 'plan.approved':
    case 'agent.started':
    case 'agent.nudge':
    case 'agent.finished':
    case 'install':
    case 'tests.skipped':
    case 'pull_request':
    case 'stale_branches':
    case 'flaky_tests':
    case 'dependency_updates':
    case 'deploy.approved':
    case 'deploy.superseded':
    case 'deploy.started':
    case 'deploy.succeeded':
    case 'deploy.rollback.called':
      return { cls: '', body: line };
    default:
      return unreachable(e, { cls: '', body: line });
  }
}

/** A unified diff with added, removed and hunk lines marked. */
function diffBlock(diff: string): Html {
  return html`<pre class="diff">
${diff.split('\n').map((l) => {
      const cls =
        l.startsWith('+') && !l.startsWith('+++')
          ? 'add'
          : l.startsWith('-') && !l.startsWith('---')
            ? 'del'
            : l.startsWith('@@')
              ? 'hunk'
              : '';
      return cls ? html`<span class="${cls}">${l}</span> ` : html`${l} `;
    })}</pre>`;
}
