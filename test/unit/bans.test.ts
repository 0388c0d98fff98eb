import { test } from 'node:test';
import assert from 'node:assert/strict';
import { banKey, MemoryBanList } from '../../src/bans/BanList.js';

test('banKey: IPv4 as is (also v4-mapped), IPv6 by its /64', () => {
  assert.equal(banKey('203.0.113.7'), '203.0.113.7');
  assert.equal(banKey('::ffff:203.0.113.7'), '203.0.113.7');
  assert.equal(banKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  assert.equal(banKey('2001:db8:1:2::9'), '2001:db8:1:2::/64', 'same /64, same key');
  assert.equal(banKey('2001:DB8:0001:0002:ffff::1'), '2001:db8:1:2::/64', 'case and leading zeros');
  assert.equal(banKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(banKey('::1'), '0:0:0:0::/64');
  assert.notEqual(banKey('2001:db8:1:3::1'), banKey('2001:db8:1:2::1'));
});

test('MemoryBanList: bans expire by themselves, can be lifted, are listed, and stay bounded', () => {
  let now = 1_000_000;
  const bans = new MemoryBanList(2, () => now);
  bans.ban('198.51.100.1', 'invalid shares 10/10', 60);
  bans.ban('2001:db8:1:2::1', 'invalid shares 9/10', 120);
  assert.equal(bans.isBanned('198.51.100.1'), true);
  assert.equal(bans.isBanned('::ffff:198.51.100.1'), true);
  assert.equal(bans.isBanned('2001:db8:1:2:aaaa::5'), true, 'the whole /64');
  assert.equal(bans.isBanned('198.51.100.2'), false);
  assert.deepEqual(bans.list().map((b) => [b.key, b.until - b.bannedAt]), [['198.51.100.1', 60_000], ['2001:db8:1:2::/64', 120_000]]);
  // Full: the soonest to expire makes room.
  bans.ban('192.0.2.9', 'rate', 600);
  assert.deepEqual(bans.list().map((b) => b.key).sort(), ['192.0.2.9', '2001:db8:1:2::/64']);
  assert.equal(bans.unban('2001:db8:1:2::/64'), true);
  assert.equal(bans.unban('2001:db8:1:2::/64'), false);
  now += 600_000;
  assert.equal(bans.isBanned('192.0.2.9'), false, 'expired');
  assert.deepEqual(bans.list(), []);
});
