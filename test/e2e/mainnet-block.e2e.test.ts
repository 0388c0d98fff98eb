// Real mainnet block 903720 (BeamHash III) through the whole path: a scripted SimNode serves the real header as a
// job, the gateway (beam-mainnet rules, no nonce prefix) hands it to a miner, the miner submits the real solution,
// the gateway verifies it natively, answers `1 accepted`, and forwards it to the node under the node's job id.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ResultCode } from '../../src/protocol/resultCodes.js';
import { loadReplayFile } from '../../src/sim/refminer/ReferenceMiner.js';
import type { SimSolutionOutcome } from '../../src/sim/SimNode.js';
import type { ScriptedJob } from '../../src/sim/simNodeConfig.js';
import { miners, startGateway, startNode, startStack, Teardown, VECTORS_FILE } from '../support/e2e.js';
import { StratumClient } from '../support/net.js';
import { waitFor } from '../support/wait.js';

interface BlockVector {
  readonly input: string;
  readonly nonce: string;
  readonly output: string;
  readonly height: number;
  readonly packed_difficulty: number;
  readonly block_hash: string;
  readonly difficulty_float: number;
}

function loadBlock903720(): BlockVector {
  const vectors = JSON.parse(readFileSync(VECTORS_FILE, 'utf8')) as { valid: Array<Partial<BlockVector> & { name?: string }> };
  const block = vectors.valid.find((v) => v.height === 903720);
  assert.ok(block !== undefined, `block 903720 in ${VECTORS_FILE}`);
  return block as BlockVector;
}

describe('mainnet block 903720 replayed through SimNode ← Gateway ← miner', { timeout: 60_000 }, () => {
  const teardown = new Teardown();
  after(() => teardown.run());

  it('is accepted as a share, forwarded with the node job id, and announced accepted with the real block hash', async () => {
    const vector = loadBlock903720();
    assert.equal(vector.packed_difficulty, 409392556);
    // Two earlier heights first, so the node's job id for the real header (3) differs from the gateway's (1).
    const filler = (height: number): ScriptedJob => ({ input: randomBytes(32).toString('hex'), height, difficulty: vector.packed_difficulty });
    const script: ScriptedJob[] = [
      filler(vector.height - 2),
      filler(vector.height - 1),
      { input: vector.input, height: vector.height, difficulty: vector.packed_difficulty, blockhash: vector.block_hash },
    ];
    const node = await startNode(teardown, { tls: true, chain: 'beam-mainnet', noncePrefix: '', script, blockIntervalMs: 0 });
    node.newTip();
    const nodeJob = node.newTip();
    assert.equal(nodeJob.input, vector.input);
    assert.equal(nodeJob.id, '3');
    const { gateway, events } = await startGateway(teardown, node, { chain: 'beam-mainnet', stratum: { noncePrefixDigits: 0, shareDifficulty: 1 } });
    const atNode: SimSolutionOutcome[] = [];
    node.on('solution', (s) => atNode.push(s));
    await waitFor(() => events.jobs.some((j) => j.upstreamJobId === nodeJob.id), 'the gateway to take the node job', 20_000);

    const client = await StratumClient.connect(gateway.ports.tcp ?? 0);
    teardown.defer(() => client.destroy());
    const login = await client.login('mainnet-replay-miner');
    assert.equal(login.code, ResultCode.LoginOk);
    assert.equal(login.nonceprefix, undefined, 'no prefix at all: the whole nonce range is the miner’s');
    assert.equal(login.forkheight, 321321);
    assert.equal(login.forkheight2, 777777);
    const job = await client.next((m) => m.method === 'job' && m.input === vector.input, 'the 903720 job');
    assert.equal(job.height, vector.height);
    assert.equal(job.difficulty, 0, 'share difficulty 1 (packed 0), easier than the block');
    assert.equal(job.id, '1', 'miners see the gateway’s own job ids (the node’s is 3)');

    const result = await client.solution(String(job.id), vector.nonce, vector.output);
    assert.equal(result.code, ResultCode.Accepted);
    assert.equal(result.description, 'accepted');
    assert.equal(result.blockhash, undefined, 'the share answer never waits for the node');

    await waitFor(() => events.blocks.some((b) => b.status !== 'submitted'), 'the node’s verdict on the block', 20_000);
    assert.deepEqual(
      atNode.map((s) => ({ jobId: s.jobId, nonce: s.nonce, code: s.code, blockhash: s.blockhash })),
      [{ jobId: nodeJob.id, nonce: vector.nonce, code: ResultCode.Accepted, blockhash: vector.block_hash }],
      'forwarded once, under the NODE’s job id, with the nonce as mined',
    );
    const nodeBlocks = node.stats().blocks;
    assert.equal(nodeBlocks.length, 1);
    assert.equal(nodeBlocks[0]?.height, vector.height);
    assert.equal(nodeBlocks[0]?.hash, vector.block_hash);

    assert.deepEqual(
      events.blocks.map((b) => ({ status: b.status, jobId: b.jobId, upstreamJobId: b.upstreamJobId, height: b.height, nonce: b.nonce, blockHash: b.blockHash })),
      [
        { status: 'submitted', jobId: String(job.id), upstreamJobId: nodeJob.id, height: vector.height, nonce: vector.nonce, blockHash: undefined },
        { status: 'accepted', jobId: String(job.id), upstreamJobId: nodeJob.id, height: vector.height, nonce: vector.nonce, blockHash: vector.block_hash },
      ],
    );
    assert.equal(events.blocks[1]?.nodeCode, ResultCode.Accepted);
    const shares = events.sharesWith(ResultCode.Accepted);
    assert.equal(shares.length, 1);
    assert.equal(shares[0]?.isBlockCandidate, true);
    assert.ok((shares[0]?.achievedDifficulty ?? 0) >= vector.difficulty_float, 'the real solution meets the real block difficulty');

    // The node moved to the next height at once; the same solution again is now for a dead job.
    await client.next((m) => m.method === 'cancel' && m.id === job.id, 'cancel of the solved job');
    const again = await client.solution(String(job.id), vector.nonce, vector.output);
    assert.equal(again.code, ResultCode.StaleJob);
    assert.equal(atNode.length, 1, 'nothing more reached the node');
  });

  it('the reference miner in replay mode gets the same block through', async () => {
    const vector = loadBlock903720();
    const script: ScriptedJob[] = [{ input: vector.input, height: vector.height, difficulty: vector.packed_difficulty, blockhash: vector.block_hash }];
    const { node, events, url } = await startStack(
      teardown,
      { tls: true, chain: 'beam-mainnet', script, blockIntervalMs: 0 },
      { chain: 'beam-mainnet', stratum: { noncePrefixDigits: 0, shareDifficulty: 1 } },
    );
    const group = miners(teardown, { url, key: 'replay-miner', chain: 'beam-mainnet', replay: loadReplayFile(VECTORS_FILE) });
    await waitFor(() => events.blocks.some((b) => b.status === 'accepted'), 'the replayed block accepted by the node', 30_000, 10);
    assert.equal(node.stats().blocks[0]?.hash, vector.block_hash);
    assert.equal(events.blocks.find((b) => b.status === 'accepted')?.blockHash, vector.block_hash);
    await waitFor(() => group.stats().accepted === 1, 'the miner’s share answer', 10_000);
    assert.equal(group.stats().rejected, 0);
  });
});
