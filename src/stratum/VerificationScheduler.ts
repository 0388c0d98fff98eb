// Fair admission to the verifier (docs/hostile-peers.md "Share path"). Every solution that reaches proof of work
// passes here: bounded per session, per address (IPv4, or IPv6 /64) and in all, then handed to the VerifierPool a
// window at a time, round-robin across addresses, sessions whose recent solutions were valid before sessions whose
// recent solutions were junk. When everything is full, the newest waiting solution of the biggest holder in the worst
// tier makes room, so a peer with little in flight is never the one refused.
import type { Logger } from '../config/logger.js';
import type { NativeVerdict, SolutionInput, SolutionVerifier } from '../pow/types.js';
import { addressGroup } from '../transports/addressGroup.js';

/**
 * Why a solution was not verified. 'session-limit': the session holds stratum.maxPendingSolutions. 'address-limit':
 * its address holds stratum.maxPendingSolutionsPerIp and this session at least its even share of that.
 * 'address-busy': the address is full, but other sessions of it hold the share (maybe an honest miner behind the
 * same NAT as a flooder). 'overloaded' / 'evicted': the total bound, on arrival or pushed out later.
 */
export type RefusalReason = 'session-limit' | 'address-limit' | 'address-busy' | 'overloaded' | 'evicted' | 'closed' | 'verifier-failed';

export class VerificationRefused extends Error {
  constructor(readonly code: RefusalReason) {
    super(`solution not verified: ${code}`);
    this.name = 'VerificationRefused';
  }
}

export type Admission =
  | { readonly admitted: true; readonly verdict: Promise<NativeVerdict> }
  | { readonly admitted: false; readonly refusal: RefusalReason };

export interface VerificationSchedulerOptions {
  readonly verifier: SolutionVerifier;
  /** stratum.maxPendingSolutions. */
  readonly maxPendingPerSession: number;
  /** stratum.maxPendingSolutionsPerIp (an IPv6 /64 counts as one address). */
  readonly maxPendingPerAddress: number;
  /** stratum.maxPendingSolutionsTotal: solutions waiting here (not yet handed to the verifier). */
  readonly maxWaiting: number;
  /** Solutions handed to the verifier at once (a few native batches). Default 1024. */
  readonly window?: number;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Refusals are summed and logged at most once per this many ms. Default 10,000. */
  readonly refusalLogIntervalMs?: number;
}

export interface VerificationStats {
  readonly waiting: number;
  readonly inVerifier: number;
  /** Highest `waiting` seen. */
  readonly peakWaiting: number;
  readonly addresses: number;
  /** Refusals since start, by reason. */
  readonly refused: Readonly<Record<RefusalReason, number>>;
}

/** Trust of a session: +1 per valid proof of work, −4 per invalid one; below 0 it is served after the others. */
const TRUST_MAX = 8;
const TRUST_MIN = -32;
const TRUST_PENALTY = 4;
/** While both tiers wait, one suspect solution is verified per this many trusted ones (suspects never starve). */
const TRUSTED_PER_SUSPECT = 7;
const TRUSTED = 0;
const SUSPECT = 1;
type Tier = typeof TRUSTED | typeof SUSPECT;

interface SessionState {
  pending: number;
  trust: number;
  /** addressGroup() of the session's address, worked out once. */
  readonly groupKey: string;
}

interface Entry {
  readonly session: SessionState;
  readonly group: AddressGroup;
  readonly solution: SolutionInput;
  readonly resolve: (verdict: NativeVerdict) => void;
  readonly reject: (error: VerificationRefused) => void;
}

interface AddressGroup {
  readonly key: string;
  /** Waiting + in the verifier. */
  pending: number;
  /** Sessions with at least one pending solution: the address's bound is shared evenly among them. */
  activeSessions: number;
  readonly queues: [Deque<Entry>, Deque<Entry>];
  readonly inRing: [boolean, boolean];
}

export class VerificationScheduler {
  private readonly verifier: SolutionVerifier;
  private readonly maxPerSession: number;
  private readonly maxPerAddress: number;
  private readonly maxWaiting: number;
  private readonly window: number;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly logIntervalMs: number;
  private readonly sessions = new WeakMap<object, SessionState>();
  private readonly groups = new Map<string, AddressGroup>();
  /** Addresses with waiting solutions, per tier, in service order (stale members are skipped lazily). */
  private readonly rings: [Deque<AddressGroup>, Deque<AddressGroup>] = [new Deque(), new Deque()];
  private readonly waitingByTier: [number, number] = [0, 0];
  private inVerifier = 0;
  private peakWaiting = 0;
  private trustedStreak = 0;
  private pumpScheduled = false;
  private closed = false;
  private readonly drained: Array<() => void> = [];
  private readonly refused: Record<RefusalReason, number> = { 'session-limit': 0, 'address-limit': 0, 'address-busy': 0, overloaded: 0, evicted: 0, closed: 0, 'verifier-failed': 0 };
  private readonly refusedSinceLog: Partial<Record<RefusalReason, number>> = {};
  private lastLogAt = Number.NEGATIVE_INFINITY;

  constructor(options: VerificationSchedulerOptions) {
    this.verifier = options.verifier;
    this.maxPerSession = Math.max(1, options.maxPendingPerSession);
    this.maxPerAddress = Math.max(1, options.maxPendingPerAddress);
    this.maxWaiting = Math.max(1, options.maxWaiting);
    this.window = Math.max(1, options.window ?? 1024);
    this.logger = options.logger.child({ component: 'verification' });
    this.now = options.now ?? Date.now;
    this.logIntervalMs = options.refusalLogIntervalMs ?? 10_000;
  }

  get stats(): VerificationStats {
    return {
      waiting: this.waiting,
      inVerifier: this.inVerifier,
      peakWaiting: this.peakWaiting,
      addresses: this.groups.size,
      refused: { ...this.refused },
    };
  }

  /** Solutions `session` has waiting or in verification. */
  pendingOf(session: object): number {
    return this.sessions.get(session)?.pending ?? 0;
  }

  /**
   * Admits one solution of `session` (any object standing for it; its state lives as long as it does) from
   * `address` (read at the session's first solution: a session's address does not change), or says why not. An admitted verdict rejects only with VerificationRefused ('evicted', 'closed',
   * 'verifier-failed').
   */
  submit(session: object, address: string, solution: SolutionInput): Admission {
    if (this.closed) return this.refuse('closed');
    let state = this.sessions.get(session);
    if (state === undefined) {
      state = { pending: 0, trust: 0, groupKey: addressGroup(address) };
      this.sessions.set(session, state);
    }
    if (state.pending >= this.maxPerSession) return this.refuse('session-limit');
    const key = state.groupKey;
    let group = this.groups.get(key);
    if (group !== undefined && group.pending >= this.maxPerAddress) {
      const share = Math.ceil(this.maxPerAddress / Math.max(1, group.activeSessions));
      return this.refuse(state.pending >= share ? 'address-limit' : 'address-busy');
    }
    const tier: Tier = state.trust < 0 ? SUSPECT : TRUSTED;
    if (this.waiting >= this.maxWaiting && !this.evictFor(group, tier)) return this.refuse('overloaded');
    if (group === undefined) {
      group = { key, pending: 0, activeSessions: 0, queues: [new Deque(), new Deque()], inRing: [false, false] };
      this.groups.set(key, group);
    }
    if (state.pending === 0) group.activeSessions += 1;
    state.pending += 1;
    group.pending += 1;
    let entry: Entry | undefined;
    const owner = state;
    const target = group;
    const verdict = new Promise<NativeVerdict>((resolve, reject) => {
      entry = { session: owner, group: target, solution, resolve, reject };
    });
    if (entry === undefined) throw new Error('unreachable: the promise executor runs synchronously');
    if (this.waiting === 0 && this.inVerifier < this.window) {
      // Nothing waits, so there is nobody to be fair to: straight on (the hot path of a gateway under its capacity).
      this.dispatch(entry);
      return { admitted: true, verdict };
    }
    group.queues[tier].push(entry);
    this.waitingByTier[tier] += 1;
    if (!group.inRing[tier]) {
      group.inRing[tier] = true;
      this.rings[tier].push(group);
    }
    if (this.waiting > this.peakWaiting) this.peakWaiting = this.waiting;
    if (!this.pumpScheduled) {
      // Deferred, so solutions arriving in one tick are ordered fairly before any is handed on.
      this.pumpScheduled = true;
      setImmediate(this.onPumpTick);
    }
    return { admitted: true, verdict };
  }

  /** Stops admitting; resolves once every admitted solution has its verdict (blocks among them still count). */
  close(): Promise<void> {
    this.closed = true;
    this.pump();
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private get waiting(): number {
    return this.waitingByTier[TRUSTED] + this.waitingByTier[SUSPECT];
  }

  private readonly onPumpTick = (): void => {
    this.pumpScheduled = false;
    this.pump();
  };

  private pump(): void {
    while (this.inVerifier < this.window && this.waiting > 0) {
      const entry = this.takeNext(this.nextTier());
      if (entry !== undefined) this.dispatch(entry);
    }
  }

  private dispatch(entry: Entry): void {
    this.inVerifier += 1;
    let verdict: Promise<NativeVerdict>;
    try {
      verdict = this.verifier.verify(entry.solution);
    } catch (err) {
      verdict = Promise.reject(err);
    }
    verdict.then(
      (result) => this.settle(entry, result),
      (err: unknown) => this.settle(entry, err),
    );
  }

  private nextTier(): Tier {
    const trusted = this.waitingByTier[TRUSTED] > 0;
    const suspect = this.waitingByTier[SUSPECT] > 0;
    if (!suspect) {
      this.trustedStreak = 0;
      return TRUSTED;
    }
    if (trusted && this.trustedStreak < TRUSTED_PER_SUSPECT) {
      this.trustedStreak += 1;
      return TRUSTED;
    }
    this.trustedStreak = 0;
    return SUSPECT;
  }

  /** The oldest waiting solution of the next address in `tier`'s ring; the address goes to the back if it has more. */
  private takeNext(tier: Tier): Entry | undefined {
    const ring = this.rings[tier];
    for (let group = ring.shift(); group !== undefined; group = ring.shift()) {
      const entry = group.queues[tier].shift();
      if (entry === undefined) {
        group.inRing[tier] = false;
        continue;
      }
      if (group.queues[tier].length > 0) ring.push(group);
      else group.inRing[tier] = false;
      this.waitingByTier[tier] -= 1;
      return entry;
    }
    // Only stale ring members: the count says otherwise, so resynchronise (cannot happen; kept safe).
    this.waitingByTier[tier] = 0;
    return undefined;
  }

  private settle(entry: Entry, outcome: NativeVerdict | unknown): void {
    this.inVerifier -= 1;
    this.release(entry);
    if (isVerdict(outcome)) {
      const session = entry.session;
      session.trust = outcome.powValid ? Math.min(TRUST_MAX, session.trust + 1) : Math.max(TRUST_MIN, session.trust - TRUST_PENALTY);
      entry.resolve(outcome);
    } else {
      this.count('verifier-failed', outcome);
      entry.reject(new VerificationRefused('verifier-failed'));
    }
    this.pump();
    if (this.closed && this.isIdle()) for (const resolve of this.drained.splice(0)) resolve();
  }

  /**
   * Makes room for a newcomer of `tier` from `group` by pushing out the newest waiting solution of the address
   * holding the most in the worst tier that waits, unless that is the newcomer's own address, or not worse off.
   */
  private evictFor(group: AddressGroup | undefined, tier: Tier): boolean {
    const victimTier: Tier = this.waitingByTier[SUSPECT] > 0 ? SUSPECT : TRUSTED;
    if (victimTier < tier) return false;
    let victim: AddressGroup | undefined;
    for (const candidate of this.rings[victimTier]) {
      if (victim === undefined || candidate.queues[victimTier].length > victim.queues[victimTier].length) victim = candidate;
    }
    if (victim === undefined || victim === group) return false;
    if (victimTier === tier && victim.queues[tier].length <= (group?.queues[tier].length ?? 0) + 1) return false;
    const entry = victim.queues[victimTier].pop();
    if (entry === undefined) return false;
    this.waitingByTier[victimTier] -= 1;
    this.release(entry);
    this.count('evicted');
    entry.reject(new VerificationRefused('evicted'));
    return true;
  }

  private release(entry: Entry): void {
    const group = entry.group;
    entry.session.pending -= 1;
    if (entry.session.pending === 0) group.activeSessions -= 1;
    group.pending -= 1;
    if (group.pending === 0 && this.groups.get(group.key) === group) this.groups.delete(group.key);
  }

  private isIdle(): boolean {
    return this.inVerifier === 0 && this.waiting === 0;
  }

  private refuse(reason: RefusalReason): Admission {
    this.count(reason);
    return { admitted: false, refusal: reason };
  }

  /** Counts a refusal; logs the sums at most once per interval, never a stack trace. */
  private count(reason: RefusalReason, cause?: unknown): void {
    this.refused[reason] += 1;
    this.refusedSinceLog[reason] = (this.refusedSinceLog[reason] ?? 0) + 1;
    const at = this.now();
    if (at - this.lastLogAt < this.logIntervalMs) return;
    this.lastLogAt = at;
    const detail = cause instanceof Error ? cause.message : undefined;
    this.logger.warn({ refused: { ...this.refusedSinceLog }, waiting: this.waiting, addresses: this.groups.size, detail }, 'solutions not verified (counts since the last such line)');
    for (const key of Object.keys(this.refusedSinceLog) as RefusalReason[]) delete this.refusedSinceLog[key];
  }
}

function isVerdict(value: unknown): value is NativeVerdict {
  return typeof value === 'object' && value !== null && typeof (value as NativeVerdict).powValid === 'boolean' && !(value instanceof Error);
}

/** A FIFO with O(1) push, shift and pop (array with a moving head, compacted when half is dead). */
class Deque<T> implements Iterable<T> {
  private items: Array<T | undefined> = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head += 1;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  pop(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items.pop();
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    }
    return item;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T;
  }
}
