// A line connection over a byte stream (plain TCP or TLS): LineSplitter in, `\n`-terminated lines out.
import type { Socket } from 'node:net';
import { LineSplitter, LineTooLongError } from '../protocol/LineSplitter.js';
import {
  CONNECTION,
  ConnectionBase,
  onSocketError,
  onSocketTimeout,
  type ConnectionOwner,
  type TaggedSocket,
} from './ConnectionBase.js';

function onData(this: TaggedSocket, chunk: Buffer): void {
  const connection = this[CONNECTION];
  if (connection instanceof StreamConnection) connection.onData(chunk);
}

function onEnd(this: TaggedSocket): void {
  // allowHalfOpen is false: a peer that half-closes is closed (our queued lines still get a grace to flush).
  this[CONNECTION]?.close('peer-closed');
}

// Lines sent in one tick leave in one write per socket: each connection gathers them in a string and one shared
// nextTick writes them all. A new tip (cancel + job) to 10,000 sessions then costs 10,000 write syscalls, not
// 20,000, and replies finished together (one verifier batch) share a syscall too. One string write is cheaper than
// cork/uncork, whose writev of several strings costs ~15 % more per socket on loopback (bench/fanout).
let toFlush: StreamConnection[] = [];
/** Most bytes a connection gathers before writing them at once (also at most half its send-queue bound). */
const GATHER_MAX_BYTES = 16 * 1024;

function flushAll(): void {
  const connections = toFlush;
  toFlush = [];
  for (const connection of connections) connection.flush();
}

function onClose(this: TaggedSocket): void {
  const connection = this[CONNECTION];
  if (connection instanceof StreamConnection) connection.onSocketClosed();
}

export class StreamConnection extends ConnectionBase {
  private splitter: LineSplitter | undefined;
  /** Lines sent this tick, not yet written (flushAll writes them; a graceful close writes them first). */
  private outgoing = '';
  private outgoingBytes = 0;

  /**
   * `ownsTimers` is false when the admitting transport already listens for 'timeout'/'error' on this very
   * socket (plain TCP: the raw socket is the connection's socket).
   */
  constructor(
    kind: 'tcp' | 'tls',
    private readonly socket: Socket,
    remoteAddress: string,
    remotePort: number,
    owner: ConnectionOwner,
    ownsTimers: boolean,
  ) {
    super(kind, remoteAddress, remotePort, owner);
    this.splitter = new LineSplitter(owner.settings.maxLineBytes);
    const tagged = socket as TaggedSocket;
    tagged[CONNECTION] = this;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    socket.setTimeout(owner.settings.idleTimeoutMs);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onClose);
    if (ownsTimers) {
      socket.on('timeout', onSocketTimeout);
      socket.on('error', onSocketError);
    }
  }

  send(line: string): boolean {
    if (this.closed) return false;
    const text = line.endsWith('\n') ? line : `${line}\n`;
    const bytes = Buffer.byteLength(text);
    const max = this.owner.settings.maxSendQueueBytes;
    // A busy tick (e.g. hundreds of answers to one read) goes out in pieces, so gathering alone never makes a
    // reading peer look slow: the bound below is still about bytes the peer has not taken.
    if (this.outgoingBytes > 0 && this.outgoingBytes + bytes > Math.min(GATHER_MAX_BYTES, max >> 1)) this.flush();
    const queued = this.socket.writableLength + this.outgoingBytes;
    if (queued + bytes > max) {
      this.close('send-queue-full', `${queued} bytes queued`);
      return false;
    }
    if (this.outgoingBytes === 0 && toFlush.push(this) === 1) process.nextTick(flushAll);
    this.outgoing += text;
    this.outgoingBytes += bytes;
    return true;
  }

  /** Writes the lines gathered this tick (flushAll, and a graceful close before it ends the socket). */
  flush(): void {
    const text = this.outgoing;
    if (text === '') return;
    this.outgoing = '';
    this.outgoingBytes = 0;
    if (!this.socket.destroyed && !this.socket.writableEnded) this.socket.write(text);
  }

  onData(chunk: Buffer): void {
    const splitter = this.splitter;
    if (this.closed || splitter === undefined) return;
    let lines: string[];
    try {
      lines = splitter.push(chunk);
    } catch (error) {
      if (!(error instanceof LineTooLongError)) throw error;
      this.close('line-too-long', `limit ${error.limit} bytes`);
      return;
    }
    for (const line of lines) {
      if (this.closed) return; // the handler closed it: later lines are not delivered
      this.deliver(line);
    }
  }

  onTimeout(): void {
    if (this.closed) this.socket.destroy();
    else this.close('idle-timeout');
  }

  onSocketClosed(): void {
    this.finish();
  }

  protected shutdown(hard: boolean): void {
    this.splitter = undefined;
    if (hard) {
      this.outgoing = '';
      this.outgoingBytes = 0;
      this.socket.destroy();
      return;
    }
    this.flush();
    this.socket.end();
    this.socket.setTimeout(this.owner.settings.closeGraceMs);
  }
}
