import { test } from 'node:test';
import assert from 'node:assert/strict';
import { banKey, MemoryBanList, type Ban } from '../../src/bans/BanList.js';
import { silentLogger } from '../../src/config/logger.js';
import { EventBus } from '../../src/events/EventBus.js';
import { JobBook } from '../../src/jobs/JobBook.js';
import { VerifierPool } from '../../src/pow/VerifierPool.js';
import { encodeMessage } from '../../src/protocol/messages.js';
import { ResultCode } from '../../src/protocol/resultCodes.js';
import { AbuseGuard } from '../../src/stratum/AbuseGuard.js';
import { MinerHub } from '../../src/stratum/MinerHub.js';
import type { Session } from '../../src/stratum/Session.js';
import { FakeUpstream, RecordingConnection, waitFor } from '../support/gatewayDoubles.js';

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
  assert.equal(bans.unban('2001:DB8:1:2:0::/64'), true, 'a /64 key however the operator writes it');
  assert.equal(bans.unban('2001:db8:1:2::/64'), false);
  now += 600_000;
  assert.equal(bans.isBanned('192.0.2.9'), false, 'expired');
  assert.deepEqual(bans.list(), []);
});

test('MemoryBanList.restore: keeps bannedAt and until as read; expired bans and keys already banned are not taken; the bound drops the soonest to expire', () => {
  let now = 2_000_000;
  const bans = new MemoryBanList(2, () => now);
  const read = (key: string, until: number): Ban => ({ key, reason: `booked ${key}`, bannedAt: 1_000_000, until });
  assert.equal(bans.restore(read('198.51.100.1', now)), false, 'expired (until is now)');
  assert.equal(bans.restore(read('198.51.100.2', now - 1)), false, 'expired');
  assert.equal(bans.restore(read('2001:db8:1:2::/64', now + 60_000)), true);
  assert.equal(bans.isBanned('2001:db8:1:2:ffff::1'), true, 'a restored /64 covers the whole /64');
  assert.deepEqual(bans.list(), [read('2001:db8:1:2::/64', now + 60_000)], 'as read, not re-dated');
  const live = bans.ban('203.0.113.7', 'live', 10);
  assert.equal(bans.restore(read('203.0.113.7', now + 600_000)), false, 'the live entry is newer than the books');
  assert.deepEqual(bans.list().find((b) => b.key === '203.0.113.7'), live);
  // Full (2): a restored ban that expires sooner than all in the list is left out; one that outlasts the soonest takes its place.
  assert.equal(bans.restore(read('192.0.2.1', now + 5_000)), false);
  assert.equal(bans.restore(read('192.0.2.2', now + 30_000)), true);
  assert.deepEqual(bans.list().map((b) => b.key).sort(), ['192.0.2.2', '2001:db8:1:2::/64']);
  assert.equal(bans.size, 2);
  // An expired entry frees its place first.
  now += 30_000;
  assert.equal(bans.restore(read('192.0.2.3', now + 1_000)), true, 'the expired 192.0.2.2 made room');
  assert.deepEqual(bans.list().map((b) => b.key).sort(), ['192.0.2.3', '2001:db8:1:2::/64']);
});

test('solution rate cap: beyond maxSolutionsPerSecond a solution is refused unjudged; the bucket refills with time', async (t) => {
  const clock = { now: 5_000_000 };
  const upstream = new FakeUpstream();
  const logger = silentLogger();
  const jobs = new JobBook({ chain: 'devnet', minerJobLatencyMs: 0, jobHistory: 64, upstream, logger, now: () => clock.now });
  const verifier = new VerifierPool({ concurrency: 1 });
  const hub = new MinerHub({
    stratum: {
      noncePrefixDigits: 4, shareDifficulty: 1, loginTimeoutMs: 60_000, malformedBudget: 10, maxPendingSolutions: 1000,
      bans: { enabled: false, checkThreshold: 50, invalidPercent: 50, banSeconds: 600, maxSolutionsPerSecond: 20, maxEntries: 10 },
    },
    instanceId: '', chain: 'devnet', jobs, upstream, verifier,
    apiKeys: { openAccess: true, isAllowed: () => true }, bus: new EventBus(), logger, now: () => clock.now,
  });
  t.after(async () => {
    hub.close();
    jobs.close();
    await verifier.close();
  });
  const connection = new RecordingConnection(1);
  connection.handler = hub.accept(connection);
  connection.receive(encodeMessage({ method: 'login', id: 'login', api_key: 'flooder' }));
  upstream.job(3, 0);
  const jobId = String(connection.byMethod('job')[0]?.id);
  // Wrong output size: judged at once (-32005) without the verifier.
  const flood = (n: number) => {
    for (let i = 0; i < n; i++) connection.receive(JSON.stringify({ method: 'solution', id: jobId, nonce: '0000000000000000', output: 'ab' }));
  };
  const results = () => connection.byMethod('result').filter((r) => r.id === jobId);
  flood(30);
  await waitFor(() => results().length === 30, '30 answers');
  assert.equal(results().filter((r) => r.code === ResultCode.BadSolutionSize).length, 20, 'a burst of the cap is judged');
  const refused = results().filter((r) => r.code === ResultCode.InvalidSolution);
  assert.deepEqual(refused.map((r) => r.description), new Array(10).fill('Too many solutions'), 'the rest refused unjudged');
  clock.now += 500;
  flood(15);
  await waitFor(() => results().length === 45, '45 answers');
  assert.equal(results().slice(30).filter((r) => r.code === ResultCode.BadSolutionSize).length, 10, 'half a second refills half the bucket');
  assert.equal(connection.closed, false, 'bans off: refused, never banned');
  // The operator's ban closes live sessions of the peer and refuses it at acceptance.
  hub.banPeer('127.0.0.1', 'operator', 60);
  assert.equal(connection.closeReason, 'banned');
  assert.equal(hub.admits('127.0.0.1'), false);
  assert.equal(hub.bans.unban('127.0.0.1'), true);
  assert.equal(hub.admits('127.0.0.1'), true);
});

test("abuse guard: refusals that are the gateway's state (pending bounds, ledger or verifier down, a crowded address) never ban; junk does", () => {
  const bans = new MemoryBanList(100);
  const closed: string[] = [];
  const guard = new AbuseGuard({
    config: { enabled: true, checkThreshold: 10, invalidPercent: 50, banSeconds: 60, maxSolutionsPerSecond: 0, maxEntries: 100 },
    bans,
    logger: silentLogger(),
    now: () => 1_000,
    closePeer: (ip) => closed.push(ip),
  });
  const session = { id: 1, state: 'logged-in', miner: 'm', worker: '', judgedInWindow: 0, invalidInWindow: 0, connection: { remoteAddress: '10.0.0.9' } } as unknown as Session;
  for (let i = 0; i < 40; i++) {
    guard.judged(session, ResultCode.InvalidSolution, 'too-many-pending');
    guard.judged(session, ResultCode.Rejected, 'ledger-unavailable');
    guard.judged(session, ResultCode.InvalidSolution, 'verifier-unavailable');
    guard.judged(session, ResultCode.InvalidSolution, 'address-busy');
  }
  assert.equal(bans.isBanned('10.0.0.9'), false);
  for (let i = 0; i < 10; i++) guard.judged(session, ResultCode.InvalidSolution, 'collision-failed');
  assert.equal(bans.isBanned('10.0.0.9'), true);
  assert.deepEqual(closed, ['10.0.0.9']);
});
