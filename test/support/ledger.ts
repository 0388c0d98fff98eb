// One accepted share as the share path hands it to the ledger, for the ledger suites: unique nonce and output
// hash per call (within a test process), everything else fixed unless overridden.
import type { ShareRecord } from '../../src/ledger/types.js';

let nonceSeq = 0;

export function ledgerShare(over: Partial<ShareRecord> = {}): ShareRecord {
  nonceSeq += 1;
  return {
    miner: 'alice',
    worker: '',
    sessionId: 1,
    transport: 'tcp',
    jobId: '7',
    upstreamJobId: 'n7',
    height: 5,
    nonce: nonceSeq.toString(16).padStart(16, '0'),
    outputHash: nonceSeq.toString(16).padStart(64, 'a'),
    sharePacked: 0,
    achievedDifficulty: 1.5,
    isBlockCandidate: false,
    at: Date.now(),
    ...over,
  };
}
