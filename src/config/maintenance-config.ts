import { z } from 'zod';

/**
 * The `maintenance:` and `limits:` blocks of `.droidworks.yml`. Schedules are kept as written here
 * and checked (cron syntax, time zone) when schedulers are synced, so a bad schedule is reported on
 * the maintenance dashboard issue instead of making the whole file invalid.
 */

const scheduleFields = {
  /** Cron: 5 fields, or 6 with seconds first; `@daily`-style names too. */
  schedule: z.string().trim().min(1, 'must not be empty'),
  /** IANA time zone the schedule is read in. @defaultValue UTC */
  timezone: z.string().trim().min(1).optional(),
  /** Spreads the start of each run over this many seconds (per repository, stable). @defaultValue 0 */
  jitterSec: z.int().min(0).max(86_400).optional(),
};

const packageName = z.string().trim().min(1, 'must not be empty');

export const maintenanceSchema = z.strictObject({
  'dependency-update': z
    .strictObject({
      ...scheduleFields,
      /** Highest kind of change proposed. @defaultValue minor */
      update: z.enum(['patch', 'minor', 'major']).default('minor'),
      ignore: z.array(packageName).default([]),
      /** One PR for all updates, one per package, or one per npm scope. @defaultValue all */
      group: z.enum(['all', 'none', 'by-scope']).default('all'),
    })
    .optional(),
  'flaky-tests': z.strictObject({ ...scheduleFields, reruns: z.int().min(2).max(50).default(5) }).optional(),
  'stale-branches': z
    .strictObject({
      ...scheduleFields,
      staleDays: z.int().min(1).max(3650).default(30),
      graceDays: z.int().min(0).max(3650).default(7),
    })
    .optional(),
  /** Ceiling of model spend for maintenance runs per calendar month (UTC). @defaultValue 20 */
  maxCostUsdPerMonth: z.number().min(0).max(100_000).default(20),
});

export const limitsSchema = z.strictObject({
  /** Open droid maintenance PRs at once. @defaultValue 5 */
  openPrs: z.int().min(0).max(100).default(5),
  /** Droid maintenance PRs opened per day (UTC). @defaultValue 2 */
  prsPerDay: z.int().min(0).max(100).default(2),
});

export type MaintenanceConfig = z.infer<typeof maintenanceSchema>;
export type LimitsConfig = z.infer<typeof limitsSchema>;
/** Names of the built-in maintenance workflows that `maintenance:` enables. */
export type MaintenanceWorkflowName = Exclude<keyof MaintenanceConfig, 'maxCostUsdPerMonth'>;
export const MAINTENANCE_WORKFLOWS: readonly MaintenanceWorkflowName[] = [
  'dependency-update',
  'flaky-tests',
  'stale-branches',
];
