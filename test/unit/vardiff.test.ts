// Vardiff (docs/gateway.md "Vardiff"): the retarget rule, convergence of sessions whose hashrates are 50× apart
// (simulated clock, seeded Poisson arrivals, the real Session/VardiffController/JobBook), and the plumbing with
// real devnet solutions: a difficulty change re-sends the job under a new id, and a share for the previous job id
// is judged (and evented) at the old difficulty.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/config/logger.js';
import type { VardiffConfig } from '../../src/config/schema.js';
import { EventBus, type ShareEvent } from '../../src/events/EventBus.js';
import { JobBook } from '../../src/jobs/JobBook.js';
import { difficultyToPacked, packedToDifficulty } from '../../src/pow/difficulty.js';
import { VerifierPool } from '../../src/pow/VerifierPool.js';
import { encodeMessage } from '../../src/protocol/messages.js';
import { ResultCode } from '../../src/protocol/resultCodes.js';
import { MinerHub } from '../../src/stratum/MinerHub.js';
import type { Session } from '../../src/stratum/Session.js';
import { retarget } from '../../src/stratum/Vardiff.js';
import { VardiffController } from '../../src/stratum/VardiffController.js';
import { FakeUpstream, RecordingConnection, waitFor, type Json } from '../support/gatewayDoubles.js';
import { solveDevnet } from '../support/solve.js';

const VARDIFF: VardiffConfig = {
  enabled: true,
  targetSeconds: 10,
  retargetSeconds: 60,
  minDifficulty: 1,
  maxDifficulty: 2 ** 30,
  maxStep: 4,
  variancePercent: 20,
};

test('retarget: waits for its interval, keeps within the variance, steps at most maxStep, stays in [min, max]', () => {
  const at = (shares: number, difficulty = 100) => ({ difficulty, windowStartMs: 0, shares });
  assert.deepEqual(retarget(at(100), 59_000, VARDIFF), { kind: 'wait' }, 'before retargetSeconds');
  assert.deepEqual(retarget(at(6), 60_000, VARDIFF), { kind: 'keep' }, '10 s per share: on target');
  assert.deepEqual(retarget(at(5), 60_000, VARDIFF), { kind: 'keep' }, '12 s per share: within 20 %');
  assert.deepEqual(retarget(at(12), 60_000, VARDIFF), { kind: 'change', difficulty: 200 }, '5 s per share: twice as hard');
  assert.deepEqual(retarget(at(600), 60_000, VARDIFF), { kind: 'change', difficulty: 400 }, 'capped at maxStep');
  assert.deepEqual(retarget(at(0), 60_000, VARDIFF), { kind: 'change', difficulty: 25 }, 'no share at all: down by maxStep');
  assert.deepEqual(retarget(at(0, 2), 60_000, VARDIFF), { kind: 'change', difficulty: 1 }, 'never below minDifficulty');
  assert.deepEqual(retarget(at(0, 1), 60_000, VARDIFF), { kind: 'keep' });
  assert.deepEqual(retarget(at(600, 2 ** 30), 60_000, VARDIFF), { kind: 'keep' }, 'never above maxDifficulty');
  assert.deepEqual(retarget(at(0), 6_000, { ...VARDIFF, retargetSeconds: 5 }), { kind: 'wait' }, 'no share yet, under targetSeconds: no information');
});

/** Seeded PRNG (mulberry32): the simulation is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Rig {
  readonly hub: MinerHub;
  readonly jobs: JobBook;
  readonly upstream: FakeUpstream;
  readonly verifier: VerifierPool;
  readonly bus: EventBus;
  clock: { now: number };
  connect(): { connection: RecordingConnection; session: Session };
  close(): Promise<void>;
}

function rig(vardiff: VardiffConfig, shareDifficulty = 1): Rig {
  const clock = { now: 1_000_000 };
  const now = () => clock.now;
  const upstream = new FakeUpstream();
  const bus = new EventBus();
  const logger = silentLogger();
  const jobs = new JobBook({ chain: 'devnet', minerJobLatencyMs: 0, jobHistory: 64, upstream, bus, logger, now });
  const verifier = new VerifierPool({ concurrency: 1 });
  const hub = new MinerHub({
    stratum: { noncePrefixDigits: 4, shareDifficulty, loginTimeoutMs: 60_000, malformedBudget: 10, maxPendingSolutions: 64 },
    profiles: [{ name: 'vardiff', noncePrefixDigits: 4, shareDifficulty, vardiff, listeners: [] }],
    instanceId: '',
    chain: 'devnet',
    jobs,
    upstream,
    verifier,
    apiKeys: { openAccess: true, isAllowed: () => true },
    bus,
    logger,
    now,
  });
  let ids = 1;
  return {
    hub, jobs, upstream, verifier, bus, clock,
    connect() {
      const connection = new RecordingConnection(ids++);
      const session = hub.acceptorFor('vardiff')(connection) as Session;
      connection.handler = session;
      connection.receive(encodeMessage({ method: 'login', id: 'login', api_key: 'wallet.rig' }));
      return { connection, session };
    },
    async close() {
      hub.close();
      jobs.close();
      await verifier.close();
    },
  };
}

test('convergence: sessions 50× apart in hashrate reach share rates within ±30 % of the target in a bounded number of retargets', async (t) => {
  const r = rig(VARDIFF);
  t.after(() => r.close());
  r.upstream.job(10, difficultyToPacked(2 ** 40));
  const controller = new VardiffController(r.jobs, silentLogger(), () => r.clock.now);
  const random = prng(11);
  // Hashrate as "difficulty-1 shares per second": 0.5 and 25.
  const rigs = [0.5, 25].map((rate) => ({ rate, ...r.connect(), nextShareAt: 0, retargets: 0, lastPacked: 0, counted: 0, countFrom: 0, convergedAfter: -1 }));
  for (const m of rigs) {
    m.lastPacked = m.session.sharePacked;
    m.nextShareAt = r.clock.now;
  }
  const MAX_RETARGETS = 8;
  const SHARES_MEASURED = 400;
  const expMs = (mean: number) => -Math.log(1 - random()) * mean * 1000;
  // Step the clock in 100 ms ticks: shares arrive as a Poisson process at rate / difficulty; the sweep runs each second.
  const endAt = r.clock.now + 3 * 3600_000;
  for (const m of rigs) m.nextShareAt = r.clock.now + expMs(m.session.difficulty / m.rate);
  let phase: 'converging' | 'measuring' = 'converging';
  let measureFrom = 0;
  while (r.clock.now < endAt) {
    r.clock.now += 100;
    for (const m of rigs) {
      while (m.nextShareAt <= r.clock.now) {
        controller.judged(m.session, ResultCode.Accepted);
        m.counted++;
        m.nextShareAt += expMs(m.session.difficulty / m.rate);
      }
      if (m.session.sharePacked !== m.lastPacked) {
        m.retargets++;
        m.lastPacked = m.session.sharePacked;
        const ideal = m.rate * VARDIFF.targetSeconds;
        if (m.convergedAfter === -1 && Math.abs(m.session.difficulty - ideal) <= 0.3 * ideal) m.convergedAfter = m.retargets;
        // From now on shares come at the new difficulty.
        m.nextShareAt = r.clock.now + expMs(m.session.difficulty / m.rate);
      }
    }
    if (r.clock.now % 1000 === 0) controller.sweep(rigs.map((m) => m.session));
    if (phase === 'converging' && r.clock.now >= 1_000_000 + 20 * 60_000) {
      phase = 'measuring';
      measureFrom = r.clock.now;
      for (const m of rigs) m.countFrom = m.counted;
    }
    if (phase === 'measuring' && rigs.every((m) => m.counted - m.countFrom >= SHARES_MEASURED)) break;
  }
  const seconds = (r.clock.now - measureFrom) / 1000;
  for (const m of rigs) {
    const secondsPerShare = seconds / (m.counted - m.countFrom);
    assert.ok(Math.abs(secondsPerShare - VARDIFF.targetSeconds) <= 0.3 * VARDIFF.targetSeconds, `rate ${m.rate}: ${secondsPerShare.toFixed(2)} s per share`);
    assert.ok(m.convergedAfter !== -1 && m.convergedAfter <= MAX_RETARGETS, `rate ${m.rate}: within ±30 % of its ideal difficulty after ${m.convergedAfter} retargets`);
  }
  const fast = rigs[1]!;
  // Bounded: from 1 the fast one needs ⌈log4(25 · 10)⌉ = 4 steps up, the slow one ⌈log4 5⌉ = 2; MAX_RETARGETS allows noise.
  assert.ok(fast.convergedAfter >= 4, 'maxStep bounds each step');
});

test('a difficulty change re-sends the job under a new id; a share for the previous id is accepted at the old difficulty', async (t) => {
  const r = rig({ ...VARDIFF, targetSeconds: 10, retargetSeconds: 10 });
  t.after(() => r.close());
  const shares: ShareEvent[] = [];
  r.bus.subscribe('share', 'test', (e) => shares.push(e));
  const { connection, session } = r.connect();
  r.upstream.job(10, difficultyToPacked(2 ** 40));
  const jobs = (): Json[] => connection.byMethod('job');
  const oldJob = jobs()[0]!;
  assert.equal(oldJob.difficulty, difficultyToPacked(1));
  const prefix = String(oldJob.nonceprefix);
  // 8 accepted shares within 10 s: far faster than one per 10 s, so the next look raises the difficulty (× 4 at most).
  for (let i = 0; i < 8; i++) {
    const s = solveDevnet(String(oldJob.input), prefix, [difficultyToPacked(1)]);
    connection.receive(JSON.stringify({ method: 'solution', id: oldJob.id, nonce: s.nonce, output: s.output }));
  }
  await waitFor(() => shares.length === 8, '8 shares judged');
  assert.ok(shares.every((e) => e.code === ResultCode.Accepted));
  r.clock.now += 10_000;
  r.hub.vardiffSweep();
  assert.equal(jobs().length, 2, 'the current job sent again at once');
  const newJob = jobs()[1]!;
  assert.notEqual(newJob.id, oldJob.id, 'under a new id: each job id has one difficulty per session');
  assert.equal(newJob.input, oldJob.input, 'the same work');
  assert.equal(newJob.difficulty, difficultyToPacked(4));
  assert.equal(session.difficulty, 4);

  // Meets the old target (1) but not the new one (4).
  const easy = solveDevnet(String(oldJob.input), prefix, [difficultyToPacked(1)], [difficultyToPacked(4)]);
  const answer = async (id: unknown, s: { nonce: string; output: string }): Promise<ShareEvent> => {
    const before = shares.length;
    connection.receive(JSON.stringify({ method: 'solution', id, nonce: s.nonce, output: s.output }));
    await waitFor(() => shares.length > before, 'judged');
    return shares[before]!;
  };
  const onOld = await answer(oldJob.id, easy);
  assert.deepEqual([onOld.code, onOld.shareDifficulty], [ResultCode.Accepted, 1], 'old id: judged and evented at the old difficulty');
  const again = await answer(newJob.id, easy);
  assert.equal(again.code, ResultCode.DuplicateShare, 'the same work under the new id is the same share');
  const easy2 = solveDevnet(String(oldJob.input), prefix, [difficultyToPacked(1)], [difficultyToPacked(4)]);
  const onNew = await answer(newJob.id, easy2);
  assert.deepEqual([onNew.code, onNew.shareDifficulty], [ResultCode.LowDifficultyShare, 4], 'new id: the new difficulty');
  const hard = solveDevnet(String(oldJob.input), prefix, [difficultyToPacked(4)]);
  const hardOnNew = await answer(newJob.id, hard);
  assert.deepEqual([hardOnNew.code, hardOnNew.shareDifficulty], [ResultCode.Accepted, 4]);

  // Never harder than the block target: a job whose block target is easier than the session's difficulty.
  r.upstream.job(11, difficultyToPacked(2));
  assert.equal(connection.byMethod('cancel').at(-1)?.id, newJob.id, 'the new tip cancels the re-issue the miner works on');
  assert.equal(jobs().at(-1)!.difficulty, difficultyToPacked(2));
  assert.equal(packedToDifficulty(session.sharePacked), 4);
});
