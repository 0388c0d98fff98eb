// The one in-process event bus (design.md §1): every outcome is announced once here; metrics, the ledger
// writer, the WebSocket API and the MQTT bridge subscribe. Typed so a listener cannot mistake a payload.
import { EventEmitter } from 'node:events';

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

export interface GatewayEvents {
  job: [JobEvent];
  share: [ShareEvent];
  block: [BlockEvent];
  'session.open': [SessionEvent];
  'session.login': [SessionEvent];
  'session.close': [SessionEvent];
  upstream: [UpstreamEvent];
}

export class EventBus extends EventEmitter<GatewayEvents> {
  constructor() {
    super({ captureRejections: true });
    // Subscribers are few and known (metrics, ledger, ws api, mqtt, dashboard); lift the default warning.
    this.setMaxListeners(64);
  }
}
