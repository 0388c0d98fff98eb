// `equigate nano-worker` as its own process against a running work service: it answers a work request, is
// credited, and stops cleanly on SIGTERM; bad arguments exit 2 naming the problem.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { Teardown } from '../support/e2e.js';
import { waitFor, within } from '../support/wait.js';
import { randomAddress, randomHash, startWorkStack } from '../support/work.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cleanup = new Teardown();
after(() => cleanup.run());

function equigate(args: string[]): { child: ReturnType<typeof spawn>; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  cleanup.defer(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { child, output: () => text };
}

test('nano-worker answers work, is credited and exits 0 on SIGTERM', async () => {
  const stack = await startWorkStack({ broker: 'embedded', base: 'ff00000000000000' }, cleanup);
  const address = randomAddress();
  const worker = equigate(['nano-worker', '--mqtt', stack.mqttUrl, '--address', address, '--threads', '1', '--username', 'client', '--password', 'client', '--work', 'ondemand']);
  await waitFor(() => /nano worker running/.test(worker.output()), 'the worker running', 30_000);
  const answer = await within(stack.rpc({ action: 'work_generate', hash: randomHash(), timeout: 30, user: 'wallet' }), 'work', 40_000);
  assert.equal(answer.error, undefined, worker.output());
  assert.equal((await stack.credits.totals(address)).ondemand, 1);
  const exited = once(worker.child, 'exit');
  worker.child.kill('SIGTERM');
  const [code] = await within(exited, 'exit', 10_000);
  assert.equal(code, 0, worker.output());
});

test('bad arguments exit 2 and say what is wrong', async () => {
  const worker = equigate(['nano-worker', '--mqtt', 'mqtt://127.0.0.1:1', '--address', 'ban_1notanaddress', '--threads', '0']);
  const [code] = await within(once(worker.child, 'exit'), 'exit', 30_000);
  assert.equal(code, 2);
  assert.match(worker.output(), /--address must be a valid ban_… or nano_… address; --threads must be an integer in 1\.\.256/);
});
