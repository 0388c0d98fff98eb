// What the tcp, tls and ws listeners share: admission through the ConnectionLimiter, handing connections to
// the acceptor, listen() on a port (0 = any, for tests) and a close() that ends every connection.
import { isIPv4 } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { Logger } from '../config/logger.js';
import type { StratumConfig } from '../config/schema.js';
import {
  CONNECTION,
  onSocketError,
  onSocketTimeout,
  type ConnectionBase,
  type ConnectionOwner,
  type ConnectionSettings,
  type TaggedSocket,
} from './ConnectionBase.js';
import type { ConnectionLimiter } from './ConnectionLimiter.js';
import { TransportError } from './errors.js';
import type { CloseReason, ConnectionAcceptor, TransportKind } from './types.js';

/** Settings every listener reads from the `stratum` config section, plus tuning with defaults. */
export type ListenerConfig = Pick<StratumConfig, 'host' | 'maxLineBytes' | 'idleTimeoutMs' | 'maxSendQueueBytes'> & {
  /** After close(reason), how long a peer gets to take our last lines before the socket is destroyed. */
  closeGraceMs?: number;
  /** How long a socket may take to become a connection (TLS handshake, WebSocket upgrade). */
  handshakeTimeoutMs?: number;
};

export interface TransportDeps {
  readonly acceptor: ConnectionAcceptor;
  /** One limiter shared by all listeners, so limits count tcp, tls and ws together. */
  readonly limiter: ConnectionLimiter;
  readonly logger: Logger;
  /**
   * Asked for every incoming socket before it takes a limiter slot; false refuses it at once (banned peers,
   * docs/gateway.md "Abuse control"). A narrow hook so transports never import the session layer.
   */
  readonly admission?: AdmissionCheck;
}

export type AdmissionCheck = (ip: string) => boolean;

/** The composition root's view of a listener. */
export interface Transport {
  readonly kind: TransportKind;
  /** Starts accepting; resolves with the bound port. */
  listen(): Promise<number>;
  /** Stops accepting and closes every connection with 'server-shutdown'; resolves when all are gone. */
  close(): Promise<void>;
  readonly connectionCount: number;
}

const DEFAULT_CLOSE_GRACE_MS = 2_000;
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** "::ffff:1.2.3.4" and "1.2.3.4" are the same peer for per-IP limits. */
export function normalizeIp(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  const mapped = address.startsWith('::ffff:') ? address.slice(7) : address;
  return isIPv4(mapped) ? mapped : address;
}

export abstract class ListenerBase implements Transport, ConnectionOwner {
  readonly settings: ConnectionSettings;
  readonly logger: Logger;
  protected readonly handshakeTimeoutMs: number;
  /** Admitted raw sockets and the IP each holds a limiter slot for. */
  private readonly sockets = new Map<Socket, string>();
  /** Connections handed to the acceptor whose handler has not yet heard onClose. */
  private readonly live = new Set<ConnectionBase>();
  /** Set while close() waits for every socket and connection to be gone. */
  private onDrained: (() => void) | undefined;
  private listening = false;
  private closing: Promise<void> | undefined;
  /** One listener function per transport (not per connection) releases the limiter slot. */
  private readonly onRawClose: (this: Socket) => void;

  protected constructor(
    readonly kind: TransportKind,
    protected readonly config: ListenerConfig,
    protected readonly port: number,
    protected readonly deps: TransportDeps,
  ) {
    this.settings = {
      maxLineBytes: config.maxLineBytes,
      idleTimeoutMs: config.idleTimeoutMs,
      maxSendQueueBytes: config.maxSendQueueBytes,
      closeGraceMs: config.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS,
    };
    const handshake = config.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.handshakeTimeoutMs = config.idleTimeoutMs > 0 ? Math.min(handshake, config.idleTimeoutMs) : handshake;
    this.logger = deps.logger.child({ component: 'transport', transport: kind });
    const owner = this;
    this.onRawClose = function (this: Socket) {
      owner.forget(this);
    };
  }

  protected abstract get server(): Server;

  get connectionCount(): number {
    return this.sockets.size;
  }

  /**
   * Called on the raw TCP socket of every incoming connection: takes a limiter slot or closes it at once
   * (too-many-connections). Admitted sockets get a handshake timeout until they become connections.
   * Returns the peer's (normalised) IP, or undefined when refused.
   */
  protected admit(raw: Socket): string | undefined {
    const ip = normalizeIp(raw.remoteAddress);
    if (this.closing !== undefined || !this.admitted(ip) || !this.deps.limiter.tryAcquire(ip)) {
      raw.on('error', onSocketError); // a reset racing the destroy must not become an unhandled error
      raw.destroy();
      return undefined;
    }
    this.sockets.set(raw, ip);
    raw.on('close', this.onRawClose);
    raw.on('error', onSocketError);
    raw.on('timeout', onSocketTimeout);
    raw.setTimeout(this.handshakeTimeoutMs);
    return ip;
  }

  private admitted(ip: string): boolean {
    const admission = this.deps.admission;
    if (admission === undefined) return true;
    try {
      if (admission(ip)) return true;
    } catch (error) {
      this.logger.error({ err: error, ip }, 'admission check threw; refusing the connection');
      return false;
    }
    this.logger.debug({ ip, reason: 'banned' }, 'connection refused');
    return false;
  }

  private forget(raw: Socket): void {
    const ip = this.sockets.get(raw);
    if (ip === undefined) return;
    this.sockets.delete(raw);
    this.deps.limiter.release(ip);
    this.checkDrained();
  }

  private checkDrained(): void {
    if (this.onDrained !== undefined && this.sockets.size === 0 && this.live.size === 0) this.onDrained();
  }

  /** The IP an admitted raw socket holds its limiter slot for. */
  protected ipOf(raw: Socket): string {
    return this.sockets.get(raw) ?? normalizeIp(raw.remoteAddress);
  }

  /** Hands a ready connection to the session layer. `raw` is the admitted socket under it. */
  protected accept(connection: ConnectionBase, raw: Socket): void {
    (raw as TaggedSocket)[CONNECTION] = connection;
    this.live.add(connection);
    try {
      connection.handler = this.deps.acceptor(connection);
    } catch (error) {
      this.logger.error({ err: error, connection: connection.id }, 'connection acceptor threw; dropping the connection');
      connection.close('socket-error', 'acceptor error');
      raw.destroy();
      return;
    }
    this.logger.debug({ connection: connection.id, remote: connection.remote }, 'connection open');
  }

  connectionClosed(connection: ConnectionBase, reason: CloseReason, detail: string | undefined): void {
    this.live.delete(connection);
    queueMicrotask(() => this.checkDrained()); // after the handler's onClose, which runs next
    this.logger.debug({ connection: connection.id, remote: connection.remote, reason, detail }, 'connection closed');
  }

  async listen(): Promise<number> {
    if (!this.listening) {
      await listenServer(this.server, this.kind, this.config.host, this.port, this.logger);
      this.listening = true;
    }
    return boundPortOf(this.server, this.kind);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const closed = this.listening
      ? new Promise<void>((resolve) => this.server.close(() => resolve()))
      : Promise.resolve();
    this.listening = false;
    await this.beforeShutdown();
    const drained = new Promise<void>((resolve) => {
      this.onDrained = resolve;
    });
    for (const raw of [...this.sockets.keys()]) {
      const connection = (raw as TaggedSocket)[CONNECTION];
      if (connection === undefined) raw.destroy();
      else connection.close('server-shutdown');
    }
    this.checkDrained();
    await Promise.all([closed, drained]);
    this.logger.info('closed');
  }

  /** Hook for a transport to stop its own machinery (e.g. the WebSocket server) before connections close. */
  protected async beforeShutdown(): Promise<void> {}

}

/** Binds `server`; a bind failure is TransportError LISTEN_FAILED, later server errors are logged. */
export function listenServer(server: Server, kind: string, host: string, port: number, logger: Logger): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(new TransportError('LISTEN_FAILED', `${kind} listen on ${host}:${port} failed: ${error.message}`, { cause: error }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.removeListener('error', onError);
      server.on('error', (error: Error) => logger.error({ err: error }, 'listener error'));
      logger.info({ host, port: boundPortOf(server, kind) }, 'listening');
      resolve();
    });
  });
}

export function boundPortOf(server: Server, kind: string): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new TransportError('NOT_LISTENING', `${kind} listener is not bound to a port`);
  return address.port;
}
