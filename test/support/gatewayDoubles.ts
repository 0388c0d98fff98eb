// Test doubles shared by the gateway-core unit tests (no tests of its own): an in-test Upstream, a LineConnection
// that records what was sent, and a polling wait.
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { CloseReason, LineConnection, LineHandler } from '../../src/transports/types.js';
import type { BlockSubmitOutcome, Upstream, UpstreamEvents, UpstreamJob } from '../../src/upstream/types.js';

export interface SubmittedBlock {
  readonly upstreamJobId: string;
  readonly nonce: string;
  readonly output: string;
}

export class FakeUpstream extends EventEmitter<UpstreamEvents> implements Upstream {
  isUp = true;
  readonly submitted: SubmittedBlock[] = [];
  outcome: BlockSubmitOutcome = { status: 'accepted', code: 1, blockHash: 'ab'.repeat(32) };
  private nextJobId = 1;

  start(): void {}
  async stop(): Promise<void> {}

  submitBlock(upstreamJobId: string, nonce: string, output: string): Promise<BlockSubmitOutcome> {
    this.submitted.push({ upstreamJobId, nonce, output });
    return Promise.resolve(this.outcome);
  }

  login(noncePrefix = '', forkHeight?: number, forkHeight2?: number): void {
    this.emit('login', { noncePrefix, forkHeight, forkHeight2 });
  }

  /** Emits a node job; returns it. `difficulty` is the packed block target. */
  job(height: number, difficulty = 0, input = randomBytes(32).toString('hex')): UpstreamJob {
    const job: UpstreamJob = { id: String(this.nextJobId++), input, difficulty, height };
    this.emit('job', job);
    return job;
  }
}

export type Json = Record<string, unknown>;

export class RecordingConnection implements LineConnection {
  readonly lines: string[] = [];
  closed = false;
  closeReason: CloseReason | undefined;
  handler: LineHandler | undefined;
  readonly remoteAddress = '127.0.0.1';
  readonly transport = 'tcp' as const;

  constructor(readonly id: number) {}

  get remote(): string {
    return `127.0.0.1:${40000 + this.id}`;
  }

  send(line: string): boolean {
    if (this.closed) return false;
    this.lines.push(line);
    return true;
  }

  /** Like a transport: the handler hears of the close once the socket is gone (a tick later). */
  close(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    queueMicrotask(() => this.handler?.onClose(reason));
  }

  /** Simulates the peer sending a line. */
  receive(line: string): void {
    this.handler?.onLine(line);
  }

  messages(): Json[] {
    return this.lines.map((line) => JSON.parse(line) as Json);
  }

  byMethod(method: string): Json[] {
    return this.messages().filter((message) => message.method === method);
  }
}

export { waitFor } from './wait.js';
