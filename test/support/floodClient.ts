// Child process for the flood test (test/e2e/flood.e2e.test.ts): many stratum sessions from the given source
// addresses, each keeping `inflight` well-formed junk solutions (right size, own prefix, invalid proof of work)
// unanswered on the newest job, sending one more for every answer. Runs apart from the gateway so the gateway's
// memory can be measured on its own. Talks to the parent over IPC: 'ready'; 'status' → counts; 'stop' → a report, exit.
import net from 'node:net';
import { randomBytes } from 'node:crypto';

interface Start {
  readonly port: number;
  readonly addresses: readonly string[];
  readonly sessionsPerAddress: number;
  readonly inflight: number;
  readonly outputBytes: number;
}

interface FloodSession {
  readonly socket: net.Socket;
  prefix: string;
  jobId: string;
  counter: number;
  outstanding: number;
  loggedIn: boolean;
  buffered: string;
}

const start = JSON.parse(process.argv[2] ?? '{}') as Start;
const output = randomBytes(start.outputBytes).toString('hex');
const answers: Record<string, number> = {};
let sent = 0;
let closedByServer = 0;
let stopping = false;
const sessions: FloodSession[] = [];

function junkLine(s: FloodSession): string {
  s.counter += 1;
  const nonce = s.prefix + s.counter.toString(16).padStart(16 - s.prefix.length, '0');
  return `{"method":"solution","id":"${s.jobId}","nonce":"${nonce}","output":"${output}","jsonrpc":"2.0"}\n`;
}

function topUp(s: FloodSession): void {
  if (stopping || s.jobId === '' || !s.loggedIn || s.socket.destroyed) return;
  let lines = '';
  while (s.outstanding < start.inflight) {
    lines += junkLine(s);
    s.outstanding += 1;
    sent += 1;
  }
  if (lines !== '') s.socket.write(lines);
}

function onMessage(s: FloodSession, message: Record<string, unknown>): void {
  if (message.method === 'job') {
    s.jobId = String(message.id);
    if (typeof message.nonceprefix === 'string') s.prefix = message.nonceprefix;
    topUp(s);
  } else if (message.method === 'result') {
    if (message.id === 'login') {
      s.loggedIn = true;
      if (typeof message.nonceprefix === 'string') s.prefix = message.nonceprefix;
      return;
    }
    const code = String(message.code);
    answers[code] = (answers[code] ?? 0) + 1;
    s.outstanding -= 1;
    topUp(s);
  }
}

function open(address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: start.port, localAddress: address });
    const s: FloodSession = { socket, prefix: '', jobId: '', counter: 0, outstanding: 0, loggedIn: false, buffered: '' };
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!stopping) closedByServer += 1;
    });
    socket.on('data', (chunk: string) => {
      s.buffered += chunk;
      const lines = s.buffered.split('\n');
      s.buffered = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') onMessage(s, JSON.parse(line) as Record<string, unknown>);
    });
    socket.once('connect', () => {
      socket.write('{"method":"login","id":"login","api_key":"flood-key","jsonrpc":"2.0"}\n');
      sessions.push(s);
      resolve();
    });
    socket.once('error', reject);
  });
}

process.on('message', (message: { type: string }) => {
  if (message.type === 'status') process.send?.({ type: 'status', sent, answers });
  if (message.type !== 'stop') return;
  stopping = true;
  for (const s of sessions) s.socket.destroy();
  process.send?.({ type: 'report', sent, answers, closedByServer, sessions: sessions.length }, () => process.exit(0));
});

const opening: Array<Promise<void>> = [];
for (const address of start.addresses) for (let i = 0; i < start.sessionsPerAddress; i++) opening.push(open(address));
Promise.all(opening).then(
  () => process.send?.({ type: 'ready', sessions: sessions.length }),
  (err: unknown) => process.send?.({ type: 'error', message: String(err) }),
);
