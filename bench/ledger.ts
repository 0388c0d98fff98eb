// The books under load (docs/ledger.md). Three figures:
// 1. sustained shares/s into each backend through the ledger's group commit (record() resolved = committed):
//    a closed loop keeping BENCH_LEDGER_INFLIGHT shares outstanding for BENCH_LEDGER_MS (targets ≥ 20,000/s SQLite,
//    ≥ 10,000/s PostgreSQL);
// 2. what the ledger adds to a miner's `1 accepted`: one TCP session sends real devnet solutions one at a time
//    through SimNode ← Gateway, ledger off vs SQLite vs PostgreSQL, p50/p99 over BENCH_LATENCY_SAMPLES answers;
// 3. bench/shares end to end with the books off and on (SQLite) in the same run, alternating, BENCH_LEDGER_SHARES_ROUNDS
//    (4) times each (target ≥ 80 %).
// PostgreSQL: BENCH_PG_URL or EQUIGATE_TEST_PG_URL (.ci/postgres.sh prints one); without it its rows say so.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { silentLogger } from '../src/config/logger.js';
import { LEDGER_DEFAULTS, openLedger } from '../src/ledger/Ledger.js';
import type { ShareRecord } from '../src/ledger/types.js';
import { NativeVariant } from '../src/pow/nativeLayout.js';
import { SolverPool } from '../src/sim/refminer/SolverPool.js';
import { bounded, envInt, fmt, percentile, startStack } from './harness.js';
import { measureShares } from './shares.js';

const PG_URL = process.env.BENCH_PG_URL ?? process.env.EQUIGATE_TEST_PG_URL;

function freshSqliteUrl(): { url: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'equigate-bench-ledger-'));
  return { url: `sqlite:${path.join(dir, 'books.sqlite')}`, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A database of its own on the PG server (dropped after). */
async function freshPgUrl(server: string): Promise<{ url: string; remove: () => Promise<void> }> {
  const name = `equigate_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(server);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    remove: async () => {
      const c = new pg.Client({ connectionString: server });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

let seq = 0;
function syntheticShare(): ShareRecord {
  seq += 1;
  return {
    miner: `miner-${seq % 500}`,
    worker: '',
    sessionId: seq % 2000,
    transport: 'tcp',
    jobId: String(Math.floor(seq / 10_000)),
    upstreamJobId: String(Math.floor(seq / 10_000)),
    height: 1000 + Math.floor(seq / 10_000),
    nonce: seq.toString(16).padStart(16, '0'),
    outputHash: randomBytes(32).toString('hex'),
    sharePacked: 0,
    achievedDifficulty: 3.5,
    isBlockCandidate: false,
    at: Date.now(),
  };
}

async function sustained(url: string, durationMs: number, inflight: number): Promise<{ rate: number; recorded: number; other: number }> {
  const ledger = await openLedger({ ...LEDGER_DEFAULTS, url, maxBufferedShares: inflight * 2 }, { instanceId: '', logger: silentLogger() });
  if (ledger === undefined) throw new Error('no ledger');
  let recorded = 0;
  let other = 0;
  let running = true;
  const t0 = performance.now();
  const lane = async (): Promise<void> => {
    while (running) {
      const outcome = await ledger.record(syntheticShare());
      if (outcome === 'recorded') recorded++;
      else other++;
    }
  };
  const lanes = Array.from({ length: inflight }, () => lane());
  await new Promise((r) => setTimeout(r, durationMs));
  const countedAt = performance.now();
  const counted = recorded;
  running = false;
  await Promise.all(lanes);
  await ledger.close();
  return { rate: (counted * 1000) / (countedAt - t0), recorded, other };
}

/** One session, one solution at a time: ms from write to its result line. */
async function acceptLatency(ledgerUrl: string, samples: number): Promise<{ p50: number; p99: number; accepted: number }> {
  const out = { p50: 0, p99: 0, accepted: 0 };
  await bounded('ledger-latency', 180_000, async (cleanup) => {
    // One session answering back to back is far over abuse control's per-session rate cap: off, as in bench/shares.
    const { stratumPort } = await startStack({ difficulty: 2 ** 40 }, { shareDifficulty: 1, bans: { enabled: false, maxSolutionsPerSecond: 0 } }, cleanup, ledgerUrl);
    const socket = net.connect(stratumPort, '127.0.0.1');
    socket.setNoDelay(true);
    cleanup.defer(() => {
      socket.destroy();
    });
    let buffered = '';
    let waiter: ((line: string) => void) | undefined;
    const lines: string[] = [];
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) {
        if (waiter !== undefined && line.includes('"method":"result"')) {
          const w = waiter;
          waiter = undefined;
          w(line);
        } else {
          lines.push(line);
        }
      }
    });
    let closedWhy: string | undefined;
    let failWaiter: ((err: Error) => void) | undefined;
    socket.on('close', () => {
      closedWhy = `the gateway closed the bench session (last lines: ${lines.slice(-2).join(' | ')})`;
      failWaiter?.(new Error(closedWhy));
    });
    const nextResult = (): Promise<string> =>
      new Promise((resolve, reject) => {
        if (closedWhy !== undefined) return reject(new Error(closedWhy));
        waiter = resolve;
        failWaiter = reject;
      });
    socket.write('{"method":"login","api_key":"bench-latency-key","id":"login","jsonrpc":"2.0"}\n');
    const login = JSON.parse(await nextResult()) as { nonceprefix?: string };
    while (!lines.some((l) => l.includes('"method":"job"'))) await new Promise((r) => setTimeout(r, 10));
    const job = JSON.parse(lines.filter((l) => l.includes('"method":"job"')).at(-1) ?? '{}') as { id: string; input: string; nonceprefix?: string };
    const prefix = job.nonceprefix ?? login.nonceprefix ?? '';
    const solver = new SolverPool(2);
    cleanup.defer(() => solver.close());
    const solutions: Array<{ nonce: string; output: string }> = [];
    for (let i = 1; solutions.length < samples; i++) {
      const nonce = prefix + i.toString(16).padStart(16 - prefix.length, '0');
      for (const s of await solver.solve(NativeVariant.Devnet, job.input, nonce)) solutions.push({ nonce, output: s.output });
    }
    const times: number[] = [];
    for (const s of solutions.slice(0, samples)) {
      const t0 = performance.now();
      socket.write(`{"method":"solution","id":"${job.id}","nonce":"${s.nonce}","output":"${s.output}","jsonrpc":"2.0"}\n`);
      const result = await nextResult();
      times.push(performance.now() - t0);
      if (result.includes('"code":1,') || result.includes('"code":1}')) out.accepted++;
    }
    times.sort((a, b) => a - b);
    out.p50 = percentile(times, 50);
    out.p99 = percentile(times, 99);
    return '';
  });
  return out;
}

function progress(text: string): void {
  process.stderr.write(`ledger bench: ${text}\n`);
}

export async function run(): Promise<string> {
  const durationMs = envInt('BENCH_LEDGER_MS', 5000);
  const inflight = envInt('BENCH_LEDGER_INFLIGHT', 8000);
  const samples = envInt('BENCH_LATENCY_SAMPLES', 2000);
  const rows: string[] = [];

  progress('sustained shares/s into SQLite');
  const sqlite = freshSqliteUrl();
  const s = await sustained(sqlite.url, durationMs, inflight);
  sqlite.remove();
  rows.push(`| sustained shares/s into SQLite (WAL, synchronous=NORMAL), group commit, ${fmt(inflight)} outstanding, ${fmt(durationMs / 1000)} s | ${fmt(s.rate)} (not recorded: ${fmt(s.other)}) |`);
  if (PG_URL !== undefined) {
    progress('sustained shares/s into PostgreSQL');
    const db = await freshPgUrl(PG_URL);
    const p = await sustained(db.url, durationMs, inflight);
    await db.remove();
    rows.push(`| sustained shares/s into PostgreSQL (loopback, synchronous_commit on), same load | ${fmt(p.rate)} (not recorded: ${fmt(p.other)}) |`);
  } else {
    rows.push('| sustained shares/s into PostgreSQL | not run: set BENCH_PG_URL or EQUIGATE_TEST_PG_URL (.ci/postgres.sh) |');
  }

  progress('latency of 1 accepted: off, SQLite, PostgreSQL');
  const off = await acceptLatency('none', samples);
  const sqliteLat = freshSqliteUrl();
  const on = await acceptLatency(sqliteLat.url, samples);
  sqliteLat.remove();
  rows.push(`| \`1 accepted\` latency, one session, one solution at a time, ledger off: p50 / p99 | ${fmt(off.p50, 2)} / ${fmt(off.p99, 2)} ms (${fmt(off.accepted)} accepted) |`);
  rows.push(`| same, SQLite ledger on: p50 / p99 (added: p50 +${fmt(on.p50 - off.p50, 2)}, p99 +${fmt(on.p99 - off.p99, 2)} ms) | ${fmt(on.p50, 2)} / ${fmt(on.p99, 2)} ms (${fmt(on.accepted)} accepted) |`);
  if (PG_URL !== undefined) {
    const db = await freshPgUrl(PG_URL);
    const onPg = await acceptLatency(db.url, samples);
    await db.remove();
    rows.push(`| same, PostgreSQL ledger on: p50 / p99 (added: p50 +${fmt(onPg.p50 - off.p50, 2)}, p99 +${fmt(onPg.p99 - off.p99, 2)} ms) | ${fmt(onPg.p50, 2)} / ${fmt(onPg.p99, 2)} ms (${fmt(onPg.accepted)} accepted) |`);
  }

  // Off and on alternate (rounds × 2 runs), so load from elsewhere on the machine and warm-up hit both alike.
  const rounds = envInt('BENCH_LEDGER_SHARES_ROUNDS', 4);
  const offRates: number[] = [];
  const onRates: number[] = [];
  let sharesOff = { text: '', rate: 0 };
  let sharesOn = { text: '', rate: 0 };
  for (let r = 0; r < rounds; r++) {
    progress(`bench/shares round ${r + 1}/${rounds}: ledger off, then SQLite on`);
    sharesOff = await measureShares('none');
    offRates.push(sharesOff.rate);
    const sqliteShares = freshSqliteUrl();
    sharesOn = await measureShares(sqliteShares.url);
    sqliteShares.remove();
    onRates.push(sharesOn.rate);
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  rows.push(`| bench/shares end to end, ledger off (${rounds} runs) | ${offRates.map((x) => fmt(x)).join(' / ')} accepted/s, mean ${fmt(mean(offRates))} |`);
  rows.push(`| bench/shares end to end, SQLite ledger on (${rounds} runs, alternating with off) | ${onRates.map((x) => fmt(x)).join(' / ')} accepted/s, mean ${fmt(mean(onRates))} = ${fmt((100 * mean(onRates)) / mean(offRates), 1)} % of off (each pair: ${onRates.map((x, i) => `${fmt((100 * x) / (offRates[i] ?? 1), 0)} %`).join(' / ')}) |`);

  return [`Ledger (node ${process.version}):`, '', '| figure | value |', '|---|---:|', ...rows, '', 'bench/shares, last run with the ledger off:', sharesOff.text, '', 'bench/shares, last run with the ledger on:', sharesOn.text].join('\n');
}
