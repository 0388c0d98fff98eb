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

// Lines sent in one tick leave in one write per socket: the first send corks the socket and one shared nextTick
// uncorks them all. A new tip (cancel + job) to 10,000 sessions then costs 10,000 write syscalls, not 20,000, and
// replies finished together (one verifier batch) share a syscall too. end() uncorks by itself, so a close right
// after a send still flushes it.
let corked: Socket[] = [];

function uncorkAll(): void {
  const sockets = corked;
  corked = [];
  for (const socket of sockets) if (socket.writableCorked > 0) socket.uncork();
}

function onClose(this: TaggedSocket): void {
  const connection = this[CONNECTION];
  if (connection instanceof StreamConnection) connection.onSocketClosed();
}

export class StreamConnection extends ConnectionBase {
  private splitter: LineSplitter | undefined;

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
    if (this.socket.writableLength + Buffer.byteLength(text) > this.owner.settings.maxSendQueueBytes) {
      this.close('send-queue-full', `${this.socket.writableLength} bytes queued`);
      return false;
    }
    if (this.socket.writableCorked === 0) {
      this.socket.cork();
      if (corked.push(this.socket) === 1) process.nextTick(uncorkAll);
    }
    this.socket.write(text);
    return true;
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
      this.socket.destroy();
      return;
    }
    this.socket.end();
    this.socket.setTimeout(this.owner.settings.closeGraceMs);
  }
}
