import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deliver, startGateway, type GatewayHarness } from '../../test/support/gateway-harness.js';

interface ExampleGroup {
  name: string;
  examples: Array<Record<string, unknown>>;
}
const groups = createRequire(import.meta.url)(
  '@octokit/webhooks-examples/api.github.com/index.json',
) as ExampleGroup[];
const EVENTS = [
  'issues',
  'issue_comment',
  'pull_request',
  'check_run',
  'check_suite',
  'status',
  'workflow_run',
];

type Case = { title: string; event: string; payload: Record<string, unknown>; kind: string | null };

/** What each example must become, written out independently of the gateway's routing table. */
function expectedKind(event: string, p: Record<string, unknown>): string | null {
  const sender = p.sender as { type?: string; login?: string };
  if (sender.type === 'Bot') return null;
  const action = p.action as string | undefined;
  const labelName = (p.label as { name?: string } | undefined)?.name;
  const merged = (p.pull_request as { merged?: boolean } | undefined)?.merged === true;
  const body = (p.comment as { body?: string } | undefined)?.body ?? '';
  switch (`${event}.${action ?? ''}`) {
    case 'issues.labeled':
      return labelName === 'bug' ? 'label' : null;
    case 'issues.unlabeled':
      return labelName === 'bug' ? 'unlabel' : null;
    case 'issues.closed':
      return 'closed';
    case 'issue_comment.created':
      return body.startsWith('/droid') ? 'command' : null;
    case 'pull_request.closed':
      return merged ? 'merge' : 'closed';
    case 'check_run.completed':
    case 'check_suite.completed':
    case 'status.':
    case 'workflow_run.completed':
      return 'ci';
    default:
      return null;
  }
}

const cases: Case[] = [];
for (const group of groups.filter((g) => EVENTS.includes(g.name))) {
  group.examples.forEach((payload, i) => {
    const add = (suffix: string, p: Record<string, unknown>): void => {
      cases.push({
        title: `${group.name}.${String(p.action ?? '')} #${i}${suffix}`,
        event: group.name,
        payload: p,
        kind: expectedKind(group.name, p),
      });
    };
    add('', payload);
    if (group.name === 'issue_comment')
      add(' with /droid run', {
        ...payload,
        comment: { ...(payload.comment as object), body: '/droid run' },
      });
    if (group.name === 'pull_request' && payload.action === 'closed')
      add(' merged', { ...payload, pull_request: { ...(payload.pull_request as object), merged: true } });
  });
}

describe('every @octokit/webhooks-examples payload', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGateway(inject('redisUrl'), { triggerLabel: 'bug' });
  });
  afterAll(async () => h.close());

  it('covers all seven events', () => {
    expect(new Set(cases.map((c) => c.event))).toEqual(new Set(EVENTS));
    expect(cases.length).toBeGreaterThan(80);
  });

  it.each(cases)('$title', async ({ event, payload, kind }) => {
    const deliveryId = `ex-${Math.random().toString(36).slice(2)}`;
    const res = await deliver(h.url, { event, payload, deliveryId });
    const body = (await res.json()) as { status: string; kind?: string };
    if (kind === null) {
      expect(res.status).toBe(200);
      expect(body.status).toBe('ignored');
      return;
    }
    expect(res.status).toBe(202);
    expect(body.kind).toBe(kind);
    const job = await h.queues.intake.getJob(`delivery-${deliveryId}`);
    expect(job?.data.kind).toBe(kind);
    expect(job?.data.repo.name).toBe((payload.repository as { name: string }).name);
  });
});
