/**
 * Keeps the first and last bytes of a stream of unknown length in bounded memory: `push` as
 * chunks arrive, `text()` at the end. Memory stays under `maxBytes` plus one chunk whatever the
 * stream's size.
 */
export class OutputCap {
  private readonly headMax: number;
  private readonly tailMax: number;
  private readonly head: Buffer[] = [];
  private headLen = 0;
  private tail: Buffer[] = [];
  private tailLen = 0;
  /** Bytes seen in total. */
  total = 0;

  constructor(readonly maxBytes: number) {
    this.headMax = Math.floor(maxBytes / 2);
    this.tailMax = maxBytes - this.headMax;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    let rest = chunk;
    if (this.headLen < this.headMax) {
      const take = Math.min(this.headMax - this.headLen, rest.length);
      // Copy: the caller's buffer may be a view into a larger one we must not pin.
      this.head.push(Buffer.from(rest.subarray(0, take)));
      this.headLen += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0) return;
    if (rest.length >= this.tailMax) {
      this.tail = [Buffer.from(rest.subarray(rest.length - this.tailMax))];
      this.tailLen = this.tailMax;
      return;
    }
    this.tail.push(Buffer.from(rest));
    this.tailLen += rest.length;
    while (this.tailLen > this.tailMax) {
      const first = this.tail[0] as Buffer;
      const excess = this.tailLen - this.tailMax;
      if (first.length <= excess) {
        this.tail.shift();
        this.tailLen -= first.length;
      } else {
        this.tail[0] = first.subarray(excess);
        this.tailLen -= excess;
      }
    }
  }

  /** Bytes dropped from the middle. */
  get droppedBytes(): number {
    return this.total - this.headLen - this.tailLen;
  }

  /** Head, a marker line saying how much was cut (when anything was), and tail, as UTF-8. */
  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    const tail = Buffer.concat(this.tail).toString('utf8');
    const dropped = this.droppedBytes;
    if (dropped === 0) return head + tail;
    return `${head}\n[… ${dropped} bytes cut …]\n${tail}`;
  }
}
