// The WebSocket event API on events.wsPort (docs/event-api.md). Bus events become {topic, time, message}
// frames, built once per event; every events.batchMs each client gets the frames of its subscriptions in one
// socket write (clients with the same unfiltered topics share the same bytes). A client whose socket holds more
// than events.maxQueueBytes unsent is dropped as a slow consumer, with a close reason; nothing is buffered
// without end. Requests are answered at once (ack / error / pong), and a bad request never closes the socket.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Logger } from '../config/logger.js';
import type { EventsConfig } from '../config/schema.js';
import type { EventBus } from '../events/EventBus.js';
import type { BlockEvent, JobEvent, ShareEvent } from '../events/topics.js';
import { packedToDifficulty } from '../pow/difficulty.js';
import { variantForHeight, type ChainName } from '../pow/variants.js';
import { workerLabel, type StatisticsSource } from '../operations/StatisticsSource.js';
import { textFrame } from './frames.js';
import { ConnectionLimiter } from '../transports/ConnectionLimiter.js';
import {
  ackMessage,
  errorMessage,
  eventMessage,
  EventApiRequestError,
  FILTERABLE,
  filterFromOptions,
  parseRequest,
  passes,
  TOPICS,
  updatedFilter,
  type Filter,
  type Request,
  type Topic,
} from './protocol.js';

/** What the `telemetry` topic reports (built by the composition root from live state). */
export interface TelemetryMessage {
  readonly sessions: Record<string, number>;
  readonly hashrate: number;
  readonly upstream: string;
  readonly uptime: number;
  readonly version: string;
}

export interface EventApiOptions {
  readonly config: EventsConfig;
  readonly bus: EventBus;
  readonly statistics: StatisticsSource;
  readonly telemetry: () => TelemetryMessage;
  readonly chain: ChainName;
  readonly shareDifficulty: number;
  readonly logger: Logger;
}

export type DropReason = 'slow-consumer' | 'idle' | 'frame-too-large';

/** Close codes (RFC 6455 §7.4.2 private range 4000–4999 for ours). */
const CLOSE_SLOW_CONSUMER = 4008;
const CLOSE_IDLE = 4001;
const CLOSE_SHUTDOWN = 1001;
const CLOSE_GRACE_MS = 2000;
const TELEMETRY_EVERY_HEARTBEATS = 5;
const MAX_BATCH_EVENTS = 10_000;

interface Outgoing {
  readonly topic: Topic;
  readonly frame: Buffer;
  readonly miner?: string;
  readonly workerLabel?: string;
}

class Client {
  readonly subscriptions = new Map<Topic, Filter | undefined>();
  alive = true;
  dropped = false;
  constructor(
    readonly ws: WebSocket,
    readonly socket: Socket,
    readonly remote: string,
  ) {}
}

export class EventApiServer {
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  /** events.maxClientsPerIp, counted per address group (IPv6: per /64) as the miner listeners count theirs. */
  private readonly perAddress: ConnectionLimiter;
  private readonly subscribers = new Map<Topic, number>(TOPICS.map((t) => [t, 0]));
  private batch: Outgoing[] = [];
  private readonly dirtyMiners = new Set<string>();
  private readonly droppedCounts: Record<DropReason, number> = { 'slow-consumer': 0, idle: 0, 'frame-too-large': 0 };
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly offs: Array<() => void> = [];
  private readonly log: Logger;
  private heartbeats = 0;
  private lastDifficulty: { block: number; share: number } | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: EventApiOptions) {
    this.log = options.logger.child({ component: 'event-api' });
    this.perAddress = new ConnectionLimiter({ maxConnections: 0, maxConnectionsPerIp: options.config.maxClientsPerIp }, this.log);
    this.server = createServer((req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' }).end('event API: connect with WebSocket (docs/event-api.md)\n');
    });
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 10_000;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.config.maxFrameBytes, perMessageDeflate: false, clientTracking: false });
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket, head));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.config.wsPort, this.options.config.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.server.on('error', (err) => this.log.error({ err }, 'event API listener error'));
    this.start();
    const port = (this.server.address() as AddressInfo).port;
    this.log.info({ host: this.options.config.host, port }, 'event API listening');
    return port;
  }

  /** Connected clients and those dropped so far (metrics). */
  stats(): { clients: number; dropped: Record<string, number> } {
    return { clients: this.clients.size, dropped: { ...this.droppedCounts } };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    for (const off of this.offs) off();
    this.flush();
    for (const client of this.clients) client.ws.close(CLOSE_SHUTDOWN, 'server shutdown');
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    setTimeout(() => {
      for (const client of this.clients) client.ws.terminate();
      this.server.closeAllConnections();
    }, CLOSE_GRACE_MS).unref();
    await closed;
  }

  // ---- connections ----

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    if (this.closing !== undefined) return refuse(503, 'Shutting Down');
    if (!this.authorized(req)) return refuse(401, 'Unauthorized');
    if (this.clients.size >= this.options.config.maxClients) return refuse(503, 'Too Many Clients');
    // One host (an IPv6 one included) cannot take every slot from the services and dashboards.
    const ip = req.socket.remoteAddress ?? '?';
    if (!this.perAddress.tryAcquire(ip)) return refuse(429, 'Too Many Clients From This Address');
    // Given back when the socket is gone, not when the client is dropped: a dropped client's socket lingers up to
    // CLOSE_GRACE_MS, and an upgrade that fails never reaches connected().
    socket.once('close', () => this.perAddress.release(ip));
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, socket, `${ip}:${req.socket.remotePort ?? 0}`));
  }

  private authorized(req: IncomingMessage): boolean {
    const expected = this.options.config.token;
    if (expected === '') return true;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const header = req.headers.authorization;
    const given = url.searchParams.get('token') ?? (header?.startsWith('Bearer ') === true ? header.slice(7) : '');
    const a = Buffer.from(given);
    const b = Buffer.from(expected);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private connected(ws: WebSocket, socket: Socket, remote: string): void {
    const client = new Client(ws, socket, remote);
    this.clients.add(client);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      client.alive = true;
      this.onRequest(client, isBinary ? '' : data.toString());
    });
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.countDrop(client, 'frame-too-large');
    });
    ws.on('close', () => this.disconnected(client));
    this.log.debug({ remote }, 'event API client connected');
  }

  private disconnected(client: Client): void {
    if (!this.clients.delete(client)) return;
    for (const topic of client.subscriptions.keys()) this.subscribers.set(topic, (this.subscribers.get(topic) ?? 1) - 1);
    client.subscriptions.clear();
  }

  private drop(client: Client, reason: DropReason, code: number, detail: string): void {
    if (client.dropped) return;
    this.countDrop(client, reason);
    this.log.info({ remote: client.remote, reason, detail }, 'event API client dropped');
    client.ws.close(code, `${reason}: ${detail}`.slice(0, 120));
    setTimeout(() => client.ws.terminate(), CLOSE_GRACE_MS).unref();
    this.disconnected(client);
  }

  private countDrop(client: Client, reason: DropReason): void {
    if (client.dropped) return;
    client.dropped = true;
    this.droppedCounts[reason] += 1;
  }

  // ---- requests ----

  private onRequest(client: Client, text: string): void {
    const now = Date.now();
    let request: Request;
    try {
      request = parseRequest(text);
      this.apply(client, request);
    } catch (err) {
      if (err instanceof EventApiRequestError) this.write(client, textFrame(errorMessage(err.code, err.message, err.requestId, now)));
      else this.log.error({ err }, 'event API request failed');
      return;
    }
    if (request.action === 'ping') this.write(client, textFrame(ackMessage('pong', request.id, now)));
    else if (request.ack) this.write(client, textFrame(ackMessage(request.action, request.id, now)));
  }

  private apply(client: Client, request: Request): void {
    const topic = request.topic;
    if (topic === undefined) return;
    const filterable = FILTERABLE.has(topic);
    switch (request.action) {
      case 'subscribe': {
        const filter = filterable ? filterFromOptions(request.options, request.id) : undefined;
        if (!client.subscriptions.has(topic)) this.subscribers.set(topic, (this.subscribers.get(topic) ?? 0) + 1);
        client.subscriptions.set(topic, filter);
        break;
      }
      case 'unsubscribe':
        if (client.subscriptions.delete(topic)) this.subscribers.set(topic, (this.subscribers.get(topic) ?? 1) - 1);
        break;
      case 'update':
        if (!client.subscriptions.has(topic)) throw new EventApiRequestError('not-subscribed', `not subscribed to "${topic}"`, request.id);
        if (!filterable) throw new EventApiRequestError('bad-options', `"${topic}" has no options to update`, request.id);
        client.subscriptions.set(topic, updatedFilter(client.subscriptions.get(topic), request.options, request.id));
        break;
      default:
        break;
    }
  }

  // ---- events ----

  private start(): void {
    const { bus, config } = this.options;
    this.offs.push(
      bus.subscribe('job', 'event-api', (job) => this.onJob(job)),
      bus.subscribe('share', 'event-api', (share) => this.onShare(share)),
      bus.subscribe('block', 'event-api', (block) => this.onBlock(block)),
      bus.subscribe('upstream', 'event-api', () => this.publishTelemetry()),
    );
    const every = (ms: number, fn: () => void): void => {
      const timer = setInterval(() => {
        try {
          fn();
        } catch (err) {
          this.log.error({ err }, 'event API timer failed');
        }
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(config.batchMs, () => this.flush());
    every(config.heartbeatIntervalMs, () => this.tick());
    every(config.statisticsIntervalS * 1000, () => this.publish('statistics', Date.now(), this.options.statistics.pool()));
    if (config.pingIntervalMs > 0) every(config.pingIntervalMs, () => this.pingIdle());
  }

  private wanted(topic: Topic): boolean {
    return (this.subscribers.get(topic) ?? 0) > 0;
  }

  private publish(topic: Topic, time: number, message: unknown, miner?: string, label?: string): void {
    if (!this.wanted(topic)) return;
    this.batch.push({ topic, frame: textFrame(eventMessage(topic, time, message)), miner, workerLabel: label });
    if (this.batch.length >= MAX_BATCH_EVENTS) this.flush();
  }

  private onJob(job: JobEvent): void {
    const blockDifficulty = packedToDifficulty(job.packedDifficulty);
    const shareDifficulty = Math.min(this.options.shareDifficulty, blockDifficulty);
    this.publish('job', job.at, {
      id: job.jobId,
      height: job.height,
      difficulty: blockDifficulty,
      variant: variantForHeight(this.options.chain, job.height).name,
      new_tip: job.newTip,
    });
    const last = this.lastDifficulty;
    if (last === undefined || last.block !== blockDifficulty || last.share !== shareDifficulty) {
      this.lastDifficulty = { block: blockDifficulty, share: shareDifficulty };
      this.publish('active_difficulty', job.at, { block_difficulty: blockDifficulty, share_difficulty: shareDifficulty, height: job.height });
    }
  }

  private onShare(share: ShareEvent): void {
    const { miner, worker } = share;
    if (this.wanted('miner')) this.dirtyMiners.add(miner);
    if (!this.wanted('share')) return;
    this.publish(
      'share',
      share.at,
      {
        outcome: share.code === 1 ? 'accepted' : 'rejected',
        code: share.code,
        reason: share.reason,
        miner,
        worker,
        difficulty: share.shareDifficulty,
        achieved_difficulty: share.achievedDifficulty,
        height: share.height,
        job_id: share.jobId,
        block_candidate: share.isBlockCandidate,
      },
      miner,
      workerLabel(miner, worker),
    );
  }

  private onBlock(block: BlockEvent): void {
    const { miner, worker } = block;
    if (this.wanted('miner') && block.status === 'accepted') this.dirtyMiners.add(miner);
    const message: Record<string, unknown> = { status: block.status, height: block.height, miner, worker, job_id: block.jobId };
    if (block.blockHash !== undefined) message.blockhash = block.blockHash;
    if (block.nodeCode !== undefined) message.node_code = block.nodeCode;
    this.publish('block', block.at, message, miner, workerLabel(miner, worker));
  }

  private tick(): void {
    const now = Date.now();
    this.heartbeats += 1;
    this.publish('heartbeat', now, {});
    for (const miner of this.dirtyMiners) {
      const stats = this.options.statistics.miner(miner);
      if (stats !== undefined) this.publish('miner', now, stats, miner);
    }
    this.dirtyMiners.clear();
    if (this.heartbeats % TELEMETRY_EVERY_HEARTBEATS === 0) this.publishTelemetry();
  }

  private publishTelemetry(): void {
    if (this.wanted('telemetry')) this.publish('telemetry', Date.now(), this.options.telemetry());
  }

  /** One write per client per batch; identical subscription sets share one buffer. */
  private flush(): void {
    if (this.batch.length === 0) return;
    const events = this.batch;
    this.batch = [];
    const shared = new Map<string, Buffer>();
    for (const client of this.clients) {
      if (client.subscriptions.size === 0) continue;
      let filtered = false;
      for (const filter of client.subscriptions.values()) if (filter !== undefined) filtered = true;
      let bytes: Buffer | undefined;
      if (!filtered) {
        const key = [...client.subscriptions.keys()].sort().join(',');
        bytes = shared.get(key);
        if (bytes === undefined) {
          bytes = Buffer.concat(events.filter((e) => client.subscriptions.has(e.topic)).map((e) => e.frame));
          shared.set(key, bytes);
        }
      } else {
        const frames: Buffer[] = [];
        for (const e of events) {
          if (!client.subscriptions.has(e.topic)) continue;
          if (passes(client.subscriptions.get(e.topic), e.miner, e.workerLabel)) frames.push(e.frame);
        }
        bytes = Buffer.concat(frames);
      }
      if (bytes.length > 0) this.write(client, bytes);
    }
  }

  private write(client: Client, bytes: Buffer): void {
    if (client.dropped || client.ws.readyState !== WebSocket.OPEN) return;
    client.socket.write(bytes);
    const queued = client.socket.writableLength;
    if (queued > this.options.config.maxQueueBytes) {
      this.drop(client, 'slow-consumer', CLOSE_SLOW_CONSUMER, `${queued} bytes unsent (limit ${this.options.config.maxQueueBytes})`);
    }
  }

  private pingIdle(): void {
    for (const client of this.clients) {
      if (!client.alive) {
        this.drop(client, 'idle', CLOSE_IDLE, 'no answer to the previous ping');
        continue;
      }
      client.alive = false;
      client.ws.ping();
    }
  }
}
