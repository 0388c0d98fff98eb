// Job and cancel lines, encoded once per job; per session only the difficulty and prefix (its tail) are appended.
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

export function cancelLine(jobId: string): string {
  return encodeMessage({ method: 'cancel', id: jobId });
}

/**
 * The per-session end of a job line: `difficulty,"nonceprefix":…}\n`. A session keeps it between jobs (it changes
 * only with its difficulty or prefix), so a fan-out builds each line as head + tail, with no number formatting.
 */
export function jobTail(sharePacked: number, noncePrefix: string): string {
  return noncePrefix === '' ? `${sharePacked},"jsonrpc":"2.0"}\n` : `${sharePacked},"nonceprefix":"${noncePrefix}","jsonrpc":"2.0"}\n`;
}
