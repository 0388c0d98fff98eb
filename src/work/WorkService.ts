// The work service's core (docs/work-service.md): one job per block hash, published to workers over MQTT; the
// first valid result wins, answers every request waiting on it, goes out as cancel/<type> at once, and is
// credited to its payout address. Everything that decides a result runs synchronously in one event-loop turn
// (parse, look up, validate, close the job), so "first valid result wins" is atomic without locks.
import type { Logger } from '../config/logger.js';
import type { EventBus } from '../events/EventBus.js';
import type { WorkEvent } from '../events/topics.js';
import { formatU64Hex, multiplierFromDifficulty, nanoWorkValue } from '../pow/nano.js';
import { checkAccount } from './account.js';
import type { WorkBroker } from './broker.js';
import { WorkError } from './errors.js';
import type { ServiceEntry } from './ServiceDirectory.js';
import { MICRO, toMicro, type WorkCreditBook, type WorkerTotals } from './WorkCreditBook.js';
import {
  TOPIC,
  formatWork,
  isTopicLevel,
  parseResult,
  type ClientStats,
  type StatisticsMessage,
  type WorkType,
} from './wire.js';

export interface WorkServiceSettings {
  /** The base threshold: no request may ask less; precache asks exactly this. */
  readonly baseDifficulty: bigint;
  /** Coin paid per credited work unit (published as payment_factor). */
  readonly paymentFactor: number;
  /** On-demand jobs open at once; more requests are refused (OVERLOADED). */
  readonly maxOpenJobs: number;
  /** Requests waiting on one hash at once. */
  readonly maxWaitersPerJob: number;
  /** Precache jobs open at once (only while no on-demand job is open). */
  readonly precacheInFlight: number;
  /** Hashes queued for precache; the oldest is dropped when full. */
  readonly precacheQueue: number;
  /** A precache job nobody solved is given up after this long. */
  readonly precacheTimeoutMs: number;
  /** Precached works kept, and finished hashes remembered (to tell late results from forged ones). */
  readonly cacheSize: number;
  readonly heartbeatMs: number;
  readonly statisticsMs: number;
}

/** What statistics need of the services (public ones are listed by name). */
export interface ServiceListing {
  list(): readonly Pick<ServiceEntry, 'user' | 'public' | 'display' | 'website'>[];
}

export interface WorkServiceDeps {
  readonly settings: WorkServiceSettings;
  readonly broker: WorkBroker;
  readonly credits: WorkCreditBook;
  readonly services: ServiceListing;
  readonly bus: EventBus;
  readonly logger: Logger;
}

export interface WorkRequest {
  /** 64 hex digits, upper-case. */
  readonly hash: string;
  readonly difficulty: bigint;
  readonly timeoutMs: number;
  readonly service: string;
}

export interface WorkAnswer {
  readonly hash: string;
  /** 16 hex digits. */
  readonly work: string;
  /** The difficulty the work achieves (≥ the one asked). */
  readonly difficulty: bigint;
  readonly multiplier: number;
  readonly workType: WorkType;
}

export type RefusalReason =
  | 'malformed'
  | 'bad-address'
  | 'unknown-hash'
  | 'invalid-work'
  | 'below-difficulty'
  | 'late'
  | 'duplicate'
  | 'forbidden-topic';

interface Waiter {
  readonly request: WorkRequest;
  readonly startedAt: number;
  readonly resolve: (answer: WorkAnswer) => void;
  readonly reject: (err: WorkError) => void;
  readonly timer: NodeJS.Timeout;
}

interface Job {
  readonly hash: string;
  type: WorkType;
  /** Difficulty last published for it: the highest any waiter asks (base for precache). */
  published: bigint;
  readonly waiters: Set<Waiter>;
  timer: NodeJS.Timeout | undefined;
  /** Published on work/precache before a service asked for it: its end is announced on both cancel topics. */
  wasPrecache: boolean;
}

type Finished = 'solved' | 'timeout' | 'cancelled' | 'expired';

interface CachedWork {
  readonly work: string;
  readonly value: bigint;
}

export interface WorkServiceStats {
  readonly openOndemand: number;
  readonly openPrecache: number;
  readonly precacheQueued: number;
  readonly answered: { readonly precache: number; readonly ondemand: number };
  readonly accepted: { readonly precache: number; readonly ondemand: number };
  readonly refused: Readonly<Record<RefusalReason, number>>;
  readonly timeouts: number;
}

const MAX_SERVICE_COUNTERS = 10_000;

export class WorkService {
  private readonly jobs = new Map<string, Job>();
  private readonly finished = new Map<string, Finished>();
  private readonly cache = new Map<string, CachedWork>();
  private readonly precacheQueue = new Set<string>();
  private readonly serviceCounters = new Map<string, { precache: number; ondemand: number }>();
  private readonly answered = { precache: 0, ondemand: 0 };
  private readonly accepted = { precache: 0, ondemand: 0 };
  private readonly refused: Record<RefusalReason, number> = {
    malformed: 0,
    'bad-address': 0,
    'unknown-hash': 0,
    'invalid-work': 0,
    'below-difficulty': 0,
    late: 0,
    duplicate: 0,
    'forbidden-topic': 0,
  };
  private timeouts = 0;
  private openOndemand = 0;
  private openPrecache = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private statistics: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly log: Logger;
  private readonly settings: WorkServiceSettings;

  constructor(private readonly deps: WorkServiceDeps) {
    this.settings = deps.settings;
    this.log = deps.logger.child({ component: 'work' });
  }

  /** Takes results from the broker and starts the heartbeat and statistics timers. */
  start(): void {
    this.deps.broker.onResult((topic, payload) => this.onResult(topic, payload));
    this.heartbeat = setInterval(() => this.deps.broker.publish(TOPIC.heartbeat, '', { qos: 0, retain: false }), this.settings.heartbeatMs);
    this.heartbeat.unref();
    void this.publishStatistics();
    this.statistics = setInterval(() => void this.publishStatistics(), this.settings.statisticsMs);
    this.statistics.unref();
  }

  get base(): bigint {
    return this.settings.baseDifficulty;
  }

  /**
   * Work for `request.hash` at `request.difficulty` or harder: from the precache if it holds such work, else from
   * the workers (sharing an open job for the same hash). Rejects with TIMEOUT, CANCELLED or OVERLOADED.
   */
  generate(request: WorkRequest): Promise<WorkAnswer> {
    if (this.closed) return Promise.reject(new WorkError('STOPPED', 'the work service is stopping'));
    const startedAt = performance.now();
    const cached = this.cache.get(request.hash);
    if (cached !== undefined && cached.value >= request.difficulty) {
      const answer = this.answer(request.hash, cached.work, cached.value, 'precache');
      this.completed(request, startedAt, answer, 'precache');
      return Promise.resolve(answer);
    }
    let job = this.jobs.get(request.hash);
    if (job !== undefined && job.waiters.size >= this.settings.maxWaitersPerJob) {
      return Promise.reject(new WorkError('OVERLOADED', `too many requests waiting for this hash (${this.settings.maxWaitersPerJob})`));
    }
    if ((job === undefined || job.type === 'precache') && this.openOndemand >= this.settings.maxOpenJobs) {
      return Promise.reject(new WorkError('OVERLOADED', 'the work service is at its limit of open requests; retry shortly'));
    }
    if (job === undefined) {
      job = { hash: request.hash, type: 'ondemand', published: request.difficulty, waiters: new Set(), timer: undefined, wasPrecache: false };
      this.jobs.set(job.hash, job);
      this.finished.delete(job.hash);
      this.precacheQueue.delete(job.hash);
      this.openOndemand += 1;
      this.publishWork(job);
    } else if (job.type === 'precache') {
      // A service wants what we were precaching: it becomes on-demand (and is credited as such).
      clearTimeout(job.timer);
      job.timer = undefined;
      job.type = 'ondemand';
      this.openPrecache -= 1;
      this.openOndemand += 1;
      job.published = request.difficulty > job.published ? request.difficulty : job.published;
      this.publishWork(job);
    } else if (request.difficulty > job.published) {
      job.published = request.difficulty;
      this.publishWork(job);
    }
    const open = job;
    return new Promise<WorkAnswer>((resolve, reject) => {
      const waiter: Waiter = {
        request,
        startedAt,
        resolve,
        reject,
        timer: setTimeout(() => this.timedOut(open, waiter), request.timeoutMs),
      };
      open.waiters.add(waiter);
    });
  }

  /** work_cancel: ends `service`'s requests for `hash`; the job ends (cancel/<type>) when nobody else waits. */
  cancel(hash: string, service: string): number {
    const job = this.jobs.get(hash);
    if (job === undefined) return 0;
    let count = 0;
    for (const waiter of [...job.waiters]) {
      if (waiter.request.service !== service) continue;
      count += 1;
      job.waiters.delete(waiter);
      clearTimeout(waiter.timer);
      waiter.reject(new WorkError('CANCELLED', 'work request cancelled'));
      this.failed(waiter, 'cancelled');
    }
    if (count > 0 && job.waiters.size === 0) this.closeJob(job, 'cancelled');
    return count;
  }

  /** Queues `hash` for precache at the base difficulty (docs/work-service.md "Precache"). */
  precache(hash: string): void {
    if (this.closed || this.jobs.has(hash) || this.cache.has(hash) || this.precacheQueue.has(hash)) return;
    if (this.precacheQueue.size >= this.settings.precacheQueue) {
      const oldest = this.precacheQueue.values().next();
      if (!oldest.done) this.precacheQueue.delete(oldest.value);
    }
    this.precacheQueue.add(hash);
    this.pumpPrecache();
  }

  /** Whether `hash` has precached work (tests, admin). */
  hasPrecached(hash: string): boolean {
    return this.cache.has(hash);
  }

  /**
   * The payout hook (docs/work-service.md "Payout hook"): records `microAmount` paid to `address` once per
   * `reference` and republishes client/<address>. Resolves false for a reference already recorded.
   */
  async recordPayout(address: string, microAmount: number, reference: string): Promise<boolean> {
    const { recorded, totals } = await this.deps.credits.recordPayout({ address, microAmount, reference, at: Date.now() });
    if (recorded) {
      this.log.info({ address, amount: microAmount / MICRO, reference }, 'payout recorded');
      this.publishClient(address, totals);
    }
    return recorded;
  }

  /** Counted by the embedded broker's ACL (a worker publishing where it may not). */
  noteForbiddenPublish(clientId: string, topic: string): void {
    this.refused['forbidden-topic'] += 1;
    this.log.warn({ clientId, topic }, 'refused: worker published outside result/*');
  }

  stats(): WorkServiceStats {
    return {
      openOndemand: this.openOndemand,
      openPrecache: this.openPrecache,
      precacheQueued: this.precacheQueue.size,
      answered: { ...this.answered },
      accepted: { ...this.accepted },
      refused: { ...this.refused },
      timeouts: this.timeouts,
    };
  }

  /** Rejects every waiting request (STOPPED), stops the timers. The broker is closed by its owner. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    clearInterval(this.statistics);
    for (const job of this.jobs.values()) {
      clearTimeout(job.timer);
      for (const waiter of job.waiters) {
        clearTimeout(waiter.timer);
        waiter.reject(new WorkError('STOPPED', 'the work service is stopping'));
      }
    }
    this.jobs.clear();
    this.precacheQueue.clear();
  }

  // --- results

  /** A message on result/<type>. The work type is the gateway's record of the hash, never the topic's. */
  onResult(topic: string, payload: Buffer): void {
    const parsed = parseResult(payload);
    if (!parsed.ok) return this.refuse('malformed', { topic, reason: parsed.reason });
    const { hash, work, address } = parsed.result;
    const account = checkAccount(address);
    if (!account.ok) {
      this.refuse('bad-address', { hash, address: address.slice(0, 80), reason: account.reason });
      if (isTopicLevel(address)) {
        const notice = JSON.stringify({ error: `result refused: payout address invalid (${account.reason})`, hash });
        this.deps.broker.publish(TOPIC.client(address), notice, { qos: 0, retain: false });
      }
      return;
    }
    const job = this.jobs.get(hash);
    if (job === undefined) {
      const finished = this.finished.get(hash);
      if (finished === 'solved') return this.refuse('duplicate', { hash, address }, 'debug');
      if (finished !== undefined) return this.refuse('late', { hash, address, finished }, 'info');
      return this.refuse('unknown-hash', { hash, address });
    }
    const value = nanoWorkValue(work, hash);
    if (value < this.settings.baseDifficulty) return this.refuse('invalid-work', { hash, address, work });
    // The easiest request still waiting decides (precache: the published base).
    let needed = job.published;
    for (const waiter of job.waiters) if (waiter.request.difficulty < needed) needed = waiter.request.difficulty;
    if (value < needed) return this.refuse('below-difficulty', { hash, address, work, value: formatU64Hex(value), needed: formatU64Hex(needed) });

    const type = job.type;
    const answer = this.answer(hash, work, value, type);
    let credited = type === 'precache' ? job.published : 0n;
    for (const waiter of [...job.waiters]) {
      if (waiter.request.difficulty > value) continue;
      job.waiters.delete(waiter);
      clearTimeout(waiter.timer);
      if (waiter.request.difficulty > credited) credited = waiter.request.difficulty;
      waiter.resolve(answer);
      this.completed(waiter.request, waiter.startedAt, answer, type, address);
    }
    if (job.waiters.size === 0) {
      this.closeJob(job, 'solved');
      if (type === 'precache') this.remember(this.cache, hash, { work, value });
    }
    this.accepted[type] += 1;
    this.log.debug({ hash, address, type, value: formatU64Hex(value) }, 'result accepted');
    void this.credit(address, hash, type, credited);
  }

  private async credit(address: string, hash: string, type: WorkType, difficulty: bigint): Promise<void> {
    const multiplier = multiplierFromDifficulty(difficulty, this.settings.baseDifficulty);
    try {
      const { credited, totals } = await this.deps.credits.credit({
        key: `${hash}:${formatU64Hex(difficulty)}`,
        address,
        hash,
        workType: type,
        difficulty: formatU64Hex(difficulty),
        microUnits: toMicro(multiplier),
        at: Date.now(),
      });
      if (credited) this.publishClient(address, totals);
      else this.log.warn({ hash, address }, 'credit for this hash and difficulty already recorded; not credited again');
    } catch (err) {
      this.log.error({ err, hash, address }, 'crediting a result failed');
    }
  }

  private publishClient(address: string, totals: WorkerTotals): void {
    const stats: ClientStats = {
      precache: totals.precache,
      ondemand: totals.ondemand,
      total_credited: totals.microCredited / MICRO,
      total_paid: totals.microPaid / MICRO,
      payment_factor: this.settings.paymentFactor,
      block_rewarded: totals.lastHash,
    };
    this.deps.broker.publish(TOPIC.client(address), JSON.stringify(stats), { qos: 1, retain: true });
  }

  private refuse(reason: RefusalReason, detail: Record<string, unknown>, level: 'warn' | 'info' | 'debug' = 'warn'): void {
    this.refused[reason] += 1;
    this.log[level]({ ...detail, refused: reason }, `result refused: ${reason}`);
  }

  // --- jobs

  private publishWork(job: Job): void {
    this.deps.broker.publish(TOPIC.work(job.type), formatWork(job.hash, job.published), { qos: 0, retain: false });
  }

  private closeJob(job: Job, why: Finished): void {
    if (this.jobs.get(job.hash) !== job) return;
    this.jobs.delete(job.hash);
    clearTimeout(job.timer);
    if (job.type === 'ondemand') this.openOndemand -= 1;
    else this.openPrecache -= 1;
    this.remember(this.finished, job.hash, why);
    this.deps.broker.publish(TOPIC.cancel(job.type), job.hash, { qos: 1, retain: false });
    if (job.wasPrecache && job.type !== 'precache') this.deps.broker.publish(TOPIC.cancel('precache'), job.hash, { qos: 1, retain: false });
    this.pumpPrecache();
  }

  private timedOut(job: Job, waiter: Waiter): void {
    if (!job.waiters.delete(waiter)) return;
    this.timeouts += 1;
    waiter.reject(new WorkError('TIMEOUT', `Timeout reached without work (${waiter.request.timeoutMs} ms)`));
    this.failed(waiter, 'timeout');
    if (job.waiters.size === 0) this.closeJob(job, 'timeout');
  }

  /** On-demand first: precache jobs start only while no on-demand job is open. */
  private pumpPrecache(): void {
    while (!this.closed && this.openOndemand === 0 && this.openPrecache < this.settings.precacheInFlight && this.precacheQueue.size > 0) {
      const hash = this.precacheQueue.values().next().value as string;
      this.precacheQueue.delete(hash);
      if (this.jobs.has(hash) || this.cache.has(hash)) continue;
      const job: Job = { hash, type: 'precache', published: this.settings.baseDifficulty, waiters: new Set(), timer: undefined, wasPrecache: true };
      job.timer = setTimeout(() => this.closeJob(job, 'expired'), this.settings.precacheTimeoutMs);
      job.timer.unref();
      this.jobs.set(hash, job);
      this.finished.delete(hash);
      this.openPrecache += 1;
      this.publishWork(job);
    }
  }

  // --- answers, events, statistics

  private answer(hash: string, work: string, value: bigint, workType: WorkType): WorkAnswer {
    return { hash, work, difficulty: value, multiplier: multiplierFromDifficulty(value, this.settings.baseDifficulty), workType };
  }

  private completed(request: WorkRequest, startedAt: number, answer: WorkAnswer, workType: WorkType, source = 'precache'): void {
    this.answered[workType] += 1;
    this.countService(request.service, workType);
    if (isTopicLevel(request.service)) this.deps.broker.publish(TOPIC.service(request.service), `${request.hash},${workType}`, { qos: 0, retain: false });
    this.deps.bus.emit('work', {
      ...this.eventBase(request, startedAt, workType),
      success: 'true',
      reason: '',
      result: {
        source,
        work: answer.work,
        difficulty: formatU64Hex(answer.difficulty),
        multiplier: String(answer.multiplier),
      },
    });
  }

  private failed(waiter: Waiter, reason: 'timeout' | 'cancelled'): void {
    this.deps.bus.emit('work', { ...this.eventBase(waiter.request, waiter.startedAt, 'ondemand'), success: 'false', reason });
  }

  private eventBase(request: WorkRequest, startedAt: number, workType: WorkType): Omit<WorkEvent, 'success' | 'reason' | 'result'> {
    return {
      duration: String(Math.round(performance.now() - startedAt)),
      request: {
        hash: request.hash,
        difficulty: formatU64Hex(request.difficulty),
        multiplier: String(multiplierFromDifficulty(request.difficulty, this.settings.baseDifficulty)),
        version: 'work_1',
      },
      bad_peers: '',
      service: request.service,
      workType,
    };
  }

  private countService(service: string, type: WorkType): void {
    let counters = this.serviceCounters.get(service);
    if (counters === undefined) {
      if (this.serviceCounters.size >= MAX_SERVICE_COUNTERS) return;
      counters = { precache: 0, ondemand: 0 };
      this.serviceCounters.set(service, counters);
    }
    counters[type] += 1;
  }

  async statisticsMessage(): Promise<StatisticsMessage> {
    const listed = this.deps.services.list();
    const publicServices = listed
      .filter((s) => s.public)
      .map((s) => {
        const c = this.serviceCounters.get(s.user) ?? { precache: 0, ondemand: 0 };
        return { user_name: s.user, display: s.display, website: s.website, precache: c.precache, ondemand: c.ondemand };
      });
    const publicNames = new Set(publicServices.map((s) => s.user_name));
    const priv = { count: listed.length - publicServices.length, precache: 0, ondemand: 0 };
    for (const [user, c] of this.serviceCounters) {
      if (publicNames.has(user)) continue;
      priv.precache += c.precache;
      priv.ondemand += c.ondemand;
    }
    return {
      total_paid_banano: (await this.deps.credits.totalPaid()) / MICRO,
      payment_factor_banano: this.settings.paymentFactor,
      services: { public: publicServices, private: priv },
      work: { ...this.answered },
    };
  }

  private async publishStatistics(): Promise<void> {
    try {
      const message = await this.statisticsMessage();
      if (!this.closed) this.deps.broker.publish(TOPIC.statistics, JSON.stringify(message), { qos: 1, retain: true });
    } catch (err) {
      this.log.error({ err }, 'statistics failed');
    }
  }

  /** Insert into a bounded map, dropping the oldest entry past cacheSize. */
  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > this.settings.cacheSize) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
  }
}
