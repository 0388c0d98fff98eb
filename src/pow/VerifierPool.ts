// The gateway's verification hot path: concurrent verify() calls are packed into shared record buffers
// and handed to the addon's worker-thread verifyBatch, one N-API call per batch (docs/decisions.md D3).
// Batching adapts to load: a batch leaves on the next setImmediate when a worker slot is free, otherwise it
// keeps filling until it is full or a slot frees up, so under load every native call carries a full batch.
import os from 'node:os';
import { packRecord, RECORD_STRIDE, RESULT_CODE, RESULT_HASH, RESULT_STRIDE, native, type NativeAddon } from './native.js';
import { PowError } from './errors.js';
import type { NativeVerdict, SolutionInput, SolutionVerifier } from './types.js';
import { lengthFailure, verdictFromNative } from './verifySolution.js';

const HASH_BYTES = RESULT_STRIDE - RESULT_HASH;

export interface VerifierPoolOptions {
  /** Batches in the addon at once, each on a libuv worker thread. Default: os.availableParallelism(). */
  readonly concurrency?: number;
  /** Solutions per native call. Default 256. */
  readonly batchSize?: number;
  /** Solutions waiting for a worker slot beyond which verify() rejects with code 'queue-full'. Default 16,384. */
  readonly maxQueued?: number;
  /** The addon (tests may wrap it); default the loaded one. */
  readonly addon?: NativeAddon;
}

interface Waiter {
  readonly resolve: (verdict: NativeVerdict) => void;
  readonly reject: (error: PowError) => void;
}

/** A batch owns its buffers; they are reused once its native call has completed. */
interface Batch {
  readonly records: Buffer;
  readonly results: Buffer;
  readonly waiters: Waiter[];
}

export class VerifierPool implements SolutionVerifier {
  private readonly addon: NativeAddon;
  private readonly concurrency: number;
  private readonly batchSize: number;
  private readonly maxQueued: number;
  /** Batch being filled by verify(); null until the first solution after a dispatch. */
  private filling: Batch | null = null;
  /** Full batches waiting for a worker slot, oldest first. */
  private readonly ready: Batch[] = [];
  private readonly spare: Batch[] = [];
  private inFlight = 0;
  /** Solutions accepted but not yet handed to the addon (in `filling` and `ready`). */
  private queued = 0;
  private flushScheduled = false;
  private closed = false;
  private readonly drained: Array<() => void> = [];

  constructor(options: VerifierPoolOptions = {}) {
    this.addon = options.addon ?? native;
    this.concurrency = positiveInteger(options.concurrency ?? os.availableParallelism(), 'concurrency');
    this.batchSize = positiveInteger(options.batchSize ?? 256, 'batchSize');
    this.maxQueued = positiveInteger(options.maxQueued ?? 16_384, 'maxQueued');
  }

  /** Solutions waiting for a worker slot (not counting those being verified). */
  get queueLength(): number {
    return this.queued;
  }

  verify(solution: SolutionInput): Promise<NativeVerdict> {
    if (this.closed) return Promise.reject(new PowError('closed', 'verifier pool is closed'));
    // Wrong lengths never reach the addon (they could not be packed into a record anyway).
    const lengthReason = lengthFailure(solution);
    if (lengthReason !== null) {
      return Promise.resolve({ powValid: false, reason: lengthReason, hash: this.addon.sha256(solution.output) });
    }
    if (this.queued >= this.maxQueued) {
      return Promise.reject(new PowError('queue-full', `verifier queue is full (${this.maxQueued} waiting)`));
    }
    const batch = (this.filling ??= this.spare.pop() ?? this.newBatch());
    writeRecord(batch.records, batch.waiters.length * RECORD_STRIDE, solution);
    const verdict = new Promise<NativeVerdict>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    this.queued += 1;
    if (batch.waiters.length === this.batchSize) {
      this.ready.push(batch);
      this.filling = null;
      this.pump();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.onFlushTick);
    }
    return verdict;
  }

  /** Stops accepting solutions and resolves once every accepted one has its verdict. */
  close(): Promise<void> {
    this.closed = true;
    this.pump();
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private readonly onFlushTick = (): void => {
    this.flushScheduled = false;
    this.pump();
  };

  /** Hands batches to free worker slots: full ones first, then the partly filled one. */
  private pump(): void {
    while (this.inFlight < this.concurrency) {
      let batch = this.ready.shift();
      if (batch === undefined && this.filling !== null) {
        batch = this.filling;
        this.filling = null;
      }
      if (batch === undefined) return;
      this.dispatch(batch);
    }
  }

  private dispatch(batch: Batch): void {
    const count = batch.waiters.length;
    this.queued -= count;
    this.inFlight += 1;
    try {
      this.addon.verifyBatch(batch.records, count, batch.results, (err) => this.complete(batch, err));
    } catch (err) {
      this.complete(batch, err);
    }
  }

  private complete(batch: Batch, err: unknown): void {
    this.inFlight -= 1;
    const { waiters, results } = batch;
    if (err) {
      const failure = new PowError('native-failed', 'native batch verification failed', { cause: err });
      for (const waiter of waiters) waiter.reject(failure);
    } else {
      for (let i = 0, at = 0; i < waiters.length; i += 1, at += RESULT_STRIDE) {
        const waiter = waiters[i] as Waiter;
        // The results buffer is reused, so each verdict gets its own copy of the hash.
        const hash = Buffer.allocUnsafe(HASH_BYTES);
        results.copy(hash, 0, at + RESULT_HASH, at + RESULT_STRIDE);
        try {
          waiter.resolve(verdictFromNative(results[at + RESULT_CODE] as number, hash));
        } catch (contractError) {
          waiter.reject(contractError as PowError);
        }
      }
    }
    waiters.length = 0;
    this.spare.push(batch);
    this.pump();
    if (this.closed && this.isIdle()) {
      for (const resolve of this.drained.splice(0)) resolve();
    }
  }

  private isIdle(): boolean {
    return this.inFlight === 0 && this.queued === 0;
  }

  private newBatch(): Batch {
    return {
      records: Buffer.alloc(this.batchSize * RECORD_STRIDE),
      results: Buffer.alloc(this.batchSize * RESULT_STRIDE),
      waiters: [],
    };
  }
}

/** Packs one length-checked solution at `at` (src/pow/nativeLayout.ts). */
function writeRecord(records: Buffer, at: number, solution: SolutionInput): void {
  packRecord(records, at, solution.variant.nativeId, solution.input, solution.nonce, solution.output);
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new PowError('bad-option', `VerifierPool ${name} must be a positive integer, got ${value}`);
  }
  return value;
}
