// Turns a byte stream into lines with a hard length bound; the transport closes the connection on overflow.
// spec: docs/gateway.md — "lines over the limit (default 4 KiB) close the connection"; blank lines and \r ignored.
import { StringDecoder } from 'node:string_decoder';

export class LineTooLongError extends Error {
  readonly code = 'LINE_TOO_LONG';
  constructor(readonly limit: number) {
    super(`line exceeds ${limit} bytes`);
    this.name = 'LineTooLongError';
  }
}

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(private readonly maxLineBytes: number) {}

  /**
   * Feeds a chunk; returns the complete, non-blank lines (without `\r`/`\n`).
   * Throws LineTooLongError once buffered data without a newline exceeds the limit.
   */
  push(chunk: Buffer): string[] {
    const text = this.pending + this.decoder.write(chunk);
    const lines: string[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl !== -1; nl = text.indexOf('\n', start)) {
      if (nl - start > this.maxLineBytes) throw new LineTooLongError(this.maxLineBytes);
      const line = text.slice(start, nl).replace(/\r/g, '').trim();
      if (line.length > 0) lines.push(line);
      start = nl + 1;
    }
    this.pending = text.slice(start);
    if (this.pending.length > this.maxLineBytes) throw new LineTooLongError(this.maxLineBytes);
    return lines;
  }
}
