// Worker thread body of the reference Nano worker: searches nonces natively in bounded chunks and gives up as
// soon as the shared generation counter moves (a cancel, or a newer job), so a cancel costs at most one chunk.
import { parentPort, workerData } from 'node:worker_threads';
import { native } from '../../pow/native.js';
import type { ThreadJob, ThreadReply } from './NanoWorker.js';

if (!parentPort) throw new Error('workThread must run as a worker thread');
const port = parentPort;
const generation = new Int32Array((workerData as { generation: SharedArrayBuffer }).generation);
// About 2.5 ms of hashing at ~6.5 M nonces/s: bounds how long a cancelled or superseded hash keeps a thread.
const CHUNK = 16_384;
const U64 = (1n << 64n) - 1n;

port.on('message', (job: ThreadJob) => {
  const root = Buffer.from(job.hash, 'hex');
  const threshold = BigInt(`0x${job.threshold}`);
  let nonce = BigInt(`0x${job.start}`);
  let tried = 0;
  while (Atomics.load(generation, 0) === job.generation) {
    const found = native.nanoWorkGenerate(root, threshold, nonce, CHUNK);
    tried += CHUNK;
    if (found !== null) {
      const reply: ThreadReply = { generation: job.generation, hash: job.hash, work: found.work.toString(16).padStart(16, '0'), tried };
      port.postMessage(reply);
      return;
    }
    nonce = (nonce + BigInt(CHUNK)) & U64;
  }
  const reply: ThreadReply = { generation: job.generation, hash: job.hash, work: undefined, tried };
  port.postMessage(reply);
});
