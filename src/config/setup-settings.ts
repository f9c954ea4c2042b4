import { z } from 'zod';
import { ConfigError } from './config-error.js';
import { readEnvFile } from './load-config.js';

/** What `droidworks setup` reads from the environment: it runs before the rest is configured. */
export interface SetupSettings {
  /** @defaultValue `https://api.github.com` */
  readonly apiUrl: string;
  readonly publicUrl: string | undefined;
}

const schema = z.object({
  GITHUB_API_URL: z.url({ message: 'must be an absolute URL' }).default('https://api.github.com'),
  DROIDWORKS_PUBLIC_URL: z.url({ message: 'must be an absolute URL' }).optional(),
});

/**
 * `GITHUB_API_URL` and `DROIDWORKS_PUBLIC_URL` from `env` and the `.env` file, validated; nothing
 * else is required (setup is what writes the GitHub App settings).
 */
export function loadSetupSettings(env: NodeJS.ProcessEnv, envFile: string): SetupSettings {
  const merged = { ...readEnvFile(envFile), ...env };
  const cleaned = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success)
    throw new ConfigError(
      parsed.error.issues.map((i) => ({
        path: String(i.path[0] ?? '(root)'),
        message: i.message,
        example:
          i.path[0] === 'GITHUB_API_URL'
            ? 'https://github.example.com/api/v3'
            : 'https://droidworks.example.com',
      })),
    );
  return {
    apiUrl: parsed.data.GITHUB_API_URL.replace(/\/+$/, ''),
    publicUrl: parsed.data.DROIDWORKS_PUBLIC_URL,
  };
}
