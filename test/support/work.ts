// Work-service plumbing for tests: the gateway with stratum off and the work service on (embedded aedes or an
// external Mosquitto), its RPC over real HTTP, reference workers, raw MQTT clients and payout addresses.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { silentLogger } from '../../src/config/logger.js';
import { loadConfig } from '../../src/config/load.js';
import { EventBus } from '../../src/events/EventBus.js';
import type { WorkEvent } from '../../src/events/topics.js';
import { Gateway } from '../../src/Gateway.js';
import type { Ledger } from '../../src/ledger/Ledger.js';
import { nanoWorkValue } from '../../src/pow/nano.js';
import { NanoWorker } from '../../src/sim/nanoworker/NanoWorker.js';
import { encodeAccount } from '../../src/work/account.js';
import type { WorkService } from '../../src/work/WorkService.js';
import type { WorkCreditBook } from '../../src/work/WorkCreditBook.js';
import { Teardown } from './e2e.js';
import { freePort, type Json } from './net.js';

export type BrokerKind = 'embedded' | 'external';

/** The external broker the suite runs against, from .ci/mosquitto.sh (credentials from its ACL set-up). */
export const EXTERNAL = {
  url: process.env.EQUIGATE_TEST_MQTT_URL ?? '',
  gatewayUser: process.env.EQUIGATE_TEST_MQTT_GATEWAY_USER ?? 'equigate',
  gatewayPassword: process.env.EQUIGATE_TEST_MQTT_GATEWAY_PASSWORD ?? 'equigate-test-gateway',
  workerUser: process.env.EQUIGATE_TEST_MQTT_WORKER_USER ?? 'client',
  workerPassword: process.env.EQUIGATE_TEST_MQTT_WORKER_PASSWORD ?? 'client',
};

/**
 * Whether the external-broker suite is skipped, and why. Outside CI a missing broker skips it with the command
 * that runs it; in CI (CI set) it must run, so a missing broker fails instead.
 */
export function externalSkip(): string | false {
  if (EXTERNAL.url !== '') return false;
  if (process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false') {
    throw new Error('CI: EQUIGATE_TEST_MQTT_URL is not set; .ci/run starts Mosquitto with .ci/mosquitto.sh first');
  }
  return 'no external broker: run `. .ci/mosquitto.sh` (installs and starts Mosquitto, exports EQUIGATE_TEST_MQTT_URL) to include it';
}

export function randomAddress(prefix: 'ban_' | 'nano_' = 'ban_'): string {
  return encodeAccount(randomBytes(32), prefix);
}

export function randomHash(): string {
  return randomBytes(32).toString('hex').toUpperCase();
}

/** A nonce (16 hex digits) whose value for `hash` satisfies `accept`, by brute force (keep `accept` cheap to hit). */
export function findWork(hash: string, accept: (value: bigint) => boolean, limit = 5_000_000): string {
  const root = Buffer.from(hash, 'hex');
  const start = randomBytes(8).readBigUInt64LE(0) >> 1n;
  for (let i = 0n; i < BigInt(limit); i++) {
    const work = (start + i).toString(16).padStart(16, '0');
    if (accept(nanoWorkValue(work, root))) return work;
  }
  throw new Error('no work found within the limit');
}

export interface WorkStack {
  readonly gateway: Gateway;
  readonly service: WorkService;
  /** The ledger's credit book the service writes through (stack.ledger.workCredits). */
  readonly credits: WorkCreditBook;
  readonly ledger: Ledger;
  /** Where the books are (sqlite:PATH or postgres://…). */
  readonly ledgerUrl: string;
  /** The work_credits rows of `hash`, read from the database itself (not through the gateway). */
  creditRows(hash: string): Promise<Array<{ address: string; work_type: string; micro_units: number }>>;
  readonly bus: EventBus;
  readonly workEvents: WorkEvent[];
  readonly mqttUrl: string;
  readonly workerUser: string;
  readonly workerPassword: string;
  readonly httpPort: number;
  /** POSTs `body` to / and returns the JSON answer. */
  rpc(body: Json): Promise<Json>;
  worker(options?: { threads?: number; work?: 'ondemand' | 'precache' | 'any'; address?: string }): Promise<NanoWorker>;
  /** A raw MQTT client logged in as a worker. */
  rawClient(): Promise<MqttClient>;
}

export interface WorkStackOptions {
  readonly broker: BrokerKind;
  readonly base?: string;
  readonly work?: Json;
  readonly mqtt?: Json;
  /** The books; default a fresh SQLite file in a temporary directory. */
  readonly ledgerUrl?: string;
}

export async function startWorkStack(options: WorkStackOptions, cleanup: Teardown): Promise<WorkStack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'equigate-work-'));
  cleanup.defer(() => rmSync(dir, { recursive: true, force: true }));
  const embedded = options.broker === 'embedded';
  const ledgerUrl = options.ledgerUrl ?? `sqlite:${path.join(dir, 'work.sqlite')}`;
  const mqttPort = embedded ? await freePort() : 0;
  const config = loadConfig({
    overrides: {
      log: { level: 'silent' },
      stratum: { enabled: false, host: '127.0.0.1', port: 0 },
      http: { host: '127.0.0.1', port: await freePort() },
      events: { wsPort: 0 },
      ledger: { url: ledgerUrl },
      mqtt: embedded
        ? { host: '127.0.0.1', port: mqttPort, workerUsername: 'client', workerPassword: 'client', ...options.mqtt }
        : { url: EXTERNAL.url, username: EXTERNAL.gatewayUser, password: EXTERNAL.gatewayPassword, ...options.mqtt },
      work: { enabled: true, baseDifficulty: options.base ?? 'fffffe0000000000', ...options.work },
      shutdownTimeoutMs: 2000,
    },
    args: [],
    env: {},
  });
  const bus = new EventBus();
  const workEvents: WorkEvent[] = [];
  bus.subscribe('work', 'test-recorder', (event) => {
    workEvents.push(event);
  });
  const gateway = await Gateway.start(config, { logger: silentLogger(), bus });
  cleanup.defer(() => gateway.stop());
  const side = gateway.work;
  if (side === undefined) throw new Error('work service not started');
  const ledger = gateway.ledger;
  if (ledger === undefined) throw new Error('gateway started without books');
  const mqttUrl = embedded ? `mqtt://127.0.0.1:${side.mqttPort ?? 0}` : EXTERNAL.url;
  const workerUser = embedded ? 'client' : EXTERNAL.workerUser;
  const workerPassword = embedded ? 'client' : EXTERNAL.workerPassword;
  return {
    gateway,
    service: side.runtime.service,
    credits: side.runtime.credits,
    ledger,
    ledgerUrl,
    creditRows: (hash) => readCreditRows(ledgerUrl, hash),
    bus,
    workEvents,
    mqttUrl,
    workerUser,
    workerPassword,
    httpPort: side.httpPort,
    async rpc(body: Json): Promise<Json> {
      const res = await fetch(`http://127.0.0.1:${side.httpPort}/`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      return (await res.json()) as Json;
    },
    async worker(workerOptions = {}): Promise<NanoWorker> {
      const worker = await NanoWorker.start({
        url: mqttUrl,
        address: workerOptions.address ?? randomAddress(),
        threads: workerOptions.threads ?? 1,
        work: workerOptions.work ?? 'any',
        username: workerUser,
        password: workerPassword,
      });
      cleanup.defer(() => worker.stop());
      return worker;
    },
    async rawClient(): Promise<MqttClient> {
      const client = await mqtt.connectAsync(mqttUrl, { username: workerUser, password: workerPassword, reconnectPeriod: 0 });
      client.on('error', () => undefined);
      cleanup.defer(() => client.endAsync(true));
      return client;
    },
  };
}

async function readCreditRows(url: string, hash: string): Promise<Array<{ address: string; work_type: string; micro_units: number }>> {
  const sql = 'SELECT address, work_type, micro_units FROM work_credits WHERE hash = $1 ORDER BY key';
  if (url.startsWith('sqlite:')) {
    const db = new Database(url.slice('sqlite:'.length), { readonly: true });
    try {
      return db.prepare(sql.replace('$1', '?')).all(hash) as Array<{ address: string; work_type: string; micro_units: number }>;
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const res = await client.query(sql, [hash]);
    return res.rows.map((r: Record<string, unknown>) => ({ address: String(r.address), work_type: String(r.work_type), micro_units: Number(r.micro_units) }));
  } finally {
    await client.end();
  }
}
