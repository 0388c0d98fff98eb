// Bans in force survive a restart (docs/ledger.md "Bans", docs/decisions.md D36): SimNode ← three Gateways in turn
// on one SQLite ledger file, operated through the admin API. Proves: an operator's ban of 127.0.0.1 is restored by
// the next gateway before it takes miners (a miner from 127.0.0.1 is refused), with its original times and without
// a new row in the books; once an operator lifts it, the next restart does not bring it back. Books that cannot
// answer which bans are in force do not stop the start: the error is logged and miners are taken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { EventBus } from '../../src/events/EventBus.js';
import { Gateway } from '../../src/Gateway.js';
import { openLedger } from '../../src/ledger/Ledger.js';
import { ResultCode } from '../../src/protocol/resultCodes.js';
import { gatewayConfig, startGateway, startNode, Teardown, type Stack } from '../support/e2e.js';
import { capturedLogger } from '../support/logs.js';
import { freePort, StratumClient, type Json } from '../support/net.js';

const ADMIN_TOKEN = 'e2e-admin-token-0123456789';

async function admin(stack: Stack, method: string, params?: Json): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${stack.gateway.operations.httpPort ?? 0}/admin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }),
  });
  assert.equal(res.status, 200);
  const answer = (await res.json()) as Json;
  assert.equal(answer.error, undefined, `${method} answered an error`);
  return answer.result;
}

async function bookedBans(stack: Stack): Promise<Array<[string, string, string]>> {
  const ledger = stack.gateway.ledger;
  assert.ok(ledger !== undefined);
  return (await ledger.store.bans()).map((e) => [e.action, e.key, e.source]);
}

test('a ban in force survives a gateway restart, unrecorded; a lifted one does not come back', { timeout: 60_000 }, async (t) => {
  const teardown = new Teardown();
  t.after(() => teardown.run());
  const node = await startNode(teardown, { tls: false, chain: 'devnet', difficulty: 1e6, blockIntervalMs: 0 });
  const ledgerUrl = `sqlite:${path.join(mkdtempSync(path.join(tmpdir(), 'equigate-bans-restart-')), 'books.sqlite')}`;
  const start = async (): Promise<Stack> => startGateway(teardown, node, { http: { port: await freePort() }, admin: { token: ADMIN_TOKEN }, ledger: { url: ledgerUrl } });

  const first = await start();
  const banned = (await admin(first, 'bans.add', { ip: '127.0.0.1', durationS: 600, reason: 'restart test' })) as Json;
  await first.gateway.stop();

  const second = await start();
  assert.deepEqual(await admin(second, 'bans.list'), [{ ip: '127.0.0.1', reason: 'restart test', since: banned.since, until: banned.until }], 'restored as it was');
  const refused = await StratumClient.connect(second.gateway.ports.tcp ?? 0).catch(() => undefined);
  if (refused !== undefined) {
    t.after(() => refused.destroy());
    await refused.closedByServer('a miner from the banned 127.0.0.1 refused');
  }
  assert.equal(second.events.opens.length, 0, 'no session for the banned address');
  assert.deepEqual(await bookedBans(second), [['ban', '127.0.0.1', 'operator']], 'restoring wrote nothing');
  assert.deepEqual(await admin(second, 'bans.remove', { ip: '127.0.0.1' }), { removed: true });
  await second.gateway.stop();

  const third = await start();
  assert.deepEqual(await admin(third, 'bans.list'), [], 'the lifted ban is not restored');
  const miner = await StratumClient.connect(third.gateway.ports.tcp ?? 0);
  t.after(() => miner.destroy());
  assert.equal((await miner.login('back-again')).code, ResultCode.LoginOk);
  assert.deepEqual(await bookedBans(third), [['ban', '127.0.0.1', 'operator'], ['unban', '127.0.0.1', 'operator']]);
});

test('books that cannot tell the bans in force: the error is logged and the gateway starts and takes miners', { timeout: 60_000 }, async (t) => {
  const teardown = new Teardown();
  t.after(() => teardown.run());
  const node = await startNode(teardown, { tls: false, chain: 'devnet', difficulty: 1e6, blockIntervalMs: 0 });
  const config = await gatewayConfig({ port: node.port, tls: false });
  const { logger, lines } = capturedLogger();
  const ledger = await openLedger(config.ledger, { instanceId: config.instanceId, logger });
  assert.ok(ledger !== undefined);
  // The bans table gone behind the ledger's back: the read at start fails (shares still go to their own table).
  const file = config.ledger.url.slice('sqlite:'.length);
  const db = new Database(file);
  db.exec('DROP TABLE bans');
  db.close();
  const gateway = await Gateway.start(config, { logger, bus: new EventBus(), ledger });
  teardown.defer(() => gateway.stop());
  const failed = lines.find((l) => l.msg === 'bans in force could not be read from the books: starting without them');
  assert.ok(failed !== undefined, 'the failure is logged');
  assert.equal(failed.level, 50, 'as an error');
  assert.deepEqual(gateway.hub.bans.list(), []);
  const miner = await StratumClient.connect(gateway.ports.tcp ?? 0);
  t.after(() => miner.destroy());
  assert.equal((await miner.login('still-mining')).code, ResultCode.LoginOk);
});
