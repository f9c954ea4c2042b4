import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

/**
 * A renderer for the SUBSET of Helm's Go templates that `infra/helm/droidworks` uses, because neither
 * the `helm` binary (not in Debian's archive) nor an npm Helm renderer can be installed here. It
 * supports: `{{- … -}}` trimming, comments, `define`/`include`, `if`/`else`/`end`, `range $k, $v :=`,
 * pipelines, and the functions `quote`, `nindent`, `indent`, `toYaml`, `default`, `required`, `not`,
 * `eq`, `ne`. Anything else throws, so the chart cannot silently drift outside what this renders;
 * `helm template` stays the reference where it is available.
 */
export function renderChart(
  chartDir: string,
  options: { values?: Record<string, unknown>; releaseName?: string; namespace?: string } = {},
): Record<string, string> {
  const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
  const defaults = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>;
  const root = {
    Values: deepMerge(defaults, options.values ?? {}),
    Release: {
      Name: options.releaseName ?? 'release',
      Namespace: options.namespace ?? 'default',
      Service: 'Helm',
    },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
  };
  const dir = join(chartDir, 'templates');
  const files = readdirSync(dir).sort();
  const defines = new Map<string, Node[]>();
  const parsed = files.map((f) => ({
    file: f,
    nodes: parseTemplate(readFileSync(join(dir, f), 'utf8'), defines),
  }));
  const out: Record<string, string> = {};
  for (const { file, nodes } of parsed) {
    if (file.startsWith('_')) continue;
    out[file] = renderNodes(nodes, root, new Map(), defines);
  }
  return out;
}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; expr: string }
  | { kind: 'if'; branches: Array<{ cond: string | undefined; body: Node[] }> }
  | { kind: 'range'; key: string; value: string; expr: string; body: Node[] };

function parseTemplate(source: string, defines: Map<string, Node[]>): Node[] {
  // Tokens with trimming applied.
  const tokens: Array<{ text: string } | { action: string }> = [];
  const re = /\{\{(-?)\s*([\s\S]*?)\s*(-?)\}\}/g;
  let last = 0;
  let trimNext = false;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    let text = source.slice(last, m.index);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (m[1] === '-') text = text.replace(/\s+$/, '');
    tokens.push({ text });
    const action = m[2] ?? '';
    if (!action.startsWith('/*')) tokens.push({ action });
    trimNext = m[3] === '-';
    last = re.lastIndex;
  }
  let tail = source.slice(last);
  if (trimNext) tail = tail.replace(/^\s+/, '');
  tokens.push({ text: tail });

  let i = 0;
  const block = (): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (i < tokens.length) {
      const t = tokens[i++]!;
      if ('text' in t) {
        if (t.text) nodes.push({ kind: 'text', text: t.text });
        continue;
      }
      const a = t.action;
      if (a === 'end' || a === 'else' || a.startsWith('else if ')) return { nodes, end: a };
      if (a.startsWith('define ')) {
        const name = JSON.parse(a.slice(7).trim()) as string;
        const body = block();
        defines.set(name, body.nodes);
      } else if (a.startsWith('if ')) {
        const branches: Array<{ cond: string | undefined; body: Node[] }> = [];
        let cond: string | undefined = a.slice(3);
        for (;;) {
          const body = block();
          branches.push({ cond, body: body.nodes });
          if (body.end === 'end') break;
          cond = body.end === 'else' ? undefined : body.end.slice(8);
        }
        nodes.push({ kind: 'if', branches });
      } else if (a.startsWith('range ')) {
        const m = /^range\s+(\$\w+)\s*,\s*(\$\w+)\s*:=\s*(.+)$/.exec(a);
        if (!m) throw new Error(`helm-template: unsupported range form: ${a}`);
        const body = block();
        nodes.push({ kind: 'range', key: m[1]!, value: m[2]!, expr: m[3]!, body: body.nodes });
      } else if (/^(with|template|block)\b/.test(a)) {
        throw new Error(`helm-template: unsupported action: ${a}`);
      } else {
        nodes.push({ kind: 'action', expr: a });
      }
    }
    return { nodes, end: '' };
  };
  return block().nodes;
}

type Vars = Map<string, unknown>;

function renderNodes(nodes: Node[], dot: unknown, vars: Vars, defines: Map<string, Node[]>): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'action') out += toText(evaluate(n.expr, dot, vars, defines));
    else if (n.kind === 'if') {
      const branch = n.branches.find(
        (b) => b.cond === undefined || truthy(evaluate(b.cond, dot, vars, defines)),
      );
      if (branch) out += renderNodes(branch.body, dot, vars, defines);
    } else {
      const collection = evaluate(n.expr, dot, vars, defines);
      const entries: Array<[unknown, unknown]> = Array.isArray(collection)
        ? collection.map((v, k) => [k, v])
        : Object.entries((collection ?? {}) as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
      for (const [k, v] of entries) {
        const scope = new Map(vars);
        scope.set(n.key, k);
        scope.set(n.value, v);
        out += renderNodes(n.body, v, scope, defines);
      }
    }
  }
  return out;
}

function toText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v as string | number | boolean);
}

function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** Splits on `sep` outside quotes and parentheses. */
function split(expr: string, sep: RegExp): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = false;
  let current = '';
  for (const ch of expr) {
    if (ch === '"') quote = !quote;
    if (!quote && ch === '(') depth += 1;
    if (!quote && ch === ')') depth -= 1;
    if (!quote && depth === 0 && sep.test(ch)) {
      if (current.trim()) parts.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

function evaluate(expr: string, dot: unknown, vars: Vars, defines: Map<string, Node[]>): unknown {
  const stages = split(expr, /\|/);
  let value: unknown;
  stages.forEach((stage, index) => {
    const words = split(stage, /\s/);
    const args = (from: number): unknown[] => words.slice(from).map((w) => operand(w, dot, vars, defines));
    const name = words[0] ?? '';
    if (name in FUNCTIONS) {
      const extra = index === 0 ? [] : [value];
      if (name === 'include') {
        const [template, ctx] = args(1) as [string, unknown];
        const body = defines.get(template);
        if (!body) throw new Error(`helm-template: no template "${template}"`);
        value = renderNodes(body, ctx, new Map(), defines);
      } else value = FUNCTIONS[name]!(...args(1), ...extra);
    } else if (index === 0 && words.length === 1) value = operand(name, dot, vars, defines);
    else throw new Error(`helm-template: unsupported expression: ${stage}`);
  });
  return value;
}

function operand(word: string, dot: unknown, vars: Vars, defines: Map<string, Node[]>): unknown {
  if (word.startsWith('(') && word.endsWith(')')) return evaluate(word.slice(1, -1), dot, vars, defines);
  if (word.startsWith('"')) return JSON.parse(word) as string;
  if (/^-?\d+$/.test(word)) return Number(word);
  if (word === 'true' || word === 'false') return word === 'true';
  if (word === '.') return dot;
  if (word.startsWith('$')) {
    const [head, ...path] = word.split('.');
    if (!vars.has(head!)) throw new Error(`helm-template: undefined variable ${head}`);
    return walk(vars.get(head!), path);
  }
  if (word.startsWith('.')) return walk(dot, word.slice(1).split('.'));
  throw new Error(`helm-template: unsupported operand: ${word}`);
}

function walk(value: unknown, path: string[]): unknown {
  let v = value;
  for (const key of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

const indentBy = (n: number, s: string): string =>
  s
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');

const FUNCTIONS: Record<string, (...args: unknown[]) => unknown> = {
  include: () => undefined,
  quote: (v) => JSON.stringify(toText(v)),
  nindent: (n, s) => `\n${indentBy(Number(n), toText(s))}`,
  indent: (n, s) => indentBy(Number(n), toText(s)),
  toYaml: (v) => stringify(v ?? null).trimEnd(),
  default: (fallback, v) => (truthy(v) ? v : fallback),
  required: (message, v) => {
    if (!truthy(v)) throw new Error(`execution error: ${String(message)}`);
    return v;
  },
  not: (v) => !truthy(v),
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
};

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
