import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { STEP_IMPLS } from '../steps/index.js';

const STEP_KINDS = Object.keys(STEP_IMPLS);

/**
 * Registers the operator's commands on the CLI: `setup` (create the GitHub App through the
 * manifest flow) and `schema` (the JSON Schemas of `.droidworks.yml` and workflow files).
 */
export function registerOperateCommands(program: Command): void {
  program
    .command('setup')
    .description(
      'create the GitHub App in one go (manifest flow in your browser) and write its credentials to .env',
    )
    .option('--url <publicUrl>', "droidworks' public address (default: DROIDWORKS_PUBLIC_URL)")
    .option('--org <org>', 'create the App under this organisation instead of your account')
    .option(
      '--github-url <apiUrl>',
      'GitHub Enterprise REST API, https://host/api/v3 (default: GITHUB_API_URL)',
    )
    .option('--name <name>', 'the App name (unique on GitHub)')
    .option('--port <port>', 'local port of the setup page (default: any free port)', (v) =>
      Number.parseInt(v, 10),
    )
    .option('--key-file <path>', 'where to write the private key (default: next to the .env file)')
    .option('--force', 'overwrite an existing .env and key file')
    .action(
      async (opts: {
        url?: string;
        org?: string;
        githubUrl?: string;
        name?: string;
        port?: number;
        keyFile?: string;
        force?: boolean;
      }) => {
        const { runSetup } = await import('./setup.js');
        const { loadSetupSettings } = await import('../config/setup-settings.js');
        const envFile = program.opts<{ dotenv?: string }>().dotenv ?? '.env';
        const settings = loadSetupSettings(process.env, envFile);
        process.exitCode = await runSetup({
          publicUrl: opts.url ?? settings.publicUrl,
          org: opts.org,
          apiUrl: (opts.githubUrl ?? settings.apiUrl).replace(/\/+$/, ''),
          name: opts.name,
          port: opts.port,
          envFile,
          keyFile: opts.keyFile,
          force: opts.force === true,
          out: (line) => console.log(line),
        });
      },
    );

  program
    .command('schema [kind]')
    .description(
      'print the JSON Schema of .droidworks.yml (kind "config", the default) or of workflow files ("workflow")',
    )
    .option('--write <dir>', 'write both schema files below <dir> (as published in the package) instead')
    .action(async (kind: string | undefined, opts: { write?: string }) => {
      const { jsonSchemaText, SCHEMA_FILES, SCHEMA_KINDS } = await import('../config/json-schema.js');
      if (opts.write) {
        for (const k of SCHEMA_KINDS) {
          const path = join(opts.write, SCHEMA_FILES[k]);
          await mkdir(dirname(path), { recursive: true });
          await writeFile(path, jsonSchemaText(k, STEP_KINDS));
          console.log(`wrote ${path}`);
        }
        return;
      }
      const which = kind ?? 'config';
      if (!(SCHEMA_KINDS as readonly string[]).includes(which)) {
        console.error(`droidworks schema: kind must be one of ${SCHEMA_KINDS.join(', ')}, not "${which}"`);
        process.exitCode = 2;
        return;
      }
      process.stdout.write(jsonSchemaText(which as (typeof SCHEMA_KINDS)[number], STEP_KINDS));
    });
}
