// The HTTP long-poll listener end to end (docs/transports.md "HTTP long-poll"): SimNode ← Gateway (an `http`
// listener) ← a reference miner over HTTP and a hand-driven HTTP client.
// Proves: every new tip reaches a parked poll at once (one poll per tip), the reference miner's shares are accepted
// through POSTs, bad sessions are 404, and a session that stops polling is closed (idle-timeout).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ResultCode } from '../../src/protocol/resultCodes.js';
import type { MinerGroup } from '../../src/sim/refminer/ReferenceMiner.js';
import { miners, startStack, Teardown, type Stack } from '../support/e2e.js';
import { freePort, type Json } from '../support/net.js';
import { waitFor } from '../support/wait.js';

interface Answer {
  readonly status: number;
  readonly session?: string;
  readonly first?: number;
  readonly next?: number;
  readonly lines?: string[];
  readonly closed?: string;
}

async function call(port: number, method: 'GET' | 'POST', query: string, body?: string): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${port}/?${query}`, { method, body, signal: AbortSignal.timeout(20_000) });
  return { status: response.status, ...((await response.json()) as object) };
}

const messages = (answer: Answer): Json[] => (answer.lines ?? []).map((l) => JSON.parse(l) as Json);

describe('HTTP long-poll end to end: tips reach a parked poll, a reference miner mines over HTTP', { timeout: 60_000 }, () => {
  const teardown = new Teardown();
  let stack: Stack;
  let port: number;
  let group: MinerGroup;

  before(async () => {
    port = await freePort();
    stack = await startStack(
      teardown,
      { tls: true, chain: 'devnet', noncePrefix: '', difficulty: 1e6, blockIntervalMs: 0, minerJobLatencyMs: 0 },
      {
        stratum: {
          httpPollWaitMs: 5000,
          httpSessionTimeoutMs: 1500,
          listeners: [{ name: 'poll', transport: 'http', host: '127.0.0.1', port, shareDifficulty: 1 }],
        },
      },
    );
    group = miners(teardown, { url: `http://127.0.0.1:${port}`, key: 'http-miner.rig', miners: 2, workers: 1, rate: 5, chain: 'devnet' });
  });
  after(() => teardown.run());

  it('a reference miner mining over HTTP gets its shares accepted', async () => {
    await waitFor(() => group.stats().accepted >= 20, '20 accepted shares over HTTP', 30_000, 20);
    const shares = stack.events.shares.filter((s) => s.worker === 'rig');
    assert.ok(shares.every((s) => s.code === ResultCode.Accepted || s.code === ResultCode.StaleJob), 'nothing refused but stale');
    assert.ok(stack.events.logins.filter((l) => l.transport === 'http').length >= 2);
  });

  it('every new tip reaches the parked poll at once: one poll per tip', async () => {
    const login = await call(port, 'POST', 'since=0', '{"method":"login","id":"login","api_key":"poller","jsonrpc":"2.0"}\n');
    assert.equal(login.status, 200);
    const token = login.session ?? '';
    assert.ok(token.length >= 20);
    const first = messages(login);
    assert.equal(first[0]?.code, ResultCode.LoginOk, 'the login reply in the POST answer');
    assert.equal(first[1]?.method, 'job', 'and the current job');
    let since = login.next ?? 0;
    let height = Number(first[1]?.height);
    for (let tip = 0; tip < 5; tip++) {
      const parked = call(port, 'GET', `session=${token}&since=${since}`);
      await new Promise((r) => setTimeout(r, 50)); // the poll is parked before the tip
      stack.node.newTip();
      const answer = await parked;
      const got = messages(answer);
      const job = got.find((m) => m.method === 'job');
      assert.ok(job !== undefined, `tip ${tip}: the job in the same poll`);
      assert.ok(Number(job.height) > height, 'a newer height');
      height = Number(job.height);
      since = answer.next ?? since;
    }
    // Nothing new: the poll waits, bounded by `wait`, and answers empty.
    const empty = await call(port, 'GET', `session=${token}&since=${since}&wait=1000`);
    assert.deepEqual([empty.status, empty.lines], [200, []]);
    // A solution: its result comes back in the POST's answer.
    const solution = await call(port, 'POST', `session=${token}&since=${since}`, `{"method":"solution","id":"999999","nonce":"0000000000000000","output":"${'00'.repeat(36)}","jsonrpc":"2.0"}\n`);
    assert.equal(messages(solution)[0]?.code, ResultCode.StaleJob);
  });

  it('unknown sessions are 404; a session that stops polling is closed (idle-timeout)', async () => {
    assert.equal((await call(port, 'GET', 'session=nope&since=0')).status, 404);
    assert.equal((await call(port, 'POST', 'session=nope&since=0', '{}\n')).status, 404);
    const login = await call(port, 'POST', 'since=0', '{"method":"login","id":"login","api_key":"quiet","jsonrpc":"2.0"}\n');
    const sessionId = stack.events.logins.find((l) => l.miner === 'quiet')?.sessionId;
    assert.ok(sessionId !== undefined);
    await waitFor(() => stack.events.closes.some((c) => c.sessionId === sessionId), 'the silent session closed', 10_000, 50);
    assert.equal(stack.events.closes.find((c) => c.sessionId === sessionId)?.reason, 'idle-timeout');
    assert.equal((await call(port, 'GET', `session=${login.session ?? ''}&since=0`)).status, 404);
  });
});
