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
  readonly worker: string;
  readonly remote: string;
  readonly jobId: string;
  readonly height: number;
  readonly nonce: string;
  /** Result code sent to the miner (1 = accepted). */
  readonly code: number;
  readonly reason: string;
  readonly shareDifficulty: number;
  readonly achievedDifficulty: number;
  readonly isBlockCandidate: boolean;
  readonly at: number;
}
export interface BlockEvent {
  readonly sessionId: number;
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
  readonly transport: 'tcp' | 'tls' | 'ws';
  readonly worker?: string;
  readonly noncePrefix?: string;
  readonly reason?: string;
  readonly at: number;
}
export interface UpstreamEvent {
  readonly state: 'connecting' | 'connected' | 'logged-in' | 'disconnected';
  readonly detail?: string;
  readonly at: number;
}

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
  ledger: LedgerEvent;
}
