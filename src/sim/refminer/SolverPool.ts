// A small pool of worker threads running the native devnet solver; many miner connections share 1–2 workers.
// Bounded queue, a timeout per task; a worker that hangs or dies is replaced.
import type { Worker } from 'node:worker_threads';
import { startModuleThread } from '../../threads/moduleThread.js';

export interface SolveTask {
  readonly id: number;
  readonly variant: number;
  readonly input: string;
  readonly nonce: string;
}

export interface FoundSolution {
  /** Hex. */
  readonly output: string;
  /** SHA-256(output), hex. */
  readonly hash: string;
}

export type SolveReply = { readonly id: number; readonly solutions: FoundSolution[] } | { readonly id: number; readonly error: string };

export class SolverError extends Error {
  constructor(
    readonly code: 'QUEUE_FULL' | 'TIMEOUT' | 'WORKER_FAILED' | 'CLOSED' | 'SOLVE_FAILED',
    message: string,
  ) {
    super(message);
    this.name = 'SolverError';
  }
}

interface Pending {
  readonly task: SolveTask;
  readonly resolve: (solutions: FoundSolution[]) => void;
  readonly reject: (err: SolverError) => void;
}

interface Slot {
  worker: Worker;
  busy: Pending | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Set by close() while the slot finishes its task. */
  onIdle?: () => void;
}

const MAX_CONSECUTIVE_FAILURES = 3;

export class SolverPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;
  /** Worker failures since the last good reply; past a few, respawns back off (e.g. addon being rebuilt). */
  private failures = 0;
  private readonly respawnTimers = new Set<NodeJS.Timeout>();

  constructor(
    size = 1,
    private readonly maxQueue = 4096,
    private readonly taskTimeoutMs = 30000,
  ) {
    for (let i = 0; i < Math.max(1, size); i++) this.slots.push(this.spawn());
  }

  /** Every solution of `variant` for input ‖ nonce (hex), found on a worker thread. */
  solve(variant: number, input: string, nonce: string): Promise<FoundSolution[]> {
    if (this.closed) return Promise.reject(new SolverError('CLOSED', 'solver pool closed'));
    if (this.queue.length >= this.maxQueue) return Promise.reject(new SolverError('QUEUE_FULL', `solver queue holds ${this.maxQueue} tasks`));
    return new Promise((resolve, reject) => {
      this.queue.push({ task: { id: this.nextId++, variant, input, nonce }, resolve, reject });
      this.pump();
    });
  }

  /**
   * Rejects queued tasks, lets running ones finish (bounded by the task timeout), then ends the workers.
   * A worker is never terminated mid-solve on purpose: the addon aborts the process when that happens.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.respawnTimers) clearTimeout(t);
    this.respawnTimers.clear();
    for (const p of this.queue.splice(0)) p.reject(new SolverError('CLOSED', 'solver pool closed'));
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.busy) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, this.taskTimeoutMs);
            slot.onIdle = () => {
              clearTimeout(t);
              resolve();
            };
          });
        }
        clearTimeout(slot.timer);
        slot.busy?.reject(new SolverError('CLOSED', 'solver pool closed'));
        slot.busy = undefined;
        await slot.worker.terminate();
      }),
    );
  }

  private spawn(): Slot {
    const slot: Slot = { worker: startModuleThread(import.meta.url, 'solverWorker'), busy: undefined, timer: undefined };
    slot.worker.on('message', (reply: SolveReply) => {
      const p = slot.busy;
      if (!p || p.task.id !== reply.id) return;
      clearTimeout(slot.timer);
      slot.busy = undefined;
      this.failures = 0;
      if ('error' in reply) p.reject(new SolverError('SOLVE_FAILED', reply.error));
      else p.resolve(reply.solutions);
      slot.onIdle?.();
      this.pump();
    });
    slot.worker.on('error', (err) => this.replace(slot, new SolverError('WORKER_FAILED', err.message)));
    slot.worker.on('exit', (code) => {
      if (!this.closed) this.replace(slot, new SolverError('WORKER_FAILED', `solver worker exited with ${code}`));
    });
    return slot;
  }

  /** Fails the slot's task and starts a fresh worker in its place. */
  private replace(slot: Slot, err: SolverError): void {
    clearTimeout(slot.timer);
    const p = slot.busy;
    slot.busy = undefined;
    p?.reject(err);
    const i = this.slots.indexOf(slot);
    if (i === -1 || this.closed) return;
    slot.worker.removeAllListeners();
    slot.worker.on('error', () => undefined);
    void slot.worker.terminate();
    if (++this.failures > MAX_CONSECUTIVE_FAILURES) {
      // Workers keep dying without a single answer: respawn later (0.25 s doubling to 10 s); tasks wait queued.
      this.slots.splice(i, 1);
      const delay = Math.min(10000, 250 * 2 ** Math.min(6, this.failures - MAX_CONSECUTIVE_FAILURES - 1));
      const t = setTimeout(() => {
        this.respawnTimers.delete(t);
        if (this.closed) return;
        this.slots.push(this.spawn());
        this.pump();
      }, delay);
      this.respawnTimers.add(t);
      return;
    }
    this.slots[i] = this.spawn();
    this.pump();
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.busy || this.queue.length === 0) continue;
      const p = this.queue.shift() as Pending;
      slot.busy = p;
      slot.timer = setTimeout(() => this.replace(slot, new SolverError('TIMEOUT', `solve took over ${this.taskTimeoutMs} ms`)), this.taskTimeoutMs);
      slot.worker.postMessage(p.task);
    }
  }
}
