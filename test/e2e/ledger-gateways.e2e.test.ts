// Several gateways, one set of books: two gateways (instanceId 01 and 02) on one node credit their miners'
// shares into one ledger without conflicts or lost writes; and a solution the books already hold, sent again
// through a second gateway, is answered -32006 duplicate, never accepted twice. Against SQLite and PostgreSQL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/config/logger.js';
import { LEDGER_DEFAULTS, openLedger } from '../../src/ledger/Ledger.js';
import { NativeVariant } from '../../src/pow/nativeLayout.js';
import { ResultCode } from '../../src/protocol/resultCodes.js';
import { SolverPool } from '../../src/sim/refminer/SolverPool.js';
import { miners, startGateway, startNode, Teardown, type Stack } from '../support/e2e.js';
import { StratumClient } from '../support/net.js';
import { ledgerBackends } from '../support/postgres.js';
import { waitFor } from '../support/wait.js';



const BACKENDS = ledgerBackends();

function acceptedOn(stack: Stack): number {
  return stack.events.sharesWith(ResultCode.Accepted).length;
}

for (const b of BACKENDS) {
  test(`${b.name}: two gateways (instanceId 01, 02) on one ledger credit every accepted share, none lost, none clashing`, { timeout: 240_000, skip: b.skip }, async (t) => {
    const url = await b.url(t);
    const teardown = new Teardown();
    t.after(() => teardown.run());
    const node = await startNode(teardown, { chain: 'devnet', tls: false, difficulty: 2 ** 40, blockIntervalMs: 0 });
    const one = await startGateway(teardown, node, { instanceId: '01', ledger: { url } });
    const two = await startGateway(teardown, node, { instanceId: '02', ledger: { url } });
    const g1 = miners(teardown, { url: one.url, key: 'miner-one', miners: 4, chain: 'devnet' });
    const g2 = miners(teardown, { url: two.url, key: 'miner-two', miners: 4, chain: 'devnet' });
    await waitFor(() => acceptedOn(one) >= 300 && acceptedOn(two) >= 300, '300 accepted shares on each gateway', 120_000, 10);
    await g1.stop();
    await g2.stop();
    // A graceful stop answers what is in flight and flushes the books; then read them afresh.
    await one.gateway.stop();
    await two.gateway.stop();
    const ledger = await openLedger({ ...LEDGER_DEFAULTS, url }, { instanceId: 'reader', logger: silentLogger() });
    assert.ok(ledger);
    t.after(() => ledger.close());
    const rows = await ledger.store.shares();
    const of = (instanceId: string): number => rows.filter((r) => r.instanceId === instanceId).length;
    assert.equal(of('01'), acceptedOn(one), 'every share gateway 01 answered accepted is in the books');
    assert.equal(of('02'), acceptedOn(two), 'every share gateway 02 answered accepted is in the books');
    assert.equal(rows.length, acceptedOn(one) + acceptedOn(two));
    assert.deepEqual(new Set(rows.filter((r) => r.instanceId === '01').map((r) => r.miner)), new Set(['miner-one']));
    for (const s of [one, two]) assert.equal(s.events.shares.filter((e) => e.reason === 'duplicate-in-ledger').length, 0, 'no clashes');
    const stats = await ledger.statistics();
    assert.deepEqual(stats.miners.map((m) => [m.miner, m.accepted]), [['miner-one', of('01')], ['miner-two', of('02')]]);
  });

  test(`${b.name}: a solution already in the books, sent through a second gateway, is answered -32006 and stored once`, { timeout: 120_000, skip: b.skip }, async (t) => {
    const url = await b.url(t);
    const teardown = new Teardown();
    t.after(() => teardown.run());
    const node = await startNode(teardown, { chain: 'devnet', tls: false, difficulty: 2 ** 40, blockIntervalMs: 0 });
    // Same (empty) instanceId and no per-session prefix digits: both gateways accept any nonce of the node's space,
    // so only the books can tell that the solution was already credited.
    const same = { instanceId: '', stratum: { noncePrefixDigits: 0 }, ledger: { url } };
    const one = await startGateway(teardown, node, same);
    const two = await startGateway(teardown, node, same);
    const c1 = await StratumClient.connect(one.gateway.ports.tcp ?? 0);
    const c2 = await StratumClient.connect(two.gateway.ports.tcp ?? 0);
    teardown.defer(() => {
      c1.destroy();
      c2.destroy();
    });
    assert.equal((await c1.login('first-miner')).code, 0);
    assert.equal((await c2.login('second-miner')).code, 0);
    const [j1, j2] = [await c1.nextJob(), await c2.nextJob()];
    assert.equal(j1.input, j2.input, 'both gateways relay the same node job');
    const solver = new SolverPool(1);
    teardown.defer(() => solver.close());
    let found: Array<{ output: string }> = [];
    let nonce = '';
    for (let i = 1; found.length === 0; i++) {
      nonce = i.toString(16).padStart(16, '0');
      found = await solver.solve(NativeVariant.Devnet, String(j1.input), nonce);
    }
    const output = found[0]?.output ?? '';
    assert.equal((await c1.solution(String(j1.id), nonce, output)).code, ResultCode.Accepted);
    const again = await c2.solution(String(j2.id), nonce, output);
    assert.equal(again.code, ResultCode.DuplicateShare);
    assert.equal(again.description, 'Duplicate share');
    assert.equal(two.events.shares.at(-1)?.reason, 'duplicate-in-ledger');
    const rows = await (one.gateway.ledger?.store.shares() ?? Promise.resolve([]));
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.miner, 'first-miner');
  });
}

test('ledger.url none: the gateway runs without books (logged loudly) and still answers shares', { timeout: 120_000 }, async (t) => {
  const teardown = new Teardown();
  t.after(() => teardown.run());
  const node = await startNode(teardown, { chain: 'devnet', tls: false, difficulty: 2 ** 40, blockIntervalMs: 0 });
  const stack = await startGateway(teardown, node, { ledger: { url: 'none' } });
  assert.equal(stack.gateway.ledger, undefined);
  miners(teardown, { url: stack.url, key: 'bookless-miner', miners: 1, chain: 'devnet' });
  await waitFor(() => acceptedOn(stack) >= 10, '10 accepted shares without books', 60_000, 10);
});
