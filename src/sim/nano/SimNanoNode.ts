// A small simulated Nano/Banano node WebSocket for tests and the demo (docs/work-service.md "Node WebSocket"):
// `subscribe`/`unsubscribe` (with `ack` when asked, echoing `id`), `ping` → `pong`, and `confirmation` messages
// pushed by the test with confirm(). Account filters (options.accounts) are honoured. Loopback only.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface SimConfirmation {
  readonly account: string;
  readonly hash: string;
  readonly previous: string;
  readonly amount?: string;
  readonly subtype?: 'send' | 'receive' | 'change' | 'epoch' | 'open';
}

interface Subscriber {
  confirmation: boolean;
  accounts: Set<string> | undefined;
}

export class SimNanoNode {
  private readonly subscribers = new Map<WebSocket, Subscriber>();
  /** Every action received, in order (tests read it). */
  readonly received: Record<string, unknown>[] = [];
  /** When false, pings go unanswered (tests of the keepalive). */
  answerPings = true;

  private constructor(
    private readonly server: WebSocketServer,
    readonly port: number,
  ) {
    server.on('connection', (ws) => this.accept(ws));
  }

  static async start(port = 0): Promise<SimNanoNode> {
    const server = new WebSocketServer({ host: '127.0.0.1', port, maxPayload: 65_536 });
    await once(server, 'listening');
    return new SimNanoNode(server, (server.address() as AddressInfo).port);
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Connections currently subscribed to `confirmation`. */
  get confirmationSubscribers(): number {
    return [...this.subscribers.values()].filter((s) => s.confirmation).length;
  }

  /** Sends a confirmation, in the node's shape, to every matching subscriber. */
  confirm(block: SimConfirmation): void {
    const message = {
      topic: 'confirmation',
      time: String(Date.now()),
      message: {
        account: block.account,
        amount: block.amount ?? '0',
        hash: block.hash,
        confirmation_type: 'active_quorum',
        block: {
          type: 'state',
          account: block.account,
          previous: block.previous,
          representative: block.account,
          balance: '0',
          link: '0'.repeat(64),
          link_as_account: block.account,
          signature: '0'.repeat(128),
          work: '0000000000000000',
          subtype: block.subtype ?? 'send',
        },
      },
    };
    const text = JSON.stringify(message);
    for (const [ws, sub] of this.subscribers) {
      if (!sub.confirmation) continue;
      if (sub.accounts !== undefined && !sub.accounts.has(block.account)) continue;
      ws.send(text);
    }
  }

  /** Closes every connection (clients should reconnect and subscribe again). */
  dropConnections(): void {
    for (const ws of this.subscribers.keys()) ws.terminate();
  }

  async stop(): Promise<void> {
    for (const ws of this.subscribers.keys()) ws.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(ws: WebSocket): void {
    const sub: Subscriber = { confirmation: false, accounts: undefined };
    this.subscribers.set(ws, sub);
    ws.on('close', () => this.subscribers.delete(ws));
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer) => {
      let action: Record<string, unknown>;
      try {
        action = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      } catch {
        return;
      }
      this.received.push(action);
      const ack = (name: string): void => {
        if (action.ack === true || action.ack === 'true') {
          ws.send(JSON.stringify({ ack: name, time: String(Date.now()), ...(action.id !== undefined ? { id: action.id } : {}) }));
        }
      };
      switch (action.action) {
        case 'ping':
          if (this.answerPings) ws.send(JSON.stringify({ ack: 'pong', time: String(Date.now()) }));
          break;
        case 'subscribe':
          if (action.topic === 'confirmation') {
            sub.confirmation = true;
            const options = action.options as { accounts?: unknown } | undefined;
            sub.accounts = Array.isArray(options?.accounts) ? new Set(options.accounts.map(String)) : undefined;
          }
          ack('subscribe');
          break;
        case 'unsubscribe':
          if (action.topic === 'confirmation') sub.confirmation = false;
          ack('unsubscribe');
          break;
        default:
          break;
      }
    });
  }
}
