/** What happens to one droid pull request in a stale-branches run. */
export type StaleAction = 'none' | 'warn' | 'close';

export const STALE_MARKER = '<!-- droidworks:stale -->';

/**
 * A droid PR with no activity for `staleDays` gets a warning comment; `graceDays` after the warning
 * with nobody else saying anything since, it is closed. Activity after the warning (a comment by
 * someone other than droidworks) starts over. Pure.
 */
export function decideStale(o: {
  /** The PR's last activity (ISO). */
  readonly updatedAt: string;
  /** When droidworks warned (its marked comment), if it did. */
  readonly warnedAt?: string;
  /** Newest comment by someone else, if any. */
  readonly lastHumanCommentAt?: string;
  readonly staleDays: number;
  readonly graceDays: number;
  readonly now: number;
}): StaleAction {
  const day = 24 * 3600 * 1000;
  const t = (iso: string): number => Date.parse(iso);
  if (o.warnedAt !== undefined) {
    const humanSince = o.lastHumanCommentAt !== undefined && t(o.lastHumanCommentAt) > t(o.warnedAt);
    if (humanSince) return o.now - t(o.lastHumanCommentAt!) >= o.staleDays * day ? 'warn' : 'none';
    return o.now - t(o.warnedAt) >= o.graceDays * day ? 'close' : 'none';
  }
  const lastActivity = Math.max(t(o.updatedAt), o.lastHumanCommentAt ? t(o.lastHumanCommentAt) : 0);
  return o.now - lastActivity >= o.staleDays * day ? 'warn' : 'none';
}
