// `equigate start` under a real, low open-file limit (`ulimit -n` in a shell): a stratum.maxConnections that does
// not fit is refused at start-up with a message naming both numbers; one that fits starts and serves miners.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DESCRIPTOR_RESERVE } from '../../src/transports/descriptorBudget.js';
import { freePort } from '../support/net.js';
import { waitFor } from '../support/wait.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const LIMIT = 600;

function startUnderLimit(maxConnections: number, stratumPort: number): { output: () => string; exited: Promise<number | null>; kill: () => void } {
  const args = ['--import', 'tsx', 'src/cli/run.ts', 'start', '--stratum-host', '127.0.0.1', '--stratum-port', String(stratumPort), '--http-port', '0', '--upstream-port', '1', '--upstream-tls', 'false', '--log-level', 'info'];
  const child = spawn('sh', ['-c', `ulimit -n ${LIMIT} && exec "$0" "$@"`, process.execPath, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, EQUIGATE_STRATUM_MAX_CONNECTIONS: String(maxConnections) },
  });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { output: () => text, exited, kill: () => child.kill('SIGKILL') };
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
