// A worker thread terminated while it is inside the addon (here: native.solve) must not take the process down.
// Before NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS this aborted with "terminate called after throwing Napi::Error".
// Runs in a child process so that a regression fails this test instead of killing the test runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ADDON = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'build', 'Release', 'equigate_native.node');

const CHILD = `
import { Worker } from 'node:worker_threads';
const src = \`
const { parentPort } = require('node:worker_threads');
const addon = require(\${JSON.stringify(process.env.ADDON)});
const input = Buffer.alloc(32, 7); const nonce = Buffer.alloc(8);
parentPort.postMessage('solving');
for (let i = 0; ; i++) { nonce.writeUInt32LE(i); addon.solve(16, input, nonce); }
\`;
for (let round = 0; round < 30; round++) {
  const worker = new Worker(src, { eval: true, execArgv: [] });
  await new Promise((resolve) => worker.once('message', resolve));
  await new Promise((resolve) => setTimeout(resolve, 1 + (round % 5)));
  await worker.terminate();
}
process.stdout.write('survived');
`;

test('terminating a worker thread in the middle of native.solve leaves the process running', () => {
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], {
    env: { ...process.env, ADDON },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(child.signal, null, `child killed by ${child.signal}: ${child.stderr}`);
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout, 'survived');
});
