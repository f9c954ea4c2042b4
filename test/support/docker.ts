import { describe, inject } from 'vitest';

/**
 * Whether Docker-backed tests run: `true` when an engine answers. Without one they are skipped
 * locally, but under `CI` the missing engine is a failure, never a silent skip.
 */
export function requireDocker(): boolean {
  const available = inject('dockerAvailable');
  if (!available && process.env.CI)
    throw new Error(
      'Docker-backed tests need a Docker engine in CI: run scripts/setup.sh (dockerd --iptables=false --bridge=none)',
    );
  return available;
}

/** `describe` for tests that need a Docker engine (see {@link requireDocker}). */
export function describeDocker(name: string, fn: () => void): void {
  describe.skipIf(!requireDocker())(name, fn);
}
