/**
 * Names of passing tests found in test-runner output (pure), for the reporters
 * {@link parseFailedTests} reads: node --test TAP (`ok N - name`) and its spec reporter (`✔ name`),
 * pytest verbose (`path::name PASSED`), jest/vitest (`✓ name`), go -v (`--- PASS: Name`) and cargo
 * (`test path::name ... ok`). Skipped and todo tests are not passes. Unique, in order, at most `limit`.
 */
export function parsePassedTests(output: string, limit = 2000): string[] {
  const found = new Set<string>();
  const add = (name: string | undefined) => {
    const n = name?.trim();
    if (n && found.size < limit) found.add(n);
  };
  for (const raw of output.split('\n')) {
    const line = raw.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r$/, '');
    let m: RegExpExecArray | null;
    if ((m = /^\s*ok \d+ (?:- )?(.+?)(?:\s+#\s*(?:TODO|SKIP).*)?$/i.exec(line))) {
      if (!/#\s*(TODO|SKIP)/i.test(line)) add(m[1]);
    } else if ((m = /^(\S+::\S+) PASSED(?:\s+\[\s*\d+%\])?$/.exec(line))) add(m[1]);
    else if ((m = /^\s*--- PASS: (\S+)/.exec(line))) add(m[1]);
    else if ((m = /^test (\S+) \.\.\. ok$/.exec(line))) add(m[1]);
    else if ((m = /^\s*(?:✔|✓|√)\s+(.+?)(?:\s+\(?\d+(?:\.\d+)?\s*m?s\)?)?$/.exec(line))) add(m[1]);
  }
  return [...found];
}
