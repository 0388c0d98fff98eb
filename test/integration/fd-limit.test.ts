// `equigate start` under a real, low open-file limit (`ulimit -n` in a shell): a stratum.maxConnections that does
// not fit is refused at start-up with a message naming both numbers; one that fits starts and serves miners.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect as netConnect, type Socket } from 'node:net';
import { DESCRIPTOR_RESERVE } from '../../src/transports/descriptorBudget.js';
import { SimNode } from '../../src/sim/SimNode.js';
import { freePort } from '../support/net.js';
import { waitFor } from '../support/wait.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const LIMIT = 600;

/** Descriptors the process holds right now (Linux). */
function descriptorsOf(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function startUnderLimit(maxConnections: number, stratumPort: number, upstreamPort = 1): { output: () => string; exited: Promise<number | null>; kill: () => void; pid: number } {
  const args = ['--import', 'tsx', 'src/cli/run.ts', 'start', '--stratum-host', '127.0.0.1', '--stratum-port', String(stratumPort), '--http-port', '0', '--upstream-port', String(upstreamPort), '--upstream-tls', 'false', '--log-level', 'info'];
  // No per-IP limit: every test connection comes from 127.0.0.1, and only the overall limit is under test.
  const configFile = path.join(mkdtempSync(path.join(tmpdir(), 'equigate-fd-')), 'config.json');
  writeFileSync(configFile, JSON.stringify({ stratum: { maxConnections, maxConnectionsPerIp: 0 } }));
  const child = spawn('sh', ['-c', `ulimit -n ${LIMIT} && exec "$0" "$@"`, process.execPath, ...args, '--config', configFile], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { output: () => text, exited, kill: () => child.kill('SIGKILL'), pid: child.pid ?? 0 };
}

test(`maxConnections over the real open-file limit (ulimit -n ${LIMIT}) is refused at start-up`, async (t) => {
  const proc = startUnderLimit(LIMIT, await freePort());
  t.after(() => proc.kill());
  let code: number | null | undefined;
  void proc.exited.then((c) => (code = c));
  // Before: the gateway started (and logged 'gateway started'); bounded wait, then the assertion fails.
  await waitFor(() => code !== undefined || /gateway started/.test(proc.output()), 'the gateway to exit or start', 30_000, 50);
  assert.equal(code, 2, proc.output());
  assert.match(proc.output(), /FD_LIMIT/);
  assert.match(proc.output(), new RegExp(`maxConnections \\(${LIMIT}\\)`));
  assert.match(proc.output(), new RegExp(`ulimit -n: ${LIMIT}`));
});

test('a maxConnections that fits the limit with the reserve starts', async (t) => {
  const proc = startUnderLimit(LIMIT - DESCRIPTOR_RESERVE, await freePort());
  t.after(() => proc.kill());
  let code: number | null | undefined;
  void proc.exited.then((c) => (code = c));
  await waitFor(() => code !== undefined || /gateway started/.test(proc.output()), 'the gateway to start', 30_000, 50);
  assert.equal(code, undefined, proc.output());
});

test('miners holding every connection they may never take the node link\'s descriptor: it re-logs in after a kick', async (t) => {
  const node = await SimNode.start({ tls: false, chain: 'devnet' });
  t.after(() => node.stop());
  const port = await freePort();
  const maxConnections = LIMIT - DESCRIPTOR_RESERVE;
  const proc = startUnderLimit(maxConnections, port, node.port);
  t.after(() => proc.kill());
  await waitFor(() => /gateway started/.test(proc.output()), 'the gateway to start', 30_000, 50);
  await waitFor(() => node.stats().logins === 1, 'the first upstream login', 30_000, 20);
  // A flood of idle connections: more than maxConnections, and more than the process has descriptors for.
  const sockets: Socket[] = [];
  t.after(() => {
    for (const socket of sockets) socket.destroy();
  });
  let open = 0;
  let closed = 0;
  const flood = (count: number): void => {
    for (let i = 0; i < count; i += 1) {
      const socket = netConnect({ host: '127.0.0.1', port });
      socket.on('error', () => {});
      socket.on('connect', () => (open += 1));
      socket.on('close', () => (closed += 1));
      sockets.push(socket);
    }
  };
  flood(LIMIT + 50);
  // Until the gateway has taken all it will: refusing (the limiter) or out of descriptors (no limiter in the way).
  await waitFor(
    () => open + closed >= sockets.length && (/connections refused/.test(proc.output()) || descriptorsOf(proc.pid) >= LIMIT - 2),
    'the flood to be admitted or refused',
    30_000,
    20,
  );
  assert.ok(descriptorsOf(proc.pid) <= LIMIT - DESCRIPTOR_RESERVE + 64, `descriptors in use: ${descriptorsOf(proc.pid)}`);
  // The node drops the link, and more miners arrive at once to take the descriptor it freed. Before (a
  // maxConnections over the limit was accepted), they got it and the link failed with EMFILE from then on.
  node.kickAll();
  flood(50);
  await waitFor(() => node.stats().logins >= 2, 'the gateway to log in to the node again', 30_000, 20);
  assert.doesNotMatch(proc.output(), /EMFILE/);
});
