import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROUTED_EVENTS } from '../gateway/route-event.js';
import {
  APP_LIFECYCLE_EVENTS,
  EVENT_PERMISSIONS,
  mergePermissions,
  OPERATION_PERMISSIONS,
} from './required-permissions.js';

/** The routed events a manifest subscribes to (installation events reach every App unasked). */
const SUBSCRIBABLE = new Set([...ROUTED_EVENTS].filter((e) => !APP_LIFECYCLE_EVENTS.has(e)));

interface Manifest {
  readonly default_permissions: Record<string, string>;
  readonly default_events: string[];
  readonly description?: string;
  readonly setup_url?: string;
}

const manifest = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'infra', 'github-app-manifest.json'), 'utf8'),
) as Manifest;

describe('the GitHub App manifest, the routing table and the GitHub calls agree', () => {
  it('subscribes to exactly the events the gateway routes', () => {
    const missing = [...SUBSCRIBABLE].filter((e) => !manifest.default_events.includes(e));
    const unused = manifest.default_events.filter((e) => !SUBSCRIBABLE.has(e));
    expect({ routedButNotSubscribed: missing, subscribedButNotRouted: unused }).toEqual({
      routedButNotSubscribed: [],
      subscribedButNotRouted: [],
    });
  });

  it('knows which permission each routed event needs', () => {
    expect([...SUBSCRIBABLE].filter((e) => EVENT_PERMISSIONS[e] === undefined)).toEqual([]);
  });

  it('requests every permission a GitHub operation or a routed event needs, and nothing more', () => {
    const needed = mergePermissions([
      ...Object.values(OPERATION_PERMISSIONS),
      ...[...SUBSCRIBABLE].map((e) => ({ [EVENT_PERMISSIONS[e] ?? `unknown event ${e}`]: 'read' as const })),
    ]);
    const requested = manifest.default_permissions;
    const short = Object.entries(needed)
      .filter(([name, level]) => !(requested[name] === 'write' || requested[name] === level))
      .map(([name, level]) => `${name}: ${level} (requested: ${requested[name] ?? 'none'})`);
    expect(short, 'permissions used but not requested').toEqual([]);
    expect(requested, 'least privilege: exactly what is used').toEqual(needed);
  });

  it('has the fields GitHub shows and uses during the manifest flow', () => {
    expect(manifest.description).toMatch(/\w/);
    expect(manifest.setup_url).toMatch(/^https:\/\//);
  });
});

describe('mergePermissions', () => {
  it.each([
    [[], {}],
    [[{ issues: 'read' }], { issues: 'read' }],
    [[{ issues: 'read' }, { issues: 'write' }], { issues: 'write' }],
    [[{ issues: 'write' }, { issues: 'read' }], { issues: 'write' }],
    [[{ checks: 'read', statuses: 'read' }, { checks: 'write' }], { checks: 'write', statuses: 'read' }],
  ] as const)('%j → %j', (needs, expected) => {
    expect(mergePermissions(needs)).toEqual(expected);
  });
});
