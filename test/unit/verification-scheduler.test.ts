// VerificationScheduler (docs/hostile-peers.md "Share path"): bounds per session, per address (/64 for IPv6) and in
// all; round-robin across addresses; sessions with valid recent solutions served first; push-out under saturation;
// refusals logged at a bounded rate. Runs on the real native verifier; a thin wrapper records the service order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { silentLogger } from '../../src/config/logger.js';
import { native, NativeVariant } from '../../src/pow/native.js';
import type { NativeVerdict, SolutionInput, SolutionVerifier } from '../../src/pow/types.js';
import { VARIANTS } from '../../src/pow/variants.js';
import { VerifierPool } from '../../src/pow/VerifierPool.js';
import { addressGroup } from '../../src/transports/addressGroup.js';
import { VerificationRefused, VerificationScheduler, type VerificationSchedulerOptions } from '../../src/stratum/VerificationScheduler.js';

const DEVNET = VARIANTS.devnet;
const INPUT = Buffer.alloc(32, 7);

/** The real pool, recording the tag of each solution in the order it was handed on. */
class RecordingVerifier implements SolutionVerifier {
  readonly pool = new VerifierPool({ concurrency: 1 });
  readonly order: string[] = [];
  verify(solution: SolutionInput): Promise<NativeVerdict> {
    this.order.push(tagOf(solution));
    return this.pool.verify(solution);
  }
  close(): Promise<void> {
    return this.pool.close();
  }
}

/** The first nonce byte carries a one-letter tag so the order of service can be read back. */
function tagOf(solution: SolutionInput): string {
  return String.fromCharCode(solution.nonce[0] ?? 0);
}

function junk(tag: string): SolutionInput {
  const nonce = randomBytes(8);
  nonce[0] = tag.charCodeAt(0);
  return { variant: DEVNET, input: INPUT, nonce, output: randomBytes(DEVNET.solutionBytes) };
}

function valid(tag: string, counter: number): SolutionInput {
  for (let c = counter; ; c += 1) {
    const nonce = Buffer.alloc(8);
    nonce[0] = tag.charCodeAt(0);
    nonce.writeUInt32BE(c, 4);
    const [output] = native.solve(NativeVariant.Devnet, INPUT, nonce);
    if (output !== undefined) return { variant: DEVNET, input: INPUT, nonce, output };
  }
}

function scheduler(verifier: SolutionVerifier, options: Partial<VerificationSchedulerOptions> = {}): VerificationScheduler {
  return new VerificationScheduler({ verifier, maxPendingPerSession: 64, maxPendingPerAddress: 1024, maxWaiting: 16_384, window: 1, logger: silentLogger(), ...options });
}

function admitted(s: VerificationScheduler, session: object, address: string, solution: SolutionInput): Promise<NativeVerdict> {
  const admission = s.submit(session, address, solution);
  assert.equal(admission.admitted, true);
  return admission.admitted ? admission.verdict : Promise.reject(new Error('refused'));
}

test('round-robin across addresses: one address with many waiting cannot delay another by more than a turn', async (t) => {
  const verifier = new RecordingVerifier();
  const s = scheduler(verifier);
  t.after(() => verifier.close());
  // While nothing waits a solution goes straight on; X fills the window (1), so the rest wait and are ordered.
  const verdicts: Array<Promise<NativeVerdict>> = [admitted(s, {}, '10.0.0.9', junk('X'))];
  for (let i = 0; i < 10; i++) verdicts.push(admitted(s, {}, '10.0.0.1', junk('A')));
  for (let i = 0; i < 2; i++) verdicts.push(admitted(s, {}, '10.0.0.2', junk('B')));
  await Promise.all(verdicts);
  assert.equal(verifier.order.join(''), 'XABABAAAAAAAA');
});

test('sessions whose recent solutions were junk are served after sessions whose solutions were valid', async (t) => {
  const verifier = new RecordingVerifier();
  const s = scheduler(verifier);
  t.after(() => verifier.close());
  const junkSession = {};
  const goodSession = {};
  // History: the junk session sends junk, the good one valid solutions.
  await Promise.all([admitted(s, junkSession, '10.0.0.1', junk('J')), admitted(s, goodSession, '10.0.0.2', valid('G', 0))]);
  verifier.order.length = 0;
  const verdicts: Array<Promise<NativeVerdict>> = [admitted(s, {}, '10.0.0.9', valid('X', 0))];
  for (let i = 0; i < 8; i++) verdicts.push(admitted(s, junkSession, '10.0.0.1', junk('J')));
  for (let i = 0; i < 8; i++) verdicts.push(admitted(s, goodSession, '10.0.0.2', valid('G', 100 * (i + 1))));
  const results = await Promise.all(verdicts);
  assert.ok(results.slice(9).every((v) => v.powValid));
  // Seven trusted solutions per suspect one while both wait (the suspect never starves).
  assert.equal(verifier.order.join(''), 'XGGGGGGGJGJJJJJJJ');
});

test('bounds: per session, per address (an IPv6 /64 is one address), and the refusals are counted', async (t) => {
  const verifier = new RecordingVerifier();
  const s = scheduler(verifier, { maxPendingPerSession: 2, maxPendingPerAddress: 3 });
  t.after(() => verifier.close());
  const one = {};
  const verdicts = [admitted(s, one, '2001:db8:1:2::1', junk('A')), admitted(s, one, '2001:db8:1:2::1', junk('A'))];
  assert.deepEqual(s.submit(one, '2001:db8:1:2::1', junk('A')), { admitted: false, refusal: 'session-limit' });
  verdicts.push(admitted(s, {}, '2001:db8:1:2:ffff::9', junk('A')));
  assert.deepEqual(s.submit({}, '2001:0db8:0001:0002:0:0:0:7', junk('A')), { admitted: false, refusal: 'address-busy' }, 'same /64, a newcomer holding nothing');
  assert.deepEqual(s.submit(one, '2001:db8:1:2::1', junk('A')), { admitted: false, refusal: 'session-limit' });
  verdicts.push(admitted(s, {}, '2001:db8:1:3::1', junk('B')), admitted(s, {}, '::ffff:10.0.0.1', junk('C')));
  assert.equal(s.pendingOf(one), 2);
  await Promise.all(verdicts);
  assert.equal(s.pendingOf(one), 0, 'pending ends with the verdict');
  assert.deepEqual([s.stats.refused['session-limit'], s.stats.refused['address-busy'], s.stats.addresses], [2, 1, 0]);
  assert.equal(addressGroup('::FFFF:192.0.2.1'), '192.0.2.1');
  assert.equal(addressGroup('2001:db8::1'), '2001:db8:0:0::/64');
});

test('a full address: the session holding at least its even share is at fault (address-limit), a light one is not', async (t) => {
  const verifier = new RecordingVerifier();
  const s = scheduler(verifier, { maxPendingPerAddress: 4 });
  t.after(() => verifier.close());
  const hog = {};
  const light = {};
  const verdicts = [1, 2, 3].map(() => admitted(s, hog, '10.0.0.1', junk('H')));
  verdicts.push(admitted(s, light, '10.0.0.1', junk('L')));
  assert.deepEqual(s.submit(hog, '10.0.0.1', junk('H')), { admitted: false, refusal: 'address-limit' }, '3 pending ≥ its share of 2');
  assert.deepEqual(s.submit(light, '10.0.0.1', junk('L')), { admitted: false, refusal: 'address-busy' }, '1 pending < its share of 2');
  await Promise.all(verdicts);
});

test('saturated: the biggest suspect holder makes room for a newcomer, a holder never pushes out a smaller one', async (t) => {
  const verifier = new RecordingVerifier();
  const s = scheduler(verifier, { maxWaiting: 4, window: 1 });
  t.after(() => verifier.close());
  const flooder = {};
  await admitted(s, flooder, '10.0.0.1', junk('F')); // makes the flooder a suspect
  const blocker = admitted(s, {}, '10.0.0.9', junk('X')); // fills the window, so the rest wait
  const floods = [1, 2, 3, 4].map(() => admitted(s, flooder, '10.0.0.1', junk('F')));
  assert.deepEqual(s.submit(flooder, '10.0.0.1', junk('F')), { admitted: false, refusal: 'overloaded' }, 'its own address');
  const honest = admitted(s, {}, '10.0.0.2', valid('H', 0));
  const outcomes = await Promise.allSettled([...floods, honest, blocker]);
  assert.equal((await honest).powValid, true);
  const evicted = outcomes.filter((o) => o.status === 'rejected');
  assert.equal(outcomes[5]?.status, 'fulfilled');
  assert.equal(evicted.length, 1, 'exactly one flood solution pushed out');
  assert.ok(evicted[0]?.status === 'rejected' && evicted[0].reason instanceof VerificationRefused && evicted[0].reason.code === 'evicted');
  assert.equal(outcomes[3]?.status, 'rejected', 'its newest one');
  assert.equal(s.stats.peakWaiting, 4);
});

test('refusals are logged at a bounded rate, without stack traces', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const clock = { now: 0 };
  const verifier = new RecordingVerifier();
  const s = scheduler(verifier, { maxPendingPerSession: 1, logger: pino({ level: 'info' }, sink), now: () => clock.now, refusalLogIntervalMs: 10_000 });
  t.after(() => verifier.close());
  const session = {};
  const first = admitted(s, session, '10.0.0.1', junk('A'));
  for (let i = 0; i < 5000; i++) s.submit(session, '10.0.0.1', junk('A'));
  clock.now = 10_000;
  s.submit(session, '10.0.0.1', junk('A'));
  await first;
  assert.equal(lines.length, 2, 'one line at the first refusal, one per interval after');
  assert.match(lines[1] ?? '', /"session-limit":5000/);
  assert.ok(lines.every((line) => !line.includes('stack')));
  assert.equal(s.stats.refused['session-limit'], 5001);
});

test('close: admits no more and resolves once every admitted solution has its verdict', async (t) => {
  const verifier = new RecordingVerifier();
  const s = scheduler(verifier, { window: 2 });
  t.after(() => verifier.close());
  const verdicts = [1, 2, 3, 4, 5].map((i) => admitted(s, {}, `10.0.0.${i}`, valid('V', i * 100)));
  await s.close();
  assert.equal(verifier.order.length, 5);
  assert.ok((await Promise.all(verdicts)).every((v) => v.powValid));
  assert.deepEqual(s.submit({}, '10.0.0.1', junk('A')), { admitted: false, refusal: 'closed' });
});
