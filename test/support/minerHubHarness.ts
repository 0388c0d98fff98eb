// A real MinerHub (sessions, JobBook, the native verifier) in front of an in-test upstream, with connections that
// record what they are sent: the gateway core without sockets, for the session and share-path unit tests and the
// session fuzzers (test/support/fuzzers.ts SessionFuzzRig).
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/config/logger.js';
import { EventBus, type BlockEvent, type SessionEvent, type ShareEvent } from '../../src/events/EventBus.js';
import { JobBook } from '../../src/jobs/JobBook.js';
import type { ApiKeyChecker } from '../../src/stratum/ApiKeys.js';
import { MinerHub, type MinerHubStratumConfig } from '../../src/stratum/MinerHub.js';
import type { NativeVerdict, SolutionInput, SolutionVerifier } from '../../src/pow/types.js';
import { VerifierPool } from '../../src/pow/VerifierPool.js';
import { encodeMessage } from '../../src/protocol/messages.js';
import { ResultCode } from '../../src/protocol/resultCodes.js';
import { FakeUpstream, RecordingConnection } from './gatewayDoubles.js';

/** The one api key the harness lets in unless given other `apiKeys`. */
export const MINER_KEY = 'miner-key-0001';

/**
 * The real verifier pool, with two switches: `failNext` rejects the next solution (an unavailable verifier), and
 * while `hold` is set, verification waits for it (solutions stay pending in the pipeline).
 */
export class HoldingVerifier implements SolutionVerifier {
  readonly pool: VerifierPool;
  failNext = false;
  hold: Promise<void> | undefined;
  constructor(maxQueued = 16_384) {
    this.pool = new VerifierPool({ concurrency: 1, maxQueued });
  }
  verify(solution: SolutionInput): Promise<NativeVerdict> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('queue full'));
    }
    const hold = this.hold;
    return hold === undefined ? this.pool.verify(solution) : hold.then(() => this.pool.verify(solution));
  }
  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Stratum settings (each defaulted below) and the hub's other knobs the tests turn. */
export interface MinerHubHarnessOptions extends Partial<MinerHubStratumConfig> {
  readonly instanceId?: string;
  readonly jobHistory?: number;
  readonly apiKeys?: ApiKeyChecker;
  readonly maxSharesPerJob?: number;
  /** The verifier pool's queue bound. */
  readonly maxQueued?: number;
  readonly verifierWindow?: number;
}

export class MinerHubHarness {
  readonly upstream = new FakeUpstream();
  readonly bus = new EventBus();
  readonly verifier: HoldingVerifier;
  readonly jobs: JobBook;
  readonly hub: MinerHub;
  readonly shares: ShareEvent[] = [];
  readonly blocks: BlockEvent[] = [];
  readonly sessionEvents: Array<{ kind: string; event: SessionEvent }> = [];
  private nextConnectionId = 1;

  constructor(options: MinerHubHarnessOptions = {}) {
    const logger = silentLogger();
    const { instanceId = '0a', jobHistory = 64, apiKeys, maxSharesPerJob, maxQueued, verifierWindow, ...stratum } = options;
    this.verifier = new HoldingVerifier(maxQueued);
    this.jobs = new JobBook({ chain: 'devnet', minerJobLatencyMs: 0, jobHistory, upstream: this.upstream, bus: this.bus, logger, maxSharesPerJob });
    this.hub = new MinerHub({
      stratum: {
        noncePrefixDigits: 4,
        shareDifficulty: 1,
        loginTimeoutMs: 60_000,
        malformedBudget: 10,
        maxPendingSolutions: 64,
        maxPendingSolutionsPerIp: 1024,
        maxPendingSolutionsTotal: 16_384,
        ...stratum,
      },
      instanceId,
      chain: 'devnet',
      jobs: this.jobs,
      upstream: this.upstream,
      verifier: this.verifier,
      apiKeys: apiKeys ?? { openAccess: false, isAllowed: (key) => key === MINER_KEY },
      bus: this.bus,
      logger,
      verifierWindow,
    });
    this.bus.subscribe('share', 'test', (event) => this.shares.push(event));
    this.bus.subscribe('block', 'test', (event) => this.blocks.push(event));
    for (const kind of ['session.open', 'session.login', 'session.close'] as const) {
      this.bus.subscribe(kind, 'test', (event) => this.sessionEvents.push({ kind, event }));
    }
  }

  /** A new connection to the hub from `address` (the hub groups pending solutions by address). */
  connect(address = '127.0.0.1'): RecordingConnection {
    const connection = new RecordingConnection(this.nextConnectionId++);
    Object.defineProperty(connection, 'remoteAddress', { value: address });
    connection.handler = this.hub.accept(connection);
    return connection;
  }

  /** Connects and logs in (asserting the login is accepted); returns the connection and its nonce prefix. */
  loggedIn(address = '127.0.0.1'): { connection: RecordingConnection; prefix: string } {
    const connection = this.connect(address);
    connection.receive(encodeMessage({ method: 'login', id: 'login', api_key: MINER_KEY }));
    const reply = connection.byMethod('result')[0];
    assert.equal(reply?.code, ResultCode.LoginOk);
    return { connection, prefix: String(reply.nonceprefix ?? '') };
  }

  async close(): Promise<void> {
    this.hub.close();
    this.jobs.close();
    await this.verifier.close();
  }
}
