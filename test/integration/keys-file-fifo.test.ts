// The api keys file replaced by a FIFO while the gateway runs (a separate `equigate start` process): the re-read
// must not block the event loop. The refusal is logged once, the last good keys stay, and miners are answered.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, StratumClient } from '../support/net.js';
import { waitFor } from '../support/wait.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KEY = 'kept-miner-key-0001';

test('a FIFO in place of the api keys file is refused (logged once); miners are still answered', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'equigate-fifo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const keysFile = path.join(dir, 'stratum.api.keys');
  writeFileSync(keysFile, `${KEY}\n`);
  const port = await freePort();
  const args = ['--import', 'tsx', 'src/cli/run.ts', 'start', '--stratum-host', '127.0.0.1', '--stratum-port', String(port), '--http-port', '0',
    '--upstream-port', '1', '--upstream-tls', 'false', '--stratum-api-keys-file', keysFile, '--log-level', 'info'];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL')); // works even on a blocked event loop
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(() => /gateway started/.test(output), 'the gateway to start', 30_000, 50);

  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  renameSync(fifo, keysFile); // no writer ever opens it: a blocking open() would wait forever
  // Before: the synchronous re-read blocked in open() and the gateway answered nobody from then on.
  await waitFor(() => /api keys file not loaded/.test(output), 'the refusal to be logged', 15_000, 50);
  assert.match(output, /a FIFO, not a regular file/);

  const miner = await StratumClient.connect(port, { timeoutMs: 10_000 });
  t.after(() => miner.destroy());
  const reply = await miner.login(KEY);
  assert.equal(reply.code, 0, 'the last good keys stay in force');
  const refused = await StratumClient.connect(port, { timeoutMs: 10_000 });
  t.after(() => refused.destroy());
  assert.equal((await refused.login('not-a-known-key-000')).code, -32003);

  // Several more polls of the same FIFO: still one log line.
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  assert.equal(output.match(/api keys file not loaded/g)?.length, 1);
  child.kill('SIGTERM');
  await once(child, 'exit');
});
