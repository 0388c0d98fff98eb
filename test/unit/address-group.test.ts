// One host, many IPv6 addresses: every per-address bound counts an IPv6 /64 as one address (docs/hostile-peers.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/config/logger.js';
import { addressGroup } from '../../src/transports/addressGroup.js';
import { ConnectionLimiter } from '../../src/transports/ConnectionLimiter.js';

test('addressGroup: IPv4 as is (also v4-mapped, any case), IPv6 by its /64 however it is written', () => {
  assert.equal(addressGroup('203.0.113.7'), '203.0.113.7');
  assert.equal(addressGroup('::FFFF:203.0.113.7'), '203.0.113.7');
  assert.equal(addressGroup('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  assert.equal(addressGroup('2001:DB8:0001:0002:ffff::1'), '2001:db8:1:2::/64');
  assert.equal(addressGroup('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(addressGroup('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(addressGroup('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64', 'an embedded IPv4 tail');
  assert.equal(addressGroup('not-an-address'), 'not-an-address');
  for (const mapped of ['::ffff:1.2.3.4', '0:0:0:0:0:ffff:1.2.3.4', '::ffff:102:304', '::FFFF:0102:0304']) {
    assert.equal(addressGroup(mapped), '1.2.3.4', `${mapped} is the IPv4 host 1.2.3.4, not the ::/64 of ::1`);
  }
  assert.equal(addressGroup('::1'), '0:0:0:0::/64');
});

test('the per-IP connection cap counts a whole IPv6 /64 as one address: a host cannot take a fresh address per connection', () => {
  const limiter = new ConnectionLimiter({ maxConnections: 100, maxConnectionsPerIp: 3 }, silentLogger());
  for (let i = 1; i <= 3; i++) assert.ok(limiter.tryAcquire(`2001:db8:1:2::${i.toString(16)}`));
  assert.equal(limiter.tryAcquire('2001:db8:1:2:ffff:ffff:ffff:ffff'), false, 'a fourth address of the same /64 is refused');
  assert.ok(limiter.tryAcquire('2001:db8:1:3::1'), 'the next /64 is another host');
  assert.ok(limiter.tryAcquire('::ffff:198.51.100.1'));
  assert.equal(limiter.countFor('2001:db8:1:2::abcd'), 3);
  limiter.release('2001:db8:1:2::2');
  assert.ok(limiter.tryAcquire('2001:db8:1:2::99'), 'a released slot of the /64 can be taken again');
  assert.equal(limiter.size, 5);
});
