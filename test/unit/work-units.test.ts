// Work service building blocks (docs/work-service.md): payout addresses, the MQTT wire, the services file,
// per-service rate limits and credit amounts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { workerMaySubscribe } from '../../src/work/broker.js';
import { checkAccount, encodeAccount } from '../../src/work/account.js';
import { hashServiceKey, parseServices } from '../../src/work/ServiceDirectory.js';
import { ServiceRateLimiter } from '../../src/work/ServiceRateLimiter.js';
import { parseMicroAmount } from '../../src/work/WorkCreditBook.js';
import { formatWork, isTopicLevel, parseCancel, parseResult, parseWork } from '../../src/work/wire.js';
import { WorkError } from '../../src/work/errors.js';

describe('payout addresses', () => {
  // Published addresses: BoomPow's own payout account (its topic spec's example) and Nano's genesis account,
  // whose public key is well known (E89208DD…93BA).
  test('known addresses validate, and decode to their public key', () => {
    assert.equal(checkAccount('ban_1boompow14irck1yauquqypt7afqrh8b6bbu5r93pc6hgbqs7z6o99frcuym').ok, true);
    const genesis = checkAccount('nano_3t6k35gi95xu6tergt6p69ck76ogmitsa8mnijtpxm9fkcm736xtoncuohr3');
    assert.ok(genesis.ok);
    assert.equal(genesis.publicKey.toString('hex').toUpperCase(), 'E89208DD038FBB269987689621D52292AE9C35941A7484756ECCED92A65093BA');
    assert.equal(encodeAccount(genesis.publicKey, 'nano_'), 'nano_3t6k35gi95xu6tergt6p69ck76ogmitsa8mnijtpxm9fkcm736xtoncuohr3');
  });

  test('a changed checksum, key character, prefix or length is refused', () => {
    const good = 'ban_1boompow14irck1yauquqypt7afqrh8b6bbu5r93pc6hgbqs7z6o99frcuym';
    assert.deepEqual(checkAccount(`${good.slice(0, -1)}n`), { ok: false, reason: 'bad-checksum' });
    assert.deepEqual(checkAccount(good.replace('boompow', 'boompox')), { ok: false, reason: 'bad-checksum' });
    assert.deepEqual(checkAccount(good.replace('ban_', 'xrb_')), { ok: false, reason: 'bad-prefix' });
    assert.deepEqual(checkAccount(`${good}1`), { ok: false, reason: 'bad-length' });
    assert.deepEqual(checkAccount(good.replace('boompow', 'boompo0')), { ok: false, reason: 'bad-character' });
    // 52 key characters carry 260 bits; the top 4 must be zero, so the key part starts with 1 or 3.
    assert.deepEqual(checkAccount(`ban_4${good.slice(5)}`), { ok: false, reason: 'bad-character' });
  });

  test('random keys round-trip under both prefixes', () => {
    for (let i = 0; i < 50; i++) {
      const key = randomBytes(32);
      for (const prefix of ['ban_', 'nano_'] as const) {
        const check = checkAccount(encodeAccount(key, prefix));
        assert.ok(check.ok);
        assert.deepEqual(check.publicKey, key);
      }
    }
  });
});

describe('MQTT wire', () => {
  const hash = 'BFEB8AA91D346E6EFBB41D11FD247E48E0BC0DBC183DDEB9F26F3A98AA17522F';
  test("the topic spec's examples parse", () => {
    assert.deepEqual(parseWork(`${hash},ffffffc000000000`), { hash, difficulty: 0xffffffc000000000n });
    assert.equal(formatWork(hash, 0xffffffc000000000n), `${hash},ffffffc000000000`);
    assert.deepEqual(parseResult(`${hash},3108a2891093ce9e,ban_1boompow14irck1yauquqypt7afqrh8b6bbu5r93pc6hgbqs7z6o99frcuym`), {
      ok: true,
      result: { hash, work: '3108a2891093ce9e', address: 'ban_1boompow14irck1yauquqypt7afqrh8b6bbu5r93pc6hgbqs7z6o99frcuym' },
    });
    assert.equal(parseCancel(hash.toLowerCase()), hash);
  });

  test('malformed results are refused with a reason', () => {
    for (const bad of ['', hash, `${hash},xyz,ban_1`, `${hash.slice(1)},3108a2891093ce9e,a`, `${hash},3108a2891093ce9e`, `${hash},3108a2891093ce9e,a,b`, 'x'.repeat(300)]) {
      assert.equal(parseResult(bad).ok, false, bad.slice(0, 40));
    }
  });

  test('topic levels with wildcards or separators are not publishable', () => {
    assert.equal(isTopicLevel('ban_1abc'), true);
    for (const bad of ['', 'a/b', 'a+', '#', 'x'.repeat(200)]) assert.equal(isTopicLevel(bad), false);
  });

  test('workers may subscribe to what the spec gives them, nothing else', () => {
    for (const ok of ['work/ondemand', 'work/#', 'cancel/+', 'client/ban_1abc', 'service/wallet', 'heartbeat', 'statistics']) assert.ok(workerMaySubscribe(ok), ok);
    for (const no of ['#', 'result/#', 'result/ondemand', '+/ondemand', '$SYS/#', 'client/a/b']) assert.ok(!workerMaySubscribe(no), no);
  });
});

describe('services file', () => {
  test('lines with options parse; keys are only compared as hashes; bad lines are reported', () => {
    const digest = hashServiceKey('k');
    const { services, problems } = parseServices(
      [
        '# comment',
        `wallet ${digest} public display=My%20Wallet website=w.example rate=5 burst=2`,
        `payer ${digest.toUpperCase()} payouts`,
        `wallet ${digest}`,
        'bad user name',
        `short ${digest.slice(2)}`,
        `odd ${digest} colour=blue`,
      ].join('\n'),
    );
    assert.deepEqual(
      services.map((s) => [s.user, s.public, s.display, s.website, s.rate, s.burst, s.payouts]),
      [
        ['wallet', true, 'My Wallet', 'w.example', 5, 2, false],
        ['payer', false, 'payer', '', undefined, undefined, true],
        ['odd', false, 'odd', '', undefined, undefined, false],
      ],
    );
    assert.equal(problems.length, 4);
    assert.ok(problems[0]?.startsWith('line 4:'), problems[0]);
  });
});

describe('per-service rate limits', () => {
  test('burst passes at once, then requests wait for their token up to the bound, then are refused', () => {
    let now = 0;
    const limiter = new ServiceRateLimiter(1000, 100, () => now);
    const limit = { ratePerS: 2, burst: 2 };
    assert.equal(limiter.reserve('a', limit), 0);
    assert.equal(limiter.reserve('a', limit), 0);
    assert.equal(limiter.reserve('a', limit), 500);
    assert.equal(limiter.reserve('a', limit), 1000);
    assert.throws(() => limiter.reserve('a', limit), (err: unknown) => err instanceof WorkError && err.code === 'RATE_LIMITED');
    assert.equal(limiter.reserve('b', limit), 0, 'another service has its own bucket');
    now = 2000;
    assert.equal(limiter.reserve('a', limit), 0, 'tokens come back with time');
  });

  test('buckets stay bounded', () => {
    const limiter = new ServiceRateLimiter(1000, 10, () => 0);
    for (let i = 0; i < 1000; i++) limiter.reserve(`s${i}`, { ratePerS: 1, burst: 5 });
    assert.ok((limiter as unknown as { buckets: Map<string, unknown> }).buckets.size <= 10);
  });
});

// The credit book itself is the ledger's: test/integration/ledger-work-credits.test.ts runs it on both backends.
describe('credit amounts', () => {
  test('amounts parse exactly to millionths', () => {
    assert.equal(parseMicroAmount('1.25'), 1_250_000);
    assert.equal(parseMicroAmount('0.000001'), 1);
    assert.equal(parseMicroAmount('12'), 12_000_000);
    for (const bad of ['-1', '1.0000001', '1e3', '', 'abc', '1.']) assert.equal(parseMicroAmount(bad), undefined, bad);
  });
});
