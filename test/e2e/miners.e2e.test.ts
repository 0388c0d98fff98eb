// Every kind of miner behind one gateway (docs/gateway.md "Ports and profiles", "Workers"):
//   SimNode (TLS, devnet, no node prefix) ← Gateway (api keys file; default port with 4 nonce-prefix digits, a second
//   port with 0) ← 20 reference miners honouring nonceprefix on the first, 20 ignoring it (random 64-bit nonces) on
//   the second, all mining at once with KEY.WORKER logins.
// Proves: every share either side counted is accepted exactly once, ignoring miners are never rejected for their
// prefix, a replay of another session's share is -32006, prefixes on the first port stay unique, and events carry
// miner and worker but never the key.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { difficultyToPacked } from '../../src/pow/difficulty.js';
import { ResultCode } from '../../src/protocol/resultCodes.js';
import type { MinerGroup } from '../../src/sim/refminer/ReferenceMiner.js';
import { miners, startStack, Teardown, type Stack } from '../support/e2e.js';
import { freePort, StratumClient } from '../support/net.js';
import { solveDevnet } from '../support/solve.js';
import { waitFor } from '../support/wait.js';

const KEY = 'miners-e2e-secret-key';
const MINERS = 20;
const SHARES_EACH_SIDE = 100;
const BLOCK_DIFFICULTY = 300;

describe('miners end to end: prefix-honouring and prefix-ignoring miners on two ports, KEY.WORKER logins', { timeout: 120_000 }, () => {
  const teardown = new Teardown();
  const dir = mkdtempSync(path.join(tmpdir(), 'equigate-miners-'));
  const keysFile = path.join(dir, 'stratum.api.keys');
  let stack: Stack;
  let sharedPort: number;
  let honouring: MinerGroup;
  let ignoring: MinerGroup;

  before(async () => {
    writeFileSync(keysFile, `${KEY}\n`);
    sharedPort = await freePort();
    stack = await startStack(
      teardown,
      { tls: true, chain: 'devnet', noncePrefix: '', difficulty: BLOCK_DIFFICULTY, blockIntervalMs: 0, minerJobLatencyMs: 0 },
      {
        instanceId: '',
        stratum: {
          noncePrefixDigits: 4,
          apiKeysFile: keysFile,
          listeners: [{ name: 'shared', transport: 'tcp', host: '127.0.0.1', port: sharedPort, noncePrefixDigits: 0 }],
        },
      },
    );
    honouring = miners(teardown, { url: stack.url, key: `${KEY}.rigA`, miners: MINERS, workers: 1, rate: 2, chain: 'devnet' });
    ignoring = miners(teardown, { url: `stratum+tcp://127.0.0.1:${sharedPort}`, key: `${KEY}.rigB`, miners: MINERS, workers: 1, rate: 2, chain: 'devnet', ignoreNoncePrefix: true });
  });
  after(async () => {
    await teardown.run();
    rmSync(dir, { recursive: true, force: true });
  });

  it('all 40 mine at once; every share is accepted exactly once; ignoring miners are never rejected for their prefix', async () => {
    const { events } = stack;
    const acceptedBy = (worker: string): number => events.shares.filter((s) => s.worker === worker && s.code === ResultCode.Accepted).length;
    await waitFor(() => acceptedBy('rigA') >= SHARES_EACH_SIDE && acceptedBy('rigB') >= SHARES_EACH_SIDE, `${SHARES_EACH_SIDE} accepted shares on each port`, 60_000, 20);
    assert.equal(honouring.stats().logins, MINERS);
    assert.equal(ignoring.stats().logins, MINERS);
    await Promise.all([honouring.stop(), ignoring.stop()]);
    // Solutions still in verification when the miners left are judged (and evented) a moment later.
    await waitFor(() => stack.gateway.hub.sessionCount === 0, 'every miner session gone', 10_000);
    await new Promise((r) => setTimeout(r, 200));
    // Every answer the miners got is one share event, and the other way round (nothing lost, nothing counted twice).
    const ours = events.shares.filter((s) => s.worker === 'rigA' || s.worker === 'rigB');
    const minerAccepted = honouring.stats().accepted + ignoring.stats().accepted;
    const answered = minerAccepted + honouring.stats().rejected + ignoring.stats().rejected;
    const unanswered = honouring.stats().unanswered + ignoring.stats().unanswered;
    assert.ok(ours.length >= answered && ours.length <= answered + unanswered, `one event per answer: ${ours.length} events, ${answered} answered, ${unanswered} unanswered`);
    assert.ok(events.sharesWith(ResultCode.Accepted).length >= minerAccepted);
    const acceptedKeys = ours.filter((s) => s.code === ResultCode.Accepted).map((s) => `${s.height}:${s.nonce}:${s.achievedDifficulty}`); // one nonce may give several solutions
    assert.equal(new Set(acceptedKeys).size, acceptedKeys.length, 'no share accepted twice');
    // Only new tips may cost a share (stale / expired); never a prefix, a duplicate or a bad solution.
    const refused = ours.filter((s) => s.code !== ResultCode.Accepted);
    for (const s of refused) assert.ok(s.code === ResultCode.StaleJob || s.code === ResultCode.Expired, `unexpected ${s.code} ${s.reason} for ${s.worker}`);
    assert.equal(ours.filter((s) => s.reason === 'prefix-mismatch').length, 0);

    // Port with 4 digits: unique 4-digit prefixes; port with 0: the shared (empty) prefix.
    const logins = events.logins.filter((e) => e.worker === 'rigA');
    const prefixes = logins.map((e) => e.noncePrefix ?? '');
    assert.equal(new Set(prefixes).size, MINERS);
    for (const p of prefixes) assert.match(p, /^[0-9a-f]{4}$/);
    for (const e of events.logins.filter((l) => l.worker === 'rigB')) {
      assert.equal(e.noncePrefix, undefined);
      assert.equal(e.profile, 'shared');
    }
  });

  it('events carry miner and worker; the key itself is never published', () => {
    const { events } = stack;
    const accepted = events.sharesWith(ResultCode.Accepted);
    assert.ok(accepted.length > 0);
    for (const s of accepted) assert.match(s.miner, /^key-[0-9a-f]{12}$/);
    assert.equal(new Set(accepted.map((s) => s.miner)).size, 1, 'one key, one miner, two rigs');
    assert.deepEqual([...new Set(accepted.map((s) => s.worker))].sort(), ['rigA', 'rigB']);
    for (const b of events.blocks) assert.ok(b.miner.startsWith('key-') && (b.worker === 'rigA' || b.worker === 'rigB'));
    const published = JSON.stringify([events.shares, events.blocks, events.logins, events.opens, events.closes]);
    assert.equal(published.includes(KEY), false);
  });

  it('KEY.WORKER: a wrong key is refused, the right key with any worker name is admitted', async () => {
    const wrong = await StratumClient.connect(sharedPort);
    teardown.defer(() => wrong.destroy());
    assert.equal((await wrong.login('not-the-key.rig1')).code, ResultCode.LoginFailed);
    await wrong.closedByServer();
    for (const name of ['rig1', 'GPU farm #7 😀', '']) {
      const client = await StratumClient.connect(sharedPort);
      teardown.defer(() => client.destroy());
      assert.equal((await client.login(`${KEY}.${name}`)).code, ResultCode.LoginOk, `worker "${name}"`);
      client.destroy();
    }
    const login = stack.events.logins.at(-2);
    assert.equal(login?.worker, 'GPUfarm7', 'sanitised: printable, no spaces');
  });

  it('a replay of another session\'s share is -32006, whatever the prefix setting', async () => {
    const first = await StratumClient.connect(sharedPort);
    const second = await StratumClient.connect(sharedPort);
    teardown.defer(() => first.destroy());
    teardown.defer(() => second.destroy());
    assert.equal((await first.login(`${KEY}.replay1`)).code, ResultCode.LoginOk);
    assert.equal((await second.login(`${KEY}.replay2`)).code, ResultCode.LoginOk);
    const job = await first.nextJob();
    // Not a block: a new tip would make the replay stale instead of a duplicate.
    const share = solveDevnet(String(job.input), '', [Number(job.difficulty)], [difficultyToPacked(BLOCK_DIFFICULTY)]);
    assert.equal((await first.solution(String(job.id), share.nonce, share.output)).code, ResultCode.Accepted);
    assert.equal((await second.solution(String(job.id), share.nonce, share.output)).code, ResultCode.DuplicateShare);
    // And on the prefixed port the same nonce is judged by its prefix first (never forwarded): 2 rejected.
    const prefixed = await StratumClient.connect(stack.gateway.ports.tcp ?? 0);
    teardown.defer(() => prefixed.destroy());
    assert.equal((await prefixed.login(KEY)).code, ResultCode.LoginOk);
    const prefixedJob = await prefixed.nextJob();
    assert.equal(prefixedJob.id, job.id, 'no new tip meanwhile (the miners are stopped)');
    assert.equal(share.nonce.startsWith(String(prefixedJob.nonceprefix)), false);
    assert.equal((await prefixed.solution(String(job.id), share.nonce, share.output)).code, ResultCode.Rejected);
  });
});
