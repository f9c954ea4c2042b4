import { createHash } from 'node:crypto';

/**
 * Claims a batch of deliveries and writes their BullMQ jobs in one atomic script, so a claim never
 * exists without its job: a claim that timed out on the client but ran later on the server left
 * its job behind too, and a claim that never ran left nothing. Either way a redelivery after our
 * 503 ends with exactly one job.
 *
 * Each job is written as BullMQ 6.7's `addStandardJob-9.lua` writes a job with a custom id and no
 * delay, priority, parent or deduplication (the only options intake jobs use): the job hash
 * (`name`, `data`, `opts`, `timestamp`, `delay`, `priority`), the id counter, the id pushed on the
 * wait list (LPUSH: FIFO), and the worker marker unless the queue is paused or at its concurrency
 * limit. It writes none of the `added`, `waiting` and `duplicated` entries BullMQ appends to the
 * queue's event stream: they are read only by `QueueEvents` listeners, and nothing in droidworks
 * listens to the intake queue's events; a Worker never reads that stream. Without them, and with
 * the claim below, the script costs Redis 6.6–7.2 µs of CPU per job instead of 9.2–9.6 µs
 * (bench/README.md). `src/queue/intake-writer.test.ts` proves an unchanged BullMQ Worker processes,
 * retries and completes these jobs. Re-read BullMQ's script when upgrading it.
 *
 * The claim is one `SET NX EX`: set only if the delivery id was not claimed before.
 *
 * KEYS: wait, meta, id, active, marker, then per job its claim key and its job hash key.
 * ARGV: claim TTL in seconds, timestamp (ms), then per job: job id, name, data JSON, opts JSON.
 * Returns one integer per job: 1 written, 0 already claimed (a duplicate delivery), 2 claimed now
 * but the job already existed (its claim had expired; BullMQ would answer `duplicated` too).
 */
export const SUBMIT_INTAKE_LUA = `
local rcall = redis.call
local waitKey, metaKey, idKey, activeKey, markerKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local ttl, timestamp = ARGV[1], ARGV[2]
local pausedOrMaxed = false
local attrs = rcall('HMGET', metaKey, 'paused', 'concurrency')
if attrs[1] then
  pausedOrMaxed = true
elseif attrs[2] then
  pausedOrMaxed = rcall('LLEN', activeKey) >= tonumber(attrs[2])
end
local out = {}
local added = false
local n = (#KEYS - 5) / 2
for i = 1, n do
  local claimKey, jobKey = KEYS[4 + 2 * i], KEYS[5 + 2 * i]
  local a = 2 + (i - 1) * 4
  local jobId = ARGV[a + 1]
  if not rcall('SET', claimKey, jobId, 'NX', 'EX', ttl) then
    out[i] = 0
  elseif rcall('EXISTS', jobKey) == 1 then
    out[i] = 2
  else
    rcall('INCR', idKey)
    rcall('HMSET', jobKey, 'name', ARGV[a + 2], 'data', ARGV[a + 3], 'opts', ARGV[a + 4],
      'timestamp', timestamp, 'delay', 0, 'priority', 0)
    rcall('LPUSH', waitKey, jobId)
    added = true
    out[i] = 1
  end
end
if added and not pausedOrMaxed then
  rcall('ZADD', markerKey, 0, '0')
end
return out`;

export const SUBMIT_INTAKE_SHA = createHash('sha1').update(SUBMIT_INTAKE_LUA).digest('hex');

/** What the script did with one delivery of the batch. */
export const SUBMIT_RESULT = { written: 1, claimed: 0, existed: 2 } as const;
