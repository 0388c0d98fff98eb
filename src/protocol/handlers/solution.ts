// `solution {id, nonce, output}` → one `result`. The checks run in exactly this order (design.md §3 result codes):
//   logged in (-32010) → job alive (-32008 stale/unknown, 3 expired) → output size/hex (-32005) → nonce (-32007)
//   → nonce prefix (2, never forwarded) → duplicate (-32006) → PoW (-32004) → share target (-32009)
//   → [block forwarded] → ledger write (-32006 already in the books, 2 not credited: docs/ledger.md) → accepted (1).
// A share that also meets the block target is forwarded to the node at once, before any reply or event.
//
// Block-forwarding choice: the miner gets `1 accepted` for the share immediately; the node's verdict on the block
// arrives later and is announced only on the event bus (`block` event: submitted, then accepted with blockHash /
// rejected / expired / unanswered). Waiting for the node would hold the miner's reply hostage to the node's latency
// and could lose the reply altogether when the link drops; `blockhash` is therefore never put in a share reply.
import { isHex, type SolutionMessage } from '../messages.js';
import { ResultCode, RESULT_DESCRIPTIONS, type ResultCodeValue } from '../resultCodes.js';
import { achievedDifficulty, meetsTarget, packedToDifficulty } from '../../pow/difficulty.js';
import type { NativeVerdict } from '../../pow/types.js';
import type { GatewayJob } from '../../jobs/JobBook.js';
import type { Session } from '../../miners/Session.js';
import type { BlockEvent } from '../../events/EventBus.js';
import type { BlockSubmitOutcome } from '../../upstream/types.js';
import type { HandlerContext } from './context.js';
import type { ShareRecord } from '../../ledger/types.js';

const NONCE_HEX_DIGITS = 16;

interface Judgement {
  readonly code: ResultCodeValue;
  /** Machine-readable reason for the share event (e.g. 'stale', 'prefix-mismatch', a verifier InvalidReason). */
  readonly reason: string;
  readonly job?: GatewayJob;
  readonly nonce?: string;
  readonly sharePacked?: number;
  readonly hash?: Buffer;
  readonly isBlockCandidate?: boolean;
}

/** Resolves once the miner has its answer (never rejects). */
export function handleSolution(session: Session, message: SolutionMessage, ctx: HandlerContext): Promise<void> {
  return judgeSolution(session, message, ctx).then(
    (judgement) => finish(session, message, ctx, judgement),
    (err: unknown) => {
      ctx.logger.error({ err, sessionId: session.id }, 'solution pipeline failed');
      finish(session, message, ctx, { code: ResultCode.InvalidSolution, reason: 'internal-error' });
    },
  );
}

async function judgeSolution(session: Session, message: SolutionMessage, ctx: HandlerContext): Promise<Judgement> {
  if (session.state !== 'logged-in') return { code: ResultCode.Unauthorized, reason: 'not-logged-in' };

  const lookup = ctx.jobs.lookup(message.id);
  if (lookup.status === 'expired') return { code: ResultCode.Expired, reason: 'expired' };
  if (lookup.status !== 'alive') return { code: ResultCode.StaleJob, reason: lookup.status };
  const job = lookup.job;

  if (message.output.length !== job.variant.solutionBytes * 2 || !isHex(message.output)) {
    return { code: ResultCode.BadSolutionSize, reason: 'bad-output', job };
  }
  if (message.nonce.length !== NONCE_HEX_DIGITS || !isHex(message.nonce)) {
    return { code: ResultCode.BadNonce, reason: 'bad-nonce', job };
  }
  const nonce = message.nonce.toLowerCase();
  // spec: design.md §3 — a nonce without the session's prefix is rejected and never forwarded.
  if (!nonce.startsWith(session.noncePrefix)) return { code: ResultCode.Rejected, reason: 'prefix-mismatch', job, nonce };

  const output = message.output.toLowerCase();
  if (!ctx.jobs.recordSolution(job, nonce, output)) return { code: ResultCode.DuplicateShare, reason: 'duplicate', job, nonce };

  let verdict: NativeVerdict;
  try {
    verdict = await ctx.verifier.verify({
      variant: job.variant,
      input: job.inputBytes,
      nonce: Buffer.from(nonce, 'hex'),
      output: Buffer.from(output, 'hex'),
    });
  } catch (err) {
    // Not the miner's fault (e.g. verifier queue full): unjudged, so a resend is judged afresh.
    ctx.jobs.forgetSolution(job, nonce, output);
    ctx.logger.warn({ err, sessionId: session.id }, 'solution not verified');
    return { code: ResultCode.InvalidSolution, reason: 'verifier-unavailable', job, nonce };
  }
  if (!verdict.powValid) return { code: ResultCode.InvalidSolution, reason: verdict.reason ?? 'invalid', job, nonce };

  const sharePacked = session.shareTargetFor(job);
  const hash = verdict.hash;
  if (!meetsTarget(hash, sharePacked)) {
    return { code: ResultCode.LowDifficultyShare, reason: 'low-difficulty', job, nonce, sharePacked, hash };
  }
  const isBlockCandidate = meetsTarget(hash, job.blockTarget);
  // Block first, before any reply, bookkeeping or event: nothing may delay or lose it.
  if (isBlockCandidate) forwardBlock(session, job, nonce, output, ctx);
  const judged = { job, nonce, sharePacked, hash, isBlockCandidate };
  // Accepted means written (docs/ledger.md): the miner hears `1 accepted` only after the ledger committed the share.
  const booked = ctx.shares === undefined ? 'recorded' : await ctx.shares.record(shareRecord(session, job, nonce, sharePacked, hash, isBlockCandidate, ctx));
  if (booked === 'duplicate') return { code: ResultCode.DuplicateShare, reason: 'duplicate-in-ledger', ...judged };
  if (booked === 'unavailable') {
    if (!isBlockCandidate) ctx.jobs.forgetSolution(job, nonce, output); // a resend may be credited; a block is never resent
    return { code: ResultCode.Rejected, reason: 'ledger-unavailable', ...judged };
  }
  return { code: ResultCode.Accepted, reason: isBlockCandidate ? 'block' : 'share', ...judged };
}

function shareRecord(session: Session, job: GatewayJob, nonce: string, sharePacked: number, hash: Buffer, isBlockCandidate: boolean, ctx: HandlerContext): ShareRecord {
  return {
    miner: session.worker,
    worker: '',
    sessionId: session.id,
    transport: session.connection.transport,
    jobId: job.id,
    upstreamJobId: job.upstreamJobId,
    height: job.height,
    nonce,
    outputHash: hash.toString('hex'),
    sharePacked,
    achievedDifficulty: achievedDifficulty(hash),
    isBlockCandidate,
    at: ctx.now(),
  };
}

/** Descriptions that differ from RESULT_DESCRIPTIONS for one reason (docs/gateway.md, docs/ledger.md). */
const REASON_DESCRIPTIONS: Readonly<Record<string, string>> = {
  'verifier-unavailable': 'Solution not verified, resend',
  'ledger-unavailable': 'Share not credited: ledger unavailable, resend',
};

function finish(session: Session, message: SolutionMessage, ctx: HandlerContext, judgement: Judgement): void {
  try {
    const description = REASON_DESCRIPTIONS[judgement.reason] ?? RESULT_DESCRIPTIONS[judgement.code];
    session.reply(message.id, judgement.code, { description });
    ctx.bus.emit('share', {
      sessionId: session.id,
      worker: session.worker,
      remote: session.connection.remote,
      jobId: message.id,
      height: judgement.job?.height ?? 0,
      nonce: judgement.nonce ?? message.nonce.slice(0, NONCE_HEX_DIGITS),
      code: judgement.code,
      reason: judgement.reason,
      shareDifficulty: judgement.sharePacked === undefined ? 0 : packedToDifficulty(judgement.sharePacked),
      achievedDifficulty: judgement.hash === undefined ? 0 : achievedDifficulty(judgement.hash),
      isBlockCandidate: judgement.isBlockCandidate === true,
      at: ctx.now(),
    });
  } catch (err) {
    ctx.logger.error({ err, sessionId: session.id }, 'share bookkeeping failed');
  }
}

function forwardBlock(session: Session, job: GatewayJob, nonce: string, output: string, ctx: HandlerContext): void {
  // The node's own prefix digits go back exactly as it wrote them (it compares case-sensitively, design.md §2).
  const upstreamPrefix = ctx.prefixes.upstreamPrefix;
  const forwardedNonce = upstreamPrefix + nonce.slice(upstreamPrefix.length);
  let submission: Promise<BlockSubmitOutcome>;
  try {
    submission = ctx.upstream.submitBlock(job.upstreamJobId, forwardedNonce, output);
  } catch (err) {
    submission = Promise.reject(err);
  }
  const base = {
    sessionId: session.id,
    worker: session.worker,
    jobId: job.id,
    upstreamJobId: job.upstreamJobId,
    height: job.height,
    nonce,
  };
  emitBlock(ctx, { ...base, status: 'submitted', at: ctx.now() });
  ctx.logger.info({ ...base }, 'block candidate forwarded to the node');
  submission.then(
    (outcome) => {
      // 'dropped' (never sent, e.g. no longer worth sending while the link was down) reads as unanswered.
      const status = outcome.status === 'dropped' ? 'unanswered' : outcome.status;
      const event: BlockEvent = { ...base, status, blockHash: outcome.blockHash, nodeCode: outcome.code, at: ctx.now() };
      ctx.logger.info({ ...base, status, blockHash: outcome.blockHash, detail: outcome.detail }, 'block outcome');
      emitBlock(ctx, event);
    },
    (err: unknown) => {
      ctx.logger.error({ err, ...base }, 'block submission failed');
      emitBlock(ctx, { ...base, status: 'unanswered', at: ctx.now() });
    },
  );
}

function emitBlock(ctx: HandlerContext, event: BlockEvent): void {
  ctx.bus.emit('block', event);
}
