import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The command that builds the runner image, pointing at the script inside this installation
 * (`scripts/build-runner-image.sh` ships in the npm package and in a checkout alike).
 */
export function buildRunnerImageCommand(): string {
  const script = fileURLToPath(new URL('../../scripts/build-runner-image.sh', import.meta.url));
  return existsSync(script)
    ? `sudo bash ${script}`
    : 'bash scripts/build-runner-image.sh (in a droidworks checkout)';
}
