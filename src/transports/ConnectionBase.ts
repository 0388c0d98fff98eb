// What tcp, tls and ws connections share: identity, the one-time close bookkeeping and safe handler calls.
// Close semantics (docs/gateway.md): close(reason) flushes what is queued and ends, destroyed after a short grace;
// handler.onClose runs exactly once, when the socket is really gone, with the first reason recorded.
import type { Socket } from 'node:net';
import type { Logger } from '../config/logger.js';
import type { CloseReason, LineConnection, LineHandler, TransportKind } from './types.js';

/** Per-listener settings a connection reads through its owner (kept off the connection to save memory). */
export interface ConnectionSettings {
  readonly maxLineBytes: number;
  readonly idleTimeoutMs: number;
  readonly maxSendQueueBytes: number;
  readonly closeGraceMs: number;
}

export interface ConnectionOwner {
  readonly settings: ConnectionSettings;
  readonly logger: Logger;
  connectionClosed(connection: ConnectionBase, reason: CloseReason, detail: string | undefined): void;
}

/** Sockets carry their connection under this key so shared listeners (no per-connection closures) find it. */
export const CONNECTION = Symbol('equigate.connection');
export type TaggedSocket = Socket & { [CONNECTION]?: ConnectionBase };

let nextConnectionId = 1;

/** Process-unique connection ids for every transport (the HTTP long-poll one has no ConnectionBase). */
export function allocateConnectionId(): number {
  return nextConnectionId++;
}

export abstract class ConnectionBase implements LineConnection {
  readonly id = allocateConnectionId();
  closed = false;
  handler: LineHandler | undefined = undefined;
  private reason: CloseReason | undefined = undefined;
  private detail: string | undefined = undefined;
  private finished = false;

  constructor(
    readonly transport: TransportKind,
    readonly remoteAddress: string,
    private readonly remotePort: number,
    protected readonly owner: ConnectionOwner,
  ) {}

  get remote(): string {
    return `${this.remoteAddress}:${this.remotePort}`;
  }

  /** The first reason recorded for the end of this connection, if any yet. */
  protected get closeReason(): CloseReason | undefined {
    return this.reason;
  }

  abstract send(line: string): boolean;

  /** Graceful (flush, then end) unless `hard`; the subclass arms the grace timer. */
  protected abstract shutdown(hard: boolean): void;

  /** Socket timeout: idle while open, grace expired while closing. */
  abstract onTimeout(): void;

  close(reason: CloseReason, detail?: string): void {
    if (this.closed) return;
    this.note(reason, detail);
    this.closed = true;
    // A full send queue will never drain: drop at once rather than wait (and buffer) for the grace period.
    this.shutdown(reason === 'send-queue-full');
  }

  /**
   * Any socket error (reset, TLS renegotiation refused, ...) ends the connection at once: the socket is destroyed,
   * so its descriptor, limiter slot and session (prefix, pending solutions) are released through finish().
   * The one close path for every transport: nothing stays half-alive after an error.
   */
  onError(error: Error & { code?: string }): void {
    if (this.finished) return;
    this.note('socket-error', error.code ?? error.message);
    this.closed = true;
    this.shutdown(true);
  }

  /** Records why the connection ends; the first reason wins. */
  protected note(reason: CloseReason, detail?: string): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.detail = detail;
  }

  protected deliver(line: string): void {
    const handler = this.handler;
    if (handler === undefined) return;
    try {
      handler.onLine(line);
    } catch (error) {
      this.owner.logger.error({ err: error, connection: this.id }, 'line handler threw; closing the connection');
      this.close('socket-error', 'handler error');
    }
  }

  /** Called by the subclass when the underlying socket has closed; runs handler.onClose exactly once. */
  protected finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.closed = true;
    const reason = this.reason ?? 'peer-closed';
    this.owner.connectionClosed(this, reason, this.detail);
    const handler = this.handler;
    this.handler = undefined;
    if (handler === undefined) return;
    try {
      handler.onClose(reason, this.detail);
    } catch (error) {
      this.owner.logger.error({ err: error, connection: this.id }, 'close handler threw');
    }
  }
}

// Shared socket listeners: `this` is the socket; each finds its connection by tag (no per-connection closures).
export function onSocketTimeout(this: TaggedSocket): void {
  const connection = this[CONNECTION];
  // Not yet handed to the session layer (TLS handshake, WebSocket upgrade): just drop it.
  if (connection === undefined) this.destroy();
  else connection.onTimeout();
}

export function onSocketError(this: TaggedSocket, error: Error): void {
  const connection = this[CONNECTION];
  // Not yet a connection: nothing to tell, but the socket (and its limiter slot) must still go.
  if (connection === undefined) this.destroy();
  else connection.onError(error);
}
