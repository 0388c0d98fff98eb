// The work service's HTTP RPC and its MQTT housekeeping (docs/work-service.md "HTTP RPC", "Topics") over real
// HTTP and the embedded broker: credentials from a services file (hashed keys, reloaded), clear errors, rate
// limits with bounded waiting, work_cancel, the payout hook, statistics and heartbeat.
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { IPublishPacket } from 'mqtt';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/config/logger.js';
import { Gateway } from '../../src/Gateway.js';
import { hashServiceKey } from '../../src/work/ServiceDirectory.js';
import { freePort } from '../support/net.js';
import { Teardown } from '../support/e2e.js';
import { eventually, waitFor, within } from '../support/wait.js';
import { findWork, randomAddress, randomHash, startWorkStack, type WorkStack } from '../support/work.js';

const LOW_BASE = 'ff00000000000000';

describe('work RPC with a services file', () => {
  const cleanup = new Teardown();
  let stack: WorkStack;
  let file: string;
  const lines = [
    `wallet ${hashServiceKey('wallet-key-0123456789')} public display=Test%20Wallet website=wallet.example`,
    `faucet ${hashServiceKey('faucet-key-0123456789')} rate=0.5 burst=1`,
    `payer ${hashServiceKey('payer-key-0123456789')} payouts`,
  ];
  before(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'equigate-services-'));
    cleanup.defer(() => rmSync(dir, { recursive: true, force: true }));
    file = path.join(dir, 'services');
    writeFileSync(file, `# test services\n${lines.join('\n')}\n`);
    stack = await startWorkStack(
      { broker: 'embedded', base: LOW_BASE, work: { servicesFile: file, paymentFactor: 0.05, rateLimitMaxWaitMs: 100, statisticsMs: 1000 } },
      cleanup,
    );
  });
  after(() => cleanup.run());

  const wallet = { user: 'wallet', api_key: 'wallet-key-0123456789' };

  test('bad input gets a clear error', async () => {
    const hash = randomHash();
    assert.deepEqual(await stack.rpc({ action: 'work_generate', hash: 'xyz', ...wallet }), { error: 'Bad hash: expected 64 hex digits' });
    assert.deepEqual(await stack.rpc({ action: 'work_generate', hash, difficulty: 'fe00000000000000', ...wallet }), {
      error: `Difficulty below the base threshold ${LOW_BASE}`,
    });
    assert.deepEqual(await stack.rpc({ action: 'work_generate', hash, multiplier: 0.5, ...wallet }), { error: `Difficulty below the base threshold ${LOW_BASE}` });
    assert.deepEqual(await stack.rpc({ action: 'work_generate', hash, difficulty: 'ff', ...wallet }), { error: 'Bad difficulty: expected 16 hex digits' });
    assert.deepEqual(await stack.rpc({ action: 'work_generate', hash, timeout: -1, ...wallet }), { error: 'Bad timeout: expected seconds as a positive number' });
    assert.deepEqual(await stack.rpc({ action: 'nope', id: 7 }), { error: 'Unknown action', id: 7 });
    const res = await fetch(`http://127.0.0.1:${stack.httpPort}/`, { method: 'POST', body: '{not json' });
    assert.deepEqual(await res.json(), { error: 'Unable to parse JSON' });
  });

  test('an unknown user and a wrong key get the same answer', async () => {
    const hash = randomHash();
    const unknown = await stack.rpc({ action: 'work_generate', hash, user: 'nobody', api_key: 'wallet-key-0123456789' });
    const wrong = await stack.rpc({ action: 'work_generate', hash, user: 'wallet', api_key: 'not-the-key' });
    assert.deepEqual(unknown, { error: 'Invalid credentials' });
    assert.deepEqual(wrong, unknown);
  });

  test('the services file reloads when it changes', async () => {
    const hash = randomHash();
    const newcomer = { user: 'newcomer', api_key: 'newcomer-key-0123456789' };
    assert.deepEqual(await stack.rpc({ action: 'work_cancel', hash, ...newcomer }), { error: 'Invalid credentials' });
    writeFileSync(file, `${lines.join('\n')}\nnewcomer ${hashServiceKey(newcomer.api_key)}\n`);
    await eventually(async () => (await stack.rpc({ action: 'work_cancel', hash, ...newcomer })).success === '', 'the new service accepted');
  });

  test('a multiplier asks that multiple of the base, and the answer meets it', async () => {
    const hash = randomHash();
    const raw = await stack.rawClient();
    const feed: string[] = [];
    raw.on('message', (topic, payload) => feed.push(`${topic} ${payload.toString()}`));
    await raw.subscribeAsync('service/wallet', { qos: 1 });
    const pending = stack.rpc({ action: 'work_generate', hash, multiplier: '16', timeout: 30, ...wallet });
    await waitFor(() => stack.service.stats().openOndemand === 1, 'open', 10_000);
    // 16 × ff00… = fff0000000000000
    const work = findWork(hash, (v) => v >= 0xfff0000000000000n);
    await raw.publishAsync('result/ondemand', `${hash},${work},${randomAddress()}`, { qos: 1 });
    const answer = await within(pending, 'answer', 10_000);
    assert.equal(answer.work, work);
    assert.ok(BigInt(`0x${String(answer.difficulty)}`) >= 0xfff0000000000000n);
    assert.ok(Number(answer.multiplier) >= 16);
    await waitFor(() => feed.includes(`service/wallet ${hash},ondemand`), 'service/wallet feed', 10_000);
  });

  test('over its rate a service waits a bounded time, then is refused', async () => {
    const faucet = { user: 'faucet', api_key: 'faucet-key-0123456789' };
    // burst 1 at 0.5/s: the first passes (and times out: nobody works), the second would wait 2 s > 100 ms.
    const first = await within(stack.rpc({ action: 'work_generate', hash: randomHash(), timeout: 0.2, ...faucet }), 'first', 10_000);
    assert.match(String(first.error), /^Timeout reached without work/);
    const second = await stack.rpc({ action: 'work_generate', hash: randomHash(), timeout: 0.2, ...faucet });
    assert.match(String(second.error), /^rate limit exceeded/);
    // Other services are not affected.
    const other = await stack.rpc({ action: 'work_generate', hash: randomHash(), timeout: 0.2, ...wallet });
    assert.match(String(other.error), /^Timeout reached without work/);
  });

  test('work_cancel ends the request and sends cancel/ondemand at once', async () => {
    const hash = randomHash();
    const raw = await stack.rawClient();
    await raw.subscribeAsync('cancel/ondemand', { qos: 1 });
    const cancels: string[] = [];
    raw.on('message', (topic, payload) => cancels.push(`${topic} ${payload.toString()}`));
    const pending = stack.rpc({ action: 'work_generate', hash, timeout: 30, ...wallet });
    await waitFor(() => stack.service.stats().openOndemand === 1, 'open', 10_000);
    assert.deepEqual(await stack.rpc({ action: 'work_cancel', hash, ...wallet }), { success: '' });
    assert.deepEqual(await within(pending, 'the cancelled request', 10_000), { error: 'work request cancelled' });
    await waitFor(() => cancels.includes(`cancel/ondemand ${hash}`), 'cancel/ondemand', 10_000);
  });

  test('the payout hook adds to total_paid once per reference and republishes client/<address>', async () => {
    const address = randomAddress();
    const raw = await stack.rawClient();
    const seen: string[] = [];
    raw.on('message', (_topic, payload) => seen.push(payload.toString()));
    await raw.subscribeAsync(`client/${address}`, { qos: 1 });
    const payer = { user: 'payer', api_key: 'payer-key-0123456789' };
    assert.deepEqual(await stack.rpc({ action: 'work_payout', address, amount: '1.25', reference: 'tx-1', ...wallet }), { error: 'This service may not record payouts' });
    assert.deepEqual(await stack.rpc({ action: 'work_payout', address, amount: '1.25', reference: 'tx-1', ...payer }), { recorded: 'true' });
    assert.deepEqual(await stack.rpc({ action: 'work_payout', address, amount: '1.25', reference: 'tx-1', ...payer }), { recorded: 'false' });
    assert.deepEqual(await stack.rpc({ action: 'work_payout', address: 'ban_nope', amount: '1', reference: 'tx-2', ...payer }), { error: 'Bad address' });
    assert.equal((await stack.credits.totals(address)).microPaid, 1_250_000);
    await waitFor(() => seen.length > 0, 'client/<address>', 10_000);
    assert.deepEqual(JSON.parse(seen.at(-1) as string), { precache: 0, ondemand: 0, total_credited: 0, total_paid: 1.25, payment_factor: 0.05, block_rewarded: '' });
  });

  test('statistics are retained and list public services; heartbeats are never retained', async () => {
    const raw = await stack.rawClient();
    const packets: IPublishPacket[] = [];
    raw.on('message', (_topic, _payload, packet) => packets.push(packet));
    await raw.subscribeAsync(['statistics', 'heartbeat'], { qos: 1 });
    await waitFor(() => packets.some((p) => p.topic === 'statistics') && packets.some((p) => p.topic === 'heartbeat'), 'statistics and heartbeat', 10_000);
    const stats = JSON.parse(packets.find((p) => p.topic === 'statistics')?.payload.toString() ?? '{}') as Record<string, unknown>;
    assert.equal(stats.payment_factor_banano, 0.05);
    const services = stats.services as { public: { user_name: string; display: string }[]; private: { count: number } };
    assert.deepEqual(services.public.map((s) => [s.user_name, s.display]), [['wallet', 'Test Wallet']]);
    assert.ok(services.private.count >= 2);
    assert.ok(packets.filter((p) => p.topic === 'heartbeat').every((p) => p.payload.length === 0 && p.retain === false));
    assert.ok(packets.some((p) => p.topic === 'statistics' && p.retain === true), 'a new subscriber gets the retained statistics');
  });

  test('a worker may not subscribe to result/*', async () => {
    const raw = await stack.rawClient();
    // The broker answers the SUBACK with 0x80 (failure), which mqtt.js turns into a rejection.
    await assert.rejects(raw.subscribeAsync('result/#', { qos: 1 }), /Subscribe error/);
    await assert.rejects(raw.subscribeAsync('#', { qos: 1 }), /Subscribe error/);
  });
});

test('a gateway given no books refuses to start the work service (credit has nowhere durable to go)', async () => {
  const config = loadConfig({
    overrides: {
      stratum: { enabled: false },
      http: { host: '127.0.0.1', port: await freePort() },
      events: { wsPort: 0 },
      mqtt: { host: '127.0.0.1', port: await freePort() },
      work: { enabled: true },
      ledger: { url: 'sqlite::memory:' },
    },
    args: [],
    env: {},
  });
  await assert.rejects(Gateway.start(config, { logger: silentLogger(), ledger: null }), (err: unknown) => (err as { code?: string }).code === 'CONFIG_INVALID' && /needs books for worker credit/.test(String(err)));
});
