// Worker thread body: solves devnet jobs with the native solver so the miners' event loop never blocks.
import { parentPort } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { native } from '../../pow/native.js';
import type { SolveReply, SolveTask } from './SolverPool.js';

if (!parentPort) throw new Error('solverWorker must run as a worker thread');
const port = parentPort;

port.on('message', (task: SolveTask) => {
  let reply: SolveReply;
  try {
    const outputs = native.solve(task.variant, Buffer.from(task.input, 'hex'), Buffer.from(task.nonce, 'hex'));
    reply = {
      id: task.id,
      // SHA-256(output) is what the target is checked against (docs/pow.md).
      solutions: outputs.map((o) => ({ output: o.toString('hex'), hash: createHash('sha256').update(o).digest('hex') })),
    };
  } catch (err) {
    reply = { id: task.id, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
