import type { ConfigSummary, EvalReport } from './summarize.js';

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
const usd = (x: number | null, known = true) => (x === null ? '—' : `$${x.toFixed(4)}${known ? '' : '+'}`);

/** The per-config table printed at the end of `droidworks eval run`. */
export function renderTable(report: EvalReport): string {
  const head = [
    'config',
    'resolved',
    'rate (95% CI)',
    '$/task',
    '$/resolved',
    'tokens/task',
    's/task',
    'steps',
    'oracle calls',
    'budget stops',
    'model errors',
    'failovers',
    'failed runs',
    'errors',
  ];
  const rows = report.configs.map((c) => [
    c.config,
    `${c.resolved}/${c.attempts}`,
    `${pct(c.resolveRate)} (${pct(c.interval[0])}–${pct(c.interval[1])})`,
    usd(c.costPerTaskUsd, c.costKnown),
    usd(c.costPerResolvedUsd, c.costKnown),
    Math.round(c.tokensPerTask).toLocaleString('en-US'),
    c.secondsPerTask.toFixed(1),
    c.stepsPerTask.toFixed(1),
    String(c.oracleCalls),
    String(c.budgetStops),
    String(c.modelErrors),
    String(c.failovers),
    String(c.failedRuns),
    String(c.errors),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const tasks = report.tasks.map(
    (t) => `  ${t.instanceId}: ${t.solvedBy.length ? t.solvedBy.join(', ') : 'unsolved'}`,
  );
  return [
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    'per task:',
    ...tasks,
  ].join('\n');
}

const escape = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/**
 * A self-contained HTML page (no script, no external asset): the table and a chart of resolve rate
 * against cost per resolved task, one point per config.
 */
export function renderHtml(report: EvalReport): string {
  const points = report.configs.filter(
    (c): c is ConfigSummary & { costPerResolvedUsd: number } => c.costPerResolvedUsd !== null,
  );
  const maxCost = Math.max(0.0001, ...points.map((p) => p.costPerResolvedUsd)) * 1.15;
  const W = 560;
  const H = 320;
  const pad = 50;
  const x = (cost: number) => pad + (cost / maxCost) * (W - 2 * pad);
  const y = (rate: number) => H - pad - rate * (H - 2 * pad);
  const dots = points
    .map(
      (p) =>
        `<circle cx="${x(p.costPerResolvedUsd).toFixed(1)}" cy="${y(p.resolveRate).toFixed(1)}" r="6" fill="#2563eb"><title>${escape(p.config)}: ${pct(p.resolveRate)}, ${usd(p.costPerResolvedUsd)}</title></circle>` +
        `<text x="${(x(p.costPerResolvedUsd) + 9).toFixed(1)}" y="${(y(p.resolveRate) + 4).toFixed(1)}" font-size="12">${escape(p.config)}</text>`,
    )
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="resolve rate against cost per resolved task">
<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#333"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#333"/>
<text x="${W / 2}" y="${H - 12}" text-anchor="middle" font-size="12">cost per resolved task (USD, up to ${usd(maxCost)})</text>
<text x="14" y="${H / 2}" transform="rotate(-90 14 ${H / 2})" text-anchor="middle" font-size="12">resolve rate</text>
<text x="${pad - 6}" y="${y(1) + 4}" text-anchor="end" font-size="11">100%</text><text x="${pad - 6}" y="${y(0) + 4}" text-anchor="end" font-size="11">0%</text>
${dots}</svg>`;
  const rows = report.configs
    .map(
      (c) =>
        `<tr><td>${escape(c.config)}</td><td>${c.resolved}/${c.attempts}</td><td>${pct(c.resolveRate)} (${pct(c.interval[0])}–${pct(c.interval[1])})</td><td>${usd(c.costPerTaskUsd, c.costKnown)}</td><td>${usd(c.costPerResolvedUsd, c.costKnown)}</td><td>${Math.round(c.tokensPerTask)}</td><td>${c.secondsPerTask.toFixed(1)}</td><td>${c.stepsPerTask.toFixed(1)}</td><td>${c.oracleCalls}</td><td>${c.budgetStops}</td><td>${c.modelErrors}</td><td>${c.failovers}</td><td>${c.failedRuns}</td><td>${c.errors}</td></tr>`,
    )
    .join('\n');
  const tasks = report.tasks
    .map(
      (t) =>
        `<tr><td>${escape(t.instanceId)}</td><td>${t.solvedBy.map(escape).join(', ') || 'unsolved'}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>droidworks eval</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;max-width:60rem}table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}svg{max-width:100%;height:auto}</style></head>
<body><h1>droidworks eval</h1>${svg}
<table><thead><tr><th>config</th><th>resolved</th><th>rate (95% CI)</th><th>$/task</th><th>$/resolved</th><th>tokens/task</th><th>s/task</th><th>steps/task</th><th>oracle calls</th><th>budget stops</th><th>model errors</th><th>failovers</th><th>failed runs</th><th>errors</th></tr></thead><tbody>
${rows}</tbody></table>
<h2>Per task</h2><table><thead><tr><th>task</th><th>resolved by</th></tr></thead><tbody>
${tasks}</tbody></table></body></html>
`;
}
