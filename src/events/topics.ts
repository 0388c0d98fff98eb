// Topics of the event bus and their payloads (docs/architecture.md "Event bus"). Plain data only: every
// consumer may serialise them (the event API, the ledger), so no live objects travel here.
export interface JobEvent {
  readonly jobId: string;
  readonly upstreamJobId: string;
  readonly height: number;
  readonly packedDifficulty: number;
  /** true when the job starts a new tip (older jobs died), false for a tx-pool refresh. */
  readonly newTip: boolean;
  readonly at: number;
}
export interface ShareEvent {
  readonly sessionId: number;
  /** Who the share is credited to: `key-` + 12 hex of SHA-256(key) with a keys file, else the key part of api_key. */
  readonly miner: string;
  /** The rig's name from `KEY.WORKER` ('' when none). */
  readonly worker: string;
  /** The port profile the session came in on (docs/gateway.md "Ports and profiles"). */
  readonly profile: string;
  readonly remote: string;
  readonly jobId: string;
  readonly height: number;
  readonly nonce: string;
  /** Result code sent to the miner (1 = accepted). shareDifficulty is the difficulty of the job it answered. */
  readonly code: number;
  readonly reason: string;
  readonly shareDifficulty: number;
  readonly achievedDifficulty: number;
  readonly isBlockCandidate: boolean;
  readonly at: number;
}
export interface BlockEvent {
  readonly sessionId: number;
  /** As in ShareEvent. */
  readonly miner: string;
  readonly worker: string;
  readonly jobId: string;
  readonly upstreamJobId: string;
  readonly height: number;
  readonly nonce: string;
  /** 'submitted' when forwarded, then 'accepted' (with blockHash) or 'rejected' / 'unanswered' per the node. */
  readonly status: 'submitted' | 'accepted' | 'rejected' | 'expired' | 'unanswered' | 'queued';
  readonly blockHash?: string;
  readonly nodeCode?: number;
  readonly at: number;
}
export interface SessionEvent {
  readonly sessionId: number;
  readonly remote: string;
  readonly transport: 'tcp' | 'tls' | 'ws' | 'http';
  /** As in ShareEvent, once logged in. */
  readonly miner?: string;
  readonly worker?: string;
  readonly profile?: string;
  readonly noncePrefix?: string;
  readonly reason?: string;
  readonly at: number;
}
export interface UpstreamEvent {
  readonly state: 'connecting' | 'connected' | 'logged-in' | 'disconnected';
  readonly detail?: string;
  readonly at: number;
}

// --- work service (docs/work-service.md "Event bus"): the node's `work` WebSocket topic shape, strings as the node prints them.
export interface WorkEvent {
  readonly success: 'true' | 'false';
  /** '' on success, else 'timeout' or 'cancelled'. */
  readonly reason: string;
  /** Milliseconds from request to answer. */
  readonly duration: string;
  readonly request: { readonly hash: string; readonly difficulty: string; readonly multiplier: string; readonly version: 'work_1' };
  /** On success: source is 'precache' (answered from cache) or the payout address of the worker whose result won. */
  readonly result?: { readonly source: string; readonly work: string; readonly difficulty: string; readonly multiplier: string };
  readonly bad_peers: string;
  /** The service that asked (not in the node's shape; consumers may ignore it). */
  readonly service: string;
  readonly workType: 'precache' | 'ondemand';
}
// --- end work service
// --- ledger (src/ledger/) ---
/** The books' availability: 'unavailable' while writes fail (shares are then answered as not credited). */
export interface LedgerEvent {
  readonly state: 'available' | 'unavailable' | 'closed';
  readonly backend: 'sqlite' | 'postgres';
  /** Shares waiting to be written. */
  readonly buffered: number;
  readonly detail?: string;
  readonly at: number;
}
// --- end ledger ---

export interface GatewayEvents {
  job: JobEvent;
  share: ShareEvent;
  block: BlockEvent;
  'session.open': SessionEvent;
  'session.login': SessionEvent;
  'session.close': SessionEvent;
  upstream: UpstreamEvent;
  work: WorkEvent;
  ledger: LedgerEvent;
}
