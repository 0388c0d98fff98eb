// Fan-out client process: opens N logged-in sessions, then for every later job reports to the parent when each
// session got it (first, median, last receipt; wallClockMs read once per received chunk).
import { childChannel, wallClockMs, type ParentToChild } from './protocol.js';
import { jobIdOf, openSessions } from './stratum.js';

interface Pending {
  readonly times: Float64Array;
  count: number;
}

const send = childChannel((message: ParentToChild) => {
  if (message.type === 'start-sessions') void start(message.port, message.sessions, message.connectConcurrency);
});

async function start(port: number, count: number, concurrency: number): Promise<void> {
  const began = wallClockMs();
  const seen = new Set<string>();
  const pending = new Map<string, Pending>();
  let expected = count;
  const { sessions, failed } = await openSessions({
    port,
    count,
    concurrency,
    clock: wallClockMs,
    timeoutMs: 60_000,
    onLine: (_session, line, at) => {
      const id = jobIdOf(line);
      if (id === undefined || seen.has(id)) return;
      let job = pending.get(id);
      if (job === undefined) {
        job = { times: new Float64Array(expected), count: 0 };
        pending.set(id, job);
      }
      job.times[job.count++] = at;
      if (job.count < expected) return;
      pending.delete(id);
      seen.add(id);
      const sorted = job.times.sort();
      send({
        type: 'job',
        id,
        count: job.count,
        firstMs: sorted[0] ?? Number.NaN,
        medianMs: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN,
        lastMs: sorted[sorted.length - 1] ?? Number.NaN,
      });
    },
  });
  expected = sessions.length;
  // Jobs sent at login are not measured.
  for (const s of sessions) if (s.firstJob !== undefined) seen.add(s.firstJob.id);
  for (const s of sessions) {
    s.socket.on('close', () => {
      expected = Math.max(0, expected - 1);
    });
  }
  send({ type: 'ready', loggedIn: sessions.length, failed, ms: wallClockMs() - began });
}
