// End-to-end plumbing: SimNode ← Gateway ← miners on real loopback sockets, a recorder of the gateway's event
// bus, and an ordered teardown so every test leaves nothing running.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../src/config/logger.js';
import { loadConfig } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/schema.js';
import { EventBus, type BlockEvent, type JobEvent, type SessionEvent, type ShareEvent, type UpstreamEvent } from '../../src/events/EventBus.js';
import { Gateway } from '../../src/Gateway.js';
import { startMiners, type MinerGroup, type MinerOptions } from '../../src/sim/refminer/ReferenceMiner.js';
import { SimNode, type SimNodeOptions } from '../../src/sim/SimNode.js';
import { freePort, type Json } from './net.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const VECTORS_FILE = path.resolve(REPO_ROOT, 'test', 'vectors', 'beamhash.json');
export const GATEWAY_KEY = 'e2e-gateway-key';

/** Things to stop, stopped newest first; a failing stop is reported after the others ran. */
export class Teardown {
  private readonly steps: Array<() => Promise<void> | void> = [];

  defer(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    const errors: unknown[] = [];
    while (this.steps.length > 0) {
      const step = this.steps.pop();
      try {
        await step?.();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'teardown failed');
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function merge(base: Json, extra: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] = isObject(current) && isObject(value) ? merge(current, value) : value;
  }
  return out;
}

/**
 * A gateway config for `node`: stratum TCP on a free port of 127.0.0.1 (only that listener, unless overridden),
 * HTTP off, quick reconnects to the node. `overrides` uses the config's own nesting.
 */
export async function gatewayConfig(node: { port: number; tls: boolean }, overrides: Json = {}): Promise<GatewayConfig> {
  const base: Json = {
    chain: 'devnet',
    log: { level: 'silent' },
    upstream: { host: '127.0.0.1', port: node.port, tls: node.tls, apiKey: GATEWAY_KEY, reconnectMinMs: 50, reconnectMaxMs: 200 },
    stratum: { host: '127.0.0.1', port: await freePort() },
    http: { port: 0 },
    events: { wsPort: 0 },
    shutdownTimeoutMs: 2000,
    // Every test gateway keeps real books: its own SQLite file.
    ledger: { url: `sqlite:${path.join(mkdtempSync(path.join(tmpdir(), 'equigate-ledger-')), 'ledger.sqlite')}` },
  };
  return loadConfig({ overrides: merge(base, overrides), args: [], env: {} });
}

/** Everything the gateway announced, in order, for assertions after (or during) a run. */
export class EventLog {
  readonly jobs: JobEvent[] = [];
  readonly shares: ShareEvent[] = [];
  readonly blocks: BlockEvent[] = [];
  readonly opens: SessionEvent[] = [];
  readonly logins: SessionEvent[] = [];
  readonly closes: SessionEvent[] = [];
  readonly upstream: UpstreamEvent[] = [];
  /** Logins that got a prefix a live session already held (must stay empty). */
  readonly prefixClashes: string[] = [];
  /** Prefix of each logged-in session, by session id (kept after the session closed). */
  readonly prefixOf = new Map<number, string>();
  private readonly live = new Map<string, number>();

  constructor(readonly bus: EventBus) {
    bus.subscribe('job', 'test', (e) => this.jobs.push(e));
    bus.subscribe('share', 'test', (e) => this.shares.push(e));
    bus.subscribe('block', 'test', (e) => this.blocks.push(e));
    bus.subscribe('upstream', 'test', (e) => this.upstream.push(e));
    bus.subscribe('session.open', 'test', (e) => this.opens.push(e));
    bus.subscribe('session.login', 'test', (e) => {
      this.logins.push(e);
      const prefix = e.noncePrefix ?? '';
      const holder = this.live.get(prefix);
      if (holder !== undefined && holder !== e.sessionId) this.prefixClashes.push(`${prefix}: sessions ${holder} and ${e.sessionId}`);
      this.live.set(prefix, e.sessionId);
      this.prefixOf.set(e.sessionId, prefix);
    });
    bus.subscribe('session.close', 'test', (e) => {
      this.closes.push(e);
      const prefix = this.prefixOf.get(e.sessionId);
      if (prefix !== undefined && this.live.get(prefix) === e.sessionId) this.live.delete(prefix);
    });
  }

  sharesWith(code: number): ShareEvent[] {
    return this.shares.filter((s) => s.code === code);
  }

  /** The session the gateway opened for a client at `remote` ("127.0.0.1:PORT"). */
  sessionAt(remote: string): number | undefined {
    return this.opens.find((e) => e.remote === remote)?.sessionId;
  }

  closeOf(sessionId: number | undefined): SessionEvent | undefined {
    return this.closes.find((e) => e.sessionId === sessionId);
  }
}

export interface Stack {
  readonly node: SimNode;
  readonly gateway: Gateway;
  readonly events: EventLog;
  readonly config: GatewayConfig;
  /** stratum+tcp URL of the gateway. */
  readonly url: string;
}

/** A SimNode stopped by `teardown`. */
export async function startNode(teardown: Teardown, options: SimNodeOptions): Promise<SimNode> {
  const node = await SimNode.start(options);
  teardown.defer(() => node.stop());
  return node;
}

/** A Gateway in front of `node` (see gatewayConfig), recorded by an EventLog and stopped by `teardown`. */
export async function startGateway(teardown: Teardown, node: SimNode, overrides: Json = {}): Promise<Stack> {
  const config = await gatewayConfig({ port: node.port, tls: node.tls }, overrides);
  const bus = new EventBus();
  const events = new EventLog(bus);
  const gateway = await Gateway.start(config, { logger: silentLogger(), bus });
  teardown.defer(() => gateway.stop());
  return { node, gateway, events, config, url: `stratum+tcp://127.0.0.1:${gateway.ports.tcp ?? 0}` };
}

/** Starts SimNode, then a Gateway in front of it; both are stopped by `teardown`. */
export async function startStack(teardown: Teardown, nodeOptions: SimNodeOptions, overrides: Json = {}): Promise<Stack> {
  return startGateway(teardown, await startNode(teardown, nodeOptions), overrides);
}

/** Reference miners that stop with `teardown`; quick reconnects, no stats log. */
export function miners(teardown: Teardown, options: MinerOptions): MinerGroup {
  const group = startMiners({ statsIntervalMs: 0, reconnectMinMs: 50, reconnectMaxMs: 500, ...options });
  teardown.defer(() => group.stop());
  return group;
}
