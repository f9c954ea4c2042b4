import type { ConfigProblem } from './config-error.js';

/** Server-side deploy settings, from the environment. */
export interface DeployEnv {
  /** `DROIDWORKS_SECRET_<NAME>` values by `<NAME>`: what `secret: NAME` in `.droidworks.yml` may name. */
  readonly secrets: Readonly<Record<string, string>>;
  /** Host patterns deployers and health checks may connect to (`DROIDWORKS_DEPLOY_ALLOW_HOSTS`); undefined = any. */
  readonly allowHosts: readonly string[] | undefined;
  /** Docker network of `command` deployers (`DROIDWORKS_DEPLOY_NETWORK`). @defaultValue `bridge` */
  readonly network: string;
}

export const SECRET_PREFIX = 'DROIDWORKS_SECRET_';
const HOST_PATTERN =
  /^(\*|(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(:\d{1,5})?$/i;
const NETWORK = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Reads the deploy settings from (already cleaned) environment variables; pushes problems. Pure. */
export function readDeployEnv(
  env: Readonly<Record<string, string | undefined>>,
  problems: ConfigProblem[],
): DeployEnv {
  const secrets: Record<string, string> = {};
  for (const [key, value] of Object.entries(env))
    if (key.startsWith(SECRET_PREFIX) && key.length > SECRET_PREFIX.length && value)
      secrets[key.slice(SECRET_PREFIX.length)] = value;
  let allowHosts: string[] | undefined;
  const allow = env.DROIDWORKS_DEPLOY_ALLOW_HOSTS?.trim();
  if (allow) {
    allowHosts = allow
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean);
    const bad = allowHosts.filter((h) => !HOST_PATTERN.test(h));
    if (bad.length > 0)
      problems.push({
        path: 'DROIDWORKS_DEPLOY_ALLOW_HOSTS',
        message: `must be a comma list of host patterns (host, *.domain, host:port); not ${bad.map((b) => `"${b}"`).join(', ')}`,
        example: 'deploy.example.com,*.internal.example.com,127.0.0.1:8080',
      });
  }
  const network = env.DROIDWORKS_DEPLOY_NETWORK?.trim() || 'bridge';
  if (!NETWORK.test(network))
    problems.push({
      path: 'DROIDWORKS_DEPLOY_NETWORK',
      message: 'must be a Docker network name',
      example: 'bridge',
    });
  return { secrets, allowHosts, network };
}
