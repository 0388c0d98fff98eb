// Turns a byte stream into lines with a hard length bound; the transport closes the connection on overflow.
// spec: docs/gateway.md — "lines over the limit (default 4 KiB) close the connection"; blank lines and \r ignored.
// The bound is in bytes as they arrive (not UTF-16 characters after decoding): `\n` never occurs inside a UTF-8
// multi-byte sequence, so lines are cut on the raw bytes and each is decoded on its own.

const NEWLINE = 0x0a;
const MAX_PENDING_PIECES = 8;

export class LineTooLongError extends Error {
  readonly code = 'LINE_TOO_LONG';
  constructor(readonly limit: number) {
    super(`line exceeds ${limit} bytes`);
    this.name = 'LineTooLongError';
  }
}

export class LineSplitter {
  /** Bytes of the current, unfinished line (copies, so a big read buffer is not kept alive by its tail). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /**
   * `keepBlank`: return blank (or whitespace-only) lines as '' instead of skipping them, for a peer that must
   * treat them as errors (the simulated node drops the connection on one, as the node does).
   */
  constructor(
    private readonly maxLineBytes: number,
    private readonly keepBlank = false,
  ) {}

  /**
   * Feeds a chunk; returns the complete, non-blank lines (without `\r`/`\n`).
   * Throws LineTooLongError once a line (without its `\n`) exceeds the limit in bytes, even before it ends.
   */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE, start); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      if (this.pendingBytes + (nl - start) > this.maxLineBytes) throw new LineTooLongError(this.maxLineBytes);
      const piece = chunk.subarray(start, nl);
      const bytes = this.pendingBytes === 0 ? piece : Buffer.concat([...this.pending, piece]);
      this.pending = [];
      this.pendingBytes = 0;
      const line = bytes.toString('utf8').replace(/\r/g, '').trim();
      if (line.length > 0 || this.keepBlank) lines.push(line);
      start = nl + 1;
    }
    const rest = chunk.length - start;
    if (rest > 0) {
      if (this.pendingBytes + rest > this.maxLineBytes) throw new LineTooLongError(this.maxLineBytes);
      this.pending.push(Buffer.from(chunk.subarray(start)));
      this.pendingBytes += rest;
      // A peer dribbling one byte per packet must not cost a Buffer object per byte.
      if (this.pending.length >= MAX_PENDING_PIECES) this.pending = [Buffer.concat(this.pending)];
    }
    return lines;
  }
}
