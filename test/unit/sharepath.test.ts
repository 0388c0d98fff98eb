// The share path under attack (docs/hostile-peers.md "Share path"): the duplicate memory never forgets an accepted
// share of a live job, one peer's flood cannot make the gateway refuse another peer's solutions, and only solutions
// that wait for the verifier count as pending.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DEFAULT_BANS } from '../../src/stratum/MinerHub.js';
import { difficultyToPacked } from '../../src/pow/difficulty.js';
import { ResultCode } from '../../src/protocol/resultCodes.js';
import { RecordingConnection, waitFor, type Json } from '../support/gatewayDoubles.js';
import { MinerHubHarness, type MinerHubHarnessOptions } from '../support/minerHubHarness.js';
import { mineDevnet } from '../support/solve.js';

const HARD = difficultyToPacked(2 ** 60);
const DEVNET_OUTPUT_HEX = 72;
/** Share-event reasons of solutions answered without verification. */
const NOT_VERIFIED_REASONS = new Set(['too-many-pending', 'address-busy', 'verifier-unavailable']);

/** The share path alone: abuse control (which bans a session of 100 % junk) is tested in bans.test.ts. */
function sharePathHarness(options: MinerHubHarnessOptions = {}): MinerHubHarness {
  return new MinerHubHarness({ bans: { ...DEFAULT_BANS, enabled: false, maxSolutionsPerSecond: 0 }, ...options });
}

/** Answers to solutions (the login reply left out). */
function results(connection: RecordingConnection): Json[] {
  return connection.byMethod('result').filter((r) => r.id !== 'login');
}

function send(connection: RecordingConnection, jobId: string, nonce: string, output: string): void {
  connection.receive(JSON.stringify({ method: 'solution', id: jobId, nonce, output, jsonrpc: '2.0' }));
}

async function submit(connection: RecordingConnection, jobId: string, nonce: string, output: string): Promise<Json> {
  const before = results(connection).length;
  send(connection, jobId, nonce, output);
  await waitFor(() => results(connection).length > before, `result for job ${jobId}`, 20_000);
  return results(connection)[before]!;
}


/** A well-formed solution that fails proof of work: right size, right prefix, random output. */
function junk(prefix: string, counter: number): { nonce: string; output: string } {
  return { nonce: prefix + counter.toString(16).padStart(16 - prefix.length, '0'), output: randomBytes(DEVNET_OUTPUT_HEX / 2).toString('hex') };
}

test('finding 1: a burst of invalid solutions never makes the gateway forget an accepted share (resend is -32006)', async (t) => {
  const h = sharePathHarness();
  t.after(() => h.close());
  const { connection, prefix } = h.loggedIn();
  const up = h.upstream.job(3, HARD);
  const [good] = mineDevnet(up.input, prefix);
  assert.equal((await submit(connection, '1', good!.nonce, good!.output)).code, ResultCode.Accepted);
  // More distinct invalid solutions than the old memory held (8,192), in batches the pending bound allows.
  const JUNK = 9000;
  for (let sent = 0; sent < JUNK; ) {
    const before = results(connection).length;
    const batch = Math.min(60, JUNK - sent);
    for (let i = 0; i < batch; i++) {
      const j = junk(prefix, 1_000_000 + sent + i);
      send(connection, '1', j.nonce, j.output);
    }
    sent += batch;
    await waitFor(() => results(connection).length === before + batch, 'junk answers', 20_000);
  }
  assert.deepEqual(new Set(results(connection).slice(1).map((r) => r.code)), new Set([ResultCode.InvalidSolution]), 'every junk solution is -32004');
  assert.equal((await submit(connection, '1', good!.nonce, good!.output)).code, ResultCode.DuplicateShare);
  assert.equal(h.shares.filter((s) => s.code === ResultCode.Accepted).length, 1);
});

test('finding 1: an invalid solution does not block a later valid one, a solution in verification blocks its twin', async (t) => {
  const h = sharePathHarness();
  t.after(() => h.close());
  const a = h.loggedIn();
  const up = h.upstream.job(3, HARD);
  const [good] = mineDevnet(up.input, a.prefix);
  let release = (): void => {};
  h.verifier.hold = new Promise<void>((resolve) => {
    release = resolve;
  });
  send(a.connection, '1', good!.nonce, good!.output);
  // Its twin while the first is being verified: a duplicate, answered at once.
  assert.equal((await submit(a.connection, '1', good!.nonce, good!.output)).code, ResultCode.DuplicateShare);
  h.verifier.hold = undefined;
  release();
  await waitFor(() => results(a.connection).length === 2, 'the held solution');
  assert.equal(results(a.connection)[1]!.code, ResultCode.Accepted);
});

test('finding 3: stale and malformed solutions sent while the verifier is busy get their own codes, not "too many pending"', async (t) => {
  const h = sharePathHarness({ maxPendingSolutions: 4, malformedBudget: 3 });
  t.after(() => h.close());
  const { connection, prefix } = h.loggedIn();
  const old = h.upstream.job(3, HARD);
  const up = h.upstream.job(4, HARD);
  const held = mineDevnet(up.input, prefix, 4);
  let release = (): void => {};
  h.verifier.hold = new Promise<void>((resolve) => {
    release = resolve;
  });
  for (const s of held) send(connection, '2', s.nonce, s.output);
  // A miner flushing solutions for the previous tip (dead job 1), and a few of the wrong size.
  const stale = mineDevnet(old.input, prefix, 12);
  for (const s of stale) send(connection, '1', s.nonce, s.output);
  send(connection, '2', held[0]!.nonce, 'ab');
  await waitFor(() => results(connection).length === 13, 'answers to the stale and short solutions');
  assert.deepEqual(results(connection).slice(0, 12).map((r) => r.code), new Array(12).fill(ResultCode.StaleJob));
  assert.equal(results(connection)[12]!.code, ResultCode.BadSolutionSize);
  assert.equal(connection.closed, false, 'stale solutions never spend the malformed budget');
  h.verifier.hold = undefined;
  release();
  await waitFor(() => results(connection).length === 17, 'the held solutions');
  assert.deepEqual(results(connection).slice(13).map((r) => r.code), new Array(4).fill(ResultCode.Accepted));
});

test('finding 2: sessions from two addresses filling the verifier cannot make it refuse a third address', async (t) => {
  // The verifier queue holds 128; two addresses × 4 sessions × 32 junk solutions = 256 would fill it twice over.
  const h = sharePathHarness({ maxQueued: 128, verifierWindow: 64, maxPendingSolutions: 32, maxPendingSolutionsPerIp: 48 });
  t.after(() => h.close());
  const up = h.upstream.job(3, difficultyToPacked(4));
  const attackers = ['10.0.0.2', '10.0.0.3'].flatMap((address) => [0, 1, 2, 3].map(() => h.loggedIn(address)));
  const honest = h.loggedIn('10.0.0.9');
  const good = mineDevnet(up.input, honest.prefix, 8);
  for (const attacker of attackers) {
    for (let i = 0; i < 32; i++) {
      const j = junk(attacker.prefix, i);
      send(attacker.connection, '1', j.nonce, j.output);
    }
  }
  for (const s of good) send(honest.connection, '1', s.nonce, s.output);
  await waitFor(() => results(honest.connection).length === good.length, 'the honest answers', 20_000);
  assert.deepEqual(results(honest.connection).map((r) => r.code), new Array(good.length).fill(ResultCode.Accepted));
  // Blocks among them were forwarded.
  const blocks = h.shares.filter((s) => s.sessionId === honest.connection.id && s.isBlockCandidate).length;
  assert.equal(h.upstream.submitted.length, blocks);
  // Each attacker address got at most maxPendingSolutionsPerIp solutions into verification.
  for (const address of ['10.0.0.2', '10.0.0.3']) {
    const sessions = new Set(attackers.filter((a) => a.connection.remoteAddress === address).map((a) => a.connection.id));
    const verified = h.shares.filter((s) => sessions.has(s.sessionId) && s.code === ResultCode.InvalidSolution && !NOT_VERIFIED_REASONS.has(s.reason)).length;
    assert.ok(verified <= 48, `${address}: ${verified} verified`);
  }
});

test('finding 2: a session over its share of a full address spends its malformed budget; a light one on that address does not', async (t) => {
  const h = sharePathHarness({ maxPendingSolutionsPerIp: 8, malformedBudget: 3 });
  t.after(() => h.close());
  const up = h.upstream.job(3, HARD);
  const hog = h.loggedIn('10.0.0.5');
  const light = h.loggedIn('10.0.0.5');
  const [lightGood] = mineDevnet(up.input, light.prefix);
  let release = (): void => {};
  h.verifier.hold = new Promise<void>((resolve) => {
    release = resolve;
  });
  send(light.connection, '1', lightGood!.nonce, lightGood!.output);
  for (let i = 0; i < 20; i++) {
    const j = junk(hog.prefix, i);
    send(hog.connection, '1', j.nonce, j.output);
  }
  // The hog got 7 in (8 minus the light one's), then 3 refusals answered, then closed.
  await waitFor(() => hog.connection.closed, 'the hog to be closed');
  assert.equal(hog.connection.closeReason, 'malformed-budget');
  assert.deepEqual(results(hog.connection).map((r) => r.description), new Array(3).fill('Too many pending solutions'));
  // The light session, refused while the address is full, is told to resend and stays.
  const [second] = mineDevnet(up.input, light.prefix, 1, 1000);
  const answer = await submit(light.connection, '1', second!.nonce, second!.output);
  assert.deepEqual([answer.code, answer.description], [ResultCode.InvalidSolution, 'Too many pending solutions from your address, resend']);
  h.verifier.hold = undefined;
  release();
  await waitFor(() => results(light.connection).length === 2, 'the light session’s held solution');
  assert.equal(results(light.connection)[1]!.code, ResultCode.Accepted);
  assert.equal(light.connection.closed, false);
});
