// The work service's configuration rules (src/config/workRules.ts through loadConfig).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';

function load(overrides: Record<string, unknown>): ReturnType<typeof loadConfig> {
  return loadConfig({ overrides, args: [], env: {} });
}

test('defaults: the work service is off, stratum on, Banano base threshold', () => {
  const cfg = load({});
  assert.equal(cfg.work.enabled, false);
  assert.equal(cfg.stratum.enabled, true);
  assert.equal(cfg.work.baseDifficulty, 'fffffe0000000000');
  assert.equal(cfg.mqtt.port, 0);
});

test('work.enabled needs exactly one broker and an HTTP port', () => {
  assert.throws(() => load({ work: { enabled: true } }), (err: unknown) => err instanceof ConfigError && /exactly one of mqtt.port/.test(err.message));
  assert.throws(() => load({ work: { enabled: true }, mqtt: { port: 1883, url: 'mqtt://127.0.0.1:1883' } }), /exactly one of mqtt.port/);
  assert.throws(() => load({ work: { enabled: true }, mqtt: { port: 1883 }, http: { port: 0 } }), /needs http.port/);
  assert.throws(() => load({ work: { enabled: true }, mqtt: { url: 'http://x' } }), /mqtt.url must start with/);
  assert.equal(load({ work: { enabled: true }, mqtt: { port: 1883 } }).work.enabled, true);
  assert.equal(load({ work: { enabled: true }, mqtt: { url: 'mqtt://127.0.0.1:1883' } }).mqtt.url, 'mqtt://127.0.0.1:1883');
});

test('work.enabled needs books: ledger.url none is refused, naming the way out; sqlite and postgres are both fine', () => {
  assert.throws(
    () => load({ work: { enabled: true }, mqtt: { port: 1883 }, ledger: { url: 'none' } }),
    (err: unknown) => err instanceof ConfigError && /work.enabled needs books for worker credit, but ledger.url is none/.test(err.message) && /sqlite::memory:/.test(err.message),
  );
  // Without the work service, no books is still allowed (the benchmarks that measure the gateway alone).
  assert.equal(load({ ledger: { url: 'none' } }).ledger.url, 'none');
  assert.equal(load({ work: { enabled: true }, mqtt: { port: 1883 }, ledger: { url: 'postgres://u@127.0.0.1:5432/db' } }).ledger.url, 'postgres://u@127.0.0.1:5432/db');
  assert.equal(load({ work: { enabled: true }, mqtt: { port: 1883 }, ledger: { url: 'sqlite::memory:' } }).ledger.url, 'sqlite::memory:');
});

test('bad values are refused naming the key', () => {
  assert.throws(() => load({ work: { baseDifficulty: 'FFFFFE0000000000' } }), /work.baseDifficulty/);
  assert.throws(() => load({ work: { baseDifficulty: 'fffffe' } }), /work.baseDifficulty/);
  assert.throws(() => load({ work: { paymentFactor: -1 } }), /work.paymentFactor/);
  assert.throws(() => load({ work: { defaultTimeoutS: 60, maxTimeoutS: 50 } }), /work.defaultTimeoutS/);
  assert.throws(() => load({ work: { nodeWsUrl: 'http://node' } }), /work.nodeWsUrl/);
  assert.throws(() => load({ work: { nodeReconnectMinMs: 10, nodeReconnectMaxMs: 5 } }), /work.nodeReconnectMinMs/);
  assert.throws(() => load({ work: { heartbeatMs: 10 } }), /work.heartbeatMs/);
});
