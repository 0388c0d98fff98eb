// The work service end to end (docs/work-service.md), the same suite on the embedded aedes broker and on an
// external Mosquitto (.ci/mosquitto.sh), each with the books on SQLite and on PostgreSQL (.ci/postgres.sh): services
// ask over HTTP, reference workers race over MQTT, credit lands in the ledger once (read back from the database
// itself), and forged, duplicate, late and timed-out results earn nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import { validateNanoWork } from '../../src/pow/nano.js';
import type { NanoWorker } from '../../src/sim/nanoworker/NanoWorker.js';
import { Teardown } from '../support/e2e.js';
import { freshDatabase, pgServerUrl, PG_SKIP_REASON } from '../support/postgres.js';
import { eventually, waitFor, within } from '../support/wait.js';
import { externalSkip, findWork, randomAddress, randomHash, startWorkStack, type BrokerKind, type WorkStack } from '../support/work.js';

const BANANO_BASE = 0xfffffe0000000000n;
// Cheap thresholds for the forgery tests: 1 in 256 nonces meets LOW_BASE, 1 in 4096 meets HIGHER.
const LOW_BASE = 'ff00000000000000';
const HIGHER = 'fff0000000000000';

const PG_SERVER = pgServerUrl();
if (PG_SERVER === undefined) process.stdout.write(`# ${PG_SKIP_REASON}\n`);

/** The books of one suite run: undefined = a fresh SQLite file (the stack's default), else a fresh PostgreSQL database. */
async function ledgerUrl(books: 'sqlite' | 'postgres', cleanup: Teardown): Promise<string | undefined> {
  if (books === 'sqlite') return undefined;
  const db = await freshDatabase(PG_SERVER ?? '');
  cleanup.defer(() => db.drop());
  return db.url;
}

for (const kind of ['embedded', 'external'] as BrokerKind[])
for (const books of ['sqlite', 'postgres'] as const) {
  const skip = (kind === 'external' ? externalSkip() : false) || (books === 'postgres' && PG_SERVER === undefined ? PG_SKIP_REASON : false);
  const label = `${kind} broker, ${books} books`;

  describe(`work service (${label}): four workers race at Banano's base threshold`, { skip }, () => {
    const cleanup = new Teardown();
    let stack: WorkStack;
    let workers: NanoWorker[];
    before(async () => {
      stack = await startWorkStack({ broker: kind, ledgerUrl: await ledgerUrl(books, cleanup) }, cleanup);
      workers = await Promise.all([1, 2, 3, 4].map(() => stack.worker({ threads: 1, work: 'ondemand' })));
    });
    after(() => cleanup.run());

    test('the service gets valid work, losers get cancel, the winner is credited exactly once; duplicates and late results earn nothing', async () => {
      const hash = randomHash();
      const answer = await within(stack.rpc({ action: 'work_generate', hash, difficulty: 'fffffe0000000000', timeout: 50, user: 'wallet', api_key: 'open', id: 'r1' }), 'work_generate', 60_000);
      assert.equal(answer.error, undefined, `no error: ${String(answer.error)}`);
      assert.equal(answer.hash, hash);
      assert.equal(answer.id, 'r1');
      const check = validateNanoWork(String(answer.work), hash, BANANO_BASE);
      assert.ok(check.valid, 'the work meets the base threshold');
      assert.equal(answer.difficulty, check.value.toString(16).padStart(16, '0'));
      assert.ok(Number(answer.multiplier) >= 1);

      // Exactly one worker's result was credited, as one on-demand unit, in the ledger (the service writes through it).
      assert.equal(stack.credits, stack.ledger.workCredits, 'the work service credits into the open ledger');
      // The service is answered first; the credit commits right after (on PostgreSQL a round trip later).
      await eventually(async () => (await stack.creditRows(hash)).length > 0, 'the credit committed', 10_000, 20);
      const totals = await Promise.all(workers.map((w) => stack.credits.totals(w.address)));
      assert.equal(totals.reduce((sum, t) => sum + t.ondemand, 0), 1, 'one credit in all');
      const winnerIndex = totals.findIndex((t) => t.ondemand === 1);
      const winner = workers[winnerIndex] as NanoWorker;
      assert.deepEqual(totals[winnerIndex], { precache: 0, ondemand: 1, microCredited: 1_000_000, microPaid: 0, lastHash: hash });
      // Read back from the database itself: one row for the hash, the winner's, one unit.
      assert.deepEqual(await stack.creditRows(hash), [{ address: winner.address, work_type: 'ondemand', micro_units: 1_000_000 }]);
      assert.ok(winner.published.some((p) => p.hash === hash && p.work === answer.work), 'the winner published the answered work');

      // Its client/<address> moved by exactly one result.
      await waitFor(() => winner.clientStats.length > 0, 'client/<winner>', 10_000);
      assert.deepEqual(winner.clientStats.at(-1), { precache: 0, ondemand: 1, total_credited: 1, total_paid: 0, payment_factor: 0, block_rewarded: hash });

      // Every worker, losers included, got cancel/ondemand for the hash.
      await waitFor(() => workers.every((w) => w.cancels.includes(`ondemand:${hash}`)), 'cancel/ondemand at every worker', 10_000);

      // The work event, in the node's shape.
      const event = stack.workEvents.find((e) => e.request.hash === hash);
      assert.ok(event !== undefined);
      assert.equal(event.success, 'true');
      assert.equal(event.result?.work, answer.work);
      assert.equal(event.result?.source, winner.address);
      assert.equal(event.request.difficulty, 'fffffe0000000000');

      // The same result again (duplicate), and the winning work under a loser's address (late): nothing credited.
      const loser = workers[(winnerIndex + 1) % workers.length] as NanoWorker;
      const before = stack.service.stats().refused.duplicate;
      await winner.publishRaw('result/ondemand', `${hash},${String(answer.work)},${winner.address}`);
      await loser.publishRaw('result/ondemand', `${hash},${String(answer.work)},${loser.address}`);
      await waitFor(() => stack.service.stats().refused.duplicate >= before + 2, 'both refused as duplicates', 10_000);
      const after = await Promise.all(workers.map((w) => stack.credits.totals(w.address)));
      assert.deepEqual(after, totals);
      assert.equal((await stack.creditRows(hash)).length, 1, 'still one credit row for the hash');
      assert.equal(winner.clientStats.length, 1, 'no further client/<address> update');
    });

    test('concurrent requests for one hash share one job', async () => {
      const hash = randomHash();
      const asks = [1, 2, 3].map((n) => stack.rpc({ action: 'work_generate', hash, timeout: 50, user: `svc${n}`, api_key: 'open' }));
      const answers = await within(Promise.all(asks), 'three work_generate', 60_000);
      for (const a of answers) assert.equal(a.error, undefined);
      assert.equal(new Set(answers.map((a) => a.work)).size, 1, 'one work for all three');
      for (const w of workers) assert.equal(w.received.filter((h) => h === hash).length, 1, 'work/ondemand published once');
      await eventually(async () => (await stack.creditRows(hash)).length > 0, 'the credit committed', 10_000, 20);
      const credited = await Promise.all(workers.map((w) => stack.credits.totals(w.address)));
      assert.equal(credited.reduce((sum, t) => sum + t.ondemand, 0), 2, 'one more credit, not three');
    });
  });

  describe(`work service (${label}): forged, timed-out and late results`, { skip }, () => {
    const cleanup = new Teardown();
    let stack: WorkStack;
    let forger: MqttClient;
    const notices: string[] = [];
    before(async () => {
      stack = await startWorkStack({ broker: kind, base: LOW_BASE, ledgerUrl: await ledgerUrl(books, cleanup) }, cleanup);
      forger = await stack.rawClient();
      forger.on('message', (topic, payload) => notices.push(`${topic} ${payload.toString()}`));
    });
    after(() => cleanup.run());

    test('invalid work, work for another hash, work below the asked difficulty, a bad checksum and an unknown hash are refused and not credited', async () => {
      const hash = randomHash();
      const pending = stack.rpc({ action: 'work_generate', hash, difficulty: HIGHER, timeout: 30, user: 'wallet', api_key: 'open' });
      await waitFor(() => stack.service.stats().openOndemand === 1, 'the job is open', 10_000);
      const forged = randomAddress();
      const refused = (): Record<string, number> => ({ ...stack.service.stats().refused });
      const start = refused();
      const publish = (payload: string): Promise<unknown> => forger.publishAsync('result/ondemand', payload, { qos: 1 });

      // Invalid work: below even the base.
      await publish(`${hash},${findWork(hash, (v) => v < 0xff00000000000000n)},${forged}`);
      // Work for another hash: valid there, worthless here.
      const other = randomHash();
      const otherWork = findWork(other, (v) => v >= 0xfff0000000000000n);
      await publish(`${hash},${otherWork},${forged}`);
      // Valid at the base but below the asked difficulty.
      await publish(`${hash},${findWork(hash, (v) => v >= 0xff00000000000000n && v < 0xfff0000000000000n)},${forged}`);
      // A good work under an address with a broken checksum: refused, and the sender told on client/<address>.
      const good = findWork(hash, (v) => v >= 0xfff0000000000000n);
      const badChecksum = `${forged.slice(0, -1)}${forged.endsWith('1') ? '3' : '1'}`;
      await forger.subscribeAsync(`client/${badChecksum}`);
      await publish(`${hash},${good},${badChecksum}`);
      // Valid work for a hash nobody asked for.
      await publish(`${other},${otherWork},${forged}`);

      await waitFor(() => {
        const now = refused();
        return (
          (now['invalid-work'] ?? 0) + (now['below-difficulty'] ?? 0) >= (start['invalid-work'] ?? 0) + (start['below-difficulty'] ?? 0) + 3 &&
          now['bad-address'] === (start['bad-address'] ?? 0) + 1 &&
          now['unknown-hash'] === (start['unknown-hash'] ?? 0) + 1
        );
      }, 'five refusals', 10_000);
      await waitFor(() => notices.some((n) => n.startsWith(`client/${badChecksum} `) && n.includes('payout address invalid')), 'the bad-address notice', 10_000);
      assert.equal(stack.service.stats().openOndemand, 1, 'the request is still waiting');
      assert.equal((await stack.credits.totals(forged)).ondemand, 0);
      assert.equal((await stack.credits.totals(badChecksum)).ondemand, 0);

      // The honest result still wins.
      const honest = randomAddress('nano_');
      await publish(`${hash},${good},${honest}`);
      const answer = await within(pending, 'the answer', 10_000);
      assert.equal(answer.work, good);
      await eventually(async () => (await stack.creditRows(hash)).length > 0, 'the credit committed', 10_000, 20);
      assert.equal((await stack.credits.totals(honest)).ondemand, 1);
      assert.equal((await stack.credits.totals(honest)).microCredited, 16_000_000, 'credit weighted by the asked multiplier (16×)');
      assert.equal((await stack.credits.totals(forged)).ondemand, 0);
      assert.deepEqual(await stack.creditRows(hash), [{ address: honest, work_type: 'ondemand', micro_units: 16_000_000 }]);
    });

    test('a client publishing on work/… or cancel/… reaches no worker', async () => {
      const listener = await stack.worker({ work: 'ondemand' });
      const hash = randomHash();
      const received = listener.received.length;
      const cancels = listener.cancels.length;
      const forbiddenBefore = stack.service.stats().refused['forbidden-topic'];
      const spoof = await stack.rawClient();
      await spoof.publishAsync('work/ondemand', `${hash},${LOW_BASE}`, { qos: 0 }).catch(() => undefined);
      const spoof2 = await stack.rawClient();
      await spoof2.publishAsync('cancel/ondemand', hash, { qos: 0 }).catch(() => undefined);
      // A genuine job afterwards proves the listener was listening all along.
      const real = randomHash();
      const answer = await within(stack.rpc({ action: 'work_generate', hash: real, timeout: 50, user: 'wallet', api_key: 'open' }), 'work_generate', 60_000);
      assert.equal(answer.error, undefined);
      await waitFor(() => listener.received.includes(real), 'the genuine work', 10_000);
      assert.equal(listener.received.slice(received).includes(hash), false, 'spoofed work never arrived');
      assert.equal(listener.cancels.slice(cancels).includes(`ondemand:${hash}`), false, 'spoofed cancel never arrived');
      if (kind === 'embedded') {
        // The embedded broker refuses, counts and logs it, and drops the client.
        assert.equal(stack.service.stats().refused['forbidden-topic'], forbiddenBefore + 2);
        await waitFor(() => !spoof.connected && !spoof2.connected, 'the spoofers disconnected', 10_000);
      }
    });

    test('a request that times out gets the timeout error, and a later result for its hash is not credited', async () => {
      const hash = randomHash();
      const answer = await within(stack.rpc({ action: 'work_generate', hash, difficulty: 'ffffffffffff0000', timeout: 1, user: 'wallet', api_key: 'open' }), 'the timeout answer', 10_000);
      assert.match(String(answer.error), /^Timeout reached without work/i);
      const late = randomAddress();
      const lateBefore = stack.service.stats().refused.late;
      await forger.publishAsync('result/ondemand', `${hash},${findWork(hash, (v) => v >= 0xff00000000000000n)},${late}`, { qos: 1 });
      await waitFor(() => stack.service.stats().refused.late === lateBefore + 1, 'refused as late', 10_000);
      assert.equal((await stack.credits.totals(late)).ondemand, 0);
      assert.deepEqual(await stack.creditRows(hash), [], 'no credit row for a timed-out hash');
      const failed = stack.workEvents.find((e) => e.request.hash === hash);
      assert.equal(failed?.success, 'false');
      assert.equal(failed?.reason, 'timeout');
    });
  });
}
