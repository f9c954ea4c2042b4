import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MirrorLockTimeoutError } from './errors.js';
import { withMirrorLock } from './mirror-lock.js';

describe('mirror lock', () => {
  let dir: string;
  let mirror: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dw-mirror-lock-'));
    mirror = join(dir, 'calculator.git');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const ago = async (path: string, ms: number) => {
    const t = (Date.now() - ms) / 1000;
    await utimes(path, t, t);
  };

  it('names its owner from the moment it exists, and leaves nothing behind', async () => {
    const seen = await withMirrorLock(mirror, () => readFile(`${mirror}.lock`, 'utf8'));
    expect(seen).toBe(`${hostname()} ${process.pid}\n`);
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over a lock left empty by a process killed between creating and writing it', async () => {
    // What a worker SIGKILLed inside the old `open(wx)` + `writeFile` left: the fault suite hit it,
    // and the next worker waited out the 10-minute timeout.
    await writeFile(`${mirror}.lock`, '');
    await ago(`${mirror}.lock`, 60_000);
    const started = performance.now();
    expect(await withMirrorLock(mirror, async () => 'ran', { timeoutMs: 5_000 })).toBe('ran');
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('waits for an ownerless lock that is fresh, as its writer may be about to name itself', async () => {
    await writeFile(`${mirror}.lock`, '');
    await expect(withMirrorLock(mirror, async () => 'ran', { timeoutMs: 300 })).rejects.toBeInstanceOf(
      MirrorLockTimeoutError,
    );
  });

  it("removes the candidates of processes killed before they removed theirs, never a live one's", async () => {
    const gone = spawnSync(process.execPath, ['-e', '']).pid!; // a pid that has exited
    const dead = `${mirror}.lock.${gone}.deadbeef`;
    const live = `${mirror}.lock.${process.pid}.0badf00d`;
    const elsewhere = `${mirror}.lock.4242.cafebabe`;
    await writeFile(dead, `${hostname()} ${gone}\n`);
    await writeFile(live, `${hostname()} ${process.pid}\n`);
    await writeFile(elsewhere, 'another-host 4242\n');
    await withMirrorLock(mirror, () => Promise.resolve());
    expect((await readdir(dir)).sort()).toEqual([live, elsewhere].map((f) => f.slice(dir.length + 1)).sort());
    await ago(elsewhere, 2 * 900_000);
    await withMirrorLock(mirror, () => Promise.resolve());
    expect(await readdir(dir)).toEqual([live.slice(dir.length + 1)]);
  });

  it('takes over a lock held by a process of this host that is gone', async () => {
    await writeFile(`${mirror}.lock`, `${hostname()} 2147483646\n`);
    expect(await withMirrorLock(mirror, async () => 'ran', { timeoutMs: 5_000 })).toBe('ran');
  });

  it('waits for a live holder, then runs', async () => {
    await writeFile(`${mirror}.lock`, `${hostname()} ${process.pid}\n`);
    const order: string[] = [];
    const waiting = withMirrorLock(mirror, async () => void order.push('second'), { timeoutMs: 5_000 });
    await new Promise((r) => setTimeout(r, 200));
    order.push('first');
    await rm(`${mirror}.lock`);
    await waiting;
    expect(order).toEqual(['first', 'second']);
  });
});
