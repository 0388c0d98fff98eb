import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/config/logger.js';
import { EventBus, type JobEvent } from '../../src/events/EventBus.js';
import { solutionDigest } from '../../src/jobs/ShareMemory.js';
import { JobBook, type CancelReason, type GatewayJob } from '../../src/jobs/JobBook.js';
import { VARIANTS } from '../../src/pow/variants.js';
import { FakeUpstream, waitFor } from '../support/gatewayDoubles.js';

interface Harness {
  upstream: FakeUpstream;
  book: JobBook;
  bus: EventBus;
  jobs: GatewayJob[];
  cancels: Array<{ ids: string[]; reason: CancelReason }>;
  order: string[];
  clock: { now: number };
}

function harness(minerJobLatencyMs = 0, jobHistory = 64, maxSharesPerJob?: number): Harness {
  const upstream = new FakeUpstream();
  const bus = new EventBus();
  const clock = { now: 1_000_000 };
  const book = new JobBook({ chain: 'devnet', minerJobLatencyMs, jobHistory, upstream, bus, logger: silentLogger(), now: () => clock.now, maxSharesPerJob });
  const h: Harness = { upstream, book, bus, jobs: [], cancels: [], order: [], clock };
  book.bindSink({
    jobPublished(job) {
      h.jobs.push(job);
      h.order.push(`job:${job.id}`);
    },
    jobsCancelled(dead, reason) {
      h.cancels.push({ ids: dead.map((job) => job.id), reason });
      h.order.push(`cancel:${dead.map((job) => job.id).join(',')}`);
    },
  });
  return h;
}

test('maps gateway ids (own decimal counter) to the node job, height, input and block target', (t) => {
  const h = harness();
  t.after(() => h.book.close());
  const busJobs: JobEvent[] = [];
  h.bus.subscribe('job', 'test', (event) => busJobs.push(event));
  const up = h.upstream.job(10, 0x05000000, 'AB'.repeat(32));
  assert.equal(h.jobs.length, 1);
  const job = h.jobs[0]!;
  assert.equal(job.id, '1');
  assert.equal(job.upstreamJobId, up.id);
  assert.equal(job.height, 10);
  assert.equal(job.input, 'ab'.repeat(32), 'input lowercased');
  assert.deepEqual([...job.inputBytes], new Array(32).fill(0xab));
  assert.equal(job.blockTarget, 0x05000000);
  assert.equal(job.variant, VARIANTS.devnet);
  assert.equal(job.newTip, true);
  assert.equal(h.book.current, job);
  const lookup = h.book.lookup('1');
  assert.equal(lookup.status, 'alive');
  assert.deepEqual(busJobs, [{ jobId: '1', upstreamJobId: up.id, height: 10, packedDifficulty: 0x05000000, newTip: true, at: h.clock.now }]);
});

test('new tip: older jobs die at once — cancel for them, then the new job; late solutions for them are stale', (t) => {
  const h = harness(0);
  t.after(() => h.book.close());
  h.upstream.job(10);
  h.upstream.job(10); // tx refresh, latency 0 ⇒ published
  h.upstream.job(11);
  assert.deepEqual(h.order, ['job:1', 'job:2', 'cancel:1,2', 'job:3']);
  assert.equal(h.cancels[0]!.reason, 'new-tip');
  assert.equal(h.jobs[1]!.newTip, false);
  assert.equal(h.jobs[2]!.newTip, true);
  assert.equal(h.book.lookup('1').status, 'stale');
  assert.equal(h.book.lookup('2').status, 'stale');
  assert.equal(h.book.lookup('3').status, 'alive');
  // A lower height (reorg) is a new tip too.
  h.upstream.job(9);
  assert.equal(h.jobs[3]!.newTip, true);
  assert.equal(h.book.lookup('3').status, 'stale');
});

test('unknown ids are unknown (the session answers -32008 for them, like stale)', (t) => {
  const h = harness();
  t.after(() => h.book.close());
  h.upstream.job(1);
  for (const id of ['0', '2', '999', 'abc', '', '1.0', '-1', '12345678901234567890']) {
    assert.equal(h.book.lookup(id).status, 'unknown', id);
  }
});

test('same tip beyond jobHistory: expired; within it: alive', (t) => {
  const h = harness(0, 3);
  t.after(() => h.book.close());
  for (let i = 0; i < 5; i++) h.upstream.job(50);
  assert.deepEqual(
    ['1', '2', '3', '4', '5'].map((id) => h.book.lookup(id).status),
    ['expired', 'expired', 'alive', 'alive', 'alive'],
  );
  h.upstream.job(51);
  assert.equal(h.book.lookup('1').status, 'stale', 'a dead tip is stale, not expired');
  assert.equal(h.book.lookup('5').status, 'stale');
});

test('tx refreshes are paced: one per latency window, coalesced to the latest, the pending one sent when the window ends', async (t) => {
  const h = harness(30);
  t.after(() => h.book.close());
  h.upstream.job(7); // tip: at once
  assert.equal(h.jobs.length, 1);
  h.upstream.job(7); // refresh inside the window: pending
  const latest = h.upstream.job(7); // coalesces over the previous one
  assert.equal(h.jobs.length, 1, 'refreshes inside the window wait');
  await waitFor(() => h.jobs.length === 2, 'the pending refresh');
  assert.equal(h.jobs[1]!.upstreamJobId, latest.id, 'the latest refresh is the one sent');
  assert.equal(h.jobs[1]!.newTip, false);
  // Once a full window has passed since the last job, a refresh goes out at once.
  h.clock.now += 30;
  const immediate = h.upstream.job(7);
  assert.equal(h.jobs.length, 3);
  assert.equal(h.jobs[2]!.upstreamJobId, immediate.id);
  assert.equal(h.cancels.length, 0, 'refreshes cancel nothing');
});

test('a new tip goes out at once even inside the window, and supersedes a pending refresh', async (t) => {
  const h = harness(20);
  t.after(() => h.book.close());
  h.upstream.job(7);
  h.upstream.job(7); // pending refresh of the old tip
  const tip = h.upstream.job(8);
  assert.equal(h.jobs.length, 2);
  assert.equal(h.jobs[1]!.upstreamJobId, tip.id);
  // The timer of the superseded refresh was cleared: a later job still arrives through the normal path only.
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.equal(h.jobs.length, 2, 'the refresh of a dead tip is not sent');
});

test('upstream down: live jobs cancelled but still judgeable until the node is back; the next job goes out at once as a new tip', (t) => {
  const h = harness(60_000);
  t.after(() => h.book.close());
  h.upstream.job(20);
  h.upstream.emit('down', 'socket closed');
  assert.deepEqual(h.cancels, [{ ids: ['1'], reason: 'upstream-down' }]);
  assert.equal(h.book.current, undefined, 'no job is handed out while the node is away');
  // A solution already on its way is still judged (a block among them is held by NodeLink for the re-login).
  assert.equal(h.book.lookup('1').status, 'alive');
  h.upstream.emit('down', 'reconnect failed');
  assert.equal(h.cancels.length, 1, 'one cancel per outage');
  h.upstream.login('');
  assert.equal(h.book.lookup('1').status, 'stale', 'a new upstream session voids the old jobs');
  assert.equal(h.cancels.length, 1, 'no second cancel for jobs the miners were already told about');
  h.upstream.job(20); // same height, huge latency: still immediate (new upstream session ⇒ new tip)
  assert.equal(h.jobs.length, 2);
  assert.equal(h.jobs[1]!.newTip, true);
});

test('upstream re-login voids older node job ids at once, even without a down', (t) => {
  const h = harness(0);
  t.after(() => h.book.close());
  h.upstream.job(30);
  h.upstream.login('ab');
  assert.deepEqual(h.cancels, [{ ids: ['1'], reason: 'upstream-login' }]);
  assert.equal(h.book.lookup('1').status, 'stale');
  h.upstream.job(30);
  assert.equal(h.jobs[1]!.newTip, true);
});

test('malformed upstream jobs are ignored', (t) => {
  const h = harness();
  t.after(() => h.book.close());
  h.upstream.emit('job', { id: '1', input: 'zz', difficulty: 0, height: 1 });
  h.upstream.emit('job', { id: '2', input: '00'.repeat(32), difficulty: -1, height: 1 });
  h.upstream.emit('job', { id: '3', input: '00'.repeat(32), difficulty: 0, height: 1.5 });
  assert.equal(h.jobs.length, 0);
});

test('a throwing sink disturbs neither the book nor the bus announcement', (t) => {
  const upstream = new FakeUpstream();
  const bus = new EventBus();
  const book = new JobBook({ chain: 'devnet', minerJobLatencyMs: 0, jobHistory: 64, upstream, bus, logger: silentLogger() });
  t.after(() => book.close());
  book.bindSink({
    jobPublished() {
      throw new Error('boom');
    },
    jobsCancelled() {
      throw new Error('boom');
    },
  });
  const seen: string[] = [];
  bus.subscribe('job', 'test', (job) => seen.push(job.jobId));
  upstream.job(1);
  upstream.job(2);
  assert.deepEqual(seen, ['1', '2']);
  assert.equal(book.lookup('2').status, 'alive');
});

test('a job book takes one sink only', (t) => {
  const h = harness();
  t.after(() => h.book.close());
  assert.throws(() => h.book.bindSink({ jobPublished() {}, jobsCancelled() {} }), /already has its sink/);
});

test('close clears the pacing timer and stops listening', async () => {
  const h = harness(15);
  h.upstream.job(1);
  h.upstream.job(1); // pending
  h.book.close();
  h.upstream.job(2);
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.equal(h.jobs.length, 1);
  assert.equal(h.upstream.listenerCount('job'), 0);
});

test('duplicate memory: per job, claimed while verified, remembered only when valid, never forgotten; a full job refuses', (t) => {
  const LIMIT = 5000;
  const h = harness(0, 64, LIMIT);
  t.after(() => h.book.close());
  h.upstream.job(1);
  h.upstream.job(1);
  const [a, b] = h.jobs as [GatewayJob, GatewayJob];
  const digest = (n: number): ReturnType<typeof solutionDigest> => solutionDigest(Buffer.from(n.toString(16).padStart(16, '0'), 'hex'), Buffer.alloc(36, 0xee));
  const first = digest(0);
  assert.equal(h.book.claimSolution(a, first), 'fresh');
  assert.equal(h.book.claimSolution(a, first), 'duplicate', 'a twin of a solution being verified');
  assert.equal(h.book.claimSolution(b, first), 'fresh', 'per job');
  h.book.settleSolution(b, first, false);
  assert.equal(h.book.claimSolution(b, first), 'fresh', 'an invalid solution is not remembered');
  h.book.settleSolution(b, first, false);
  h.book.settleSolution(a, first, true);
  assert.equal(h.book.claimSolution(a, first), 'duplicate', 'a verified solution is remembered');
  // Fill job a up to its bound with verified solutions (invalid ones in between cost nothing): the first is still known.
  for (let i = 1; i < LIMIT; i++) {
    assert.equal(h.book.claimSolution(a, digest(LIMIT + i)), 'fresh');
    h.book.settleSolution(a, digest(LIMIT + i), false);
    assert.equal(h.book.claimSolution(a, digest(i)), 'fresh');
    h.book.settleSolution(a, digest(i), true);
  }
  assert.equal(h.book.claimSolution(a, first), 'duplicate', 'never forgotten');
  assert.equal(h.book.claimSolution(a, digest(LIMIT - 1)), 'duplicate');
  assert.equal(h.book.claimSolution(a, digest(3 * LIMIT)), 'job-full', 'a full job refuses new solutions, it never forgets old ones');
  assert.equal(h.book.claimSolution(b, digest(3 * LIMIT)), 'fresh', 'other jobs are unaffected');
});
