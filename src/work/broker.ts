// One interface over the two MQTT set-ups (docs/work-service.md "Brokers"): the embedded aedes broker, where the
// gateway publishes in process and enforces the ACLs itself, and an external broker (e.g. Mosquitto) reached with
// the mqtt client, where the broker's ACL file does the same. The work service sees only WorkBroker.
import { createHash, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes, type AuthenticateError, type Client, type Subscription } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../config/logger.js';
import { WorkError } from './errors.js';
import { TOPIC, WORKER_PUBLISH_TOPICS, WORK_TYPES } from './wire.js';

export interface PublishOptions {
  readonly qos: 0 | 1;
  readonly retain: boolean;
}

export type ResultHandler = (topic: string, payload: Buffer) => void;

/** A publish the embedded broker refused (a worker writing where only the gateway may). */
export interface RefusedPublish {
  readonly clientId: string;
  readonly topic: string;
}

export interface WorkBroker {
  /** Starts listening (embedded) or connects (external); rejects with a WorkError if that fails. */
  start(): Promise<void>;
  /** Publishes as the gateway. Never throws; a failure is logged. */
  publish(topic: string, payload: string, options: PublishOptions): void;
  /** Every message on result/precache and result/ondemand. One handler. */
  onResult(handler: ResultHandler): void;
  close(): Promise<void>;
  /** The bound port (embedded) or undefined. */
  readonly port: number | undefined;
}

/** Subscription filters a worker may use (docs/work-service.md "ACLs"): what the topic spec gives clients. */
const WORKER_SUBSCRIBE_FILTERS: ReadonlySet<string> = new Set([
  ...WORK_TYPES.map(TOPIC.work),
  ...WORK_TYPES.map(TOPIC.cancel),
  'work/+',
  'work/#',
  'cancel/+',
  'cancel/#',
  'client/+',
  'client/#',
  'service/+',
  'service/#',
  TOPIC.heartbeat,
  TOPIC.statistics,
]);

export function workerMaySubscribe(filter: string): boolean {
  if (WORKER_SUBSCRIBE_FILTERS.has(filter)) return true;
  // One exact client/<address> or service/<name>.
  return /^(client|service)\/[^#+/]+$/.test(filter);
}

export interface EmbeddedBrokerOptions {
  readonly host: string;
  readonly port: number;
  /** Workers must present this username and password; an empty password lets anyone connect (ACLs still apply). */
  readonly workerUsername: string;
  readonly workerPassword: string;
  readonly maxClients: number;
  readonly logger: Logger;
  readonly onRefused?: (refused: RefusedPublish) => void;
}

export class EmbeddedBroker implements WorkBroker {
  private aedes: Aedes | undefined;
  private server: net.Server | undefined;
  private handler: ResultHandler = () => undefined;
  private boundPort: number | undefined;
  private readonly log: Logger;

  constructor(private readonly options: EmbeddedBrokerOptions) {
    this.log = options.logger.child({ component: 'mqtt-embedded' });
  }

  get port(): number | undefined {
    return this.boundPort;
  }

  onResult(handler: ResultHandler): void {
    this.handler = handler;
  }

  async start(): Promise<void> {
    const { workerUsername, workerPassword } = this.options;
    const aedes = await Aedes.createBroker({
      authenticate: (_client, username, password, done) => {
        if (workerPassword === '') return done(null, true);
        const ok = username === workerUsername && password !== undefined && sameSecret(password, workerPassword);
        if (ok) return done(null, true);
        const err = new Error('bad username or password') as AuthenticateError;
        (err as { returnCode: number }).returnCode = 4;
        done(err, false);
      },
      // Network clients (workers) may publish only result/*; the gateway publishes in process (client null).
      authorizePublish: (client: Client | null, packet, done) => {
        if (client === null || WORKER_PUBLISH_TOPICS.has(packet.topic)) return done(null);
        this.log.warn({ clientId: client.id, topic: packet.topic }, 'refused a worker publish outside result/*');
        this.options.onRefused?.({ clientId: client.id, topic: packet.topic });
        done(new Error(`publishing on ${packet.topic} is not allowed`));
      },
      authorizeSubscribe: (client: Client, subscription: Subscription, done) => {
        if (workerMaySubscribe(subscription.topic)) return done(null, subscription);
        this.log.info({ clientId: client.id, topic: subscription.topic }, 'refused a worker subscription');
        done(null, null);
      },
    });
    aedes.on('clientError', (client, err) => this.log.debug({ clientId: client.id, err: err.message }, 'mqtt client error'));
    this.aedes = aedes;
    await new Promise<void>((resolve) => {
      aedes.subscribe(
        'result/+',
        (packet, cb) => {
          if (WORKER_PUBLISH_TOPICS.has(packet.topic)) this.handler(packet.topic, Buffer.from(packet.payload));
          cb();
        },
        resolve,
      );
    });
    // No Nagle: a result or cancel is one small packet that must leave now (with Nagle and delayed ACKs each
    // hop can stall ~40 ms).
    const server = net.createServer((socket) => {
      socket.setNoDelay(true);
      aedes.handle(socket);
    });
    server.maxConnections = this.options.maxClients;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new WorkError('BROKER_FAILED', `mqtt port ${this.options.port}: ${err.message}`)));
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    this.boundPort = (server.address() as AddressInfo).port;
    if (workerPassword === '') this.log.warn('mqtt.workerPassword is empty: any MQTT client may connect (ACLs still limit what it may publish)');
    this.log.info({ host: this.options.host, port: this.boundPort }, 'embedded MQTT broker listening');
  }

  publish(topic: string, payload: string, options: PublishOptions): void {
    const aedes = this.aedes;
    if (aedes === undefined || aedes.closed) return;
    aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: options.qos, retain: options.retain, dup: false }, (err) => {
      if (err) this.log.error({ err, topic }, 'embedded publish failed');
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    const aedes = this.aedes;
    this.server = undefined;
    this.aedes = undefined;
    if (aedes !== undefined) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export interface ExternalBrokerOptions {
  readonly url: string;
  /** The gateway's own login; the broker's ACL gives this user the gateway's topics. */
  readonly username: string;
  readonly password: string;
  readonly connectTimeoutMs: number;
  readonly reconnectMs: number;
  readonly logger: Logger;
}

export class ExternalBroker implements WorkBroker {
  private client: MqttClient | undefined;
  private handler: ResultHandler = () => undefined;
  private readonly log: Logger;
  readonly port = undefined;

  constructor(private readonly options: ExternalBrokerOptions) {
    this.log = options.logger.child({ component: 'mqtt-external' });
  }

  onResult(handler: ResultHandler): void {
    this.handler = handler;
  }

  async start(): Promise<void> {
    const { url, username, password } = this.options;
    const client = mqtt.connect(url, {
      username: username === '' ? undefined : username,
      password: password === '' ? undefined : password,
      clientId: `equigate-${process.pid}-${Math.random().toString(16).slice(2, 10)}`,
      connectTimeout: this.options.connectTimeoutMs,
      reconnectPeriod: this.options.reconnectMs,
      // Stale heartbeats and work are worthless after an outage; QoS 1 (cancel, client, statistics) is kept.
      queueQoSZero: false,
      resubscribe: true,
    });
    this.client = client;
    client.on('message', (topic, payload) => {
      if (WORKER_PUBLISH_TOPICS.has(topic)) this.handler(topic, payload);
    });
    client.on('error', (err) => this.log.warn({ err: err.message }, 'mqtt broker error'));
    client.on('reconnect', () => this.log.info({ url: redact(url) }, 'reconnecting to the MQTT broker'));
    client.on('connect', () => {
      noDelay(client);
      this.log.info({ url: redact(url) }, 'connected to the MQTT broker');
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no connection within ${this.options.connectTimeoutMs} ms`)), this.options.connectTimeoutMs);
        client.once('connect', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      await client.subscribeAsync(WORK_TYPES.map(TOPIC.result), { qos: 1 }).then((grants) => {
        const refused = grants.filter((g) => g.qos === 128);
        if (refused.length > 0) throw new Error(`broker refused subscriptions: ${refused.map((g) => g.topic).join(', ')}`);
      });
    } catch (err) {
      await client.endAsync(true);
      this.client = undefined;
      throw new WorkError('BROKER_FAILED', `MQTT broker ${redact(url)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  publish(topic: string, payload: string, options: PublishOptions): void {
    const client = this.client;
    if (client === undefined) return;
    client.publish(topic, payload, { qos: options.qos, retain: options.retain }, (err) => {
      if (err) this.log.warn({ err: err.message, topic }, 'publish failed');
    });
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) await client.endAsync(false).catch(() => client.endAsync(true));
  }
}

/** Constant-time comparison of a presented password with the configured one (both hashed to equal length). */
function sameSecret(presented: Buffer, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** mqtt.js leaves Nagle on; results and cancels are small packets that must leave at once. */
export function noDelay(client: MqttClient): void {
  const stream = client.stream as { setNoDelay?: (on: boolean) => void } | undefined;
  stream?.setNoDelay?.(true);
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return '(unparsable url)';
  }
}
