// Job and cancel lines, encoded once per job; per session only the difficulty and prefix are appended.
// spec: docs/gateway.md — `job {id, input, difficulty, height, nonceprefix}`; same fields as encodeMessage writes.
import type { GatewayJob } from '../jobs/JobBook.js';
import { encodeMessage } from '../protocol/messages.js';

export interface EncodedJob {
  readonly job: GatewayJob;
  /** `{"method":"job",…,"difficulty":` — everything before the per-session parts. */
  readonly head: string;
}

export function encodeJob(job: GatewayJob): EncodedJob {
  const head = `{"method":"job","id":${JSON.stringify(job.id)},"input":${JSON.stringify(job.input)},"height":${job.height},"difficulty":`;
  return { job, head };
}

/** The full `\n`-terminated line for one session; an empty prefix is left out (full nonce range). */
export function jobLine(encoded: EncodedJob, sharePacked: number, noncePrefix: string): string {
  return noncePrefix === ''
    ? `${encoded.head}${sharePacked},"jsonrpc":"2.0"}\n`
    : `${encoded.head}${sharePacked},"nonceprefix":"${noncePrefix}","jsonrpc":"2.0"}\n`;
}

export function cancelLine(jobId: string): string {
  return encodeMessage({ method: 'cancel', id: jobId });
}
