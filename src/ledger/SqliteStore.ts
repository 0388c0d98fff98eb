// Embedded backend: better-sqlite3 in WAL mode. Every call is synchronous in the calling thread, so the gateway runs
// this store on a thread of its own (SqliteThreadStore; docs/ledger.md "SQLite on its own thread"); tools call it
// directly. A group of a thousand shares commits in a few milliseconds (bench/ledger.ts). Durability: docs/ledger.md
// "Durability".
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { packedToDifficulty } from '../pow/difficulty.js';
import { BLOCK_UPSERT_SET_SQL, LATEST_SCHEMA_VERSION, MIGRATIONS, newerSchemaMessage } from './migrations.js';
import {
  LedgerError,
  type BanEntry,
  type BlockStatus,
  type CreditRow,
  type LedgerStore,
  type RejectCount,
  type ShareRollup,
  type StoredBlock,
  type StoredShare,
  type WriteBatch,
} from './types.js';
import { shareWeight } from './weights.js';
import { workerTotalsFromRow, type WorkCreditEntry, type WorkerTotals, type WorkPayoutEntry } from './workCredits.js';

import type { SqliteSynchronous } from '../config/schema.js';

export type { SqliteSynchronous };

export interface SqliteStoreOptions {
  readonly file: string;
  readonly synchronous: SqliteSynchronous;
  /** Longest wait for another connection's write lock before a write fails with SQLITE_BUSY (default 5,000 ms). */
  readonly busyTimeoutMs?: number;
}

interface ShareRow {
  id: number;
  upstream_job_id: string;
  nonce: string;
  output_hash: string;
  miner: string;
  worker: string;
  instance_id: string;
  session_id: number;
  transport: string;
  job_id: string;
  height: number;
  share_packed: number;
  achieved_difficulty: number;
  block_candidate: number;
  at: number;
}

export function shareFromRow(r: ShareRow): StoredShare {
  return {
    id: Number(r.id),
    upstreamJobId: r.upstream_job_id,
    nonce: r.nonce,
    outputHash: r.output_hash,
    miner: r.miner,
    worker: r.worker,
    instanceId: r.instance_id,
    sessionId: Number(r.session_id),
    transport: r.transport,
    jobId: r.job_id,
    height: Number(r.height),
    sharePacked: Number(r.share_packed),
    achievedDifficulty: Number(r.achieved_difficulty),
    isBlockCandidate: r.block_candidate === 1 || (r.block_candidate as unknown) === true,
    at: Number(r.at),
  };
}

interface BlockRow {
  upstream_job_id: string;
  nonce: string;
  height: number;
  miner: string;
  worker: string;
  instance_id: string;
  status: string;
  block_hash: string | null;
  node_code: number | null;
  submitted_at: number;
  updated_at: number;
}

export function blockFromRow(r: BlockRow): StoredBlock {
  return {
    upstreamJobId: r.upstream_job_id,
    nonce: r.nonce,
    height: Number(r.height),
    miner: r.miner,
    worker: r.worker,
    instanceId: r.instance_id,
    status: r.status as BlockStatus,
    blockHash: r.block_hash,
    nodeCode: r.node_code === null ? null : Number(r.node_code),
    submittedAt: Number(r.submitted_at),
    updatedAt: Number(r.updated_at),
  };
}

/** Both backends (PostgreSQL returns BIGINT as strings). */
export function banFromRow(r: Record<string, unknown>): BanEntry {
  return {
    action: r.action === 'unban' ? 'unban' : 'ban',
    key: String(r.ban_key),
    reason: String(r.reason),
    source: String(r.source),
    instanceId: String(r.instance_id),
    at: Number(r.at),
    until: r.until === null || r.until === undefined ? null : Number(r.until),
  };
}

/**
 * Bans in force (LedgerStore.bansInForce), one text for both backends: `$1` instance id, `$2` now, `$3` limit
 * (better-sqlite3 binds `$N` by name from an object, PostgreSQL by position). Only this instance's unexpired 'ban'
 * rows are candidates; the NOT EXISTS probe goes by the (instance_id, ban_key, …) unique index, so nothing but the
 * rows returned leaves the database.
 */
export const BANS_IN_FORCE_SQL = `SELECT * FROM bans b
  WHERE b.instance_id = $1 AND b.action = 'ban' AND b.until > $2
    AND NOT EXISTS (SELECT 1 FROM bans later WHERE later.instance_id = b.instance_id AND later.ban_key = b.ban_key
      AND (later.at > b.at OR (later.at = b.at AND later.id > b.id)))
  ORDER BY b.until DESC, b.id DESC LIMIT $3`;

const HOUR_MS = 3_600_000;
/** Pause between attempts at another connection's write lock. */
const LOCK_RETRY_MS = 10;
const lockPause = new Int32Array(new SharedArrayBuffer(4));

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || (typeof code === 'string' && code.startsWith('SQLITE_BUSY_'));
}
/** 16 parameters a row: 64 rows stay far below SQLite's 32,766 host parameters. */
const ROWS_PER_INSERT = 64;

export class SqliteStore implements LedgerStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly tokenOf: Database.Statement;
  private readonly addReject: Database.Statement;
  private readonly upsertBlock: Database.Statement;
  private readonly addBan: Database.Statement;
  private readonly writeTx: (batch: WriteBatch) => boolean[];
  private readonly busyTimeoutMs: number;
  private readonly pingTx: () => void;

  constructor(options: SqliteStoreOptions) {
    if (options.file !== ':memory:') mkdirSync(path.dirname(path.resolve(options.file)), { recursive: true });
    try {
      this.db = new Database(options.file);
    } catch (err) {
      throw new LedgerError('open-failed', `cannot open SQLite ledger ${options.file}: ${String(err)}`, false, { cause: err });
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    // Checkpoint every 10,000 WAL pages (40 MB) rather than SQLite's 1,000: under a stream of shares the same index
    // pages are dirtied again and again, and each checkpoint copies them back to the file. Fewer checkpoints cut an
    // insert's CPU by up to 15 % in a microbenchmark (groups of 1,000 shares); the WAL grows to about 40 MB between
    // checkpoints (docs/ledger.md "Durability").
    this.db.pragma('wal_autocheckpoint = 10000');
    // Lock waits happen in JavaScript (writeTransaction), not inside SQLite: a thread parked in Atomics.wait can be
    // ended safely, one inside a better-sqlite3 call cannot (docs/decisions.md D35).
    this.db.pragma('busy_timeout = 0');
    this.busyTimeoutMs = Math.floor(options.busyTimeoutMs ?? 5000);
    this.migrate();
    this.pingTx = this.writeTransaction(() => undefined);
    this.tokenOf = this.db.prepare('SELECT token FROM shares WHERE upstream_job_id = ? AND nonce = ? AND output_hash = ?').pluck();
    this.addReject = this.db.prepare(
      `INSERT INTO rejects (minute, miner, worker, code, count) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (minute, miner, worker, code) DO UPDATE SET count = count + excluded.count`,
    );
    this.upsertBlock = this.db.prepare(
      `INSERT INTO blocks (upstream_job_id, nonce, height, miner, worker, instance_id, status, block_hash, node_code,
         submitted_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (upstream_job_id, nonce) DO UPDATE SET ${BLOCK_UPSERT_SET_SQL}`,
    );
    this.addBan = this.db.prepare(
      `INSERT INTO bans (action, ban_key, reason, source, instance_id, at, until) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (instance_id, ban_key, action, at) DO NOTHING`,
    );
    this.writeTx = this.writeTransaction((batch: WriteBatch) => {
      // Multi-row INSERTs (ROWS_PER_INSERT at a time): the per-statement cost of the binding dominates single rows.
      const inserted = new Set<string>();
      for (let i = 0; i < batch.shares.length; i += ROWS_PER_INSERT) {
        const chunk = batch.shares.slice(i, i + ROWS_PER_INSERT);
        const params: unknown[] = [];
        for (const s of chunk) {
          params.push(
            s.upstreamJobId, s.nonce, s.outputHash, s.token, s.miner, s.worker, s.instanceId, s.sessionId, s.transport,
            s.jobId, s.height, s.sharePacked, packedToDifficulty(s.sharePacked), s.achievedDifficulty, s.isBlockCandidate ? 1 : 0, s.at,
          );
        }
        for (const token of this.insertRows(chunk.length).all(...params) as string[]) inserted.add(token);
      }
      const held = batch.shares.map(
        // Not inserted: ours only if an earlier commit of this same write went through (the token matches).
        (s) => inserted.has(s.token) || this.tokenOf.get(s.upstreamJobId, s.nonce, s.outputHash) === s.token,
      );
      for (const r of batch.rejects) this.addReject.run(r.minute, r.miner, r.worker, r.code, r.count);
      for (const e of batch.bans ?? []) this.addBan.run(e.action, e.key, e.reason, e.source, e.instanceId, e.at, e.until);
      for (const b of batch.blocks) {
        this.upsertBlock.run(
          b.upstreamJobId, b.nonce, b.height, b.miner, b.worker, b.instanceId, b.status, b.blockHash ?? null,
          b.nodeCode ?? null, b.at, b.at,
        );
      }
      return held;
    });
  }

  // --- work service credit (docs/ledger.md "Work credit"): one immediate transaction per write ---
  private workStatements:
    | { creditTx: (e: WorkCreditEntry) => boolean; payoutTx: (e: WorkPayoutEntry) => boolean; worker: Database.Statement; paid: Database.Statement }
    | undefined;

  private work(): NonNullable<SqliteStore['workStatements']> {
    if (this.workStatements !== undefined) return this.workStatements;
    const insertCredit = this.db.prepare(
      'INSERT INTO work_credits (key, address, hash, work_type, difficulty, micro_units, at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    );
    const bumpWorker = this.db.prepare(`INSERT INTO work_workers (address, precache, ondemand, micro_credited, last_hash)
      VALUES (@address, @precache, @ondemand, @micro, @hash)
      ON CONFLICT (address) DO UPDATE SET precache = precache + excluded.precache, ondemand = ondemand + excluded.ondemand,
        micro_credited = micro_credited + excluded.micro_credited, last_hash = excluded.last_hash`);
    const insertPayout = this.db.prepare('INSERT INTO work_payouts (reference, address, micro_amount, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING');
    const bumpPaid = this.db.prepare(`INSERT INTO work_workers (address, micro_paid) VALUES (?, ?)
      ON CONFLICT (address) DO UPDATE SET micro_paid = micro_paid + excluded.micro_paid`);
    this.workStatements = {
      creditTx: this.writeTransaction((e: WorkCreditEntry) => {
        if (insertCredit.run(e.key, e.address, e.hash, e.workType, e.difficulty, e.microUnits, e.at).changes === 0) return false;
        bumpWorker.run({ address: e.address, precache: e.workType === 'precache' ? 1 : 0, ondemand: e.workType === 'ondemand' ? 1 : 0, micro: e.microUnits, hash: e.hash });
        return true;
      }),
      payoutTx: this.writeTransaction((e: WorkPayoutEntry) => {
        if (insertPayout.run(e.reference, e.address, e.microAmount, e.at).changes === 0) return false;
        bumpPaid.run(e.address, e.microAmount);
        return true;
      }),
      worker: this.db.prepare('SELECT precache, ondemand, micro_credited, micro_paid, last_hash FROM work_workers WHERE address = ?'),
      paid: this.db.prepare('SELECT COALESCE(SUM(micro_amount), 0) FROM work_payouts').pluck(),
    };
    return this.workStatements;
  }

  creditWork(entry: WorkCreditEntry): Promise<{ credited: boolean; totals: WorkerTotals }> {
    try {
      const work = this.work();
      const credited = work.creditTx(entry);
      return Promise.resolve({ credited, totals: workerTotalsFromRow(work.worker.get(entry.address) as Record<string, unknown> | undefined) });
    } catch (err) {
      return Promise.reject(new LedgerError('write-failed', `SQLite work credit failed: ${String(err)}`, false, { cause: err }));
    }
  }

  recordWorkPayout(entry: WorkPayoutEntry): Promise<{ recorded: boolean; totals: WorkerTotals }> {
    try {
      const work = this.work();
      const recorded = work.payoutTx(entry);
      return Promise.resolve({ recorded, totals: workerTotalsFromRow(work.worker.get(entry.address) as Record<string, unknown> | undefined) });
    } catch (err) {
      return Promise.reject(new LedgerError('write-failed', `SQLite work payout failed: ${String(err)}`, false, { cause: err }));
    }
  }

  workerTotals(address: string): Promise<WorkerTotals> {
    return Promise.resolve(workerTotalsFromRow(this.work().worker.get(address) as Record<string, unknown> | undefined));
  }

  workTotalPaid(): Promise<number> {
    return Promise.resolve(Number(this.work().paid.get()));
  }
  // --- end work service credit ---

  private readonly insertByRows = new Map<number, Database.Statement>();

  private insertRows(rows: number): Database.Statement {
    let statement = this.insertByRows.get(rows);
    if (statement === undefined) {
      const values = Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
      statement = this.db
        .prepare(
          `INSERT INTO shares (upstream_job_id, nonce, output_hash, token, miner, worker, instance_id, session_id, transport,
             job_id, height, share_packed, share_difficulty, achieved_difficulty, block_candidate, at)
           VALUES ${values} ON CONFLICT DO NOTHING RETURNING token`,
        )
        .pluck();
      this.insertByRows.set(rows, statement);
    }
    return statement;
  }

  /**
   * Every write of this store: `body` as an immediate transaction (the write lock taken at BEGIN), retried while
   * another connection holds the lock, for at most busyTimeoutMs; then the SQLITE_BUSY error ("database is locked")
   * is thrown. Nothing is committed by a failed try.
   */
  private writeTransaction<A extends unknown[], R>(body: (...args: A) => R): (...args: A) => R {
    const tx = this.db.transaction(body);
    return (...args: A): R => {
      const deadline = Date.now() + this.busyTimeoutMs;
      for (;;) {
        try {
          return tx.immediate(...args);
        } catch (err) {
          if (!isBusy(err) || Date.now() >= deadline) throw err;
          Atomics.wait(lockPause, 0, 0, LOCK_RETRY_MS);
        }
      }
    };
  }

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS ledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    const migrateTx = this.writeTransaction(() => {
      const current = Number(this.db.prepare("SELECT value FROM ledger_meta WHERE key = 'schema_version'").pluck().get() ?? 0);
      if (current > LATEST_SCHEMA_VERSION) throw new LedgerError('newer-schema', newerSchemaMessage(current));
      for (const m of MIGRATIONS) {
        if (m.version <= current) continue;
        for (const sql of m.sqlite) this.db.exec(sql);
        this.db.prepare("INSERT INTO ledger_meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(m.version));
      }
    });
    try {
      migrateTx();
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  writeBatch(batch: WriteBatch): Promise<boolean[]> {
    try {
      return Promise.resolve(this.writeTx(batch));
    } catch (err) {
      // better-sqlite3 rolls the transaction back before rethrowing: nothing of the batch was committed.
      return Promise.reject(new LedgerError('write-failed', `SQLite write failed: ${String(err)}`, false, { cause: err }));
    }
  }

  rollUp(before: number, limit: number): Promise<number> {
    const rollUpTx = this.writeTransaction(() => {
      const rows = this.db
        .prepare('SELECT id, miner, worker, share_packed, share_difficulty, at FROM shares WHERE at < ? ORDER BY at LIMIT ?')
        .all(before, limit) as Array<{ id: number; miner: string; worker: string; share_packed: number; share_difficulty: number; at: number }>;
      const groups = new Map<string, { hour: number; miner: string; worker: string; shares: number; diff: number; weight: bigint; lastAt: number }>();
      for (const r of rows) {
        const hour = Math.floor(r.at / HOUR_MS) * HOUR_MS;
        const key = JSON.stringify([hour, r.miner, r.worker]);
        const g = groups.get(key) ?? { hour, miner: r.miner, worker: r.worker, shares: 0, diff: 0, weight: 0n, lastAt: 0 };
        g.shares += 1;
        g.diff += r.share_difficulty;
        g.weight += shareWeight(r.share_packed);
        g.lastAt = Math.max(g.lastAt, r.at);
        groups.set(key, g);
      }
      const existing = this.db.prepare('SELECT weight FROM share_rollups WHERE hour = ? AND miner = ? AND worker = ?').pluck();
      const upsert = this.db.prepare(
        `INSERT INTO share_rollups (hour, miner, worker, shares, difficulty_sum, weight, last_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (hour, miner, worker) DO UPDATE SET shares = shares + excluded.shares,
           difficulty_sum = difficulty_sum + excluded.difficulty_sum, weight = excluded.weight,
           last_at = MAX(last_at, excluded.last_at)`,
      );
      for (const g of groups.values()) {
        // TEXT weight: SQLite integers stop at 2^63, so the exact sum is added here.
        const before = existing.get(g.hour, g.miner, g.worker) as string | undefined;
        const weight = (before === undefined ? 0n : BigInt(before)) + g.weight;
        upsert.run(g.hour, g.miner, g.worker, g.shares, g.diff, weight.toString(), g.lastAt);
      }
      const del = this.db.prepare('DELETE FROM shares WHERE id = ?');
      for (const r of rows) del.run(r.id);
      return rows.length;
    });
    return Promise.resolve(rollUpTx());
  }

  shares(filter: { sinceAt?: number } = {}): Promise<StoredShare[]> {
    const rows = this.db.prepare('SELECT * FROM shares WHERE at >= ? ORDER BY at, id').all(filter.sinceAt ?? 0) as ShareRow[];
    return Promise.resolve(rows.map(shareFromRow));
  }

  rollups(): Promise<ShareRollup[]> {
    const rows = this.db.prepare('SELECT * FROM share_rollups ORDER BY hour, miner, worker').all() as Array<Record<string, unknown>>;
    return Promise.resolve(rows.map(rollupFromRow));
  }

  rejects(): Promise<RejectCount[]> {
    const rows = this.db.prepare('SELECT minute, miner, worker, code, count FROM rejects ORDER BY minute, miner, worker, code').all() as RejectCount[];
    return Promise.resolve(rows.map((r) => ({ ...r, minute: Number(r.minute), code: Number(r.code), count: Number(r.count) })));
  }

  blocks(): Promise<StoredBlock[]> {
    const rows = this.db.prepare('SELECT * FROM blocks ORDER BY height, submitted_at').all() as BlockRow[];
    return Promise.resolve(rows.map(blockFromRow));
  }

  bans(): Promise<BanEntry[]> {
    const rows = this.db.prepare('SELECT * FROM bans ORDER BY at, id').all() as Array<Record<string, unknown>>;
    return Promise.resolve(rows.map(banFromRow));
  }

  bansInForce(instanceId: string, now: number, limit: number): Promise<BanEntry[]> {
    const rows = this.db.prepare(BANS_IN_FORCE_SQL).all({ 1: instanceId, 2: now, 3: limit }) as Array<Record<string, unknown>>;
    return Promise.resolve(rows.map(banFromRow));
  }

  credits(fromAt: number, toAt: number): Promise<CreditRow[]> {
    const raw = this.db
      .prepare('SELECT miner, at, share_packed FROM shares WHERE at >= ? AND at <= ? ORDER BY at, id')
      .all(fromAt, toAt) as Array<{ miner: string; at: number; share_packed: number }>;
    const rolled = this.db
      .prepare('SELECT miner, hour, weight FROM share_rollups WHERE hour >= ? AND hour <= ? ORDER BY hour, miner')
      .all(fromAt, toAt) as Array<{ miner: string; hour: number; weight: string }>;
    return Promise.resolve(mergeCredits(raw.map((r) => ({ miner: r.miner, at: r.at, weight: shareWeight(r.share_packed) })), rolled.map((r) => ({ miner: r.miner, at: Number(r.hour), weight: BigInt(r.weight) }))));
  }

  shareAggregates(sinceAt: number): Promise<Array<{ miner: string; worker: string; shares: number; difficultySum: number; lastAt: number }>> {
    const rows = this.db
      .prepare(
        `SELECT miner, worker, COUNT(*) AS shares, SUM(share_difficulty) AS difficultySum, MAX(at) AS lastAt
         FROM shares WHERE at >= ? GROUP BY miner, worker`,
      )
      .all(sinceAt) as Array<{ miner: string; worker: string; shares: number; difficultySum: number; lastAt: number }>;
    return Promise.resolve(rows);
  }

  shareTotals(): Promise<Array<{ miner: string; worker: string; shares: number; lastAt: number }>> {
    const rows = this.db
      .prepare(
        `SELECT miner, worker, SUM(n) AS shares, MAX(last) AS lastAt FROM (
           SELECT miner, worker, COUNT(*) AS n, MAX(at) AS last FROM shares GROUP BY miner, worker
           UNION ALL SELECT miner, worker, SUM(shares), MAX(last_at) FROM share_rollups GROUP BY miner, worker
         ) GROUP BY miner, worker`,
      )
      .all() as Array<{ miner: string; worker: string; shares: number; lastAt: number }>;
    return Promise.resolve(rows);
  }

  ping(): Promise<void> {
    try {
      // The write lock, taken and given back: a `SELECT 1` would answer even while another connection holds the
      // lock every write needs. Nothing is written.
      this.pingTx();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(new LedgerError('write-failed', `SQLite ledger does not answer: ${String(err)}`, false, { cause: err }));
    }
  }

  close(): Promise<void> {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }
}

export function rollupFromRow(r: Record<string, unknown>): ShareRollup {
  return {
    hour: Number(r.hour),
    miner: String(r.miner),
    worker: String(r.worker),
    shares: Number(r.shares),
    difficultySum: Number(r.difficulty_sum),
    weight: String(r.weight),
    lastAt: Number(r.last_at),
  };
}

/** Raw shares and hourly roll-ups in one time order (a roll-up stands at the start of its hour). */
export function mergeCredits(raw: CreditRow[], rolled: CreditRow[]): CreditRow[] {
  if (rolled.length === 0) return raw;
  return [...rolled, ...raw].sort((a, b) => a.at - b.at);
}
