/**
 * Names of failing tests found in test-runner output (pure). Recognises node --test TAP
 * (`not ok N - name`) and its spec reporter (`✖ name`), pytest (`FAILED path::name`, verbose
 * `path::name FAILED`), jest/vitest (`✕ name`, `× name`, `FAIL path > name`, jest's `● suite › name`),
 * go (`--- FAIL: Name`) and cargo (`test path::name ... FAILED`).
 * Unique, in order of appearance, at most `limit`.
 */
export function parseFailedTests(output: string, limit = 200): string[] {
  const found = new Set<string>();
  const add = (name: string | undefined) => {
    const n = name?.trim();
    if (n && found.size < limit) found.add(n);
  };
  for (const raw of output.split('\n')) {
    const line = raw.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r$/, '');
    let m: RegExpExecArray | null;
    if ((m = /^\s*not ok \d+ (?:- )?(.+?)(?:\s+#\s*(?:TODO|SKIP).*)?$/.exec(line))) {
      if (!/#\s*(TODO|SKIP)/i.test(line)) add(m[1]);
    } else if ((m = /^FAILED (\S+::\S+?)(?: - .*)?$/.exec(line))) add(m[1]);
    else if ((m = /^\s*--- FAIL: (\S+)/.exec(line))) add(m[1]);
    else if ((m = /^test (\S+) \.\.\. FAILED$/.exec(line))) add(m[1]);
    else if ((m = /^\s*(?:✕|×|✗|✖)\s+(.+?)(?:\s+\(?\d+(?:\.\d+)?\s*m?s\)?)?$/.exec(line))) {
      if (!/^failing tests:?$/i.test(m[1]!.trim())) add(m[1]);
    } else if ((m = /^(\S+::\S+) FAILED(?:\s+\[\s*\d+%\])?$/.exec(line))) add(m[1]);
    else if ((m = /^\s*● (.+ › .+)$/.exec(line))) add(m[1]);
    else if ((m = /^\s*FAIL\s+(\S+\s+>\s+.+?)(?:\s+\d+m?s)?$/.exec(line))) add(m[1]);
  }
  return [...found];
}
