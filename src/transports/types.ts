// What a transport hands to the session layer: a connection that carries lines. No PoW, no protocol here.

export type TransportKind = 'tcp' | 'tls' | 'ws' | 'http';

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
  /** Login refused: every per-session nonce prefix is leased (stratum.noncePrefixDigits too small for the load). */
  | 'prefixes-exhausted'
  /** The node's new nonce prefix leaves no room for this session's prefix (docs/gateway.md "Nonce prefixes"). */
  | 'prefix-revoked'
  /** An operator closed the session (admin API sessions.kick). */
  | 'admin-kick'
  /** The peer's IP is banned (docs/gateway.md "Abuse control"): closed by the session layer, refused by the listener. */
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
