import { afterEach, describe, expect, it } from 'vitest';
import { startForge, type Forge } from '../../test/support/github-simulator.js';
import { loadConfig } from '../config/load-config.js';
import { githubReadiness } from './github-readiness.js';

describe('githubReadiness (the GitHub simulator over real HTTP)', () => {
  let forge: Forge | undefined;
  afterEach(async () => {
    await forge?.close();
    forge = undefined;
  });

  const configFor = (f: Forge, token: string) =>
    loadConfig({ GITHUB_API_URL: f.url, GITHUB_TOKEN: token }).github;

  it('asks GitHub on every check once the trusted period is over, and says why it is not ready', async () => {
    forge = await startForge({});
    const token = forge.createUser('operator').token;
    const config = configFor(forge, token);
    const signal = () => AbortSignal.timeout(5000);

    const fresh = githubReadiness(config, { ttlMs: 0 });
    await fresh.check(signal());
    await forge.close();
    forge = undefined;
    await expect(fresh.check(signal())).rejects.toThrow(/refused the connection/);

    // A success is trusted for its period (no call), a failure never.
    forge = await startForge({});
    const trusted = githubReadiness(configFor(forge, forge.createUser('operator').token), { ttlMs: 60_000 });
    await trusted.check(signal());
    await forge.close();
    forge = undefined;
    await trusted.check(signal());
  });

  it('names rejected credentials', async () => {
    forge = await startForge({});
    const check = githubReadiness(configFor(forge, 'ghp_wrongwrongwrongwrongwrong1234'));
    await expect(check.check(AbortSignal.timeout(5000))).rejects.toThrow(/rejected GITHUB_TOKEN/);
  });
});
