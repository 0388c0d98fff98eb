// PostgreSQL for the ledger tests. The shared server's URL comes from EQUIGATE_TEST_PG_URL (.ci/postgres.sh starts
// one and prints it); without it the PostgreSQL tests are skipped with a line saying how to run them, except in CI
// (CI=1), where a missing server fails. Each test gets its own database. The outage test starts a private cluster
// of its own (initdb + pg_ctl from /usr/lib/postgresql/*/bin) so it can stop it without disturbing other tests.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './net.js';

export const PG_URL_ENV = 'EQUIGATE_TEST_PG_URL';
export const PG_SKIP_REASON = `PostgreSQL tests skipped: run \`eval "$(.ci/postgres.sh | tail -1 | sed 's/^/export /')"\` then npm test (CI always runs them)`;

/** The server URL, or undefined when PG tests should be skipped (in CI a missing URL throws instead). */
export function pgServerUrl(): string | undefined {
  const url = process.env[PG_URL_ENV];
  if ((url === undefined || url === '') && process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== '0') {
    throw new Error(`${PG_URL_ENV} is not set but CI is: .ci/run must start PostgreSQL (.ci/postgres.sh)`);
  }
  return url === '' ? undefined : url;
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** A fresh database on the server; dropped by the returned function. */
export async function freshDatabase(serverUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `equigate_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(serverUrl, name),
    drop: async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

function pgBinDir(): string {
  const root = '/usr/lib/postgresql';
  assert.ok(existsSync(root), 'PostgreSQL binaries not found under /usr/lib/postgresql (apt-get install postgresql)');
  const versions = readdirSync(root).sort((a, b) => Number(a) - Number(b));
  return path.join(root, versions[versions.length - 1] ?? '', 'bin');
}

/** A throwaway cluster on 127.0.0.1 that a test may stop and start (the server runs as `postgres` under root). */
export class PrivateCluster {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
  ) {}

  get url(): string {
    return `postgres://equigate@127.0.0.1:${this.port}/postgres`;
  }

  static async create(): Promise<PrivateCluster> {
    const bin = pgBinDir();
    const dir = mkdtempSync(path.join(tmpdir(), 'equigate-pgc-'));
    chmodSync(dir, 0o777);
    const cluster = new PrivateCluster(path.join(dir, 'data'), await freePort(), bin);
    cluster.run('initdb', ['-D', cluster.dir, '-U', 'equigate', '--auth=trust', '-E', 'UTF8']);
    cluster.start();
    return cluster;
  }

  private run(tool: string, args: string[]): void {
    const cmd = path.join(this.bin, tool);
    const asRoot = process.getuid?.() === 0;
    execFileSync(asRoot ? 'runuser' : cmd, asRoot ? ['-u', 'postgres', '--', cmd, ...args] : args, { stdio: 'pipe', timeout: 60_000 });
  }

  start(): void {
    this.run('pg_ctl', ['-D', this.dir, '-l', path.join(this.dir, '..', 'server.log'), '-w', '-t', '60', 'start', '-o', `-c listen_addresses=127.0.0.1 -p ${this.port} -k ${path.dirname(this.dir)}`]);
  }

  /** Fast shutdown: open connections are terminated, as when an operator restarts the server. */
  stop(): void {
    this.run('pg_ctl', ['-D', this.dir, '-w', '-t', '60', '-m', 'fast', 'stop']);
  }

  destroy(): void {
    try {
      this.stop();
    } catch {
      // already stopped
    }
    rmSync(path.dirname(this.dir), { recursive: true, force: true });
  }
}

/** One ledger backend for a suite run against both: a fresh, empty location per test, removed after it. */
export interface LedgerBackend {
  readonly name: 'sqlite' | 'postgres';
  /** The reason to skip (no PostgreSQL outside CI), else false. */
  readonly skip: string | false;
  url(t: { after: (fn: () => unknown) => void }): Promise<string>;
}

/** SQLite in a temporary directory and a fresh database on the test PostgreSQL server. */
export function ledgerBackends(): LedgerBackend[] {
  const server = pgServerUrl();
  return [
    {
      name: 'sqlite',
      skip: false,
      url: (t) => {
        const dir = mkdtempSync(path.join(tmpdir(), 'equigate-books-'));
        t.after(() => rmSync(dir, { recursive: true, force: true }));
        return Promise.resolve(`sqlite:${path.join(dir, 'books.sqlite')}`);
      },
    },
    {
      name: 'postgres',
      skip: server === undefined ? PG_SKIP_REASON : false,
      url: async (t) => {
        const db = await freshDatabase(server ?? '');
        t.after(() => db.drop());
        return db.url;
      },
    },
  ];
}
