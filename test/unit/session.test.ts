import { test } from 'node:test';
import assert from 'node:assert/strict';
import { difficultyToPacked } from '../../src/pow/difficulty.js';
import { encodeMessage, parseMessage } from '../../src/protocol/messages.js';
import { ResultCode } from '../../src/protocol/resultCodes.js';
import { RecordingConnection, waitFor, type Json } from '../support/gatewayDoubles.js';
import { MINER_KEY, MinerHubHarness } from '../support/minerHubHarness.js';
import { mineDevnet } from '../support/solve.js';

const HARD = difficultyToPacked(2 ** 60);

function results(connection: RecordingConnection): Json[] {
  return connection.byMethod('result');
}

/** Sends a solution and waits for its result (replies come in order per session only for sync outcomes). */
async function submit(connection: RecordingConnection, jobId: string, nonce: string, output: string): Promise<Json> {
  const before = results(connection).length;
  connection.receive(JSON.stringify({ method: 'solution', id: jobId, nonce, output, jsonrpc: '2.0' }));
  await waitFor(() => results(connection).length > before, `result for job ${jobId}`);
  return results(connection)[before]!;
}


test('login: result 0 with the nonce prefix and fork heights, then the current job with share difficulty and prefix', async (t) => {
  const h = new MinerHubHarness({ shareDifficulty: 2 ** 20 });
  t.after(() => h.close());
  h.upstream.login('', 100, 200);
  const upJob = h.upstream.job(5, HARD);
  const { connection, prefix } = h.loggedIn();
  assert.equal(prefix, '0a0000');
  assert.deepEqual(connection.messages()[0], {
    method: 'result', id: 'login', code: 0, description: 'Login successful', nonceprefix: '0a0000', forkheight: 100, forkheight2: 200, jsonrpc: '2.0',
  });
  const job = connection.byMethod('job')[0]!;
  assert.deepEqual(job, { method: 'job', id: '1', input: upJob.input, height: 5, difficulty: difficultyToPacked(2 ** 20), nonceprefix: '0a0000', jsonrpc: '2.0' });
  assert.deepEqual(parseMessage(connection.lines[1]!), { method: 'job', id: '1', input: upJob.input, difficulty: difficultyToPacked(2 ** 20), height: 5, nonceprefix: '0a0000' });
  assert.ok(connection.lines[1]!.endsWith('\n'));
  // Every job carries the session's prefix; a second session gets another one.
  const second = h.loggedIn();
  assert.equal(second.prefix, '0a0001');
  h.upstream.job(6, HARD);
  assert.equal(connection.byMethod('job')[1]!.nonceprefix, '0a0000');
  assert.equal(second.connection.byMethod('job')[1]!.nonceprefix, '0a0001');
  assert.deepEqual(h.sessionEvents.map((e) => e.kind), ['session.open', 'session.login', 'session.open', 'session.login']);
});

test('share difficulty is capped by the block target so no block is lost', async (t) => {
  const h = new MinerHubHarness({ shareDifficulty: 2 ** 20 });
  t.after(() => h.close());
  const { connection } = h.loggedIn();
  h.upstream.job(5, difficultyToPacked(1000));
  assert.equal(connection.byMethod('job')[0]!.difficulty, difficultyToPacked(1000));
});

test('prefix revoked: a node prefix that shrinks the session field closes the sessions that no longer fit', async (t) => {
  const h = new MinerHubHarness({ noncePrefixDigits: 6, instanceId: 'aaaa' });
  t.after(() => h.close());
  const sessions = Array.from({ length: 258 }, () => h.loggedIn());
  assert.equal(sessions[0]!.prefix, 'aaaa000000');
  // 6 node digits + 4 instance digits leave 2 session digits: 256 prefixes for 258 sessions.
  h.upstream.login('abcdef');
  const closed = sessions.filter((s) => s.connection.closeReason !== undefined);
  assert.deepEqual(closed.map((s) => s.connection.closeReason), ['prefix-revoked', 'prefix-revoked']);
  assert.equal(h.hub.loggedInCount, 256);
});

test('login failed: -32003 and the connection is closed', async (t) => {
  const h = new MinerHubHarness();
  t.after(() => h.close());
  const connection = h.connect();
  connection.receive(encodeMessage({ method: 'login', id: 'login', api_key: 'wrong-key-000' }));
  assert.deepEqual(results(connection).map((r) => [r.code, r.description]), [[-32003, 'Login failed']]);
  assert.equal(connection.closeReason, 'login-failed');
  await waitFor(() => h.sessionEvents.some((e) => e.kind === 'session.close'), 'session.close');
  assert.equal(h.hub.sessionCount, 0);
});

test('noncePrefixDigits 0: any number of sessions share the (empty) gateway prefix', async (t) => {
  const h = new MinerHubHarness({ noncePrefixDigits: 0, instanceId: '' });
  t.after(() => h.close());
  const sessions = Array.from({ length: 20 }, () => h.loggedIn());
  assert.ok(sessions.every((s) => s.prefix === '' && s.connection.closeReason === undefined));
  assert.equal(sessions[0]!.connection.byMethod('result')[0]!.nonceprefix, undefined, 'an empty prefix is left out');
  assert.equal(h.hub.loggedInCount, 20);
});

test('prefixes exhausted: login refused with -32003; a closed session frees its prefix', async (t) => {
  const h = new MinerHubHarness({ noncePrefixDigits: 2, instanceId: '' });
  t.after(() => h.close());
  const all = Array.from({ length: 256 }, () => h.loggedIn());
  const first = all[0]!;
  assert.equal(first.prefix, '00');
  const second = h.connect();
  second.receive(encodeMessage({ method: 'login', id: 'login', api_key: MINER_KEY }));
  assert.deepEqual(results(second).map((r) => [r.code, r.description]), [[-32003, 'No nonce prefix available']]);
  assert.equal(second.closeReason, 'prefixes-exhausted');
  first.connection.close('peer-closed');
  await waitFor(() => h.hub.loggedInCount === 255, 'the first session to go');
  assert.equal(h.loggedIn().prefix, '00', 'its prefix is free again');
});

test('malformed and unknown messages: answered (id echoed when readable) until the budget is spent, then closed', async (t) => {
  const h = new MinerHubHarness({ malformedBudget: 3 });
  t.after(() => h.close());
  const connection = h.connect();
  connection.receive('');
  connection.receive('   ');
  connection.receive('{not json');
  connection.receive('{"id":"7","method":"mine"}');
  connection.receive('{"id":"8","method":"job","input":"00","difficulty":1,"height":1}');
  assert.deepEqual(results(connection).map((r) => [r.id, r.code]), [['', -32000], ['7', -32001], ['8', -32001]]);
  assert.equal(connection.closed, false);
  connection.receive('{"id":"9","method":"solution"}');
  assert.equal(connection.closeReason, 'malformed-budget');
  assert.equal(results(connection).length, 3, 'the message over budget is not answered');
});

test('login timeout: a connection that does not log in is closed by the hub sweep', async (t) => {
  const h = new MinerHubHarness({ loginTimeoutMs: 20 });
  t.after(() => h.close());
  const idle = h.connect();
  const { connection } = h.loggedIn();
  await waitFor(() => idle.closed, 'the login timeout');
  assert.equal(idle.closeReason, 'login-timeout');
  assert.equal(connection.closed, false, 'logged-in sessions are not touched');
});

test('solution pipeline: every result code, each check winning over the later ones', async (t) => {
  const h = new MinerHubHarness({ jobHistory: 2 });
  t.after(() => h.close());
  const outsider = h.connect();
  const { connection, prefix } = h.loggedIn();
  const up = h.upstream.job(10, HARD);
  const outputHexLength = 36 * 2;
  const garbage = 'ab'.repeat(36);
  const [good, second] = mineDevnet(up.input, prefix, 2);
  assert.ok(good && second);

  // -32010 before login (even for an unknown job).
  assert.equal((await submit(outsider, '999', good.nonce, good.output)).code, ResultCode.Unauthorized);
  // -32008 unknown job id, even with a bad output.
  assert.equal((await submit(connection, '999', good.nonce, 'zz')).code, ResultCode.StaleJob);
  // -32005 wrong output size / not hex, before the nonce check.
  assert.equal((await submit(connection, '1', 'zz', good.output.slice(2))).code, ResultCode.BadSolutionSize);
  assert.equal((await submit(connection, '1', good.nonce, 'g'.repeat(outputHexLength))).code, ResultCode.BadSolutionSize);
  // -32007 nonce not 16 hex digits, before the prefix check.
  assert.equal((await submit(connection, '1', good.nonce.slice(1), good.output)).code, ResultCode.BadNonce);
  assert.equal((await submit(connection, '1', 'x'.repeat(16), good.output)).code, ResultCode.BadNonce);
  // 2 prefix mismatch, before PoW; never forwarded.
  const foreign = 'ff' + good.nonce.slice(2);
  assert.deepEqual(await submit(connection, '1', foreign, garbage), { method: 'result', id: '1', code: 2, description: 'rejected', jsonrpc: '2.0' });
  // -32004 invalid PoW; the same again is judged again (only solutions that passed PoW are remembered, D29).
  assert.equal((await submit(connection, '1', good.nonce, garbage)).code, ResultCode.InvalidSolution);
  assert.equal((await submit(connection, '1', good.nonce, garbage)).code, ResultCode.InvalidSolution);
  // 1 accepted (uppercase hex is fine); a resend is a duplicate.
  assert.deepEqual(await submit(connection, '1', good.nonce.toUpperCase(), good.output.toUpperCase()), { method: 'result', id: '1', code: 1, description: 'accepted', jsonrpc: '2.0' });
  assert.equal((await submit(connection, '1', good.nonce, good.output)).code, ResultCode.DuplicateShare);
  assert.equal(h.upstream.submitted.length, 0, 'a share below the block target is not forwarded');
  // 3 expired: same tip, out of the 2-job window.
  h.upstream.job(10, HARD);
  h.upstream.job(10, HARD);
  assert.equal((await submit(connection, '1', second.nonce, second.output)).code, ResultCode.Expired);
  // -32008 stale: the tip moved on.
  h.upstream.job(11, HARD);
  assert.equal((await submit(connection, '3', second.nonce, second.output)).code, ResultCode.StaleJob);

  const codes = h.shares.map((share) => share.code);
  assert.deepEqual(codes, [-32010, -32008, -32005, -32005, -32007, -32007, 2, -32004, -32004, 1, -32006, 3, -32008]);
  const accepted = h.shares.find((share) => share.code === 1)!;
  assert.equal(accepted.isBlockCandidate, false);
  assert.equal(accepted.height, 10);
  assert.equal(accepted.nonce, good.nonce);
  assert.ok(accepted.achievedDifficulty > 0);
  assert.equal(accepted.shareDifficulty, 1);
  assert.equal(accepted.miner.startsWith('key-'), true, 'a secret key is not used as the miner label');
  assert.equal(accepted.worker, '', 'no worker part');
});

test('-32009 low difficulty share: valid PoW below the session share target', async (t) => {
  const h = new MinerHubHarness({ shareDifficulty: 2 ** 40 });
  t.after(() => h.close());
  const { connection, prefix } = h.loggedIn();
  const up = h.upstream.job(3, HARD);
  const [solution] = mineDevnet(up.input, prefix);
  assert.equal((await submit(connection, '1', solution!.nonce, solution!.output)).code, ResultCode.LowDifficultyShare);
  assert.equal(h.shares[0]!.shareDifficulty, 2 ** 40);
});

test('verifier unavailable: -32004 "not verified", and a resend is judged afresh (not a duplicate)', async (t) => {
  const h = new MinerHubHarness();
  t.after(() => h.close());
  const { connection, prefix } = h.loggedIn();
  const up = h.upstream.job(3, HARD);
  const [solution] = mineDevnet(up.input, prefix);
  h.verifier.failNext = true;
  const first = await submit(connection, '1', solution!.nonce, solution!.output);
  assert.deepEqual([first.code, first.description], [ResultCode.InvalidSolution, 'Solution not verified, resend']);
  assert.equal((await submit(connection, '1', solution!.nonce, solution!.output)).code, ResultCode.Accepted);
});

test('pending bound: solutions beyond maxPendingSolutions are refused at once, those in the pipeline still judged', async (t) => {
  const h = new MinerHubHarness({ maxPendingSolutions: 2 });
  t.after(() => h.close());
  const { connection, prefix } = h.loggedIn();
  const up = h.upstream.job(3, HARD);
  const solutions = mineDevnet(up.input, prefix, 3);
  let release = (): void => {};
  h.verifier.hold = new Promise<void>((resolve) => {
    release = resolve;
  });
  for (const s of solutions) {
    connection.receive(JSON.stringify({ method: 'solution', id: '1', nonce: s.nonce, output: s.output, jsonrpc: '2.0' }));
  }
  await waitFor(() => results(connection).length > 1, 'the refusal of the third solution');
  const refused = results(connection)[1]!;
  assert.deepEqual([refused.code, refused.description], [ResultCode.InvalidSolution, 'Too many pending solutions']);
  h.verifier.hold = undefined;
  release();
  await waitFor(() => results(connection).length === 4, 'results of the two held solutions');
  assert.deepEqual(results(connection).slice(2).map((r) => r.code), [ResultCode.Accepted, ResultCode.Accepted]);
});

test('block: forwarded to the node before any reply or event, share accepted at once, outcome announced on the bus', async (t) => {
  const h = new MinerHubHarness();
  t.after(() => h.close());
  h.upstream.login('ABC');
  const { connection, prefix } = h.loggedIn();
  assert.equal(prefix, 'abc0a00000', 'odd node prefix: session field grows by one digit');
  const up = h.upstream.job(42, 0); // difficulty 1: every valid solution is a block
  const [solution] = mineDevnet(up.input, prefix);
  let repliesAtSubmit = -1;
  let sharesAtSubmit = -1;
  const submitBlock = h.upstream.submitBlock.bind(h.upstream);
  h.upstream.submitBlock = (jobId, nonce, output) => {
    repliesAtSubmit = results(connection).length;
    sharesAtSubmit = h.shares.length;
    return submitBlock(jobId, nonce, output);
  };
  const reply = await submit(connection, '1', solution!.nonce, solution!.output);
  assert.equal(reply.code, ResultCode.Accepted);
  assert.equal(reply.blockhash, undefined, 'the share reply does not wait for the node');
  assert.equal(repliesAtSubmit, 1, 'only the login reply had been sent when the block was forwarded');
  assert.equal(sharesAtSubmit, 0);
  // The stratum side forwards its own lowercase nonce; the node link restores the node's case (nonceForNode).
  assert.deepEqual(h.upstream.submitted, [{ upstreamJobId: up.id, nonce: solution!.nonce, output: solution!.output }]);
  assert.equal(h.shares[0]!.isBlockCandidate, true);
  await waitFor(() => h.blocks.length === 2, 'the block outcome');
  assert.deepEqual(h.blocks.map((b) => [b.status, b.blockHash]), [['submitted', undefined], ['accepted', 'ab'.repeat(32)]]);
  assert.equal(h.blocks[1]!.upstreamJobId, up.id);
  assert.equal(h.blocks[1]!.jobId, '1');
});

test('a block found just before the miner disconnects is still forwarded', async (t) => {
  const h = new MinerHubHarness();
  t.after(() => h.close());
  h.upstream.outcome = { status: 'rejected', code: 2 };
  const { connection, prefix } = h.loggedIn();
  const up = h.upstream.job(42, 0);
  const [solution] = mineDevnet(up.input, prefix);
  connection.receive(JSON.stringify({ method: 'solution', id: '1', nonce: solution!.nonce, output: solution!.output }));
  connection.close('peer-closed');
  await waitFor(() => h.blocks.length === 2, 'the block outcome');
  assert.equal(h.upstream.submitted.length, 1);
  assert.equal(h.blocks[1]!.status, 'rejected');
});

test('new tip: cancel for the newest dead job, then the new job, to every logged-in session', (t) => {
  const h = new MinerHubHarness();
  t.after(() => h.close());
  const a = h.loggedIn();
  const b = h.loggedIn();
  const waiting = h.connect();
  h.upstream.job(1, HARD);
  h.upstream.job(1, HARD);
  h.upstream.job(2, HARD);
  for (const { connection } of [a, b]) {
    const tail = connection.messages().slice(-2).map((m) => [m.method, m.id]);
    assert.deepEqual(tail, [['cancel', '2'], ['job', '3']]);
    assert.equal(connection.byMethod('cancel').length, 1);
  }
  assert.equal(waiting.lines.length, 0, 'sessions not logged in get nothing');
});

test('upstream down then back: cancel at once, miners stay connected, next job immediately', (t) => {
  const h = new MinerHubHarness();
  t.after(() => h.close());
  const { connection } = h.loggedIn();
  h.upstream.job(1, HARD);
  h.upstream.emit('down', 'gone');
  assert.deepEqual(connection.messages().at(-1), { method: 'cancel', id: '1', jsonrpc: '2.0' });
  assert.equal(connection.closed, false);
  // A session logging in while the node is away gets no dead job.
  const late = h.loggedIn();
  assert.equal(late.connection.byMethod('job').length, 0);
  h.upstream.login('');
  h.upstream.job(1, HARD);
  assert.equal(connection.byMethod('job').at(-1)!.id, '2');
  assert.equal(late.connection.byMethod('job').at(-1)!.id, '2');
});

test('node prefix change on re-login: live sessions get the re-derived prefix in their next job', (t) => {
  const h = new MinerHubHarness();
  t.after(() => h.close());
  const { connection } = h.loggedIn();
  h.upstream.job(1, HARD);
  assert.equal(connection.byMethod('job')[0]!.nonceprefix, '0a0000');
  h.upstream.login('be');
  h.upstream.job(1, HARD);
  assert.equal(connection.byMethod('job')[1]!.nonceprefix, 'be0a0000');
});

test('a throwing bus subscriber disturbs neither the miner nor other sessions', async (t) => {
  const h = new MinerHubHarness();
  t.after(() => h.close());
  h.bus.subscribe('share', 'test', () => {
    throw new Error('subscriber bug');
  });
  h.bus.subscribe('session.login', 'test', () => {
    throw new Error('subscriber bug');
  });
  const { connection, prefix } = h.loggedIn();
  const up = h.upstream.job(1, HARD);
  assert.equal(connection.byMethod('job').length, 1);
  const [solution] = mineDevnet(up.input, prefix);
  assert.equal((await submit(connection, '1', solution!.nonce, solution!.output)).code, ResultCode.Accepted);
});

test('close: every session is closed with server-shutdown and the hub stops listening', async (t) => {
  const h = new MinerHubHarness();
  const { connection } = h.loggedIn();
  const waiting = h.connect();
  await h.close();
  assert.equal(connection.closeReason, 'server-shutdown');
  assert.equal(waiting.closeReason, 'server-shutdown');
  assert.equal(h.upstream.listenerCount('login'), 0);
  t.diagnostic(`sessions after close: ${h.hub.sessionCount}`);
  assert.equal(h.hub.sessionCount, 0);
});
