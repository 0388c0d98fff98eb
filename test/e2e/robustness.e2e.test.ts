// Bad input through the real gateway while five reference miners keep mining devnet through it: garbage, invalid
// JSON, unknown methods, oversize lines, half-open connections, a slow reader and a flood of solutions before login.
// Each offender gets exactly the documented answer (docs/gateway.md, docs/transports.md) or is closed for the
// documented reason; the process stays up and the good miners never notice.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ResultCode } from '../../src/protocol/resultCodes.js';
import type { MinerGroup } from '../../src/sim/refminer/ReferenceMiner.js';
import { miners, startStack, Teardown, type Stack } from '../support/e2e.js';
import { StratumClient, type Json } from '../support/net.js';
import { waitFor } from '../support/wait.js';

const GOOD_MINERS = 5;
const MAX_LINE_BYTES = 4096;
const MALFORMED_BUDGET = 10;
const LOGIN_TIMEOUT_MS = 1000;
const MAX_SEND_QUEUE_BYTES = 4096;
const MAX_PENDING_SOLUTIONS = 64;

describe('robustness: abuse never crashes the gateway nor disturbs other sessions', { timeout: 180_000 }, () => {
  const teardown = new Teardown();
  let stack: Stack;
  let group: MinerGroup;
  let port = 0;
  let acceptedBeforeAbuse = 0;
  let jobsBeforeAbuse = 0;
  let goodSessions: number[] = [];

  /** A raw connection that `teardown` destroys. */
  const connect = async (): Promise<StratumClient> => {
    const client = await StratumClient.connect(port);
    teardown.defer(() => client.destroy());
    return client;
  };
  /** The gateway's session for a client (the transport opened it before any byte was read). */
  const sessionOf = async (client: StratumClient): Promise<number> => {
    await waitFor(() => stack.events.sessionAt(client.remote) !== undefined, `session of ${client.remote}`);
    return stack.events.sessionAt(client.remote) ?? -1;
  };
  /** Waits for the gateway to close the client's session; its reason. */
  const closeReason = async (client: StratumClient): Promise<string> => {
    const session = await sessionOf(client);
    await waitFor(() => stack.events.closeOf(session) !== undefined, `session ${session} closed`, 15_000);
    return stack.events.closeOf(session)?.reason ?? '';
  };
  const results = (client: StratumClient): Json[] => client.byMethod('result');
  /** Sends each line alone and checks its one answer: `code`, with the id given next to the line. */
  const expectEachAnswered = async (client: StratumClient, lines: ReadonlyArray<[string, string]>, code: number): Promise<void> => {
    for (const [line, id] of lines) {
      const seen = results(client).length;
      client.write(`${line}\n`);
      await waitFor(() => results(client).length === seen + 1, `answer to ${line}`);
      assert.deepEqual(pick(results(client)[seen]), { id, code }, line);
    }
  };
  /** The connection is still served: it logs in and gets a job. */
  const stillServed = async (client: StratumClient, key: string): Promise<void> => {
    const login = await client.login(key);
    assert.equal(login.code, ResultCode.LoginOk);
    await client.nextJob();
    client.destroy();
  };

  before(async () => {
    stack = await startStack(
      teardown,
      { tls: false, chain: 'devnet', difficulty: 50, blockIntervalMs: 0 },
      {
        stratum: {
          maxLineBytes: MAX_LINE_BYTES,
          malformedBudget: MALFORMED_BUDGET,
          loginTimeoutMs: LOGIN_TIMEOUT_MS,
          maxSendQueueBytes: MAX_SEND_QUEUE_BYTES,
          maxPendingSolutions: MAX_PENDING_SOLUTIONS,
        },
      },
    );
    port = stack.gateway.ports.tcp ?? 0;
    group = miners(teardown, { url: stack.url, key: 'good-miner', miners: GOOD_MINERS, workers: 1, rate: 5, chain: 'devnet' });
    await waitFor(() => group.stats().accepted >= GOOD_MINERS, 'the good miners to get shares accepted', 30_000, 10);
    acceptedBeforeAbuse = group.stats().accepted;
    jobsBeforeAbuse = group.stats().jobs;
    goodSessions = stack.events.logins.map((e) => e.sessionId);
    assert.equal(goodSessions.length, GOOD_MINERS);
  });
  after(() => teardown.run());

  it('garbage bytes and invalid JSON: -32000 (id echoed when readable), then closed when the budget is spent', async () => {
    const client = await connect();
    const garbage = Buffer.from(Array.from({ length: 200 }, (_, i) => (i * 37 + 11) % 256).filter((b) => b !== 0x0a && b > 0x20));
    client.write(Buffer.concat([garbage, Buffer.from('\n')]));
    await waitFor(() => results(client).length === 1, 'answer to garbage');
    assert.deepEqual(pick(results(client)[0]), { id: '', code: ResultCode.MalformedMessage });

    const malformed: Array<[string, string]> = [
      ['{"method":"login","id":"half"', ''], // not JSON
      ['[1,2,3]', ''], // not an object
      ['{"method":"login","api_key":"k"}', ''], // no id
      ['{"method":"login","id":""}', ''], // empty id
      ['{"method":"solution","id":"s1"}', 's1'], // missing fields
      ['{"method":"login","id":"l1","api_key":42}', 'l1'], // wrong type
      ['{"id":"m1"}', 'm1'], // no method
    ];
    await expectEachAnswered(client, malformed, ResultCode.MalformedMessage);
    // Blank lines and \r are ignored, not counted.
    client.write('\n\r\n   \n');
    assert.equal(client.closed, false);
    // 8 answered so far; the 9th and 10th are answered, the 11th closes without an answer.
    for (let i = 0; i < 3; i++) client.write('not json at all\n');
    assert.equal(await closeReason(client), 'malformed-budget');
    await client.closedByServer();
    assert.equal(results(client).length, MALFORMED_BUDGET);
    assert.ok(results(client).every((r) => r.code === ResultCode.MalformedMessage));
    assert.deepEqual(client.garbage, [], 'every line the gateway sent is JSON');
  });

  it('unknown methods, including the server’s own: -32001 with the request id', async () => {
    const client = await connect();
    const lines: Array<[string, string]> = [
      ['{"method":"getwork","id":"u1"}', 'u1'],
      ['{"method":"mining.subscribe","id":"u2","params":[]}', 'u2'],
      ['{"method":"cancel","id":"u3"}', 'u3'],
      ['{"method":"job","id":"u4","input":"00","difficulty":0,"height":1}', 'u4'],
      ['{"method":"result","id":"u5","code":1}', 'u5'],
    ];
    await expectEachAnswered(client, lines, ResultCode.UnknownMethod);
    // Still a working connection: it can log in and mine.
    await stillServed(client, 'late-but-fine');
  });

  it('oversize lines close the connection (line-too-long), with or without a newline, and get no answer', async () => {
    const withNewline = await connect();
    withNewline.write(`{"method":"login","id":"big","api_key":"${'k'.repeat(MAX_LINE_BYTES)}"}\n`);
    assert.equal(await closeReason(withNewline), 'line-too-long: limit 4096 bytes');
    await withNewline.closedByServer();
    assert.deepEqual(results(withNewline), []);

    const endless = await connect();
    const login = await endless.login('endless-line');
    assert.equal(login.code, ResultCode.LoginOk);
    // A line that never ends: more than the limit buffered without a newline.
    for (let i = 0; i < 5; i++) endless.write('x'.repeat(1024));
    assert.match(await closeReason(endless), /^line-too-long/);
    await endless.closedByServer();
  });

  it('half-open connections: silent ones time out at login, a peer ending mid-line is closed without an answer', async () => {
    const silent = await connect();
    const halfWay = await connect();
    halfWay.write('{"method":"login","id":"hal');
    halfWay.socket.end();
    assert.equal(await closeReason(halfWay), 'peer-closed');
    assert.deepEqual(halfWay.messages, []);
    assert.equal(await closeReason(silent), 'login-timeout');
    await silent.closedByServer();
    assert.deepEqual(silent.messages, []);
  });

  it('a flood of solutions before login: every one answered -32010, never verified, never forwarded', async () => {
    const client = await connect();
    const session = await sessionOf(client);
    // More than maxPendingSolutions in one write: the pending bound guards the verifier, which these never reach.
    const flood = 4 * MAX_PENDING_SOLUTIONS;
    const lines = Array.from({ length: flood }, (_, i) => `{"method":"solution","id":"${i + 1}","nonce":"${i.toString(16).padStart(16, '0')}","output":"${'00'.repeat(36)}"}\n`);
    const blocksBefore = stack.events.blocks.length;
    client.write(lines.join(''));
    await waitFor(() => results(client).length === flood || client.closed, 'an answer to every solution', 15_000);
    assert.equal(client.closed, false);
    assert.deepEqual(
      results(client).map((r) => [r.id, r.code]),
      lines.map((_, i) => [String(i + 1), ResultCode.Unauthorized]),
      'docs/gateway.md: check 1 of a solution is "logged in", answered -32010, in order',
    );
    const mine = stack.events.shares.filter((s) => s.sessionId === session);
    assert.equal(mine.length, flood);
    assert.ok(mine.every((s) => s.code === ResultCode.Unauthorized && s.reason === 'not-logged-in' && s.achievedDifficulty === 0));
    assert.equal(stack.events.blocks.length, blocksBefore, 'nothing forwarded');
    // Still not logged in, it may log in and mine.
    await stillServed(client, 'after-the-flood');
  });

  it('a slow reader (never reads while jobs and answers keep coming) is dropped: send-queue-full', async () => {
    const client = await connect();
    const session = await sessionOf(client);
    const login = await client.login('slow-reader');
    assert.equal(login.code, ResultCode.LoginOk);
    client.socket.pause();
    // Tips keep coming to everyone; the slow reader also keeps asking (re-login) and never reads the answers.
    // The kernel takes a few MB of a loopback socket before the gateway's own queue grows, hence the asking.
    const tips = setInterval(() => stack.node.newTip(), 20);
    try {
      const ask = Array.from({ length: 500 }, (_, i) => `{"method":"login","id":"${'s'.repeat(48)}${i}","api_key":"slow-reader"}\n`).join('');
      for (let round = 0; round < 400 && stack.events.closeOf(session) === undefined; round++) {
        client.write(ask);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await waitFor(() => stack.events.closeOf(session) !== undefined, 'the slow reader to be dropped', 15_000);
    } finally {
      clearInterval(tips);
    }
    assert.match(stack.events.closeOf(session)?.reason ?? '', /^send-queue-full/);
  });

  it('the gateway is alive and the good miners kept mining throughout', async () => {
    await waitFor(() => group.stats().accepted > acceptedBeforeAbuse + GOOD_MINERS, 'more accepted shares after the abuse', 30_000, 10);
    const stats = group.stats();
    assert.ok(stats.jobs > jobsBeforeAbuse, 'jobs kept coming');
    assert.equal(stats.reconnects, 0, 'no good miner was disconnected');
    assert.equal(stats.connected, GOOD_MINERS);
    for (const id of goodSessions) assert.equal(stack.events.closeOf(id), undefined, `good session ${id} still open`);
    // Every good miner (not just some) got shares accepted after the abuse began.
    const acceptedBySession = new Map<number, number>();
    for (const s of stack.events.sharesWith(ResultCode.Accepted)) acceptedBySession.set(s.sessionId, (acceptedBySession.get(s.sessionId) ?? 0) + 1);
    for (const id of goodSessions) assert.ok((acceptedBySession.get(id) ?? 0) > 0, `session ${id} had shares accepted`);
    // And a newcomer is still served.
    await stillServed(await connect(), 'newcomer');
  });
});

function pick(message: Json | undefined): { id: unknown; code: unknown } {
  return { id: message?.id, code: message?.code };
}
