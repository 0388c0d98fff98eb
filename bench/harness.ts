// What the gateway benchmarks share: SimNode ← Gateway on 127.0.0.1 in this process, client load in child
// processes (the fd limit forbids 10,000 sessions on both sides of one process), a clock both sides read, and
// cleanup that kills every child even when the run fails. Not a benchmark itself (no run()).
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { loadConfig } from '../src/config/load.js';
import { createLogger, silentLogger } from '../src/config/logger.js';
import type { LogLevel } from '../src/config/schema.js';
import { Gateway } from '../src/Gateway.js';
import { SimNode, type SimNodeOptions } from '../src/sim/SimNode.js';
import { Teardown } from '../test/support/e2e.js';
import { freePort } from '../test/support/net.js';
import type { ChildToParent, ParentToChild } from './clients/protocol.js';

export { wallClockMs } from './clients/protocol.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface Stack {
  readonly node: SimNode;
  readonly gateway: Gateway;
  readonly stratumPort: number;
}

/** SimNode (plain TCP, devnet) and a gateway in front of it through NodeLink; resolves once the gateway has a job. */
/**
 * `ledgerUrl`: the gateway's books (default none: benchmarks measure the gateway alone unless they ask; bench/ledger
 * runs with them on and off).
 */
export async function startStack(node: SimNodeOptions, stratum: Record<string, unknown>, cleanup: Teardown, ledgerUrl = 'none'): Promise<Stack> {
  const sim = await SimNode.start({ chain: 'devnet', tls: false, blockIntervalMs: 0, ...node });
  cleanup.defer(() => sim.stop());
  const config = loadConfig({
    overrides: {
      chain: 'devnet',
      log: { level: 'silent' },
      upstream: { host: '127.0.0.1', port: sim.port, tls: false, reconnectMinMs: 50, reconnectMaxMs: 200 },
      stratum: { host: '127.0.0.1', port: await freePort(), ...stratum },
      http: { port: 0 },
      events: { wsPort: 0 },
      shutdownTimeoutMs: 2000,
      ledger: { url: ledgerUrl },
    },
    args: [],
    env: {},
  });
  // BENCH_LOG=info (or debug, …): the gateway's log on stderr, to see why a run went wrong.
  const logLevel = process.env.BENCH_LOG as LogLevel | undefined;
  const gateway = await Gateway.start(config, { logger: logLevel === undefined ? silentLogger() : createLogger(logLevel, process.stderr) });
  cleanup.defer(() => gateway.stop());
  await until(() => gateway.jobs.current !== undefined, 10_000, 'the gateway got no job from the node');
  const stratumPort = gateway.ports.tcp;
  if (stratumPort === undefined) throw new Error('no tcp listener');
  return { node: sim, gateway, stratumPort };
}

/**
 * Runs `body` with a teardown that always runs (children killed, gateway and node stopped); past `limitMs` the
 * process gives up, tears down and exits 1, so a benchmark never hangs.
 */
export async function bounded(name: string, limitMs: number, body: (cleanup: Teardown) => Promise<string>): Promise<string> {
  const cleanup = new Teardown();
  const hardStop = setTimeout(() => {
    process.stderr.write(`${name}: over ${limitMs / 1000} s, giving up\n`);
    void cleanup.run().finally(() => process.exit(1));
  }, limitMs);
  try {
    return await body(cleanup);
  } finally {
    clearTimeout(hardStop);
    await cleanup.run();
  }
}

/** A client process (bench/clients/<name>.ts under tsx), killed by `cleanup` if it is still running. */
export class Client {
  private readonly listeners = new Set<(message: ChildToParent) => void>();
  private exited = false;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: ChildToParent) => {
      for (const listener of this.listeners) listener(message);
    });
    child.on('exit', () => {
      this.exited = true;
    });
  }

  static start(name: string, cleanup: Teardown): Client {
    const child = fork(path.join(here, 'clients', `${name}.ts`), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const client = new Client(child);
    cleanup.defer(() => client.kill());
    return client;
  }

  send(message: ParentToChild): void {
    this.child.send(message);
  }

  /** The next message `accept` returns a value for, within `timeoutMs`; rejects if the child exits first. */
  next<T>(accept: (message: ChildToParent) => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        this.child.off('exit', onExit);
      };
      const listener = (message: ChildToParent): void => {
        if (message.type === 'error') {
          done();
          reject(new Error(`client: ${message.message}`));
          return;
        }
        const value = accept(message);
        if (value === undefined) return;
        done();
        resolve(value);
      };
      const onExit = (code: number | null): void => {
        done();
        reject(new Error(`client exited (${code}) while waiting for ${what}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.listeners.add(listener);
      this.child.on('exit', onExit);
    });
  }

  /** Asks the child to exit, then SIGKILLs it if it has not within 3 s. */
  async kill(): Promise<void> {
    if (this.exited || this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    if (this.child.connected) this.child.send({ type: 'exit' } satisfies ParentToChild);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}

/** Polls `ready` every 20 ms; throws after `timeoutMs`. */
export async function until(ready: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(20);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A full GC, without needing --expose-gc on the command line. */
export function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  const gc: unknown = vm.runInNewContext('gc');
  if (typeof gc === 'function') {
    gc();
    gc();
  }
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** A whole-number environment knob, or its default. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

export const fmt = (x: number, digits = 0): string =>
  x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
