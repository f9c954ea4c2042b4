import { unreachable, type RunEvent } from './run-event.js';

/**
 * One line saying what an event means, as plain text (views escape it): the dashboard's timeline
 * and `droidworks runs show`. Pure; every event kind is handled (a new one is a type error here).
 */
export function describeEvent(e: RunEvent): string {
  return oneLine(describe(e), 240);
}

function describe(e: RunEvent): string {
  switch (e.type) {
    case 'run.queued':
      return `workflow ${e.workflow} requested by ${e.by}${e.deploy ? ` (${e.deploy.action}${e.deploy.environment ? ` to ${e.deploy.environment}` : ''})` : ''}`;
    case 'run.started':
      return `attempt ${e.attempt}${e.resumed ? ', resumed' : ''}`;
    case 'run.retrying':
      return `attempt ${e.attempt} failed${e.error ? `: ${e.error}` : ''}; retrying`;
    case 'run.waiting':
      return e.reason;
    case 'run.cancel_requested':
      return `by ${e.by}${e.why ? `: ${e.why}` : ''}`;
    case 'run.finished':
      return `${e.status} · ${e.tokens} tokens${e.error ? ` · ${e.error}` : ''}`;
    case 'step.started':
    case 'step.resumed':
      return e.step;
    case 'step.completed':
      return `${e.step} in ${seconds(e.durationMs)}`;
    case 'step.failed':
      return `${e.step} after ${seconds(e.durationMs)}: ${e.error}`;
    case 'step.retry':
      return `${e.step} attempt ${e.attempt}: ${e.error}`;
    case 'step.loop':
      return `${e.from} → ${e.to} (round ${e.round})`;
    case 'plan':
      return `${e.items.length} items`;
    case 'plan.approved':
      return `by ${e.by}`;
    case 'agent.started':
      return `${e.role} with ${e.tools.length} tools`;
    case 'agent.model':
      return e.error !== undefined
        ? `${e.role} step ${e.step ?? '?'}: ${e.error}`
        : `${e.role} step ${e.step ?? '?'} · ${e.provider ?? '?'}:${e.model ?? '?'} · ${e.inputTokens ?? 0} in / ${e.outputTokens ?? 0} out${e.text ? ` · ${e.text}` : ''}`;
    case 'agent.nudge':
      return `step ${e.step}: no tool call, nudged`;
    case 'agent.tool':
      return `${e.tool} ${e.ok ? 'ok' : `failed: ${e.error ?? ''}`}`;
    case 'agent.finished':
      return `${e.reason} after ${e.steps} steps`;
    case 'model.retry':
      return `${e.role} ${e.model} attempt ${e.attempt}: ${e.error}`;
    case 'model.fallback':
      return `${e.role} ${e.from} → ${e.to}: ${e.error}`;
    case 'install':
      return `${e.command} exited ${e.exitCode}`;
    case 'tests':
      return `${e.command} ${e.passed ? 'passed' : 'failed'}${e.round !== undefined ? ` (round ${e.round})` : ''}${e.rerun !== undefined ? ` (rerun ${e.rerun})` : ''}${
        e.failedTests && e.failedTests.length > 0 ? `: ${e.failedTests.join(', ')}` : ''
      }`;
    case 'tests.skipped':
      return e.reason;
    case 'review':
      return e.approved ? 'approved' : `changes requested: ${e.findings.join('; ')}`;
    case 'pushed':
      return `${e.branch} at ${e.sha.slice(0, 12)}${e.rebased ? ' (rebased)' : ''}`;
    case 'pull_request':
      return `#${e.number} ${e.created ? 'opened' : 'updated'}${e.draft ? ' (draft)' : ''}`;
    case 'stale_branches':
      return `warned ${e.warned.length}, closed ${e.closed.length}, deleted ${e.deleted.length}`;
    case 'flaky_tests':
      return e.flaky.length > 0
        ? `flaky: ${e.flaky.join(', ')} (${e.reruns} runs)`
        : `none in ${e.reruns} runs`;
    case 'dependency_updates':
      return e.updates.length > 0 ? e.updates.join(', ') : 'everything up to date';
    case 'deploy.gate':
      return `${e.verdict}: ${e.checks.map((c) => `${c.name} ${c.state}`).join(', ') || 'no checks'}`;
    case 'deploy.approved':
      return `${e.environment} by ${e.by}`;
    case 'deploy.superseded':
      return `${e.sha.slice(0, 12)} by ${e.by}`;
    case 'deploy.started':
      return `${e.environment} at ${e.sha.slice(0, 12)} (deployment ${e.deploymentId}${e.reused ? ', reused' : ''})`;
    case 'deploy.deployer':
      return `${e.environment} ${e.ok ? 'ok' : 'failed'}: ${e.summary}`;
    case 'deploy.health':
      return `${e.environment} ${e.healthy ? 'healthy' : 'unhealthy'}: ${e.reason}`;
    case 'deploy.succeeded':
      return `${e.environment} at ${e.sha.slice(0, 12)}`;
    case 'deploy.rollback':
      return `${e.environment} ${e.result.replaceAll('_', ' ')}${e.sha ? ` to ${e.sha.slice(0, 12)}` : ''}${e.detail ? `: ${e.detail}` : ''}`;
    case 'deploy.rollback.called':
      return `${e.environment}: ${e.from.slice(0, 12)} → ${e.sha.slice(0, 12)}`;
    case 'deploy.incident':
      return `${e.environment} at ${e.sha.slice(0, 12)}: issue #${e.issue}`;
    default:
      return unreachable(e, JSON.stringify(e));
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function oneLine(s: string, max: number): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
