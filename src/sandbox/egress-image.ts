import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type Docker from 'dockerode';

/** Where the proxy script lives beside this module (`src/sandbox` with tsx, `dist/sandbox` built). */
const SCRIPT_URL = new URL('./egress-proxy.mjs', import.meta.url);
export const EGRESS_SCRIPT_PATH = '/opt/droidworks/egress-proxy.mjs';

/**
 * The Dockerfile of the egress proxy image: the runner image (which has Node) plus the script.
 * No registry is needed: the base is the locally built runner image.
 */
export function egressDockerfile(baseImage: string): string {
  return [
    `FROM ${baseImage}`,
    `COPY egress-proxy.mjs ${EGRESS_SCRIPT_PATH}`,
    'USER 65534:65534',
    `ENTRYPOINT ["node", "${EGRESS_SCRIPT_PATH}"]`,
    '',
  ].join('\n');
}

/**
 * Tag of the proxy image for this script and base: `droidworks/egress-proxy:<hash>`. A changed
 * script or base gives a new tag, so a cached image is never stale.
 */
export function egressImageTag(script: string, baseImageId: string): string {
  const hash = createHash('sha256').update(script).update('\0').update(baseImageId).digest('hex');
  return `droidworks/egress-proxy:${hash.slice(0, 12)}`;
}

/**
 * Returns the tag of the egress proxy image, building it from `baseImage` first when no image has
 * that tag yet (about a second: one `COPY` on a local image). Cached by tag across processes.
 */
export async function ensureEgressImage(
  docker: Docker,
  baseImage: string,
  signal?: AbortSignal,
): Promise<string> {
  const script = await readFile(SCRIPT_URL, 'utf8');
  const base = await docker.getImage(baseImage).inspect();
  const tag = egressImageTag(script, base.Id);
  try {
    await docker.getImage(tag).inspect();
    return tag;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
  const context = tarArchive([
    { name: 'Dockerfile', body: egressDockerfile(baseImage) },
    { name: 'egress-proxy.mjs', body: script },
  ]);
  const stream = await docker.buildImage(Readable.from([context]), {
    t: tag,
    labels: { 'droidworks.managed': 'true', 'droidworks.role': 'egress-image' },
    abortSignal: signal,
  });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, output: { error?: string }[]) => {
      const failed = output?.find((o) => o.error);
      if (err || failed) reject(new Error(`building ${tag} failed: ${err?.message ?? failed?.error}`));
      else resolve();
    });
  });
  return tag;
}

/** A ustar archive of small regular files (a Docker build context). */
export function tarArchive(files: readonly { name: string; body: string }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const file of files) {
    const body = Buffer.from(file.body, 'utf8');
    const header = Buffer.alloc(512);
    header.write(file.name, 0, 100, 'utf8');
    header.write('0000644\0', 100, 'ascii');
    header.write('0000000\0', 108, 'ascii');
    header.write('0000000\0', 116, 'ascii');
    header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
    header.write(
      `${Math.floor(Date.now() / 1000)
        .toString(8)
        .padStart(11, '0')}\0`,
      136,
      'ascii',
    );
    header.write('        ', 148, 'ascii');
    header.write('0', 156, 'ascii');
    header.write('ustar\0', 257, 'ascii');
    header.write('00', 263, 'ascii');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
