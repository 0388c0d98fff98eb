// One job enters once and goes to every logged-in session (docs/architecture.md "A job, node to miners"):
// encoded once, each session appends only its share difficulty and prefix. The JobBook's one sink.
import type { CancelReason, GatewayJob, JobSink } from '../jobs/JobBook.js';
import { cancelLine, encodeJob, type EncodedJob } from './jobLines.js';
import type { Session } from './Session.js';

export class JobFanOut implements JobSink {
  private current: EncodedJob | undefined;

  constructor(
    private readonly sessions: ReadonlySet<Session>,
    current: GatewayJob | undefined,
  ) {
    this.current = current === undefined ? undefined : encodeJob(current);
  }

  jobPublished(job: GatewayJob): void {
    const encoded = encodeJob(job);
    this.current = encoded;
    for (const session of this.sessions) session.sendJob(encoded);
  }

  /**
   * beam-mining-protocol.txt "Cancel": `cancel {id}` when a job dies so miners stop at once. Miners work on the
   * newest job only (every job replaces the previous), so one cancel for the newest dead job stops them;
   * cancelling each of up to `jobHistory` older ids would cost every session that many lines per block.
   */
  jobsCancelled(dead: readonly GatewayJob[], reason: CancelReason): void {
    const newestDead = dead[dead.length - 1];
    if (reason !== 'new-tip') this.current = undefined;
    if (newestDead === undefined) return;
    const line = cancelLine(newestDead.id);
    for (const session of this.sessions) {
      // A session whose difficulty changed works on a re-issue (a newer id, docs/gateway.md "Vardiff"): cancel that.
      session.send(session.lastSentSeq > newestDead.seq ? cancelLine(String(session.lastSentSeq)) : line);
    }
  }

  /** The node sends the current job right after login; so do we. */
  sendCurrent(session: Session): void {
    if (this.current !== undefined) session.sendJob(this.current);
  }
}
