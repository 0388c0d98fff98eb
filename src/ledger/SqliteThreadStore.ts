// The SQLite backend as the gateway uses it (docs/ledger.md "SQLite on its own thread"): the SqliteStore lives on a
// worker thread of its own (src/ledger/sqliteThread.ts) and this proxy posts each operation to it. better-sqlite3 is
// synchronous; on the event loop every commit and every statistics query would stall sockets, verification replies
// and timers for its whole duration. Here the loop only copies a batch out (structured clone) and its answer in.
//
// Waiting is bounded twice. Another connection's lock fails a write cleanly after busyTimeoutMs (SQLITE_BUSY, waited
// for in JavaScript by SqliteStore: nothing committed, the group commit retries). A thread that gives no answer by
// answerDeadlineMs fails that request as ambiguous (it may still commit: the group commit settles it by token), and
// until the late answer comes, new requests fail at once without being posted, so a wedged thread never collects an
// unbounded queue of batches.
// The thread is never terminated from here: ending a thread inside a better-sqlite3 call can abort the whole process
// (docs/decisions.md D35). A thread that ends by itself is replaced by the next request.
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../config/logger.js';
import { startModuleThread } from '../threads/moduleThread.js';
import type { ThreadCall, ThreadFailure, ThreadOp, ThreadReply, ThreadRequest } from './sqliteThread.js';
import type { SqliteStoreOptions } from './SqliteStore.js';
import { LedgerError, type LedgerStore } from './types.js';

export interface SqliteThreadStoreOptions extends SqliteStoreOptions {
  /** Longest wait for any one answer from the thread (ms); past it the thread is taken as stuck. */
  readonly answerDeadlineMs: number;
  readonly logger: Logger;
}

interface Waiting {
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: LedgerError) => void;
  readonly timer: NodeJS.Timeout;
}

/** Opening may replay a large WAL or migrate: longer than one request, still bounded. */
const MIN_START_TIMEOUT_MS = 30_000;

function errorOf(failure: ThreadFailure): LedgerError {
  return new LedgerError(failure.code, failure.message, failure.ambiguous);
}

export class SqliteThreadStore implements LedgerStore {
  readonly kind = 'sqlite' as const;
  private thread: Worker | undefined;
  private starting: Promise<Worker> | undefined;
  /** A thread whose start timed out and has not ended yet (at most one). */
  private abandoned: Worker | undefined;
  private readonly waiting = new Map<number, Waiting>();
  /** Requests past their deadline whose answer has not come yet (the thread is behind or stuck). */
  private readonly overdue = new Set<number>();
  private nextId = 1;
  /** Set when close() begins: from then on the thread stays referenced until it has ended. */
  private closed = false;
  private readonly log: Logger;

  private constructor(private readonly o: SqliteThreadStoreOptions) {
    this.log = o.logger.child({ component: 'ledger-sqlite' });
  }

  /** Starts the thread and opens (and migrates) the file; throws the LedgerError the open failed with. */
  static async open(options: SqliteThreadStoreOptions): Promise<SqliteThreadStore> {
    const store = new SqliteThreadStore(options);
    await store.ready();
    return store;
  }

  private ready(): Promise<Worker> {
    if (this.thread !== undefined) return Promise.resolve(this.thread);
    if (this.abandoned !== undefined) {
      // One stuck opening at a time: no second thread on the file until the first has ended or been closed.
      return Promise.reject(new LedgerError('open-failed', `SQLite ledger thread still opening ${this.o.file} past its start timeout`));
    }
    this.starting ??= this.spawn().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private spawn(): Promise<Worker> {
    const workerData: SqliteStoreOptions = { file: this.o.file, synchronous: this.o.synchronous, busyTimeoutMs: this.o.busyTimeoutMs };
    const startTimeoutMs = Math.max(this.o.answerDeadlineMs, MIN_START_TIMEOUT_MS);
    return new Promise<Worker>((resolve, reject) => {
      const thread = startModuleThread(import.meta.url, 'sqliteThread', { workerData });
      let state: 'opening' | 'open' | 'failed' = 'opening';
      const fail = (err: LedgerError): void => {
        if (state !== 'opening') return;
        state = 'failed';
        clearTimeout(startTimer);
        // Not terminated (see the header): a thread that failed to open ends by itself; one stuck opening is let go
        // unreferenced and closed if it ever opens.
        thread.unref();
        reject(err);
      };
      const startTimer = setTimeout(() => {
        this.abandoned = thread;
        fail(new LedgerError('open-failed', `SQLite ledger thread did not open ${this.o.file} within ${startTimeoutMs} ms`));
      }, startTimeoutMs);
      thread.on('message', (reply: ThreadReply) => {
        if (reply.kind === 'ready') {
          if (state === 'failed') {
            // Opened after its start timed out: closed at once; the next request starts a thread of its own.
            thread.postMessage({ op: 'close', id: 0 } satisfies ThreadRequest);
            return;
          }
          state = 'open';
          clearTimeout(startTimer);
          this.thread = thread;
          this.releaseIfIdle();
          resolve(thread);
        } else if (reply.kind === 'open-failed') {
          fail(errorOf(reply.failure));
        } else if (state === 'open') {
          this.settle(reply);
        }
      });
      thread.on('error', (err) => {
        if (state === 'open') this.lose(thread, `failed: ${err.message}`);
        else fail(new LedgerError('open-failed', `SQLite ledger thread failed to start: ${err.message}`, false, { cause: err }));
      });
      thread.on('exit', (code) => {
        if (this.abandoned === thread) this.abandoned = undefined;
        if (state === 'open') this.lose(thread, `exited (${code})`);
        else fail(new LedgerError('open-failed', `SQLite ledger thread exited (${code}) before opening ${this.o.file}`));
      });
    });
  }

  private settle(reply: Extract<ThreadReply, { kind: 'done' | 'failed' }>): void {
    if (this.overdue.delete(reply.id)) {
      if (this.overdue.size > 0) return;
      this.releaseIfIdle();
      this.log.warn({ file: this.o.file }, 'SQLite ledger thread answered its late request; taking requests again');
      return;
    }
    const w = this.waiting.get(reply.id);
    if (w === undefined) return;
    this.forget(reply.id, w);
    if (reply.kind === 'done') w.resolve(reply.value);
    else w.reject(errorOf(reply.failure));
  }

  private forget(id: number, w: Waiting): void {
    clearTimeout(w.timer);
    this.waiting.delete(id);
    this.releaseIfIdle();
  }

  /** The thread keeps the process alive only while something waits on it (a late answer included) or it closes. */
  private releaseIfIdle(): void {
    if (this.waiting.size === 0 && this.overdue.size === 0 && !this.closed) this.thread?.unref();
  }

  /** The thread ended: everything waiting on it fails (possibly committed), the next call starts a new one. */
  private lose(thread: Worker, why: string): void {
    if (this.thread !== thread) return;
    this.thread = undefined;
    this.overdue.clear();
    if (!this.closed) this.log.error({ file: this.o.file, waiting: this.waiting.size }, `SQLite ledger thread ${why}: a new one starts with the next request`);
    for (const [id, w] of [...this.waiting]) {
      this.forget(id, w);
      w.reject(new LedgerError('write-failed', `SQLite ledger thread ${why}`, true));
    }
  }

  private async call<T>(request: ThreadCall): Promise<T> {
    if (this.closed && request.op !== 'close') throw new LedgerError('closed', 'the SQLite ledger is closed');
    if (this.overdue.size > 0) {
      // Not posted, so certainly not committed: the caller retries later (the group commit backs off).
      throw new LedgerError('write-failed', `SQLite ledger thread still busy with a request past its ${this.o.answerDeadlineMs} ms deadline`);
    }
    const thread = await this.ready();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const w = this.waiting.get(id);
        if (w === undefined) return;
        this.overdue.add(id);
        this.forget(id, w);
        this.log.error({ file: this.o.file, op: request.op }, `SQLite ledger thread gave no answer within ${this.o.answerDeadlineMs} ms: failing the request (it may still commit) and refusing new ones until it answers`);
        w.reject(new LedgerError('write-failed', `SQLite ledger thread gave no answer to ${request.op} within ${this.o.answerDeadlineMs} ms`, true));
      }, this.o.answerDeadlineMs);
      const w: Waiting = { resolve: resolve as (value: unknown) => void, reject, timer };
      this.waiting.set(id, w);
      thread.ref();
      try {
        thread.postMessage({ ...request, id } satisfies ThreadRequest);
      } catch (err) {
        // Not posted (cannot be copied, out of memory): certainly not committed.
        this.forget(id, w);
        reject(new LedgerError('write-failed', `SQLite ledger request ${request.op} could not be sent to its thread: ${err instanceof Error ? err.message : String(err)}`, false, { cause: err }));
      }
    });
  }

  private run<K extends ThreadOp>(op: K, ...args: Parameters<LedgerStore[K]>): ReturnType<LedgerStore[K]> {
    return this.call({ op, args }) as ReturnType<LedgerStore[K]>;
  }

  writeBatch(...args: Parameters<LedgerStore['writeBatch']>): ReturnType<LedgerStore['writeBatch']> {
    return this.run('writeBatch', ...args);
  }
  rollUp(...args: Parameters<LedgerStore['rollUp']>): ReturnType<LedgerStore['rollUp']> {
    return this.run('rollUp', ...args);
  }
  shares(...args: Parameters<LedgerStore['shares']>): ReturnType<LedgerStore['shares']> {
    return this.run('shares', ...args);
  }
  rollups(): ReturnType<LedgerStore['rollups']> {
    return this.run('rollups');
  }
  rejects(): ReturnType<LedgerStore['rejects']> {
    return this.run('rejects');
  }
  blocks(): ReturnType<LedgerStore['blocks']> {
    return this.run('blocks');
  }
  bans(): ReturnType<LedgerStore['bans']> {
    return this.run('bans');
  }
  bansInForce(...args: Parameters<LedgerStore['bansInForce']>): ReturnType<LedgerStore['bansInForce']> {
    return this.run('bansInForce', ...args);
  }
  credits(...args: Parameters<LedgerStore['credits']>): ReturnType<LedgerStore['credits']> {
    return this.run('credits', ...args);
  }
  shareAggregates(...args: Parameters<LedgerStore['shareAggregates']>): ReturnType<LedgerStore['shareAggregates']> {
    return this.run('shareAggregates', ...args);
  }
  shareTotals(): ReturnType<LedgerStore['shareTotals']> {
    return this.run('shareTotals');
  }
  creditWork(...args: Parameters<LedgerStore['creditWork']>): ReturnType<LedgerStore['creditWork']> {
    return this.run('creditWork', ...args);
  }
  recordWorkPayout(...args: Parameters<LedgerStore['recordWorkPayout']>): ReturnType<LedgerStore['recordWorkPayout']> {
    return this.run('recordWorkPayout', ...args);
  }
  workerTotals(...args: Parameters<LedgerStore['workerTotals']>): ReturnType<LedgerStore['workerTotals']> {
    return this.run('workerTotals', ...args);
  }
  workTotalPaid(): ReturnType<LedgerStore['workTotalPaid']> {
    return this.run('workTotalPaid');
  }
  ping(): ReturnType<LedgerStore['ping']> {
    return this.run('ping');
  }

  /**
   * Closes the database on its thread and waits for the thread to end, at most answerDeadlineMs. A thread still
   * busy then (stuck in a call) is let go unreferenced, not terminated: the process exit ends it.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.starting !== undefined) await this.starting.catch(() => undefined);
    const thread = this.thread;
    if (thread === undefined) return;
    const ended = new Promise<boolean>((resolve) => thread.once('exit', () => resolve(true)));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), this.o.answerDeadlineMs)));
    // Held until its exit is seen: an unreferenced thread would let the process end before the close completes.
    thread.ref();
    try {
      this.overdue.clear(); // the close is posted even behind a late request: it runs once that one is done
      await Promise.race([this.call<void>({ op: 'close' }), late]);
      if (!(await Promise.race([ended, late]))) this.log.error({ file: this.o.file }, 'SQLite ledger thread did not end after close; left to the process exit');
    } catch (err) {
      this.log.error({ err, file: this.o.file }, 'SQLite ledger thread did not close cleanly; left to the process exit');
    } finally {
      clearTimeout(timer);
      this.thread = undefined;
      thread.unref();
    }
  }
}
