// Applies vardiff to sessions (docs/gateway.md "Vardiff"): counts accepted shares, retargets on a share or on the
// sweep, and sends the current job again at once under an id this session has not seen, so the new difficulty
// reaches the miner now and every job id keeps one difficulty per session.
import type { Logger } from '../config/logger.js';
import type { JobBook } from '../jobs/JobBook.js';
import { difficultyToPacked } from '../pow/difficulty.js';
import { ResultCode } from '../protocol/resultCodes.js';
import { encodeJob } from './jobLines.js';
import type { Session } from './Session.js';
import { retarget } from './Vardiff.js';

export class VardiffController {
  constructor(
    private readonly jobs: Pick<JobBook, 'current' | 'reissue' | 'nextSeq'>,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  judged(session: Session, code: number): void {
    const window = session.vardiffWindow;
    if (window === undefined || code !== ResultCode.Accepted || session.state !== 'logged-in') return;
    window.shares += 1;
    this.look(session);
  }

  /** The hub's sweep: sessions that find no share at all still come down. */
  sweep(sessions: Iterable<Session>): void {
    for (const session of sessions) if (session.vardiffWindow !== undefined) this.look(session);
  }

  private look(session: Session): void {
    const window = session.vardiffWindow;
    const settings = session.profile.vardiff;
    if (window === undefined || settings === undefined) return;
    const now = this.now();
    const result = retarget(window, now, settings);
    if (result.kind === 'wait') return;
    window.windowStartMs = now;
    window.shares = 0;
    if (result.kind === 'keep') return;
    const packed = difficultyToPacked(result.difficulty);
    window.difficulty = result.difficulty;
    if (packed === session.sharePacked) return;
    this.logger.debug({ sessionId: session.id, miner: session.miner, worker: session.worker, difficulty: result.difficulty }, 'vardiff retarget');
    const current = this.jobs.current;
    if (current === undefined) {
      session.changeDifficulty(result.difficulty, packed, this.jobs.nextSeq);
      return;
    }
    // A re-issue above every id this session was sent: the new difficulty starts at its id.
    const reissue = this.jobs.reissue(current, session.lastSentSeq);
    session.changeDifficulty(result.difficulty, packed, reissue.seq);
    session.sendJob(encodeJob(reissue));
  }
}
