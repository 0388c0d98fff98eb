// The floor under bench/fanout: one process, no gateway, writing the same bytes a new tip costs the gateway (a
// cancel line and a job line with each session's difficulty and 4-digit prefix, gathered into one write per socket)
// to the same number of loopback sockets. It answers a login with a result and a job, like the gateway, so the
// same client code measures both.
import net from 'node:net';
import { childChannel, wallClockMs, type ParentToChild } from './protocol.js';

const INPUT = 'ab'.repeat(32);
const DIFFICULTY = 16777216;
const sockets: Array<{ socket: net.Socket; prefix: string }> = [];
let jobSeq = 1_000_000;
let height = 1_000;

const jobLine = (id: string, prefix: string): string =>
  `{"method":"job","id":"${id}","input":"${INPUT}","height":${height},"difficulty":${DIFFICULTY},"nonceprefix":"${prefix}","jsonrpc":"2.0"}\n`;

const send = childChannel((message: ParentToChild) => {
  if (message.type === 'floor-listen') listen();
  if (message.type === 'floor-job') writeJob();
});

function listen(): void {
  const server = net.createServer({ allowHalfOpen: false }, (socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    const prefix = (sockets.length % 65536).toString(16).padStart(4, '0');
    let loggedIn = false;
    socket.on('data', (chunk: Buffer) => {
      if (loggedIn || !chunk.toString('latin1').includes('"login"')) return;
      loggedIn = true;
      sockets.push({ socket, prefix });
      socket.write(`{"method":"result","id":"login","code":0,"description":"Login successful","nonceprefix":"${prefix}","jsonrpc":"2.0"}\n${jobLine(String(jobSeq), prefix)}`);
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    send({ type: 'floor-listening', port: typeof address === 'object' && address !== null ? address.port : 0 });
  });
}

function writeJob(): void {
  const dead = String(jobSeq);
  jobSeq += 1;
  height += 1;
  const id = String(jobSeq);
  const cancel = `{"method":"cancel","id":"${dead}","jsonrpc":"2.0"}\n`;
  const sentAt = wallClockMs();
  for (const { socket, prefix } of sockets) socket.write(cancel + jobLine(id, prefix));
  send({ type: 'floor-sent', id, sockets: sockets.length, sentAt, writtenAt: wallClockMs() });
}
