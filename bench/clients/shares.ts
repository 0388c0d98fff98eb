// Share client process: N logged-in sessions, each with a pool of real devnet solutions (nonces carrying its own
// prefix) solved before the timed window; then every session keeps `inflight` solutions unanswered, sending one
// more per result, and the results are counted by code (accepted ones per second of the window).
import { NativeVariant } from '../../src/pow/nativeLayout.js';
import { SolverPool } from '../../src/sim/refminer/SolverPool.js';
import { childChannel, wallClockMs, type ParentToChild, type SharesStart } from './protocol.js';
import { openSessions, type RawSession } from './stratum.js';

const RESULT_CODE_RE = /"method":"result".*"code":(-?\d+)/;
const DRAIN_MS = 15_000;

interface Lane {
  readonly session: RawSession;
  readonly lines: string[];
  nextLine: number;
}

let onResult: (lane: Lane, code: string, at: number) => void = () => {};
const lanes = new Map<RawSession, Lane>();

const send = childChannel((message: ParentToChild) => {
  if (message.type === 'start-shares') void prepare(message).catch((err: unknown) => send({ type: 'error', message: String(err) }));
  if (message.type === 'go') blast(message.windowMs);
});

let inflight = 1;

async function prepare(start: SharesStart): Promise<void> {
  inflight = start.inflight;
  const began = wallClockMs();
  const { sessions, failed } = await openSessions({
    port: start.port,
    count: start.sessions,
    concurrency: 64,
    clock: wallClockMs,
    timeoutMs: 30_000,
    onLine: (session, line, at) => {
      const code = RESULT_CODE_RE.exec(line)?.[1];
      const lane = lanes.get(session);
      if (code !== undefined && lane !== undefined) onResult(lane, code, at);
    },
  });
  send({ type: 'ready', loggedIn: sessions.length, failed, ms: wallClockMs() - began });
  const job = sessions[0]?.firstJob;
  if (job === undefined || sessions.some((s) => s.firstJob?.id !== job.id)) throw new Error('sessions disagree on the job');

  const solveStart = wallClockMs();
  const solver = new SolverPool(start.solverThreads, 4096, 60_000);
  const pending = sessions.map((session) => ({ session, lines: [] as string[], nonce: 0 }));
  let total = 0;
  const solveFor = async (p: (typeof pending)[number]): Promise<void> => {
    while (p.lines.length < start.solutionsPerSession) {
      const counter = (p.nonce++).toString(16).padStart(16 - p.session.noncePrefix.length, '0');
      const nonce = `${p.session.noncePrefix}${counter}`;
      for (const s of await solver.solve(NativeVariant.Devnet, job.input, nonce)) {
        if (p.lines.length >= start.solutionsPerSession) break;
        p.lines.push(`{"method":"solution","id":"${job.id}","nonce":"${nonce}","output":"${s.output}","jsonrpc":"2.0"}\n`);
        total++;
      }
    }
  };
  // A few sessions solved at a time per thread keeps every worker busy without a deep queue.
  let next = 0;
  const runner = async (): Promise<void> => {
    for (let p = pending[next++]; p !== undefined; p = pending[next++]) await solveFor(p);
  };
  try {
    await Promise.all(Array.from({ length: start.solverThreads * 4 }, runner));
  } finally {
    await solver.close();
  }
  for (const p of pending) lanes.set(p.session, { session: p.session, lines: p.lines, nextLine: 0 });
  send({ type: 'solved', solutions: total, ms: wallClockMs() - solveStart });
}

function blast(windowMs: number): void {
  const t0 = wallClockMs();
  const end = t0 + windowMs;
  const inWindow: Record<string, number> = {};
  const total: Record<string, number> = {};
  const perSecond = new Array<number>(Math.ceil(windowMs / 1000)).fill(0);
  let sent = 0;
  let answered = 0;
  let exhaustedAt: number | undefined;
  let lastResultMs = 0;
  let finished = false;

  const push = (lane: Lane, n: number): void => {
    const from = lane.nextLine;
    const to = Math.min(lane.lines.length, from + n);
    if (to === from) return;
    lane.nextLine = to;
    sent += to - from;
    lane.session.socket.write(lane.lines.slice(from, to).join(''));
    if (to === lane.lines.length && exhaustedAt === undefined && [...lanes.values()].every((l) => l.nextLine === l.lines.length)) {
      exhaustedAt = wallClockMs() - t0;
    }
  };
  const report = (): void => {
    if (finished) return;
    finished = true;
    send({
      type: 'shares',
      inWindow,
      total,
      sent,
      windowMs,
      perSecond,
      unanswered: sent - answered,
      lastResultMs,
      ...(exhaustedAt === undefined ? {} : { poolExhaustedAtMs: exhaustedAt }),
    });
  };
  onResult = (lane, code, at) => {
    answered++;
    total[code] = (total[code] ?? 0) + 1;
    if (at < end) {
      lastResultMs = at - t0;
      inWindow[code] = (inWindow[code] ?? 0) + 1;
      if (code === '1') {
        const second = Math.floor((at - t0) / 1000);
        perSecond[second] = (perSecond[second] ?? 0) + 1;
      }
      push(lane, 1);
    } else if (answered === sent) {
      report();
    }
  };
  for (const lane of lanes.values()) push(lane, inflight);
  setTimeout(() => {
    if (answered === sent) report();
  }, windowMs + 5).unref();
  setTimeout(report, windowMs + DRAIN_MS).unref();
}
