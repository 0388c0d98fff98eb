import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { firstDigitRange, NoncePrefixAllocator, NoncePrefixError, type NoncePrefixLease } from '../../src/stratum/NoncePrefixAllocator.js';
import { nonceForNode } from '../../src/upstream/noncePrefix.js';

function allocateMany(allocator: NoncePrefixAllocator, count: number): NoncePrefixLease[] {
  return Array.from({ length: count }, () => allocator.allocate());
}

test('layout: upstream prefix + instance id + per-session digits, even, lowercase, unique', () => {
  const allocator = new NoncePrefixAllocator({ instanceId: '0A', noncePrefixDigits: 4 });
  const leases = allocateMany(allocator, 3);
  assert.deepEqual(leases.map((lease) => lease.prefix), ['0a0000', '0a0001', '0a0002']);
  assert.equal(allocator.capacity, 65536);
  allocator.setUpstreamPrefix('be');
  assert.deepEqual(leases.map((lease) => lease.prefix), ['be0a0000', 'be0a0001', 'be0a0002'], 're-derived in place');
  assert.equal(allocator.allocate().prefix, 'be0a0003');
});

test('odd upstream prefix: its digits are kept, the session field grows by one digit so the total is even', () => {
  const allocator = new NoncePrefixAllocator({ instanceId: '01', noncePrefixDigits: 4, upstreamPrefix: 'ABC' });
  assert.equal(allocator.sessionDigits, 5);
  assert.equal(allocator.upstreamPrefix, 'ABC', 'kept as the node wrote it (logs); the node link restores its case when forwarding');
  const lease = allocator.allocate();
  assert.equal(lease.prefix, 'abc0100000');
  assert.equal(lease.prefix.length % 2, 0);
  assert.equal(allocator.capacity, 16 ** 5);
});

test('the total never exceeds 12 hex digits', () => {
  const full = new NoncePrefixAllocator({ instanceId: 'aaaa', noncePrefixDigits: 6, upstreamPrefix: 'abcdef' });
  assert.equal(full.sessionDigits, 2);
  assert.equal(full.allocate().prefix, 'abcdefaaaa00');
  const odd = new NoncePrefixAllocator({ instanceId: 'aaaa', noncePrefixDigits: 6, upstreamPrefix: 'abcde' });
  assert.equal(odd.sessionDigits, 3);
  assert.equal(odd.allocate().prefix.length, 12);
});

test('exhaustion is refused with a typed error; released prefixes are recycled', () => {
  const small = new NoncePrefixAllocator({ instanceId: '', noncePrefixDigits: 2 });
  const leases = allocateMany(small, 256);
  assert.equal(new Set(leases.map((lease) => lease.prefix)).size, 256);
  assert.throws(() => small.allocate(), NoncePrefixError);
  small.release(leases[17]!);
  small.release(leases[17]!); // twice is harmless
  small.release(leases[3]!);
  assert.equal(small.allocate().prefix, '11', 'oldest released first');
  assert.equal(small.allocate().prefix, '03');
  assert.throws(() => small.allocate(), NoncePrefixError);
});

test('re-login that shrinks the session field renumbers live leases and revokes those that no longer fit', () => {
  const allocator = new NoncePrefixAllocator({ instanceId: 'aaaa', noncePrefixDigits: 6 });
  const leases = allocateMany(allocator, 300);
  const revoked = allocator.setUpstreamPrefix('abcdef'); // 6 + 4 + 6 > 12 ⇒ 2 session digits, 256 slots
  assert.equal(revoked.length, 44);
  assert.equal(allocator.liveCount, 256);
  const kept = leases.filter((lease) => !revoked.includes(lease));
  assert.equal(new Set(kept.map((lease) => lease.prefix)).size, 256);
  for (const lease of kept) assert.match(lease.prefix, /^abcdefaaaa[0-9a-f]{2}$/);
  for (const lease of revoked) allocator.release(lease); // harmless
  assert.equal(allocator.liveCount, 256);
});

test('bad configuration and bad upstream prefixes are typed errors', () => {
  const code = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (err) {
      return err instanceof NoncePrefixError ? err.code : 'untyped';
    }
    return undefined;
  };
  assert.equal(code(() => new NoncePrefixAllocator({ instanceId: 'abc', noncePrefixDigits: 2 })), 'bad-instance-id');
  assert.equal(code(() => new NoncePrefixAllocator({ instanceId: 'aabbcc', noncePrefixDigits: 2 })), 'bad-instance-id');
  assert.equal(code(() => new NoncePrefixAllocator({ instanceId: 'zz', noncePrefixDigits: 2 })), 'bad-instance-id');
  assert.equal(code(() => new NoncePrefixAllocator({ instanceId: '', noncePrefixDigits: 7 })), 'bad-session-digits');
  const allocator = new NoncePrefixAllocator({ instanceId: '', noncePrefixDigits: 2 });
  assert.equal(code(() => allocator.setUpstreamPrefix('abcdefa')), 'bad-upstream-prefix');
  assert.equal(code(() => allocator.setUpstreamPrefix('xy')), 'bad-upstream-prefix');
});

test('property: live prefixes stay unique, even, lowercase, ≤ 12 digits and carry the upstream prefix', () => {
  const op = fc.oneof(
    fc.constant({ kind: 'alloc' as const }),
    fc.nat(400).map((index) => ({ kind: 'release' as const, index })),
    fc.stringMatching(/^[0-9a-f]{0,6}$/).map((prefix) => ({ kind: 'upstream' as const, prefix })),
  );
  fc.assert(
    fc.property(fc.constantFrom('', '01', 'beef'), fc.integer({ min: 1, max: 3 }), fc.array(op, { maxLength: 300 }), (instanceId, digits, ops) => {
      const allocator = new NoncePrefixAllocator({ instanceId, noncePrefixDigits: digits });
      let live: NoncePrefixLease[] = [];
      for (const step of ops) {
        if (step.kind === 'alloc') {
          try {
            live.push(allocator.allocate());
          } catch (err) {
            if (!(err instanceof NoncePrefixError) || live.length !== allocator.capacity) throw err;
          }
        } else if (step.kind === 'release' && live.length > 0) {
          const [lease] = live.splice(step.index % live.length, 1);
          allocator.release(lease!);
        } else if (step.kind === 'upstream') {
          const revoked = allocator.setUpstreamPrefix(step.prefix);
          live = live.filter((lease) => !revoked.includes(lease));
        }
        const prefixes = live.map((lease) => lease.prefix);
        assert.equal(new Set(prefixes).size, prefixes.length);
        assert.equal(allocator.liveCount, live.length);
        for (const prefix of prefixes) {
          assert.equal(prefix.length % 2, 0);
          assert.ok(prefix.length <= 12);
          assert.match(prefix, /^[0-9a-f]*$/);
          assert.ok(prefix.startsWith(allocator.upstreamPrefix.toLowerCase() + instanceId));
        }
      }
    }),
    { numRuns: 200 },
  );
});

test('nonceForNode: the node prefix digits in the node case, anything else unchanged', () => {
  assert.equal(nonceForNode('AbC', 'abc0a00000000001'), 'AbC0a00000000001');
  assert.equal(nonceForNode('AbC', 'ABC0A00000000001'), 'AbC0A00000000001');
  assert.equal(nonceForNode('AbC', 'abd0a00000000001'), 'abd0a00000000001');
  assert.equal(nonceForNode('', 'abc0a00000000001'), 'abc0a00000000001');
});

test('shared mode (0 digits): any number of sessions share the gateway prefix; it follows the node prefix; never revoked', () => {
  const shared = new NoncePrefixAllocator({ instanceId: '0b', noncePrefixDigits: 0 });
  assert.equal(shared.shared, true);
  const leases = allocateMany(shared, 1000);
  assert.ok(leases.every((lease) => lease.prefix === '0b'));
  assert.equal(shared.capacity, Number.POSITIVE_INFINITY);
  assert.deepEqual(shared.setUpstreamPrefix('abcdef'), []);
  assert.ok(leases.every((lease) => lease.prefix === 'abcdef0b'), 'the shared part re-derived in place');
  shared.release(leases[0]!);
  assert.equal(shared.allocate().prefix, 'abcdef0b');
});

test('partitions: listeners with their own digits own disjoint first session digits, so no prefix is a prefix of another', () => {
  assert.deepEqual([0, 1, 2].map((i) => firstDigitRange(i, 3)), [{ from: 0, size: 6 }, { from: 6, size: 5 }, { from: 11, size: 5 }]);
  const two = new NoncePrefixAllocator({ instanceId: '', noncePrefixDigits: 2, partition: { index: 0, count: 2 } });
  const four = new NoncePrefixAllocator({ instanceId: '', noncePrefixDigits: 4, partition: { index: 1, count: 2 } });
  assert.equal(two.capacity, 8 * 16);
  assert.equal(four.capacity, 8 * 16 ** 3);
  const a = allocateMany(two, two.capacity).map((l) => l.prefix);
  const b = allocateMany(four, 2000).map((l) => l.prefix);
  assert.throws(() => two.allocate(), NoncePrefixError);
  for (const x of a) for (const y of b) assert.ok(!y.startsWith(x) && !x.startsWith(y), `${x} vs ${y}`);
  assert.equal(a[0], '00');
  assert.equal(b[0], '8000');
  // An odd node prefix grows both fields by a digit; the partition is still the first session digit.
  four.setUpstreamPrefix('abc');
  assert.match(b[0] === undefined ? '' : four.allocate().prefix, /^abc[89a-f]/);
});
