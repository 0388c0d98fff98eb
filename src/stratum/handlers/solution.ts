// `solution {id, nonce, output}` → one `result`. The checks run in exactly this order (docs/gateway.md result codes):
//   logged in (-32010) → job alive (-32008 stale/unknown, 3 expired) → output size/hex (-32005) → nonce (-32007)
//   → nonce prefix (2, never forwarded) → duplicate (-32006) → PoW (-32004) → share target (-32009)
//   → [block forwarded] → ledger write (-32006 already in the books, 2 not credited: docs/ledger.md) → accepted (1).
// Only a solution past the duplicate check waits for the verifier, so only those count as pending (bounded per
// session, per address and in all by the VerificationScheduler; docs/hostile-peers.md "Share path").
// A share that also meets the block target is forwarded to the node at once, before any reply or event.
//
// Block-forwarding choice: the miner gets `1 accepted` for the share immediately; the node's verdict on the block
// arrives later and is announced only on the event bus (`block` event: submitted, then accepted with blockHash /
// rejected / expired / unanswered). Waiting for the node would hold the miner's reply hostage to the node's latency
// and could lose the reply altogether when the link drops; `blockhash` is therefore never put in a share reply.
import { isHex, type SolutionMessage } from '../../protocol/messages.js';
import { ResultCode, RESULT_DESCRIPTIONS, type ResultCodeValue } from '../../protocol/resultCodes.js';
import { achievedDifficulty, meetsTarget, packedToDifficulty } from '../../pow/difficulty.js';
import type { NativeVerdict } from '../../pow/types.js';
import type { GatewayJob } from '../../jobs/JobBook.js';
import type { Session } from '../Session.js';
import type { BlockEvent } from '../../events/EventBus.js';
import type { BlockSubmitOutcome } from '../../upstream/types.js';
import { solutionDigest } from '../../jobs/ShareMemory.js';
import { VerificationRefused, type RefusalReason } from '../VerificationScheduler.js';
import type { SolutionContext } from './context.js';
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
  /** achievedDifficulty(hash), computed once for the books and the event. */
  readonly achieved?: number;
  readonly isBlockCandidate?: boolean;
  /** Overrides the code's standard description. */
  readonly description?: string;
  /** Abuse (over the session's own pending bound): answered through the malformed budget. */
  readonly chargeMalformed?: boolean;
}

const NOT_VERIFIED = 'Solution not verified, resend';

/**
 * What the miner hears when the verifier did not judge its solution. Only a session over its own bound, or holding
 * at least its share of its address's bound, is at fault: that refusal spends its malformed budget.
 */
function refusal(reason: RefusalReason, job: GatewayJob, nonce: string): Judgement {
  switch (reason) {
    case 'session-limit':
    case 'address-limit':
      return { code: ResultCode.InvalidSolution, reason: 'too-many-pending', description: 'Too many pending solutions', chargeMalformed: true, job, nonce };
    case 'address-busy':
      return { code: ResultCode.InvalidSolution, reason: 'address-busy', description: 'Too many pending solutions from your address, resend', job, nonce };
    default:
      return { code: ResultCode.InvalidSolution, reason: 'verifier-unavailable', description: NOT_VERIFIED, job, nonce };
  }
}

/** Resolves once the miner has its answer (never rejects). */
export function handleSolution(session: Session, message: SolutionMessage, ctx: SolutionContext): Promise<void> {
  return judgeSolution(session, message, ctx).then(
    (judgement) => finish(session, message, ctx, judgement),
    (err: unknown) => {
      ctx.logger.error({ err, sessionId: session.id }, 'solution pipeline failed');
      finish(session, message, ctx, { code: ResultCode.InvalidSolution, reason: 'internal-error' });
    },
  );
}

async function judgeSolution(session: Session, message: SolutionMessage, ctx: SolutionContext): Promise<Judgement> {
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
  // spec: docs/gateway.md — a nonce without the session's prefix is rejected and never forwarded.
  if (!nonce.startsWith(session.noncePrefix)) return { code: ResultCode.Rejected, reason: 'prefix-mismatch', job, nonce };

  const output = message.output.toLowerCase();
  const nonceBytes = Buffer.from(nonce, 'hex');
  const outputBytes = Buffer.from(output, 'hex');
  const digest = solutionDigest(nonceBytes, outputBytes);
  const claim = ctx.jobs.claimSolution(job, digest);
  if (claim === 'duplicate') return { code: ResultCode.DuplicateShare, reason: 'duplicate', job, nonce };
  // The job remembers stratum.maxSharesPerJob verified solutions and forgets none: it takes no more (D29).
  if (claim === 'job-full') return { code: ResultCode.Expired, reason: 'job-full', description: 'Job share limit reached', job, nonce };

  const admission = ctx.verification.submit(session, session.connection.remoteAddress, {
    variant: job.variant,
    input: job.inputBytes,
    nonce: nonceBytes,
    output: outputBytes,
  });
  if (!admission.admitted) {
    ctx.jobs.settleSolution(job, digest, false);
    return refusal(admission.refusal, job, nonce);
  }
  let verdict: NativeVerdict;
  try {
    verdict = await admission.verdict;
  } catch (err) {
    // Not the miner's fault (pushed out under load, closing, verifier failure): unjudged, so a resend is judged
    // afresh. Counted and logged at a bounded rate by the scheduler.
    ctx.jobs.settleSolution(job, digest, false);
    return refusal(err instanceof VerificationRefused ? err.code : 'verifier-failed', job, nonce);
  }
  if (!verdict.powValid) {
    // Junk costs no duplicate memory (docs/decisions.md D29).
    ctx.jobs.settleSolution(job, digest, false);
    return { code: ResultCode.InvalidSolution, reason: verdict.reason ?? 'invalid', job, nonce };
  }
  // A valid solution stays claimed (a twin is -32006) until the books have it, then it is remembered for good.
  let remember = true;
  try {
    // Judged at the difficulty this job id was sent to this session with (docs/gateway.md "Vardiff").
    const sharePacked = session.sentShareTargetFor(job);
    const hash = verdict.hash;
    const achieved = achievedDifficulty(hash);
    if (!meetsTarget(hash, sharePacked)) {
      return { code: ResultCode.LowDifficultyShare, reason: 'low-difficulty', job, nonce, sharePacked, hash, achieved };
    }
    const isBlockCandidate = meetsTarget(hash, job.blockTarget);
    // Block first, before any reply, bookkeeping or event: nothing may delay or lose it.
    if (isBlockCandidate) forwardBlock(session, job, nonce, output, ctx);
    const judged = { job, nonce, sharePacked, hash, achieved, isBlockCandidate };
    // Accepted means written (docs/ledger.md): the miner hears `1 accepted` only after the ledger committed the share.
    const booked = ctx.shares === undefined ? 'recorded' : await ctx.shares.record(shareRecord(session, job, nonce, sharePacked, hash, achieved, isBlockCandidate, ctx));
    if (booked === 'duplicate') return { code: ResultCode.DuplicateShare, reason: 'duplicate-in-ledger', ...judged };
    if (booked === 'unconfirmed') {
      // The books closed mid-write (shutdown): it may be credited, so no resend is asked for (docs/ledger.md).
      return { code: ResultCode.Rejected, reason: 'ledger-unconfirmed', description: 'Share unconfirmed: the books closed mid-write; it may be credited', ...judged };
    }
    if (booked === 'unavailable') {
      // Not credited: a resend may be judged and credited afresh. A block was forwarded already and is never resent.
      remember = isBlockCandidate;
      if (isBlockCandidate) {
        // Forwarded to the node already; a resend would only be a duplicate, so the miner is not asked for one.
        return { code: ResultCode.Rejected, reason: 'ledger-unavailable', description: 'Block forwarded; share not credited: ledger unavailable', ...judged };
      }
      return { code: ResultCode.Rejected, reason: 'ledger-unavailable', description: 'Share not credited: ledger unavailable, resend', ...judged };
    }
    return { code: ResultCode.Accepted, reason: isBlockCandidate ? 'block' : 'share', ...judged };
  } finally {
    ctx.jobs.settleSolution(job, digest, remember);
  }
}

function shareRecord(
  session: Session,
  job: GatewayJob,
  nonce: string,
  sharePacked: number,
  hash: Buffer,
  achieved: number,
  isBlockCandidate: boolean,
  ctx: SolutionContext,
): ShareRecord {
  return {
    miner: session.miner,
    worker: session.worker,
    sessionId: session.id,
    transport: session.connection.transport,
    jobId: job.id,
    upstreamJobId: job.upstreamJobId,
    height: job.height,
    nonce,
    outputHash: hash.toString('hex'),
    sharePacked,
    achievedDifficulty: achieved,
    isBlockCandidate,
    at: ctx.now(),
  };
}

function finish(session: Session, message: SolutionMessage, ctx: SolutionContext, judgement: Judgement): void {
  try {
    const description = judgement.description ?? RESULT_DESCRIPTIONS[judgement.code];
    if (judgement.chargeMalformed === true) session.refuseAsMalformed(message.id, judgement.code, description);
    else session.reply(message.id, judgement.code, { description });
    ctx.shareJudged(session, judgement.code, judgement.reason);
    ctx.bus.emit('share', {
      sessionId: session.id,
      miner: session.miner,
      worker: session.worker,
      profile: session.profile.name,
      remote: session.connection.remote,
      jobId: message.id,
      height: judgement.job?.height ?? 0,
      nonce: judgement.nonce ?? message.nonce.slice(0, NONCE_HEX_DIGITS),
      code: judgement.code,
      reason: judgement.reason,
      shareDifficulty: judgement.sharePacked === undefined ? 0 : packedToDifficulty(judgement.sharePacked),
      achievedDifficulty: judgement.achieved ?? 0,
      isBlockCandidate: judgement.isBlockCandidate === true,
      at: ctx.now(),
    });
  } catch (err) {
    ctx.logger.error({ err, sessionId: session.id }, 'share bookkeeping failed');
  }
}

function forwardBlock(session: Session, job: GatewayJob, nonce: string, output: string, ctx: SolutionContext): void {
  let submission: Promise<BlockSubmitOutcome>;
  try {
    submission = ctx.upstream.submitBlock(job.upstreamJobId, nonce, output);
  } catch (err) {
    submission = Promise.reject(err);
  }
  const base = {
    sessionId: session.id,
    miner: session.miner,
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

function emitBlock(ctx: SolutionContext, event: BlockEvent): void {
  ctx.bus.emit('block', event);
}
