/** Every state a run can be in, as stored in the ledger's state hash and shown everywhere. */
export const RUN_STATUSES = [
  'queued',
  'running',
  'waiting_approval',
  'succeeded',
  'failed',
  'cancelled',
  'superseded',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The states a run ends in; the ledger never leaves them. */
export type FinalRunStatus = Extract<RunStatus, 'succeeded' | 'failed' | 'cancelled' | 'superseded'>;

/** `superseded`: a deploy run that a newer one for the same environment replaced before it deployed. */
const FINAL: ReadonlySet<string> = new Set<FinalRunStatus>([
  'succeeded',
  'failed',
  'cancelled',
  'superseded',
]);

export function isFinalStatus(status: string | undefined): status is FinalRunStatus {
  return status !== undefined && FINAL.has(status);
}
