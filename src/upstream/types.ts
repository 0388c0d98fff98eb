// The gateway's view of its upstream node, whether a real node (NodeLink) or anything else speaking its stratum.
import type { EventEmitter } from 'node:events';

export interface UpstreamJob {
  /** The node's job id (decimal counter, restarts at 1 when the node restarts). */
  readonly id: string;
  readonly input: string;
  /** Block target, packed. */
  readonly difficulty: number;
  readonly height: number;
}

export interface UpstreamLogin {
  /** 0–6 hex digits the node wants at the start of every nonce ('' if none). */
  readonly noncePrefix: string;
  readonly forkHeight?: number;
  readonly forkHeight2?: number;
}

export type BlockSubmitStatus = 'accepted' | 'rejected' | 'expired' | 'unanswered' | 'dropped';

export interface BlockSubmitOutcome {
  readonly status: BlockSubmitStatus;
  /** The node's result code, when it answered. */
  readonly code?: number;
  readonly blockHash?: string;
  readonly detail?: string;
}

export interface UpstreamEvents {
  /** Logged in (again): a new session with the node; older node job ids are void. */
  login: [UpstreamLogin];
  job: [UpstreamJob];
  /** The link is down; live jobs cannot be submitted until the next `login`. */
  down: [string];
}

export interface Upstream extends EventEmitter<UpstreamEvents> {
  start(): void;
  /**
   * Sends a block-winning solution for a node job; queued while the link is down if still worth sending. The nonce
   * may be in any case: the implementation writes the node's prefix digits in the node's own case (noncePrefix.ts).
   */
  submitBlock(upstreamJobId: string, nonce: string, output: string): Promise<BlockSubmitOutcome>;
  readonly isUp: boolean;
  /** Closes the link; first waits up to `graceMs` for the node to answer blocks already sent. */
  stop(graceMs?: number): Promise<void>;
}
