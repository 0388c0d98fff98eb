// WorkCreditBook on SQLite (better-sqlite3), in tables of its own (work_*) so it can share the ledger's file
// until the ledger implements the interface itself. Every write is one transaction; keys make replays no-ops.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { EMPTY_TOTALS, type WorkCreditBook, type WorkCreditEntry, type WorkerTotals, type WorkPayoutEntry } from './WorkCreditBook.js';

interface WorkerRow {
  precache: number;
  ondemand: number;
  micro_credited: number;
  micro_paid: number;
  last_hash: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS work_credits (
  key TEXT PRIMARY KEY, address TEXT NOT NULL, hash TEXT NOT NULL, work_type TEXT NOT NULL,
  difficulty TEXT NOT NULL, micro_units INTEGER NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS work_credits_address ON work_credits(address);
CREATE TABLE IF NOT EXISTS work_payouts (
  reference TEXT PRIMARY KEY, address TEXT NOT NULL, micro_amount INTEGER NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS work_workers (
  address TEXT PRIMARY KEY, precache INTEGER NOT NULL DEFAULT 0, ondemand INTEGER NOT NULL DEFAULT 0,
  micro_credited INTEGER NOT NULL DEFAULT 0, micro_paid INTEGER NOT NULL DEFAULT 0, last_hash TEXT NOT NULL DEFAULT '');
`;

export class SqliteWorkCreditBook implements WorkCreditBook {
  private readonly db: Database.Database;
  private readonly creditTx: (entry: WorkCreditEntry) => boolean;
  private readonly payoutTx: (entry: WorkPayoutEntry) => boolean;
  private readonly selectWorker: Database.Statement<[string], WorkerRow>;
  private readonly sumPaid: Database.Statement<[], { total: number | null }>;

  /** `file`: a path, or ':memory:' (tests). */
  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    const insertCredit = this.db.prepare(
      'INSERT OR IGNORE INTO work_credits (key, address, hash, work_type, difficulty, micro_units, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const bumpWorker = this.db.prepare(`INSERT INTO work_workers (address, precache, ondemand, micro_credited, last_hash)
      VALUES (@address, @precache, @ondemand, @micro, @hash)
      ON CONFLICT(address) DO UPDATE SET precache = precache + @precache, ondemand = ondemand + @ondemand,
        micro_credited = micro_credited + @micro, last_hash = @hash`);
    const insertPayout = this.db.prepare('INSERT OR IGNORE INTO work_payouts (reference, address, micro_amount, at) VALUES (?, ?, ?, ?)');
    const bumpPaid = this.db.prepare(`INSERT INTO work_workers (address, micro_paid) VALUES (?, ?)
      ON CONFLICT(address) DO UPDATE SET micro_paid = micro_paid + excluded.micro_paid`);
    this.creditTx = this.db.transaction((e: WorkCreditEntry) => {
      if (insertCredit.run(e.key, e.address, e.hash, e.workType, e.difficulty, e.microUnits, e.at).changes === 0) return false;
      bumpWorker.run({
        address: e.address,
        precache: e.workType === 'precache' ? 1 : 0,
        ondemand: e.workType === 'ondemand' ? 1 : 0,
        micro: e.microUnits,
        hash: e.hash,
      });
      return true;
    });
    this.payoutTx = this.db.transaction((e: WorkPayoutEntry) => {
      if (insertPayout.run(e.reference, e.address, e.microAmount, e.at).changes === 0) return false;
      bumpPaid.run(e.address, e.microAmount);
      return true;
    });
    this.selectWorker = this.db.prepare('SELECT precache, ondemand, micro_credited, micro_paid, last_hash FROM work_workers WHERE address = ?');
    this.sumPaid = this.db.prepare('SELECT SUM(micro_amount) AS total FROM work_payouts');
  }

  async credit(entry: WorkCreditEntry): Promise<{ credited: boolean; totals: WorkerTotals }> {
    const credited = this.creditTx(entry);
    return { credited, totals: this.read(entry.address) };
  }

  async recordPayout(entry: WorkPayoutEntry): Promise<{ recorded: boolean; totals: WorkerTotals }> {
    const recorded = this.payoutTx(entry);
    return { recorded, totals: this.read(entry.address) };
  }

  async totals(address: string): Promise<WorkerTotals> {
    return this.read(address);
  }

  async totalPaid(): Promise<number> {
    return this.sumPaid.get()?.total ?? 0;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private read(address: string): WorkerTotals {
    const row = this.selectWorker.get(address);
    if (row === undefined) return EMPTY_TOTALS;
    return { precache: row.precache, ondemand: row.ondemand, microCredited: row.micro_credited, microPaid: row.micro_paid, lastHash: row.last_hash };
  }
}
