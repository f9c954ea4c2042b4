import type { Readable } from 'node:stream';

/**
 * Splits Docker's multiplexed attach stream (8-byte header: type, 3 zero bytes, big-endian
 * length) into stdout and stderr chunks without accumulating it. Resolves when the stream ends.
 */
export function demuxStream(
  stream: Readable,
  onChunk: (kind: 'stdout' | 'stderr', chunk: Buffer) => void,
): Promise<void> {
  let pending: Buffer | undefined;
  let kind: 'stdout' | 'stderr' = 'stdout';
  let remaining = 0;
  return new Promise((resolve, reject) => {
    stream.on('data', (data: Buffer) => {
      let buf = pending ? Buffer.concat([pending, data]) : data;
      pending = undefined;
      while (buf.length > 0) {
        if (remaining > 0) {
          const take = Math.min(remaining, buf.length);
          onChunk(kind, buf.subarray(0, take));
          remaining -= take;
          buf = buf.subarray(take);
          continue;
        }
        if (buf.length < 8) {
          pending = Buffer.from(buf);
          break;
        }
        kind = buf[0] === 2 ? 'stderr' : 'stdout';
        remaining = buf.readUInt32BE(4);
        buf = buf.subarray(8);
      }
    });
    stream.once('end', () => resolve());
    stream.once('close', () => resolve());
    stream.once('error', reject);
  });
}
