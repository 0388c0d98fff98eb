// Shared backend: PostgreSQL through a small pg pool. Each batch is one multi-row INSERT (unnest of arrays) inside
// one transaction, so its cost hardly grows with the batch. Several gateways may write one database: the unique
// key settles races, migrations and roll-ups take an advisory lock. Durability: docs/ledger.md "PostgreSQL".
import pg from 'pg';
import type { Logger } from '../config/logger.js';
import { packedToDifficulty } from '../pow/difficulty.js';
import { BLOCK_UPSERT_SET_SQL, LATEST_SCHEMA_VERSION, MIGRATIONS, newerSchemaMessage } from './migrations.js';
import { BANS_IN_FORCE_SQL, banFromRow, blockFromRow, mergeCredits, rollupFromRow, shareFromRow } from './SqliteStore.js';
import {
  LedgerError,
  type BanEntry,
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

/** Advisory lock keys (arbitrary, fixed): one for migrations, one for roll-ups. */
const MIGRATION_LOCK = 0x65716c31;
const ROLLUP_LOCK = 0x65716c32;
const HOUR_MS = 3_600_000;

export interface PostgresStoreOptions {
  readonly url: string;
  readonly logger: Logger;
  /** Connect and statement timeouts: a dead server makes writes fail within this, not hang. */
  readonly timeoutMs: number;
}

// int8 and numeric arrive as strings; at/height/ids fit a double exactly.
function num(v: unknown): number {
  return typeof v === 'string' ? Number(v) : (v as number);
}

export class PostgresStore implements LedgerStore {
  readonly kind = 'postgres' as const;

  private constructor(private readonly pool: pg.Pool) {}

  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: 4,
      connectionTimeoutMillis: options.timeoutMs,
      query_timeout: options.timeoutMs,
      statement_timeout: options.timeoutMs,
      idleTimeoutMillis: 30_000,
    });
    // An idle client whose server went away emits 'error' on the pool; unhandled it would kill the process.
    pool.on('error', (err) => options.logger.warn({ err }, 'ledger: idle PostgreSQL connection lost'));
    const store = new PostgresStore(pool);
    try {
      await store.migrate();
    } catch (err) {
      await pool.end().catch(() => undefined);
      if (err instanceof LedgerError) throw err;
      throw new LedgerError('open-failed', `cannot open PostgreSQL ledger: ${String(err)}`, false, { cause: err });
    }
    return store;
  }

  private async migrate(): Promise<void> {
    await this.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await c.query('CREATE TABLE IF NOT EXISTS ledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
      const res = await c.query("SELECT value FROM ledger_meta WHERE key = 'schema_version'");
      const current = Number(res.rows[0]?.value ?? 0);
      if (current > LATEST_SCHEMA_VERSION) throw new LedgerError('newer-schema', newerSchemaMessage(current));
      for (const m of MIGRATIONS) {
        if (m.version <= current) continue;
        for (const sql of m.postgres) await c.query(sql);
        await c.query(
          "INSERT INTO ledger_meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
          [String(m.version)],
        );
      }
    });
  }

  /** BEGIN … COMMIT on one client; a failure at COMMIT itself is ambiguous (the server may have committed). */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    // A checked-out client whose server goes away between queries emits 'error'; unhandled, that ends the process.
    // The next query on it fails, and that failure is what the caller sees.
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      let result: T;
      try {
        result = await work(client);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => (broken = true));
        throw err;
      }
      try {
        await client.query('COMMIT');
      } catch (err) {
        broken = true;
        throw new LedgerError('write-failed', `PostgreSQL COMMIT failed: ${String(err)}`, true, { cause: err });
      }
      return result;
    } catch (err) {
      if (!(err instanceof LedgerError) && isConnectionError(err)) broken = true;
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async writeBatch(batch: WriteBatch): Promise<boolean[]> {
    try {
      return await this.transaction(async (c) => {
        const held: boolean[] = [];
        if (batch.shares.length > 0) {
          const s = batch.shares;
          const res = await c.query(
            `INSERT INTO shares (upstream_job_id, nonce, output_hash, token, miner, worker, instance_id, session_id,
               transport, job_id, height, share_packed, share_difficulty, achieved_difficulty, block_candidate, at)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
               $8::bigint[], $9::text[], $10::text[], $11::bigint[], $12::bigint[], $13::float8[], $14::float8[],
               $15::bool[], $16::bigint[])
             ON CONFLICT DO NOTHING RETURNING token`,
            [
              s.map((x) => x.upstreamJobId), s.map((x) => x.nonce), s.map((x) => x.outputHash), s.map((x) => x.token),
              s.map((x) => x.miner), s.map((x) => x.worker), s.map((x) => x.instanceId), s.map((x) => x.sessionId),
              s.map((x) => x.transport), s.map((x) => x.jobId), s.map((x) => x.height), s.map((x) => x.sharePacked),
              s.map((x) => packedToDifficulty(x.sharePacked)), s.map((x) => x.achievedDifficulty),
              s.map((x) => x.isBlockCandidate), s.map((x) => x.at),
            ],
          );
          const inserted = new Set(res.rows.map((r: { token: string }) => r.token));
          const missing = s.filter((x) => !inserted.has(x.token));
          // A key already held: ours only if an earlier, ambiguously failed commit of this same write went through.
          if (missing.length > 0) {
            const prior = await c.query(
              `SELECT token FROM shares WHERE (upstream_job_id, nonce, output_hash) IN
                 (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))`,
              [missing.map((x) => x.upstreamJobId), missing.map((x) => x.nonce), missing.map((x) => x.outputHash)],
            );
            for (const r of prior.rows as Array<{ token: string }>) inserted.add(r.token);
          }
          for (const x of s) held.push(inserted.has(x.token));
        }
        if (batch.rejects.length > 0) {
          // One key order for every writer: two transactions (or two gateways) upserting the same keys in opposite
          // orders would deadlock (docs/ledger.md "PostgreSQL").
          const r = [...batch.rejects].sort(compareRejectKeys);
          await c.query(
            `INSERT INTO rejects (minute, miner, worker, code, count)
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::bigint[])
             ON CONFLICT (minute, miner, worker, code) DO UPDATE SET count = rejects.count + excluded.count`,
            [r.map((x) => x.minute), r.map((x) => x.miner), r.map((x) => x.worker), r.map((x) => x.code), r.map((x) => x.count)],
          );
        }
        for (const e of [...(batch.bans ?? [])].sort((a, b) => compareText(a.key, b.key))) {
          await c.query(
            `INSERT INTO bans (action, ban_key, reason, source, instance_id, at, until) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (instance_id, ban_key, action, at) DO NOTHING`,
            [e.action, e.key, e.reason, e.source, e.instanceId, e.at, e.until],
          );
        }
        // Stable: one block's lifecycle rows keep their order; different blocks go in key order (no deadlock).
        for (const b of [...batch.blocks].sort((x, y) => compareText(x.upstreamJobId, y.upstreamJobId) || compareText(x.nonce, y.nonce))) {
          await c.query(
            `INSERT INTO blocks (upstream_job_id, nonce, height, miner, worker, instance_id, status, block_hash, node_code,
               submitted_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
             ON CONFLICT (upstream_job_id, nonce) DO UPDATE SET ${BLOCK_UPSERT_SET_SQL}`,
            [b.upstreamJobId, b.nonce, b.height, b.miner, b.worker, b.instanceId, b.status, b.blockHash ?? null, b.nodeCode ?? null, b.at],
          );
        }
        return held;
      });
    } catch (err) {
      if (err instanceof LedgerError) throw err;
      throw new LedgerError('write-failed', `PostgreSQL write failed: ${String(err)}`, false, { cause: err });
    }
  }

  rollUp(before: number, limit: number): Promise<number> {
    return this.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [ROLLUP_LOCK]);
      const res = await c.query('SELECT id, miner, worker, share_packed, share_difficulty, at FROM shares WHERE at < $1 ORDER BY at LIMIT $2', [before, limit]);
      const groups = new Map<string, { hour: number; miner: string; worker: string; shares: number; diff: number; weight: bigint; lastAt: number }>();
      const ids: number[] = [];
      for (const r of res.rows as Array<Record<string, unknown>>) {
        const at = num(r.at);
        const hour = Math.floor(at / HOUR_MS) * HOUR_MS;
        const miner = String(r.miner);
        const worker = String(r.worker);
        const key = JSON.stringify([hour, miner, worker]);
        const g = groups.get(key) ?? { hour, miner, worker, shares: 0, diff: 0, weight: 0n, lastAt: 0 };
        g.shares += 1;
        g.diff += num(r.share_difficulty);
        g.weight += shareWeight(num(r.share_packed));
        g.lastAt = Math.max(g.lastAt, at);
        groups.set(key, g);
        ids.push(num(r.id));
      }
      for (const g of groups.values()) {
        await c.query(
          `INSERT INTO share_rollups (hour, miner, worker, shares, difficulty_sum, weight, last_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (hour, miner, worker) DO UPDATE SET shares = share_rollups.shares + excluded.shares,
             difficulty_sum = share_rollups.difficulty_sum + excluded.difficulty_sum,
             weight = share_rollups.weight + excluded.weight, last_at = GREATEST(share_rollups.last_at, excluded.last_at)`,
          [g.hour, g.miner, g.worker, g.shares, g.diff, g.weight.toString(), g.lastAt],
        );
      }
      if (ids.length > 0) await c.query('DELETE FROM shares WHERE id = ANY($1::bigint[])', [ids]);
      return ids.length;
    });
  }

  async shares(filter: { sinceAt?: number } = {}): Promise<StoredShare[]> {
    const res = await this.pool.query('SELECT * FROM shares WHERE at >= $1 ORDER BY at, id', [filter.sinceAt ?? 0]);
    return res.rows.map(shareFromRow);
  }

  async rollups(): Promise<ShareRollup[]> {
    const res = await this.pool.query('SELECT hour, miner, worker, shares, difficulty_sum, weight::text AS weight, last_at FROM share_rollups ORDER BY hour, miner, worker');
    return res.rows.map(rollupFromRow);
  }

  async rejects(): Promise<RejectCount[]> {
    const res = await this.pool.query('SELECT minute, miner, worker, code, count FROM rejects ORDER BY minute, miner, worker, code');
    return res.rows.map((r: Record<string, unknown>) => ({
      minute: num(r.minute), miner: String(r.miner), worker: String(r.worker), code: num(r.code), count: num(r.count),
    }));
  }

  async blocks(): Promise<StoredBlock[]> {
    const res = await this.pool.query('SELECT * FROM blocks ORDER BY height, submitted_at');
    return res.rows.map(blockFromRow);
  }

  async bans(): Promise<BanEntry[]> {
    const res = await this.pool.query('SELECT * FROM bans ORDER BY at, id');
    return res.rows.map(banFromRow);
  }

  async bansInForce(instanceId: string, now: number, limit: number): Promise<BanEntry[]> {
    const res = await this.pool.query(BANS_IN_FORCE_SQL, [instanceId, now, limit]);
    return res.rows.map(banFromRow);
  }

  async credits(fromAt: number, toAt: number): Promise<CreditRow[]> {
    const raw = await this.pool.query('SELECT miner, at, share_packed FROM shares WHERE at >= $1 AND at <= $2 ORDER BY at, id', [fromAt, toAt]);
    const rolled = await this.pool.query(
      'SELECT miner, hour, weight::text AS weight FROM share_rollups WHERE hour >= $1 AND hour <= $2 ORDER BY hour, miner',
      [fromAt, toAt],
    );
    return mergeCredits(
      raw.rows.map((r: Record<string, unknown>) => ({ miner: String(r.miner), at: num(r.at), weight: shareWeight(num(r.share_packed)) })),
      rolled.rows.map((r: Record<string, unknown>) => ({ miner: String(r.miner), at: num(r.hour), weight: BigInt(String(r.weight)) })),
    );
  }

  async shareAggregates(sinceAt: number): Promise<Array<{ miner: string; worker: string; shares: number; difficultySum: number; lastAt: number }>> {
    const res = await this.pool.query(
      `SELECT miner, worker, COUNT(*) AS shares, SUM(share_difficulty) AS difficulty_sum, MAX(at) AS last_at
       FROM shares WHERE at >= $1 GROUP BY miner, worker`,
      [sinceAt],
    );
    return res.rows.map((r: Record<string, unknown>) => ({
      miner: String(r.miner), worker: String(r.worker), shares: num(r.shares), difficultySum: num(r.difficulty_sum), lastAt: num(r.last_at),
    }));
  }

  async shareTotals(): Promise<Array<{ miner: string; worker: string; shares: number; lastAt: number }>> {
    const res = await this.pool.query(
      `SELECT miner, worker, SUM(n) AS shares, MAX(last) AS last_at FROM (
         SELECT miner, worker, COUNT(*) AS n, MAX(at) AS last FROM shares GROUP BY miner, worker
         UNION ALL SELECT miner, worker, SUM(shares), MAX(last_at) FROM share_rollups GROUP BY miner, worker
       ) t GROUP BY miner, worker`,
    );
    return res.rows.map((r: Record<string, unknown>) => ({ miner: String(r.miner), worker: String(r.worker), shares: num(r.shares), lastAt: num(r.last_at) }));
  }

  // --- work service credit (docs/ledger.md "Work credit"): one transaction per write. Two gateways crediting
  // one key race on its primary key: the second INSERT waits for the first to commit and then does nothing.
  async creditWork(e: WorkCreditEntry): Promise<{ credited: boolean; totals: WorkerTotals }> {
    return this.workWrite('credit', async (c) => {
      const inserted = await c.query(
        `INSERT INTO work_credits (key, address, hash, work_type, difficulty, micro_units, at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT DO NOTHING`,
        [e.key, e.address, e.hash, e.workType, e.difficulty, e.microUnits, e.at],
      );
      if (inserted.rowCount !== 1) return { credited: false, totals: await this.workerRow(c, e.address) };
      const res = await c.query(
        `INSERT INTO work_workers (address, precache, ondemand, micro_credited, last_hash) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (address) DO UPDATE SET precache = work_workers.precache + excluded.precache,
           ondemand = work_workers.ondemand + excluded.ondemand,
           micro_credited = work_workers.micro_credited + excluded.micro_credited, last_hash = excluded.last_hash
         RETURNING precache, ondemand, micro_credited, micro_paid, last_hash`,
        [e.address, e.workType === 'precache' ? 1 : 0, e.workType === 'ondemand' ? 1 : 0, e.microUnits, e.hash],
      );
      return { credited: true, totals: workerTotalsFromRow(res.rows[0]) };
    });
  }

  async recordWorkPayout(e: WorkPayoutEntry): Promise<{ recorded: boolean; totals: WorkerTotals }> {
    return this.workWrite('payout', async (c) => {
      const inserted = await c.query(
        'INSERT INTO work_payouts (reference, address, micro_amount, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        [e.reference, e.address, e.microAmount, e.at],
      );
      if (inserted.rowCount !== 1) return { recorded: false, totals: await this.workerRow(c, e.address) };
      const res = await c.query(
        `INSERT INTO work_workers (address, micro_paid) VALUES ($1, $2)
         ON CONFLICT (address) DO UPDATE SET micro_paid = work_workers.micro_paid + excluded.micro_paid
         RETURNING precache, ondemand, micro_credited, micro_paid, last_hash`,
        [e.address, e.microAmount],
      );
      return { recorded: true, totals: workerTotalsFromRow(res.rows[0]) };
    });
  }

  async workerTotals(address: string): Promise<WorkerTotals> {
    return this.workerRow(this.pool, address);
  }

  async workTotalPaid(): Promise<number> {
    const res = await this.pool.query('SELECT COALESCE(SUM(micro_amount), 0) AS total FROM work_payouts');
    return num(res.rows[0]?.total ?? 0);
  }

  private async workerRow(c: pg.Pool | pg.PoolClient, address: string): Promise<WorkerTotals> {
    const res = await c.query('SELECT precache, ondemand, micro_credited, micro_paid, last_hash FROM work_workers WHERE address = $1', [address]);
    return workerTotalsFromRow(res.rows[0] as Record<string, unknown> | undefined);
  }

  private async workWrite<T>(what: string, work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    try {
      return await this.transaction(work);
    } catch (err) {
      if (err instanceof LedgerError) throw err;
      throw new LedgerError('write-failed', `PostgreSQL work ${what} failed: ${String(err)}`, false, { cause: err });
    }
  }
  // --- end work service credit ---

  private closed = false;

  async ping(): Promise<void> {
    let readOnly: boolean;
    try {
      const res = await this.pool.query<{ ro: boolean }>("SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on' AS ro");
      readOnly = res.rows[0]?.ro === true;
    } catch (err) {
      throw new LedgerError('write-failed', `PostgreSQL ledger does not answer: ${String(err)}`, false, { cause: err });
    }
    if (readOnly) throw new LedgerError('write-failed', 'PostgreSQL ledger is read-only (a standby, or default_transaction_read_only)');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code !== 'string' || code.startsWith('08') || code === '57P01' || code === 'ECONNRESET' || code === 'ECONNREFUSED';
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareRejectKeys(a: RejectCount, b: RejectCount): number {
  return a.minute - b.minute || compareText(a.miner, b.miner) || compareText(a.worker, b.worker) || a.code - b.code;
}
