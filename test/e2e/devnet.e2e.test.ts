// The whole data path on devnet, real PoW, real loopback sockets:
//   SimNode (TLS, node nonce prefix 'a5') ← Gateway (stratum TCP, share difficulty 2) ← 50 reference miners.
// Proves: blocks the gateway forwards reach the node and are accepted (bus `block` events = SimNode's blocks),
// nonce spaces never overlap, shares are judged at the share difficulty, and dead jobs are refused as the docs say
// when tips change under load (cancel, -32008 stale, 3 expired).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { difficultyToPacked } from '../../src/pow/difficulty.js';
import { ResultCode } from '../../src/protocol/resultCodes.js';
import type { MinerGroup } from '../../src/sim/refminer/ReferenceMiner.js';
import type { SimSolutionOutcome } from '../../src/sim/SimNode.js';
import { miners, startStack, Teardown, type Stack } from '../support/e2e.js';
import { StratumClient, type Json } from '../support/net.js';
import { waitFor } from '../support/wait.js';

const NODE_PREFIX = 'a5';
const SHARE_DIFFICULTY = 2;
/** ≈ one share in 100 at difficulty ≥ 2 is a block: about one a second at the miners' capped rate. */
const BLOCK_DIFFICULTY = 200;
const BLOCKS = 5;
const MINERS = 50;
const JOB_HISTORY = 64;
const DEVNET_OUTPUT_HEX = 36 * 2;

describe('devnet end to end: SimNode ← Gateway ← 50 reference miners', { timeout: 240_000 }, () => {
  const teardown = new Teardown();
  const nodeSolutions: SimSolutionOutcome[] = [];
  let stack: Stack;
  let group: MinerGroup;

  before(async () => {
    stack = await startStack(
      teardown,
      { tls: true, chain: 'devnet', noncePrefix: NODE_PREFIX, difficulty: BLOCK_DIFFICULTY, blockIntervalMs: 0, minerJobLatencyMs: 0 },
      // Tx refreshes only come when the test asks for them; no pacing, so the 64-job window fills quickly.
      { stratum: { shareDifficulty: SHARE_DIFFICULTY, noncePrefixDigits: 4, minerJobLatencyMs: 0, jobHistory: JOB_HISTORY } },
    );
    stack.node.on('solution', (s) => nodeSolutions.push(s));
    group = miners(teardown, { url: stack.url, key: 'e2e-miner', miners: MINERS, workers: 2, rate: 2, chain: 'devnet' });
  });
  after(() => teardown.run());

  it(`mines ${BLOCKS} blocks: every block the gateway forwarded reached SimNode and its verdict is the node's`, async () => {
    const { node, events } = stack;
    await waitFor(() => node.stats().blocks.length >= BLOCKS, `${BLOCKS} blocks accepted by SimNode`, 120_000, 20);
    const submitted = () => events.blocks.filter((b) => b.status === 'submitted');
    const outcomes = () => events.blocks.filter((b) => b.status !== 'submitted');
    // Blocks forwarded just now may still be on their way: wait for the node's word on each.
    await waitFor(() => outcomes().length === submitted().length, 'an outcome for every forwarded block', 30_000, 20);

    assert.equal(group.stats().logins >= MINERS, true, 'all miners logged in');
    const nodeBlocks = node.stats().blocks;
    const accepted = outcomes().filter((b) => b.status === 'accepted');
    // Only the gateway talks to this node and no tip was forced: its blocks are exactly the accepted ones.
    assert.deepEqual(
      accepted.map((b) => b.blockHash).sort(),
      nodeBlocks.map((b) => b.hash).sort(),
      'block hashes announced as accepted = blocks SimNode accepted',
    );
    for (const b of accepted) {
      const nodeBlock = nodeBlocks.find((nb) => nb.hash === b.blockHash);
      assert.ok(nodeBlock !== undefined);
      assert.equal(nodeBlock.jobId, b.upstreamJobId, 'forwarded with the node job id');
      assert.equal(nodeBlock.height, b.height);
      assert.equal(nodeBlock.nonce, b.nonce, 'nonce reached the node unchanged');
    }
    for (const sent of submitted()) {
      const atNode = nodeSolutions.filter((s) => s.nonce === sent.nonce && s.jobId === sent.upstreamJobId);
      assert.equal(atNode.length, 1, `block ${sent.nonce} reached SimNode exactly once`);
      const outcome = outcomes().find((o) => o.nonce === sent.nonce && o.upstreamJobId === sent.upstreamJobId);
      assert.ok(outcome !== undefined);
      assert.equal(outcome.nodeCode, atNode[0]?.code, 'the gateway announces the code the node answered');
      if (outcome.status !== 'accepted') {
        // Two miners may win the same height within the same few ms; the node takes the first only.
        assert.equal(atNode[0]?.reason, 'already-solved', `block at ${sent.height} refused only because its height was won`);
        assert.ok(accepted.some((a) => a.height === sent.height), 'another block of that height was accepted');
      }
    }
    assert.ok(accepted.length >= BLOCKS);
  });

  it('no two miners share nonce space: each session mines under its own prefix, which starts with the node prefix', () => {
    const { events, gateway } = stack;
    assert.deepEqual(events.prefixClashes, [], 'prefixes handed out at login unique among live sessions');
    // Miners that logged in before the gateway's own node login got a prefix without the node's digits; it was
    // re-derived in place when the node's prefix arrived (docs/gateway.md) and went out with their first job.
    const current = new Map<number, string>();
    for (const session of gateway.hub.loggedInSessions()) current.set(session.id, session.noncePrefix);
    assert.ok(current.size >= MINERS);
    assert.equal(new Set(current.values()).size, current.size, 'live prefixes are unique');
    for (const prefix of current.values()) {
      assert.ok(prefix.startsWith(NODE_PREFIX), `prefix ${prefix} starts with the node's ${NODE_PREFIX}`);
      assert.equal(prefix.length, NODE_PREFIX.length + 4, 'node prefix + 4 session digits');
    }
    const ownerOfNonce = new Map<string, number>();
    let checked = 0;
    for (const share of events.shares) {
      const prefix = current.get(share.sessionId) ?? events.prefixOf.get(share.sessionId);
      assert.ok(prefix !== undefined, `share from session ${share.sessionId} that never logged in`);
      assert.ok(share.nonce.startsWith(prefix), `nonce ${share.nonce} of session ${share.sessionId} starts with ${prefix}`);
      const owner = ownerOfNonce.get(share.nonce);
      assert.ok(owner === undefined || owner === share.sessionId, `nonce ${share.nonce} submitted by sessions ${owner} and ${share.sessionId}`);
      ownerOfNonce.set(share.nonce, share.sessionId);
      checked++;
    }
    assert.ok(checked > BLOCKS, 'shares were checked');
    assert.equal(events.sharesWith(ResultCode.Rejected).length, 0, 'no prefix mismatch');
  });

  it(`accepts shares at the share difficulty (${SHARE_DIFFICULTY}), not the block's`, async () => {
    const { events } = stack;
    const accepted = events.sharesWith(ResultCode.Accepted);
    assert.ok(accepted.length > BLOCKS, 'many more shares than blocks');
    assert.ok(accepted.some((s) => !s.isBlockCandidate), 'shares below the block target are accepted');
    for (const share of accepted) {
      assert.equal(share.shareDifficulty, SHARE_DIFFICULTY);
      assert.ok(share.achievedDifficulty >= SHARE_DIFFICULTY, `achieved ${share.achievedDifficulty} ≥ ${SHARE_DIFFICULTY}`);
      if (share.isBlockCandidate) assert.ok(share.achievedDifficulty >= BLOCK_DIFFICULTY * 0.999, 'a block candidate meets the block target');
    }
    assert.equal(events.sharesWith(ResultCode.LowDifficultyShare).length, 0, 'miners only send shares meeting the job difficulty');
    assert.equal(events.sharesWith(ResultCode.InvalidSolution).length, 0, 'real PoW verifies');
    // What a miner is told: the share target, and its prefix in every job.
    const client = await StratumClient.connect(stack.gateway.ports.tcp ?? 0);
    try {
      const login = await client.login('e2e-probe');
      assert.equal(login.code, ResultCode.LoginOk);
      const job = await client.nextJob();
      assert.equal(job.difficulty, difficultyToPacked(SHARE_DIFFICULTY));
      assert.equal(job.nonceprefix, login.nonceprefix);
      assert.ok(String(job.nonceprefix).startsWith(NODE_PREFIX));
    } finally {
      client.destroy();
    }
  });

  it('tips changing under load: miners get cancels, dead jobs are answered -32008, jobs beyond the 64-job window 3', async () => {
    const { node, events, gateway } = stack;
    const client = await StratumClient.connect(gateway.ports.tcp ?? 0);
    teardown.defer(() => client.destroy());
    const login = await client.login('e2e-stale-probe');
    const prefix = String(login.nonceprefix);
    const nonce = (prefix + '0'.repeat(16)).slice(0, 16);
    const output = '00'.repeat(DEVNET_OUTPUT_HEX / 2);
    const firstJob = await client.nextJob();

    // A storm of tips while 50 miners are mining.
    const cancelsBefore = group.stats().cancels;
    const sharesBefore = events.shares.length;
    const from = client.messages.length;
    const tips = 40;
    for (let i = 0; i < tips; i++) {
      node.newTip();
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await client.next((m) => m.method === 'cancel' && m.id === firstJob.id, `cancel of job ${String(firstJob.id)}`, from);
    await waitFor(() => group.stats().cancels >= cancelsBefore + MINERS, 'cancels reaching the miners', 30_000, 20);
    await waitFor(() => events.shares.length > sharesBefore, 'shares still flowing during the storm', 30_000, 20);

    const stale = await client.solution(String(firstJob.id), nonce, output);
    assert.equal(stale.code, ResultCode.StaleJob, 'a solution for a job of an older tip is stale');
    const never = await client.solution('987654321', nonce, output);
    assert.equal(never.code, ResultCode.StaleJob, 'a job id never issued is stale too');
    const minerStale = events.sharesWith(ResultCode.StaleJob).filter((s) => s.sessionId !== events.sessionAt(client.remote));
    if (minerStale.length > 0) {
      // Natural stale shares (a solution crossing the cancel on the wire) carry the same code.
      assert.ok(minerStale.every((s) => s.reason === 'stale'));
    }

    // Expired: stop the miners so no block opens a new tip, then push one job of the current tip out of the window.
    await group.stop();
    const forwarded = () => events.blocks.filter((b) => b.status === 'submitted').length;
    await waitFor(() => events.blocks.length === 2 * forwarded(), 'the node to answer blocks already forwarded', 30_000, 20);
    const settledFrom = client.messages.length;
    node.newTip();
    const base = await client.nextJob(settledFrom);
    const ids: string[] = [String(base.id)];
    for (let fees = 1; fees <= JOB_HISTORY; fees++) {
      const seen = client.messages.length;
      assert.equal(node.txUpdate(fees), true, 'fee rise makes a refresh');
      const job: Json = await client.nextJob(seen);
      ids.push(String(job.id));
    }
    // ids[0] is now 64 jobs older than the newest (ids[64]): outside the window of 64.
    assert.equal(new Set(ids).size, JOB_HISTORY + 1, 'every refresh reached the miner as its own job');
    const expired = await client.solution(ids[0] ?? '', nonce, output);
    assert.equal(expired.code, ResultCode.Expired, 'a job of the current tip beyond the 64-job window is expired');
    const oldestAlive = await client.solution(ids[1] ?? '', nonce, 'ab');
    assert.equal(oldestAlive.code, ResultCode.BadSolutionSize, 'the oldest job still in the window is judged on (here: bad size)');
  });
});
