import type { ConfigProblem } from '../config/config-error.js';
import type { DeployConfig, DeployerConfig } from '../config/deploy-config.js';
import { SECRET_PREFIX, type DeployEnv } from '../config/deploy-env.js';

/**
 * Whether `url` may be connected to under `DROIDWORKS_DEPLOY_ALLOW_HOSTS` patterns: `host`,
 * `*.domain` (subdomains only), `host:port`, `*` (any). Undefined patterns allow every host. Pure.
 */
export function hostAllowed(url: string, patterns: readonly string[] | undefined): boolean {
  if (patterns === undefined) return true;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const host = parsed.hostname.toLowerCase();
  const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
  return patterns.some((raw) => {
    const pattern = raw.toLowerCase();
    if (pattern === '*') return true;
    const m = /^(.*?)(?::(\d+))?$/.exec(pattern);
    const patternHost = m?.[1] ?? pattern;
    const patternPort = m?.[2];
    if (patternPort !== undefined && patternPort !== port) return false;
    if (patternHost.startsWith('*.')) return host.endsWith(patternHost.slice(1));
    return host === patternHost;
  });
}

/** Secret names a deployer reads (webhook `secret`, command `secrets`). */
function secretsOf(d: DeployerConfig): string[] {
  if (d.webhook) return [d.webhook.secret];
  if (d.command) return [...d.command.secrets];
  return [];
}

/** URLs a deployer connects to from the host. */
function urlsOf(d: DeployerConfig): string[] {
  return d.webhook ? [d.webhook.url] : [];
}

/**
 * What the server refuses in a valid-looking `deploy:` block: secrets it does not have and hosts
 * outside `DROIDWORKS_DEPLOY_ALLOW_HOSTS`. Every problem at once, by field path. Pure.
 */
export function checkDeployConfig(deploy: DeployConfig, env: DeployEnv): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  deploy.environments.forEach((e, i) => {
    const at = `deploy.environments[${i}]`;
    const hooks: Array<[string, DeployerConfig]> = [[`${at}.deployer`, e.deployer]];
    if (e.rollback) hooks.push([`${at}.rollback`, e.rollback]);
    for (const [path, hook] of hooks) {
      for (const name of secretsOf(hook))
        if (!(name in env.secrets))
          problems.push({
            path: `${path}.${hook.webhook ? 'webhook.secret' : 'command.secrets'}`,
            message: `unknown secret "${name}": the server has no ${SECRET_PREFIX}${name} (a repository can name only ${SECRET_PREFIX}* variables)`,
          });
      for (const url of urlsOf(hook))
        if (!hostAllowed(url, env.allowHosts))
          problems.push({
            path: `${path}.webhook.url`,
            message: `host of ${url} is not in DROIDWORKS_DEPLOY_ALLOW_HOSTS (${(env.allowHosts ?? []).join(', ')})`,
          });
    }
    const probes = [e.health?.url, e.health?.prometheus?.url].filter((u): u is string => !!u);
    for (const url of probes)
      if (!hostAllowed(url, env.allowHosts))
        problems.push({
          path: `${at}.health`,
          message: `host of ${url} is not in DROIDWORKS_DEPLOY_ALLOW_HOSTS (${(env.allowHosts ?? []).join(', ')})`,
        });
  });
  return problems;
}
