// Precache from a node (docs/work-service.md "Precache"): a WebSocket to the node's `confirmation` topic
// (subscribe with ack, ping/pong keepalive, reconnect with capped backoff). When a block of an account we have
// served is confirmed, its hash is the root of that account's next block: precache work for it.
import WebSocket from 'ws';
import type { Logger } from '../config/logger.js';
import type { EventBus } from '../events/EventBus.js';
import { ReconnectBackoff } from '../upstream/ReconnectBackoff.js';
import { checkAccount } from './account.js';
import { isBlockHash, normaliseHash } from './wire.js';

export interface PrecacheSink {
  precache(hash: string): void;
}

export interface NodeConfirmationsOptions {
  readonly url: string;
  readonly sink: PrecacheSink;
  readonly bus: EventBus;
  readonly logger: Logger;
  /** Ping every this often; no pong (or ack) within the same time closes and reconnects. */
  readonly pingIntervalMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  /** Roots served and accounts followed, each kept to this many (oldest forgotten). */
  readonly trackLimit: number;
  /** Largest frame accepted from the node. */
  readonly maxMessageBytes?: number;
}

export type NodeLinkState = 'connecting' | 'subscribed' | 'disconnected' | 'stopped';

const ZERO_HASH = '0'.repeat(64);

export class NodeConfirmations {
  private ws: WebSocket | undefined;
  private state: NodeLinkState = 'disconnected';
  private readonly backoff: ReconnectBackoff;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private awaiting: 'ack' | 'pong' | undefined;
  private awaitingSince = 0;
  private readonly roots = new Set<string>();
  private readonly accounts = new Set<string>();
  private unsubscribe: (() => void) | undefined;
  private readonly log: Logger;
  /** Confirmations that led to a precache request. */
  precached = 0;
  connects = 0;

  constructor(private readonly options: NodeConfirmationsOptions) {
    this.log = options.logger.child({ component: 'node-ws' });
    this.backoff = new ReconnectBackoff(options.reconnectMinMs, options.reconnectMaxMs);
  }

  get linkState(): NodeLinkState {
    return this.state;
  }

  start(): void {
    // Every hash we answered work for is a root whose block will be confirmed under some account.
    this.unsubscribe = this.options.bus.subscribe('work', 'node-confirmations', (event) => {
      if (event.success === 'true') this.track(this.roots, event.request.hash);
    });
    this.connect();
  }

  stop(): void {
    this.state = 'stopped';
    this.unsubscribe?.();
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    this.ws?.terminate();
    this.ws = undefined;
  }

  /** Follows `account` (its next confirmations are precached), e.g. for a known hot wallet. */
  follow(account: string): void {
    this.track(this.accounts, account);
  }

  private connect(): void {
    if (this.state === 'stopped') return;
    this.state = 'connecting';
    const ws = new WebSocket(this.options.url, { maxPayload: this.options.maxMessageBytes ?? 1 << 20, handshakeTimeout: this.options.pingIntervalMs });
    this.ws = ws;
    ws.on('open', () => {
      this.connects += 1;
      this.expect('ack');
      ws.send(JSON.stringify({ action: 'subscribe', topic: 'confirmation', ack: true, id: `equigate-${this.connects}` }));
      this.pingTimer = setInterval(() => this.keepalive(ws), this.options.pingIntervalMs);
      this.pingTimer.unref();
    });
    ws.on('message', (data: Buffer) => this.onMessage(data));
    ws.on('error', (err) => this.log.debug({ err: err.message }, 'node websocket error'));
    ws.on('close', () => {
      clearInterval(this.pingTimer);
      if (this.ws !== ws) return;
      this.ws = undefined;
      if (this.state === 'stopped') return;
      this.state = 'disconnected';
      const delay = this.backoff.next();
      this.log.warn({ delayMs: delay }, 'node websocket closed; reconnecting');
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
      this.reconnectTimer.unref();
    });
  }

  private expect(what: 'ack' | 'pong'): void {
    this.awaiting = what;
    this.awaitingSince = performance.now();
  }

  private keepalive(ws: WebSocket): void {
    if (this.awaiting !== undefined && performance.now() - this.awaitingSince >= this.options.pingIntervalMs) {
      this.log.warn({ awaiting: this.awaiting }, 'node did not answer in time; reconnecting');
      ws.terminate();
      return;
    }
    if (this.awaiting === undefined) {
      this.expect('pong');
      ws.send(JSON.stringify({ action: 'ping' }));
    }
  }

  private onMessage(data: Buffer): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
    } catch {
      this.log.debug('unparsable message from the node');
      return;
    }
    if (message.ack === 'subscribe' && this.awaiting === 'ack') {
      this.awaiting = undefined;
      this.state = 'subscribed';
      this.backoff.reset();
      this.log.info('subscribed to node confirmations');
      return;
    }
    if (message.ack === 'pong' && this.awaiting === 'pong') {
      this.awaiting = undefined;
      return;
    }
    if (message.topic === 'confirmation' && typeof message.message === 'object' && message.message !== null) {
      this.onConfirmation(message.message as Record<string, unknown>);
    }
  }

  private onConfirmation(confirmation: Record<string, unknown>): void {
    const hash = typeof confirmation.hash === 'string' && isBlockHash(confirmation.hash) ? normaliseHash(confirmation.hash) : undefined;
    const account = typeof confirmation.account === 'string' ? confirmation.account : undefined;
    if (hash === undefined || account === undefined) return;
    const block = typeof confirmation.block === 'object' && confirmation.block !== null ? (confirmation.block as Record<string, unknown>) : {};
    const previous = typeof block.previous === 'string' && isBlockHash(block.previous) ? normaliseHash(block.previous) : undefined;
    let ours = this.accounts.has(account);
    if (!ours && previous !== undefined) {
      // An open block's root is the account's public key, any other block's the previous hash.
      const root = previous === ZERO_HASH ? publicKeyHex(account) : previous;
      ours = root !== undefined && this.roots.has(root);
    }
    if (!ours) return;
    this.track(this.accounts, account);
    this.track(this.roots, hash);
    this.precached += 1;
    this.options.sink.precache(hash);
  }

  private track(set: Set<string>, value: string): void {
    set.delete(value);
    set.add(value);
    if (set.size > this.options.trackLimit) {
      const oldest = set.values().next();
      if (!oldest.done) set.delete(oldest.value);
    }
  }
}

function publicKeyHex(account: string): string | undefined {
  const check = checkAccount(account);
  return check.ok ? check.publicKey.toString('hex').toUpperCase() : undefined;
}
