// Every numeric config key is validated to a sane range; 0 means "off" only where off makes sense and is refused
// where it would lock every miner out (docs/hostile-peers.md "Limits").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';

type Overrides = Record<string, unknown>;

function load(overrides: Overrides, env: NodeJS.ProcessEnv = {}): ReturnType<typeof loadConfig> {
  return loadConfig({ args: [], env, overrides });
}

function nested(key: string, value: unknown): Overrides {
  const parts = key.split('.');
  let out: unknown = value;
  for (const part of parts.reverse()) out = { [part]: out };
  return out as Overrides;
}

function refuses(key: string, value: unknown): void {
  assert.throws(
    () => load(nested(key, value)),
    (err: unknown) => err instanceof ConfigError && err.message.includes(key),
    `${key} = ${JSON.stringify(value)} should be refused`,
  );
}

test('the defaults validate', () => {
  const config = load({});
  assert.equal(config.stratum.maxConnections, 10_000);
  assert.equal(config.stratum.maxLineBytes, 4096);
});

// 0 here would validate and then lock every miner (or the node link) out; before, every one of these validated.
const ZERO_LOCKS_OUT = [
  'stratum.maxSendQueueBytes',
  'stratum.loginTimeoutMs',
  'stratum.maxLineBytes',
  'stratum.maxPendingSolutions',
  'stratum.jobHistory',
  'stratum.maxConnections',
  'upstream.connectTimeoutMs',
  'upstream.loginTimeoutMs',
  'upstream.resultTimeoutMs',
  'upstream.reconnectMinMs',
  'upstream.reconnectMaxMs',
  'upstream.maxLineBytes',
  'shutdownTimeoutMs',
];

for (const key of ZERO_LOCKS_OUT) {
  test(`${key}: 0 is refused`, () => refuses(key, 0));
}

test('values out of range, negative, fractional or not numbers are refused with the key named', () => {
  refuses('stratum.maxLineBytes', 2 * 1024 * 1024);
  refuses('stratum.maxLineBytes', 511);
  refuses('stratum.maxSendQueueBytes', 1024);
  refuses('stratum.loginTimeoutMs', 999);
  refuses('stratum.idleTimeoutMs', 10); // not 0 (off) and too short to be meant
  refuses('stratum.maxConnectionsPerIp', -1);
  refuses('stratum.malformedBudget', 1.5);
  refuses('stratum.noncePrefixDigits', 8);
  refuses('upstream.resultTimeoutMs', 'soon');
  refuses('upstream.maxLineBytes', 100);
});

test('0 means off where off makes sense', () => {
  const config = load({ stratum: { idleTimeoutMs: 0, maxConnectionsPerIp: 0, minerJobLatencyMs: 0, malformedBudget: 0, tlsPort: 0, wsPort: 0 } });
  assert.equal(config.stratum.idleTimeoutMs, 0);
  assert.equal(config.stratum.maxConnectionsPerIp, 0);
  assert.equal(config.stratum.minerJobLatencyMs, 0);
  assert.equal(config.stratum.malformedBudget, 0);
});

test('numbers from the environment are coerced, and only plain integers count', () => {
  assert.equal(load({}, { EQUIGATE_UPSTREAM_RESULT_TIMEOUT_MS: '2500' }).upstream.resultTimeoutMs, 2500);
  assert.equal(load({}, { EQUIGATE_STRATUM_MAX_CONNECTIONS: '500' }).stratum.maxConnections, 500);
  assert.throws(() => load({}, { EQUIGATE_UPSTREAM_RESULT_TIMEOUT_MS: '2.5e3' }), ConfigError);
  assert.throws(() => load({}, { EQUIGATE_UPSTREAM_RESULT_TIMEOUT_MS: '' }), ConfigError);
});
