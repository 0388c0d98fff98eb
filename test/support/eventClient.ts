// Event API clients for tests: a `ws` client that records every message, and a raw TCP client that completes the
// WebSocket handshake and then reads nothing (a slow consumer) and answers no ping (an idle one).
import net from 'node:net';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { waitFor, within } from './wait.js';
import type { Json } from './net.js';

export class EventClient {
  readonly messages: Json[] = [];
  closeCode: number | undefined;
  closeReason = '';

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.messages.push(JSON.parse(data.toString()) as Json));
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
    ws.on('error', () => undefined);
  }

  static async connect(port: number, query = ''): Promise<EventClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/${query}`);
    const client = new EventClient(ws);
    await within(
      new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
        ws.once('error', reject);
      }),
      'event API connection',
      5000,
    );
    return client;
  }

  send(message: Json | string): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  get closed(): boolean {
    return this.closeCode !== undefined;
  }

  events(topic: string): Json[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  /** The first message at or after `from` matching `predicate`. */
  async next(predicate: (m: Json) => boolean, what: string, from = 0, timeoutMs = 5000): Promise<Json> {
    await waitFor(() => this.messages.slice(from).some(predicate) || this.closed, what, timeoutMs);
    const found = this.messages.slice(from).find(predicate);
    if (found === undefined) throw new Error(`event API connection closed before ${what} (${this.closeCode} ${this.closeReason})`);
    return found;
  }

  /** Sends `message` and waits for the next reply that is not an event (ack, pong or error). */
  async request(message: Json | string): Promise<Json> {
    const from = this.messages.length;
    this.send(message);
    return this.next((m) => m.topic === undefined, `reply to ${typeof message === 'string' ? message : JSON.stringify(message)}`, from);
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Upgrades a raw socket and then never reads (its receive window fills) nor answers pings. */
export async function stalledClient(port: number, subscribe: Json[]): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  const key = randomBytes(16).toString('base64');
  socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  let head = '';
  await within(
    new Promise<void>((resolve) => {
      const onData = (chunk: Buffer): void => {
        head += chunk.toString('latin1');
        if (head.includes('\r\n\r\n')) {
          socket.off('data', onData);
          socket.pause();
          resolve();
        }
      };
      socket.on('data', onData);
    }),
    'raw WebSocket handshake',
    5000,
  );
  if (!head.startsWith('HTTP/1.1 101')) throw new Error(`handshake refused: ${head.split('\r\n')[0]}`);
  for (const message of subscribe) socket.write(maskedTextFrame(JSON.stringify(message)));
  return socket;
}

/** A client-to-server text frame (clients must mask, RFC 6455 §5.3). Payloads under 126 bytes. */
function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  if (payload.length >= 126) throw new Error('test frame too long');
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] ?? 0)));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}
