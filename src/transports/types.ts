// What a transport hands to the session layer: a connection that carries lines. No PoW, no protocol here.

export type TransportKind = 'tcp' | 'tls' | 'ws';

export type CloseReason =
  | 'peer-closed'
  | 'line-too-long'
  | 'send-queue-full'
  | 'login-timeout'
  | 'idle-timeout'
  | 'malformed-budget'
  | 'login-failed'
  | 'protocol-violation'
  | 'server-shutdown'
  | 'socket-error'
  | 'too-many-connections'
  // Operations (src/operations/): an operator closed the session, or banned its IP.
  | 'admin-kick'
  | 'banned';

export interface LineConnection {
  /** Process-unique id, assigned by the transport. */
  readonly id: number;
  /** "ip:port" of the peer. */
  readonly remote: string;
  readonly remoteAddress: string;
  readonly transport: TransportKind;
  /**
   * Queues one line (`\n`-terminated for stream transports; one frame per line for WebSocket).
   * Returns false when the line was not queued because the peer is too slow (the connection is then closed).
   */
  send(line: string): boolean;
  /** Closes after flushing what was already queued (bounded by a short timeout). */
  close(reason: CloseReason): void;
  readonly closed: boolean;
}

/** The session layer's side of a connection: the transport calls these. */
export interface LineHandler {
  onLine(line: string): void;
  onClose(reason: CloseReason, detail?: string): void;
}

/** Called by a transport for each accepted connection; returns the handler that receives its lines. */
export type ConnectionAcceptor = (connection: LineConnection) => LineHandler;
