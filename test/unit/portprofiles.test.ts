import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.js';
import { PortProfileError, resolvePortProfiles } from '../../src/stratum/portProfiles.js';
import { NoncePrefixSpace } from '../../src/stratum/NoncePrefixSpace.js';

const load = (stratum: Record<string, unknown>) => loadConfig({ overrides: { stratum }, args: [], env: {} });

test('the flat keys are the default profile, unchanged; listeners add profiles with defaults filled in', () => {
  const config = load({
    port: 3333,
    wsPort: 3335,
    noncePrefixDigits: 4,
    shareDifficulty: 8,
    vardiff: { enabled: true, targetSeconds: 20 },
    listeners: [
      { transport: 'tcp', port: 4444, noncePrefixDigits: 0 },
      { name: 'gpu', transport: 'http', port: 4445, shareDifficulty: 4096, vardiff: { enabled: true, minDifficulty: 1024 } },
    ],
  });
  const [def, shared, gpu] = resolvePortProfiles(config.stratum);
  assert.deepEqual(def?.listeners.map((l) => [l.transport, l.port]), [['tcp', 3333], ['ws', 3335]]);
  assert.deepEqual([def?.name, def?.noncePrefixDigits, def?.shareDifficulty, def?.vardiff?.targetSeconds], ['default', 4, 8, 20]);
  assert.deepEqual([shared?.name, shared?.noncePrefixDigits, shared?.shareDifficulty, shared?.vardiff], ['tcp:4444', 0, 8, undefined], 'vardiff off unless enabled per listener');
  assert.deepEqual([gpu?.name, gpu?.vardiff?.minDifficulty, gpu?.vardiff?.targetSeconds, gpu?.listeners[0]?.host], ['gpu', 1024, 20, '0.0.0.0']);
});

test('bad listeners are refused with the reason', () => {
  assert.throws(() => load({ listeners: [{ transport: 'udp', port: 1 }] }), /transport must be tcp, tls, ws or http/);
  assert.throws(() => load({ listeners: [{ transport: 'tcp', port: 70000 }] }), /port must be 1–65535/);
  assert.throws(() => load({ listeners: [{ transport: 'tcp', port: 4000, noncePrefixDigits: 3 }] }), /0, 2, 4 or 6/);
  assert.throws(() => load({ listeners: [{ transport: 'tcp', port: 4000, difficulty: 3 }] }), /unknown key difficulty/);
  assert.throws(() => load({ listeners: [{ transport: 'tcp', port: 4000, vardiff: { target: 3 } }] }), /unknown key target/);
  assert.throws(() => resolvePortProfiles(load({ port: 4000, listeners: [{ transport: 'tcp', port: 4000 }] }).stratum), PortProfileError);
  assert.throws(() => resolvePortProfiles(load({ listeners: [{ transport: 'tls', port: 4001 }] }).stratum), /TLS needs/);
  assert.throws(() => resolvePortProfiles(load({ listeners: [{ transport: 'tcp', port: 4001, vardiff: { enabled: true, minDifficulty: 10, maxDifficulty: 5 } }] }).stratum), /minDifficulty above/);
});

test('one nonce space: prefixed listeners split the first session digit, shared ones take none', () => {
  const space = new NoncePrefixSpace('01', [
    { name: 'default', noncePrefixDigits: 4, listening: true },
    { name: 'shared', noncePrefixDigits: 0, listening: true },
    { name: 'big', noncePrefixDigits: 6, listening: true },
  ]);
  const a = space.allocatorOf('default').allocate().prefix;
  const b = space.allocatorOf('big').allocate().prefix;
  const c = space.allocatorOf('shared').allocate().prefix;
  assert.deepEqual([a, b, c], ['010000', '01800000', '01']);
  assert.equal(space.allocatorOf('default').capacity, 8 * 16 ** 3);
  assert.deepEqual(space.setUpstreamPrefix('ab'), []);
  assert.equal(space.allocatorOf('shared').allocate().prefix, 'ab01');
});
