// HttpPollTransport on its own (docs/transports.md "HTTP long-poll"): the seam (lines in, lines out, one onClose),
// its bounds (line size, send queue, waiters per session, per-IP limit, admission) and its cursor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/config/logger.js';
import { ConnectionLimiter } from '../../src/transports/ConnectionLimiter.js';
import { HttpPollTransport } from '../../src/transports/HttpPollTransport.js';
import type { TransportDeps } from '../../src/transports/ListenerBase.js';
import type { CloseReason, ConnectionAcceptor, LineConnection } from '../../src/transports/types.js';
import { waitFor } from '../support/wait.js';

interface Seen {
  readonly connection: LineConnection;
  readonly lines: string[];
  readonly closes: CloseReason[];
}

/** Echoes every line back as `echo:<line>` unless told otherwise. */
function recorder(): { seen: Seen[]; acceptor: ConnectionAcceptor } {
  const seen: Seen[] = [];
  return {
    seen,
    acceptor: (connection) => {
      const entry: Seen = { connection, lines: [], closes: [] };
      seen.push(entry);
      return {
        onLine: (line) => {
          entry.lines.push(line);
          if (line === 'close-me') connection.close('login-failed');
          else if (line !== 'silent') connection.send(`echo:${line}\n`);
        },
        onClose: (reason) => entry.closes.push(reason),
      };
    },
  };
}

async function start(t: { after: (fn: () => Promise<void>) => void }, options: { admission?: (ip: string) => boolean; perIp?: number; queue?: number } = {}) {
  const r = recorder();
  const deps: TransportDeps = {
    acceptor: r.acceptor,
    limiter: new ConnectionLimiter({ maxConnections: 100, maxConnectionsPerIp: options.perIp ?? 100 }, silentLogger()),
    logger: silentLogger(),
    admission: options.admission,
  };
  const transport = new HttpPollTransport(
    { host: '127.0.0.1', port: 0, maxLineBytes: 512, maxSendQueueBytes: options.queue ?? 64 * 1024, httpPollWaitMs: 2000, httpSessionTimeoutMs: 60_000, closeGraceMs: 300 },
    deps,
  );
  const port = await transport.listen();
  t.after(() => transport.close());
  const call = async (method: 'GET' | 'POST', query: string, body?: string) => {
    const response = await fetch(`http://127.0.0.1:${port}/?${query}`, { method, body, signal: AbortSignal.timeout(10_000) });
    return { status: response.status, ...((await response.json()) as { session?: string; first?: number; next?: number; lines?: string[]; closed?: string }) };
  };
  return { ...r, transport, call, port };
}

test('lines in, lines out; the cursor acknowledges; a closed session answers once with its reason, then 404', async (t) => {
  const s = await start(t);
  const first = await s.call('POST', 'since=0', 'a\n\nb\n');
  assert.deepEqual([first.status, first.first, first.next, first.lines], [200, 1, 2, ['echo:a', 'echo:b']]);
  assert.deepEqual(s.seen[0]?.lines, ['a', 'b'], 'blank lines ignored, each line delivered once');
  const token = first.session ?? '';
  // Not acknowledged yet: a poll from 0 gets both again; from 2 it waits (bounded) and answers empty.
  assert.deepEqual((await s.call('GET', `session=${token}&since=0`)).lines, ['echo:a', 'echo:b']);
  assert.deepEqual((await s.call('GET', `session=${token}&since=2&wait=200`)).lines, []);
  const viaHeader = await fetch(`http://127.0.0.1:${s.port}/?since=2&wait=200`, { headers: { 'x-equigate-session': token } });
  assert.deepEqual(((await viaHeader.json()) as { lines: string[] }).lines, [], 'the token as a header');
  const closing = await s.call('POST', `session=${token}&since=2`, 'close-me\n');
  assert.equal(closing.closed, 'login-failed');
  await waitFor(() => s.seen[0]?.closes.length === 1, 'onClose');
  assert.deepEqual(s.seen[0]?.closes, ['login-failed']);
  assert.equal((await s.call('GET', `session=${token}&since=0`)).status, 404);
});

test('bounds: a line over maxLineBytes closes line-too-long, a body over 16 lines\' worth is 413; too many waiting polls 429; a client that stops reading send-queue-full', async (t) => {
  const s = await start(t, { queue: 40 });
  const { session } = await s.call('POST', 'since=0', 'silent\n');
  const tooLong = await s.call('POST', `session=${session}&since=0`, `${'x'.repeat(600)}\n`);
  assert.equal(tooLong.closed, 'line-too-long');
  await waitFor(() => s.seen[0]?.closes[0] === 'line-too-long', 'line-too-long');
  const second = await s.call('POST', 'since=0', 'silent\n');
  assert.equal((await s.call('POST', `session=${second.session}&since=0`, 'y'.repeat(512 * 16 + 1))).status, 413);
  await waitFor(() => s.seen[1]?.closes[0] === 'line-too-long', 'line-too-long after 413');

  const other = await s.call('POST', 'since=0', 'silent\n');
  const parked = [1, 2, 3, 4].map(() => s.call('GET', `session=${other.session}&since=0&wait=1000`));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal((await s.call('GET', `session=${other.session}&since=0`)).status, 429);
  await Promise.all(parked);
  // 40 bytes of unacknowledged lines at most: the third echo does not fit.
  await s.call('POST', `session=${other.session}&since=0`, 'aaaaaaaaaaaa\n');
  await s.call('POST', `session=${other.session}&since=0`, 'bbbbbbbbbbbb\n');
  const full = await s.call('POST', `session=${other.session}&since=0`, 'cccccccccccc\n');
  assert.equal(full.closed, 'send-queue-full');
});

test('admission and the per-IP limit apply to new sessions', async (t) => {
  let banned = true;
  const s = await start(t, { admission: () => !banned, perIp: 1 });
  assert.equal((await s.call('POST', 'since=0', 'a\n')).status, 503, 'refused by the admission hook');
  assert.equal(s.seen.length, 0, 'never reached the session layer');
  banned = false;
  assert.equal((await s.call('POST', 'since=0', 'a\n')).status, 200);
  assert.equal((await s.call('POST', 'since=0', 'a\n')).status, 503, 'one session per IP');
});
