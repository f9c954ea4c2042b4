import type { LimitsConfig } from '../config/maintenance-config.js';

/** The branch a maintenance workflow works on: `droid/maintenance/<workflow>`. Pure. */
export function maintenanceBranch(workflow: string, group?: string): string {
  return `droid/maintenance/${workflow}${group ? `-${group}` : ''}`;
}

/**
 * Why a maintenance workflow (or one of its dependency groups) may not open a pull request now, or
 * undefined when it may. A branch that already has an open PR refreshes that PR, so limits do not
 * stop it. Pure.
 */
export function prLimitReason(o: {
  readonly branch: string;
  /** Head branches of the repository's open pull requests. */
  readonly openBranches: readonly string[];
  readonly openedToday: number;
  readonly limits: LimitsConfig;
}): string | undefined {
  if (o.openBranches.includes(o.branch)) return undefined;
  const open = o.openBranches.filter((b) => b.startsWith('droid/maintenance/')).length;
  if (open >= o.limits.openPrs)
    return `${open} droid maintenance pull requests are open (limits.openPrs: ${o.limits.openPrs}); merge or close one`;
  if (o.openedToday >= o.limits.prsPerDay)
    return `${o.openedToday} droid maintenance pull requests were opened today (limits.prsPerDay: ${o.limits.prsPerDay}); waits until tomorrow (UTC)`;
  return undefined;
}

/**
 * Which of a workflow's PR branches (one per dependency group) may start now, in order: each
 * admitted branch that has no open PR yet counts against the limits for the next, so one tick never
 * opens more than the limits allow. Pure.
 */
export function admitBranches(o: {
  readonly branches: readonly string[];
  readonly openBranches: readonly string[];
  readonly openedToday: number;
  readonly limits: LimitsConfig;
}): { admitted: string[]; waits: Array<{ branch: string; reason: string }> } {
  let openBranches = [...o.openBranches];
  let openedToday = o.openedToday;
  const admitted: string[] = [];
  const waits: Array<{ branch: string; reason: string }> = [];
  for (const branch of o.branches) {
    const reason = prLimitReason({ branch, openBranches, openedToday, limits: o.limits });
    if (reason) {
      waits.push({ branch, reason });
      continue;
    }
    admitted.push(branch);
    if (!openBranches.includes(branch)) {
      openBranches = [...openBranches, branch];
      openedToday += 1;
    }
  }
  return { admitted, waits };
}
