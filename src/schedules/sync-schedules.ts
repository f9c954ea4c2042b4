import type { StoredSchedule } from '../queue/job-schedulers.js';
import { repoOfSchedulerId, type DesiredSchedule } from './desired-schedules.js';

export interface SyncPlan {
  readonly upsert: DesiredSchedule[];
  readonly remove: string[];
  readonly unchanged: number;
}

export interface SyncResult {
  readonly upserted: number;
  readonly removed: number;
  readonly unchanged: number;
}

/**
 * What to change so the stored schedulers match the desired ones. Unchanged schedulers are left
 * alone: upserting one would drop a tick that is due but not yet processed. With `repos`, only
 * those repositories' schedulers are considered (a push re-syncs one repository). Pure.
 */
export function planSync(
  desired: readonly DesiredSchedule[],
  stored: readonly StoredSchedule[],
  repos?: readonly string[],
): SyncPlan {
  const inScope = (id: string): boolean => !repos || repos.includes(repoOfSchedulerId(id));
  const byId = new Map(stored.map((s) => [s.id, s]));
  const wanted = new Set(desired.map((s) => s.id));
  const upsert: DesiredSchedule[] = [];
  let unchanged = 0;
  for (const s of desired) {
    const have = byId.get(s.id);
    const same =
      have !== undefined &&
      have.cron === s.cron &&
      (have.timezone ?? undefined) === s.timezone &&
      have.data?.owner === s.owner &&
      have.data.name === s.name &&
      have.data.workflow === s.workflow &&
      have.data.delaySec === s.delaySec;
    if (same) unchanged += 1;
    else upsert.push(s);
  }
  const remove = stored.filter((s) => inScope(s.id) && !wanted.has(s.id)).map((s) => s.id);
  return { upsert, remove, unchanged };
}
