// Messages between a benchmark (parent) and its client processes, and the clock both sides read.

/**
 * Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine:
 * each process's performance.timeOrigin is read from the same system clock at its start.
 */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface SessionsStart {
  readonly type: 'start-sessions';
  readonly port: number;
  readonly sessions: number;
  /** Connections being opened at once (the listen backlog is finite). */
  readonly connectConcurrency: number;
}

export interface SharesStart {
  readonly type: 'start-shares';
  readonly port: number;
  readonly sessions: number;
  readonly solutionsPerSession: number;
  /** Solutions each session keeps unanswered (below stratum.maxPendingSolutions). */
  readonly inflight: number;
  readonly solverThreads: number;
}

/** The raw-socket floor (bench/clients/floor.ts): listen, then write one job to every socket when told. */
export type FloorCommand =
  | { readonly type: 'floor-listen' }
  | { readonly type: 'floor-job' };

export type ParentToChild =
  | SessionsStart
  | FloorCommand
  | SharesStart
  /** Shares: start sending now, for this long. */
  | { readonly type: 'go'; readonly windowMs: number }
  | { readonly type: 'exit' };

/** Per job, over the sessions of one client process: receipt times (wallClockMs). */
export interface JobReceipt {
  readonly type: 'job';
  readonly id: string;
  readonly count: number;
  readonly firstMs: number;
  readonly medianMs: number;
  readonly lastMs: number;
}

export interface SharesReport {
  readonly type: 'shares';
  /** Results received while the window was open, by result code. */
  readonly inWindow: Readonly<Record<string, number>>;
  /** All results, the drain after the window included, by result code. */
  readonly total: Readonly<Record<string, number>>;
  readonly sent: number;
  readonly windowMs: number;
  /** Accepted results per whole second of the window. */
  readonly perSecond: readonly number[];
  /** Set when every precomputed solution was sent before the window closed. */
  readonly poolExhaustedAtMs?: number;
  /** When the last result inside the window arrived, from the start. */
  readonly lastResultMs: number;
  /** Solutions sent but not answered within the drain bound. */
  readonly unanswered: number;
}

export type ChildToParent =
  | { readonly type: 'ready'; readonly loggedIn: number; readonly failed: number; readonly ms: number }
  | JobReceipt
  | { readonly type: 'solved'; readonly solutions: number; readonly ms: number }
  | SharesReport
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'floor-listening'; readonly port: number }
  /** The floor wrote one job to all its sockets: wallClockMs before the first write and after the last. */
  | { readonly type: 'floor-sent'; readonly id: string; readonly sockets: number; readonly sentAt: number; readonly writtenAt: number };

/** Child side: typed send to the parent; exits when the parent goes away or says so. */
export function childChannel(onMessage: (message: ParentToChild) => void): (message: ChildToParent) => void {
  if (process.send === undefined) throw new Error('run me through the benchmark (needs an IPC channel)');
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: ParentToChild) => {
    if (message.type === 'exit') process.exit(0);
    onMessage(message);
  });
  return (message) => {
    process.send?.(message);
  };
}
