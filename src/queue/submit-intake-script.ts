import { createHash } from 'node:crypto';

/**
 * Claims a batch of deliveries and writes their BullMQ jobs in one atomic script, so a claim never
 * exists without its job: a claim that timed out on the client but ran later on the server left
 * its job behind too, and a claim that never ran left nothing. Either way a redelivery after our
 * 503 ends with exactly one job.
 *
 * Each job is written exactly as BullMQ 6.7's `addStandardJob-9.lua` writes a job with a custom id
 * and no delay, priority, parent or deduplication (the only options intake jobs use): the job hash
 * (`name`, `data`, `opts`, `timestamp`, `delay`, `priority`), an `added` event, the id pushed on the
 * wait list (LPUSH: FIFO), the worker marker unless the queue is paused or at its concurrency
 * limit, and a `waiting` event. `src/queue/submit-intake-script.test.ts` proves an unchanged BullMQ
 * Worker processes it; re-read that script when upgrading BullMQ.
 *
 * KEYS: wait, meta, id, active, events, marker, then per job its claim key and its job hash key.
 * ARGV: claim TTL in seconds, timestamp (ms), then per job: job id, name, data JSON, opts JSON.
 * Returns one integer per job: 1 written, 0 already claimed (a duplicate delivery), 2 claimed now
 * but the job already existed (its claim had expired; BullMQ would answer `duplicated` too).
 */
export const SUBMIT_INTAKE_LUA = `
local rcall = redis.call
local waitKey, metaKey, idKey, activeKey, eventsKey, markerKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local ttl, timestamp = ARGV[1], ARGV[2]
local maxEvents = rcall('HGET', metaKey, 'opts.maxLenEvents')
if not maxEvents then
  maxEvents = 10000
  rcall('HSET', metaKey, 'opts.maxLenEvents', maxEvents)
end
local pausedOrMaxed = false
local attrs = rcall('HMGET', metaKey, 'paused', 'concurrency')
if attrs[1] then
  pausedOrMaxed = true
elseif attrs[2] then
  pausedOrMaxed = rcall('LLEN', activeKey) >= tonumber(attrs[2])
end
local out = {}
local added = false
local n = (#KEYS - 6) / 2
for i = 1, n do
  local claimKey, jobKey = KEYS[5 + 2 * i], KEYS[6 + 2 * i]
  local a = 2 + (i - 1) * 4
  local jobId, name = ARGV[a + 1], ARGV[a + 2]
  if rcall('EXISTS', claimKey) == 1 then
    out[i] = 0
  elseif rcall('EXISTS', jobKey) == 1 then
    rcall('SET', claimKey, jobId, 'EX', ttl)
    rcall('XADD', eventsKey, 'MAXLEN', '~', maxEvents, '*', 'event', 'duplicated', 'jobId', jobId)
    out[i] = 2
  else
    rcall('SET', claimKey, jobId, 'EX', ttl)
    rcall('INCR', idKey)
    rcall('HMSET', jobKey, 'name', name, 'data', ARGV[a + 3], 'opts', ARGV[a + 4],
      'timestamp', timestamp, 'delay', 0, 'priority', 0)
    rcall('XADD', eventsKey, '*', 'event', 'added', 'jobId', jobId, 'name', name)
    rcall('LPUSH', waitKey, jobId)
    rcall('XADD', eventsKey, 'MAXLEN', '~', maxEvents, '*', 'event', 'waiting', 'jobId', jobId)
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
