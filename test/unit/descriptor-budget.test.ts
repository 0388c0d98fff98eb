// Finding: miners could hold every file descriptor, so the node link could not reconnect (EMFILE). Start-up now
// refuses a stratum.maxConnections that does not fit the open-file limit with a reserve.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../src/config/logger.js';
import { loadConfig } from '../../src/config/load.js';
import { Gateway } from '../../src/Gateway.js';
import { checkDescriptorBudget, DESCRIPTOR_RESERVE, parseOpenFileLimit, readOpenFileLimit } from '../../src/transports/descriptorBudget.js';
import { TransportError } from '../../src/transports/errors.js';
import { FakeUpstream } from '../support/gatewayDoubles.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

test('the soft open-file limit is read from /proc/self/limits text', () => {
  assert.equal(parseOpenFileLimit(LIMITS), 1024);
  assert.equal(parseOpenFileLimit(LIMITS.replace('1024  ', 'unlimited')), Infinity);
  assert.equal(parseOpenFileLimit('nothing here'), undefined);
  const own = readOpenFileLimit();
  if (process.platform === 'linux') assert.ok(own !== undefined && own > 0);
  assert.equal(readOpenFileLimit('/nonexistent/limits'), undefined);
});

test('a maxConnections that does not fit the limit with the reserve is refused, naming both numbers', () => {
  checkDescriptorBudget(1024 - DESCRIPTOR_RESERVE, 1024);
  checkDescriptorBudget(5000, undefined); // unknown limit: not checked (the gateway logs it)
  assert.throws(
    () => checkDescriptorBudget(1024 - DESCRIPTOR_RESERVE + 1, 1024),
    (err: unknown) => {
      assert.ok(err instanceof TransportError);
      assert.equal(err.code, 'FD_LIMIT');
      assert.match(err.message, new RegExp(`\\(${1024 - DESCRIPTOR_RESERVE + 1}\\)`));
      assert.match(err.message, /1024/);
      assert.match(err.message, new RegExp(`at most ${1024 - DESCRIPTOR_RESERVE}`));
      return true;
    },
  );
});

test('Gateway.start refuses before binding anything when maxConnections exceeds the open-file limit', async () => {
  const config = loadConfig({ args: [], env: {}, overrides: { log: { level: 'silent' }, stratum: { host: '127.0.0.1', port: 0, maxConnections: 2000 }, http: { port: 0 } } });
  const upstream = new FakeUpstream();
  let started = false;
  upstream.start = () => {
    started = true;
  };
  // Before: the gateway started, and miners could take every descriptor the node link needs.
  await assert.rejects(
    Gateway.start(config, { logger: silentLogger(), upstream, openFileLimit: 1024 }),
    (err: unknown) => err instanceof TransportError && err.code === 'FD_LIMIT' && /2000/.test(err.message) && /1024/.test(err.message),
  );
  assert.equal(started, false);
});
