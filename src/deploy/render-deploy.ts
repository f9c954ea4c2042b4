import type { GateCheck } from './decide-gate.js';

export type EnvironmentState =
  | 'pending'
  | 'waiting_approval'
  | 'waiting_lock'
  | 'deploying'
  | 'verifying'
  | 'soaking'
  | 'succeeded'
  | 'failed'
  | 'rolling_back'
  | 'rolled_back'
  | 'rollback_failed'
  | 'skipped';

/** A deploy run as its progress comment shows it. */
export interface DeployView {
  readonly sha: string;
  readonly action: 'deploy' | 'rollback';
  readonly gate?: { readonly verdict: string; readonly checks: readonly GateCheck[]; readonly note?: string };
  readonly environments: ReadonlyArray<{
    readonly name: string;
    readonly state: EnvironmentState;
    readonly deploymentId?: number;
    readonly detail?: string;
    readonly health?: readonly string[];
    readonly url?: string;
  }>;
  readonly rollback?: string;
  readonly superseded?: string;
}

const CHECK_ICON = { passed: '✅', failed: '❌', pending: '⏳', missing: '⬜' } as const;
const ENV_ICON: Record<EnvironmentState, string> = {
  pending: '⬜',
  waiting_approval: '✋',
  waiting_lock: '⏳',
  deploying: '🚀',
  verifying: '🩺',
  soaking: '🫖',
  succeeded: '✅',
  failed: '❌',
  rolling_back: '↩️',
  rolled_back: '↩️',
  rollback_failed: '🔥',
  skipped: '➖',
};

const clean = (text: string): string => text.replace(/\s+/g, ' ').replace(/<!--/g, '&lt;!--').slice(0, 300);

/** The deploy section of the progress comment (put in its note). Pure. */
export function renderDeploy(v: DeployView): string {
  const out: string[] = [
    `**${v.action === 'rollback' ? 'Rollback' : 'Deploy'}** of \`${v.sha.slice(0, 12)}\``,
  ];
  if (v.superseded)
    out.push('', `⏭️ **Superseded** by ${v.superseded}: only the newest waiting commit deploys.`);
  if (v.gate) {
    out.push('', `**Gate:** ${v.gate.verdict}${v.gate.note ? ` · ${clean(v.gate.note)}` : ''}`);
    for (const c of v.gate.checks.slice(0, 30))
      out.push(
        `- ${CHECK_ICON[c.state]} ${c.url ? `[${clean(c.name)}](${c.url})` : clean(c.name)}: ${clean(c.detail)}`,
      );
  }
  if (v.environments.length > 0) {
    out.push('', '**Environments**');
    for (const e of v.environments) {
      const link = e.url ? ` · ${e.url}` : '';
      out.push(
        `- ${ENV_ICON[e.state]} \`${e.name}\`: ${e.state.replace(/_/g, ' ')}${e.deploymentId ? ` (deployment ${e.deploymentId})` : ''}${e.detail ? ` · ${clean(e.detail)}` : ''}${link}`,
      );
      for (const h of (e.health ?? []).slice(-5)) out.push(`  - ${clean(h)}`);
    }
  }
  if (v.rollback) out.push('', `**Rollback:** ${clean(v.rollback)}`);
  return out.join('\n');
}
