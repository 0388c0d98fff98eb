// The reference BoomPow worker (`equigate nano-worker`, docs/work-service.md "Reference worker"): subscribes to
// work/<type> and cancel/<type>, computes work natively on worker threads (all threads on one hash from random
// starting nonces), on-demand before precache, drops a hash at once on cancel, publishes result/<type>.
// A test, benchmark and demo client; production code never imports it.
import { randomBytes } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { startModuleThread } from '../../threads/moduleThread.js';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../../config/logger.js';
import { silentLogger } from '../../config/logger.js';
import { noDelay } from '../../work/broker.js';
import { TOPIC, parseCancel, parseWork, type ClientStats, type WorkType } from '../../work/wire.js';

export type WorkChoice = WorkType | 'any';

export interface ThreadJob {
  readonly generation: number;
  readonly hash: string;
  /** 16 hex digits. */
  readonly threshold: string;
  readonly start: string;
}

export interface ThreadReply {
  readonly generation: number;
  readonly hash: string;
  readonly work: string | undefined;
  readonly tried: number;
}

export interface NanoWorkerOptions {
  readonly url: string;
  readonly address: string;
  readonly threads?: number;
  readonly work?: WorkChoice;
  readonly username?: string;
  readonly password?: string;
  readonly logger?: Logger;
  /** Most hashes queued; the oldest precache (then on-demand) is dropped past it. */
  readonly maxQueue?: number;
}

interface Pending {
  readonly hash: string;
  difficulty: bigint;
  readonly type: WorkType;
  startedAt?: number;
}

export class NanoWorker {
  /** Results this worker published, in order. */
  /** Results this worker published, in order; `startedAt`..`at` is the raw solve time (performance.now()). */
  readonly published: { hash: string; work: string; type: WorkType; startedAt: number; at: number }[] = [];
  /** cancel/<type> messages received: "type:hash". */
  readonly cancels: string[] = [];
  /** client/<own address> messages received. */
  readonly clientStats: (ClientStats | { error: string })[] = [];
  /** Hashes received on work/<type>. */
  readonly received: string[] = [];
  hashesTried = 0;
  private readonly queues: Record<WorkType, Pending[]> = { ondemand: [], precache: [] };
  private current: Pending | undefined;
  private readonly generation = new Int32Array(new SharedArrayBuffer(4));
  private readonly threads: Worker[] = [];
  private busyThreads = 0;
  private stopped = false;
  private readonly log: Logger;
  private readonly maxQueue: number;

  private constructor(
    private readonly client: MqttClient,
    private readonly options: NanoWorkerOptions,
  ) {
    this.log = (options.logger ?? silentLogger()).child({ component: 'nano-worker', address: options.address });
    this.maxQueue = options.maxQueue ?? 1000;
    for (let i = 0; i < Math.max(1, options.threads ?? 1); i++) {
      const thread = startModuleThread(import.meta.url, 'workThread', { workerData: { generation: this.generation.buffer as SharedArrayBuffer } });
      thread.on('message', (reply: ThreadReply) => this.onThreadReply(reply));
      thread.on('error', (err) => this.log.error({ err }, 'work thread failed'));
      this.threads.push(thread);
    }
    client.on('message', (topic, payload) => this.onMessage(topic, payload.toString('utf8')));
  }

  static async start(options: NanoWorkerOptions): Promise<NanoWorker> {
    const client = await mqtt.connectAsync(options.url, {
      username: options.username ?? 'client',
      password: options.password ?? '',
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
    });
    noDelay(client);
    client.on('connect', () => noDelay(client));
    const worker = new NanoWorker(client, options);
    const choice = options.work ?? 'any';
    const types: WorkType[] = choice === 'any' ? ['ondemand', 'precache'] : [choice];
    await client.subscribeAsync([...types.map(TOPIC.work), ...types.map(TOPIC.cancel), TOPIC.client(options.address)], { qos: 1 });
    return worker;
  }

  get address(): string {
    return this.options.address;
  }

  /** Publishes a raw message as this worker's client (tests forge with it). */
  publishRaw(topic: string, payload: string): Promise<void> {
    return this.client.publishAsync(topic, payload, { qos: 1 }).then(() => undefined);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    Atomics.add(this.generation, 0, 1);
    await this.client.endAsync(true);
    await Promise.all(this.threads.map((t) => t.terminate()));
  }

  private onMessage(topic: string, payload: string): void {
    const [kind, type] = topic.split('/') as [string, string | undefined];
    if (kind === 'client') {
      try {
        this.clientStats.push(JSON.parse(payload) as ClientStats);
      } catch {
        // not ours to judge
      }
      return;
    }
    if (type !== 'ondemand' && type !== 'precache') return;
    if (kind === 'work') {
      const work = parseWork(payload);
      if (work === undefined) return;
      this.received.push(work.hash);
      this.enqueue({ hash: work.hash, difficulty: work.difficulty, type });
    } else if (kind === 'cancel') {
      const hash = parseCancel(payload);
      if (hash === undefined) return;
      this.cancels.push(`${type}:${hash}`);
      this.drop(hash);
    }
  }

  private enqueue(pending: Pending): void {
    if (this.current?.hash === pending.hash) {
      // Asked again harder (or on-demand now): restart at the new difficulty.
      if (pending.difficulty <= this.current.difficulty) return;
      this.abandonCurrent();
    }
    for (const queue of Object.values(this.queues)) {
      const i = queue.findIndex((p) => p.hash === pending.hash);
      if (i !== -1) queue.splice(i, 1);
    }
    this.queues[pending.type].push(pending);
    while (this.queues.ondemand.length + this.queues.precache.length > this.maxQueue) {
      (this.queues.precache.length > 0 ? this.queues.precache : this.queues.ondemand).shift();
    }
    // On-demand pre-empts precache.
    if (pending.type === 'ondemand' && this.current?.type === 'precache') {
      this.queues.precache.unshift(this.current);
      this.abandonCurrent();
    }
    this.next();
  }

  private drop(hash: string): void {
    for (const queue of Object.values(this.queues)) {
      const i = queue.findIndex((p) => p.hash === hash);
      if (i !== -1) queue.splice(i, 1);
    }
    if (this.current?.hash === hash) {
      this.abandonCurrent();
      this.next();
    }
  }

  private abandonCurrent(): void {
    this.current = undefined;
    Atomics.add(this.generation, 0, 1);
  }

  private next(): void {
    if (this.stopped || this.current !== undefined || this.busyThreads > 0) return;
    const pending = this.queues.ondemand.shift() ?? this.queues.precache.shift();
    if (pending === undefined) return;
    this.current = pending;
    pending.startedAt = performance.now();
    const generation = Atomics.load(this.generation, 0);
    for (const thread of this.threads) {
      this.busyThreads += 1;
      const job: ThreadJob = {
        generation,
        hash: pending.hash,
        threshold: pending.difficulty.toString(16).padStart(16, '0'),
        start: randomBytes(8).toString('hex'),
      };
      thread.postMessage(job);
    }
  }

  private onThreadReply(reply: ThreadReply): void {
    this.busyThreads -= 1;
    this.hashesTried += reply.tried;
    const current = this.current;
    if (reply.work !== undefined && current !== undefined && current.hash === reply.hash && reply.generation === Atomics.load(this.generation, 0)) {
      this.abandonCurrent();
      this.published.push({ hash: reply.hash, work: reply.work, type: current.type, startedAt: current.startedAt ?? 0, at: performance.now() });
      this.client.publish(TOPIC.result(current.type), `${reply.hash},${reply.work},${this.options.address}`, { qos: 1 });
    }
    // Threads of an abandoned generation come back one by one; the next job starts once all are free.
    this.next();
  }
}
