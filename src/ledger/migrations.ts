// Versioned schema, one list per backend, applied in order at open (docs/ledger.md "Schema and migrations").
// The version lives in ledger_meta('schema_version'); a database newer than LATEST is refused, never touched.
export interface Migration {
  readonly version: number;
  readonly sqlite: readonly string[];
  readonly postgres: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sqlite: [
      `CREATE TABLE shares (
        id INTEGER PRIMARY KEY,
        upstream_job_id TEXT NOT NULL, nonce TEXT NOT NULL, output_hash TEXT NOT NULL, token TEXT NOT NULL,
        miner TEXT NOT NULL, worker TEXT NOT NULL, instance_id TEXT NOT NULL, session_id INTEGER NOT NULL,
        transport TEXT NOT NULL, job_id TEXT NOT NULL, height INTEGER NOT NULL, share_packed INTEGER NOT NULL,
        share_difficulty REAL NOT NULL, achieved_difficulty REAL NOT NULL, block_candidate INTEGER NOT NULL,
        at INTEGER NOT NULL,
        UNIQUE (upstream_job_id, nonce, output_hash))`,
      `CREATE INDEX shares_at ON shares (at)`,
      `CREATE TABLE share_rollups (
        hour INTEGER NOT NULL, miner TEXT NOT NULL, worker TEXT NOT NULL, shares INTEGER NOT NULL,
        difficulty_sum REAL NOT NULL, weight TEXT NOT NULL, last_at INTEGER NOT NULL,
        PRIMARY KEY (hour, miner, worker))`,
      `CREATE TABLE rejects (
        minute INTEGER NOT NULL, miner TEXT NOT NULL, worker TEXT NOT NULL, code INTEGER NOT NULL, count INTEGER NOT NULL,
        PRIMARY KEY (minute, miner, worker, code))`,
      `CREATE TABLE blocks (
        upstream_job_id TEXT NOT NULL, nonce TEXT NOT NULL, height INTEGER NOT NULL, miner TEXT NOT NULL,
        worker TEXT NOT NULL, instance_id TEXT NOT NULL, status TEXT NOT NULL, block_hash TEXT, node_code INTEGER,
        submitted_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
        PRIMARY KEY (upstream_job_id, nonce))`,
      `CREATE INDEX blocks_height ON blocks (height)`,
    ],
    postgres: [
      `CREATE TABLE shares (
        id BIGSERIAL PRIMARY KEY,
        upstream_job_id TEXT NOT NULL, nonce TEXT NOT NULL, output_hash TEXT NOT NULL, token TEXT NOT NULL,
        miner TEXT NOT NULL, worker TEXT NOT NULL, instance_id TEXT NOT NULL, session_id BIGINT NOT NULL,
        transport TEXT NOT NULL, job_id TEXT NOT NULL, height BIGINT NOT NULL, share_packed BIGINT NOT NULL,
        share_difficulty DOUBLE PRECISION NOT NULL, achieved_difficulty DOUBLE PRECISION NOT NULL,
        block_candidate BOOLEAN NOT NULL, at BIGINT NOT NULL,
        UNIQUE (upstream_job_id, nonce, output_hash))`,
      `CREATE INDEX shares_at ON shares (at)`,
      `CREATE TABLE share_rollups (
        hour BIGINT NOT NULL, miner TEXT NOT NULL, worker TEXT NOT NULL, shares BIGINT NOT NULL,
        difficulty_sum DOUBLE PRECISION NOT NULL, weight NUMERIC NOT NULL, last_at BIGINT NOT NULL,
        PRIMARY KEY (hour, miner, worker))`,
      `CREATE TABLE rejects (
        minute BIGINT NOT NULL, miner TEXT NOT NULL, worker TEXT NOT NULL, code INTEGER NOT NULL, count BIGINT NOT NULL,
        PRIMARY KEY (minute, miner, worker, code))`,
      `CREATE TABLE blocks (
        upstream_job_id TEXT NOT NULL, nonce TEXT NOT NULL, height BIGINT NOT NULL, miner TEXT NOT NULL,
        worker TEXT NOT NULL, instance_id TEXT NOT NULL, status TEXT NOT NULL, block_hash TEXT, node_code INTEGER,
        submitted_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
        PRIMARY KEY (upstream_job_id, nonce))`,
      `CREATE INDEX blocks_height ON blocks (height)`,
    ],
  },
  {
    // Bans and their reasons (docs/ledger.md "Bans"): one row per ban or lift, append-only.
    version: 2,
    sqlite: [
      `CREATE TABLE bans (
        id INTEGER PRIMARY KEY, action TEXT NOT NULL, ban_key TEXT NOT NULL, reason TEXT NOT NULL, source TEXT NOT NULL,
        instance_id TEXT NOT NULL, at INTEGER NOT NULL, until INTEGER,
        UNIQUE (instance_id, ban_key, action, at))`,
      `CREATE INDEX bans_key ON bans (ban_key, at)`,
    ],
    postgres: [
      `CREATE TABLE bans (
        id BIGSERIAL PRIMARY KEY, action TEXT NOT NULL, ban_key TEXT NOT NULL, reason TEXT NOT NULL, source TEXT NOT NULL,
        instance_id TEXT NOT NULL, at BIGINT NOT NULL, until BIGINT,
        UNIQUE (instance_id, ban_key, action, at))`,
      `CREATE INDEX bans_key ON bans (ban_key, at)`,
      ],
    },
    {
    // Work service credit (docs/ledger.md "Work credit"). IF NOT EXISTS: a SQLite file the work service's former
    // own credit book wrote (same tables, same columns) is adopted as it is, its credit kept.
    version: 3,
    sqlite: [
      `CREATE TABLE IF NOT EXISTS work_credits (
        key TEXT PRIMARY KEY, address TEXT NOT NULL, hash TEXT NOT NULL, work_type TEXT NOT NULL,
        difficulty TEXT NOT NULL, micro_units INTEGER NOT NULL, at INTEGER NOT NULL)`,
      `CREATE INDEX IF NOT EXISTS work_credits_address ON work_credits (address)`,
      `CREATE TABLE IF NOT EXISTS work_payouts (
        reference TEXT PRIMARY KEY, address TEXT NOT NULL, micro_amount INTEGER NOT NULL, at INTEGER NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS work_workers (
        address TEXT PRIMARY KEY, precache INTEGER NOT NULL DEFAULT 0, ondemand INTEGER NOT NULL DEFAULT 0,
        micro_credited INTEGER NOT NULL DEFAULT 0, micro_paid INTEGER NOT NULL DEFAULT 0, last_hash TEXT NOT NULL DEFAULT '')`,
    ],
    postgres: [
      `CREATE TABLE IF NOT EXISTS work_credits (
        key TEXT PRIMARY KEY, address TEXT NOT NULL, hash TEXT NOT NULL, work_type TEXT NOT NULL,
        difficulty TEXT NOT NULL, micro_units BIGINT NOT NULL, at BIGINT NOT NULL)`,
      `CREATE INDEX IF NOT EXISTS work_credits_address ON work_credits (address)`,
      `CREATE TABLE IF NOT EXISTS work_payouts (
        reference TEXT PRIMARY KEY, address TEXT NOT NULL, micro_amount BIGINT NOT NULL, at BIGINT NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS work_workers (
        address TEXT PRIMARY KEY, precache BIGINT NOT NULL DEFAULT 0, ondemand BIGINT NOT NULL DEFAULT 0,
        micro_credited BIGINT NOT NULL DEFAULT 0, micro_paid BIGINT NOT NULL DEFAULT 0, last_hash TEXT NOT NULL DEFAULT '')`,
    ],
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

export function newerSchemaMessage(found: number): string {
  return (
    `ledger database is at schema version ${found}, newer than this equigate understands (${LATEST_SCHEMA_VERSION}); ` +
    'run the equigate version that wrote it, or point ledger.url at another database'
  );
}

/**
 * Block lifecycle upsert: a late 'submitted' never overwrites the node's verdict, and 'accepted' is final. Two
 * solutions of one nonce can both be candidates under one key (upstream job id, nonce); the node accepts at most
 * one, and the books keep that verdict (docs/ledger.md "Blocks").
 */
const KEEP_BLOCK = `blocks.status = 'accepted' OR excluded.status = 'submitted'`;
export const BLOCK_UPSERT_SET_SQL =
  `status = CASE WHEN ${KEEP_BLOCK} THEN blocks.status ELSE excluded.status END, ` +
  `node_code = CASE WHEN ${KEEP_BLOCK} THEN blocks.node_code ELSE excluded.node_code END, ` +
  `block_hash = COALESCE(blocks.block_hash, excluded.block_hash), updated_at = excluded.updated_at`;
