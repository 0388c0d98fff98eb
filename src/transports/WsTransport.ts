// WebSocket stratum listener (stratum.wsPort, `ws` package): one JSON message per text frame, any path.
// maxPayload = maxLineBytes (an oversize frame closes with 'line-too-long'); binary frames close the connection;
// a frame may end with a newline (split on `\n` like a stream, blank parts ignored). Outgoing lines lose their `\n`.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { StratumConfig } from '../config/schema.js';
import { CONNECTION, ConnectionBase, type ConnectionOwner } from './ConnectionBase.js';
import { ListenerBase, type ListenerConfig, type TransportDeps } from './ListenerBase.js';
import type { CloseReason } from './types.js';

export type WsTransportConfig = ListenerConfig & Pick<StratumConfig, 'wsPort'>;

type TaggedWebSocket = WebSocket & { [CONNECTION]?: ConnectionBase };

/** RFC 6455 close codes: 1001 going away, 1008 policy violation, 1009 message too big. */
function closeCode(reason: CloseReason): number {
  switch (reason) {
    case 'server-shutdown':
      return 1001;
    case 'line-too-long':
      return 1009;
    case 'protocol-violation':
    case 'malformed-budget':
    case 'login-failed':
    case 'login-timeout':
    case 'too-many-connections':
    case 'prefixes-exhausted':
      return 1008;
    default:
      return 1000;
  }
}

function toText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function onMessage(this: TaggedWebSocket, data: RawData, isBinary: boolean): void {
  const connection = this[CONNECTION];
  if (connection instanceof WsConnection) connection.onMessage(data, isBinary);
}

function onWsError(this: TaggedWebSocket, error: Error & { code?: string }): void {
  const connection = this[CONNECTION];
  if (connection instanceof WsConnection) connection.onProtocolError(error);
}

function onWsClose(this: TaggedWebSocket): void {
  const connection = this[CONNECTION];
  if (connection instanceof WsConnection) connection.onSocketClosed();
}

class WsConnection extends ConnectionBase {
  constructor(
    private readonly ws: WebSocket,
    /** The TCP socket under the WebSocket; it carries the idle and grace timers. */
    private readonly raw: Socket,
    remoteAddress: string,
    owner: ConnectionOwner,
  ) {
    super('ws', remoteAddress, raw.remotePort ?? 0, owner);
    (ws as TaggedWebSocket)[CONNECTION] = this;
    ws.on('message', onMessage);
    ws.on('error', onWsError);
    ws.on('close', onWsClose);
    raw.setNoDelay(true);
    raw.setTimeout(owner.settings.idleTimeoutMs);
  }

  send(line: string): boolean {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return false;
    const text = line.endsWith('\n') ? line.slice(0, line.endsWith('\r\n') ? -2 : -1) : line;
    if (this.ws.bufferedAmount + Buffer.byteLength(text) > this.owner.settings.maxSendQueueBytes) {
      this.close('send-queue-full', `${this.ws.bufferedAmount} bytes queued`);
      return false;
    }
    this.ws.send(text);
    return true;
  }

  onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    if (isBinary) {
      this.close('protocol-violation', 'binary frame');
      return;
    }
    for (const part of toText(data).split('\n')) {
      if (this.closed) return;
      const line = part.replace(/\r/g, '').trim();
      if (line.length > 0) this.deliver(line);
    }
  }

  /** `ws` reports a peer's protocol error (oversize frame, bad UTF-8, bad opcode) and closes by itself. */
  onProtocolError(error: Error & { code?: string }): void {
    const tooLong = error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
    this.note(tooLong ? 'line-too-long' : 'protocol-violation', error.code ?? error.message);
    this.closed = true;
    this.raw.setTimeout(this.owner.settings.closeGraceMs);
  }

  onTimeout(): void {
    if (this.closed) this.ws.terminate();
    else this.close('idle-timeout');
  }

  onSocketClosed(): void {
    this.finish();
  }

  protected shutdown(hard: boolean): void {
    if (hard) {
      this.ws.terminate();
      return;
    }
    const reason = this.closeReason ?? 'server-shutdown';
    this.ws.close(closeCode(reason), reason);
    this.raw.setTimeout(this.owner.settings.closeGraceMs);
  }
}

export class WsTransport extends ListenerBase {
  protected readonly server: Server;
  private readonly wss: WebSocketServer;

  constructor(config: WsTransportConfig, deps: TransportDeps) {
    super('ws', config, config.wsPort, deps);
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: config.maxLineBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.server = createServer((_request, response) => {
      response.writeHead(426, { 'content-type': 'text/plain', connection: 'close' });
      response.end('stratum over WebSocket: upgrade required\n');
    });
    this.server.requestTimeout = this.handshakeTimeoutMs;
    this.server.headersTimeout = this.handshakeTimeoutMs;
    this.server.on('connection', (raw: Socket) => this.admit(raw));
    this.server.on('upgrade', (request: IncomingMessage, raw: Socket, head: Buffer) => this.onUpgrade(request, raw, head));
  }

  private onUpgrade(request: IncomingMessage, raw: Socket, head: Buffer): void {
    if (raw.destroyed) return;
    this.wss.handleUpgrade(request, raw, head, (ws) => {
      this.accept(new WsConnection(ws, raw, this.ipOf(raw), this), raw);
    });
  }

  protected override async beforeShutdown(): Promise<void> {
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
