// Event API subscriber process for bench/events.ts: opens N raw WebSocket connections (handshake by hand, no
// `ws` per message: the client side must keep up with millions of frames a second) and subscribes each to `share`.
// One connection in `parseEvery` parses every frame and, for one frame in `sampleEvery`, records delivery
// latency = arrival (wallClockMs, read once per chunk) − the event's own `time` (ms); it also reports the share
// frame sizes it saw. The others only count bytes (the benchmark's share frames all have one size, which the
// parsing connections confirm), so the receiving side costs O(chunks), not O(frames). Latencies go into 0.1 ms
// bins; nothing grows with the run.
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { wallClockMs } from './protocol.js';

export type SubscribersCommand =
  | { readonly type: 'start'; readonly port: number; readonly count: number; readonly sampleEvery: number; readonly parseEvery: number; readonly topic: string }
  | { readonly type: 'reset' }
  | { readonly type: 'report' }
  | { readonly type: 'exit' };

export type SubscribersReply =
  | { readonly type: 'ready'; readonly connected: number }
  | {
      readonly type: 'report';
      /** Frames counted by the parsing connections, and bytes received by the counting ones. */
      readonly frames: number;
      readonly parsers: number;
      readonly countedBytes: number;
      readonly counters: number;
      readonly frameMin: number;
      readonly frameMax: number;
      readonly samples: number;
      readonly bins: Record<number, number>;
      readonly closed: number;
      readonly closeReasons: string[];
    }
  | { readonly type: 'error'; readonly message: string };

export const BIN_MS = 0.1;
const BINS = 100_001; // 0–10 s
const PREFIX = '{"topic":"share","time":"';
const TIME_DIGITS = 13;

/** A masked pong with an empty payload (the server's pings carry none). */
const EMPTY_PONG = Buffer.from([0x8a, 0x80, 0, 0, 0, 0]);

const bins = new Uint32Array(BINS);
let samples = 0;
let frames = 0;
let countedBytes = 0;
let frameMin = Infinity;
let frameMax = 0;
let closed = 0;
const closeReasons: string[] = [];

class Subscriber {
  private carry: Buffer | undefined;
  private skip = 0;
  private seen = 0;

  constructor(
    readonly socket: net.Socket,
    private readonly sampleEvery: number,
    private readonly offset: number,
  ) {}

  onData(chunk: Buffer, at: number): void {
    let buf = chunk;
    if (this.carry !== undefined) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    let i = 0;
    if (this.skip > 0) {
      const n = Math.min(this.skip, buf.length);
      this.skip -= n;
      i = n;
    }
    while (i < buf.length) {
      if (buf.length - i < 2) break;
      const opcode = (buf[i] ?? 0) & 0x0f;
      const short = (buf[i + 1] ?? 0) & 0x7f;
      let header = 2;
      let length = short;
      if (short === 126) {
        if (buf.length - i < 4) break;
        length = buf.readUInt16BE(i + 2);
        header = 4;
      } else if (short === 127) {
        if (buf.length - i < 10) break;
        length = Number(buf.readBigUInt64BE(i + 2));
        header = 10;
      }
      const sample = opcode === 1 && this.seen % this.sampleEvery === this.offset;
      const needed = sample || opcode === 8 ? Math.min(length, opcode === 8 ? length : PREFIX.length + TIME_DIGITS) : 0;
      if (buf.length - i < header + needed) break;
      if (opcode === 1) {
        this.seen += 1;
        frames += 1;
        const size = header + length;
        if (size < frameMin) frameMin = size;
        if (size > frameMax) frameMax = size;
        if (sample) {
          const start = i + header;
          if (buf.toString('latin1', start, start + PREFIX.length) === PREFIX) {
            const sent = Number(buf.toString('latin1', start + PREFIX.length, start + PREFIX.length + TIME_DIGITS));
            const bin = Math.min(BINS - 1, Math.max(0, Math.floor((at - sent) / BIN_MS)));
            bins[bin] = (bins[bin] ?? 0) + 1;
            samples += 1;
          }
        }
      } else if (opcode === 9) {
        // The server pings idle-looking clients (events.pingIntervalMs); answer as every WebSocket client does.
        this.socket.write(EMPTY_PONG);
      } else if (opcode === 8 && length >= 2) {
        closeReasons.push(`${buf.readUInt16BE(i + header)} ${buf.toString('utf8', i + header + 2, i + header + length)}`.slice(0, 120));
      }
      const end = i + header + length;
      if (end > buf.length) {
        this.skip = end - buf.length;
        i = buf.length;
        break;
      }
      i = end;
    }
    if (i < buf.length) this.carry = Buffer.from(buf.subarray(i));
  }
}

function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((b, k) => b ^ (mask[k % 4] ?? 0)));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

function open(port: number, topic: string, sampleEvery: number, index: number, parses: boolean): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const key = randomBytes(16).toString('base64');
    const subscriber = new Subscriber(socket, sampleEvery, index % sampleEvery);
    let head = '';
    const timer = setTimeout(() => reject(new Error('handshake timeout')), 30_000);
    socket.on('error', (err) => reject(err));
    socket.on('close', () => {
      closed += 1;
    });
    socket.on('connect', () => {
      socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    const onHandshake = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.off('data', onHandshake);
      if (!head.startsWith('HTTP/1.1 101')) {
        reject(new Error(`refused: ${head.split('\r\n')[0]}`));
        return;
      }
      if (parses) socket.on('data', (data: Buffer) => subscriber.onData(data, wallClockMs()));
      else
        socket.on('data', (data: Buffer) => {
          countedBytes += data.length;
        });
      socket.write(maskedText(JSON.stringify({ action: 'subscribe', topic })));
      resolve(subscriber);
    };
    socket.on('data', onHandshake);
  });
}

const send = (reply: SubscribersReply): void => {
  process.send?.(reply);
};
const subscribers: Subscriber[] = [];
let parsers = 0;

process.on('disconnect', () => process.exit(0));
process.on('message', (command: SubscribersCommand) => {
  if (command.type === 'exit') process.exit(0);
  if (command.type === 'reset') {
    bins.fill(0);
    samples = 0;
    frames = 0;
    countedBytes = 0;
  }
  if (command.type === 'report') {
    const sparse: Record<number, number> = {};
    bins.forEach((n, bin) => {
      if (n > 0) sparse[bin] = n;
    });
    send({
      type: 'report',
      frames,
      parsers,
      countedBytes,
      counters: subscribers.length - parsers,
      frameMin,
      frameMax,
      samples,
      bins: sparse,
      closed,
      closeReasons: closeReasons.slice(0, 5),
    });
  }
  if (command.type === 'start') {
    void (async () => {
      try {
        for (let i = 0; i < command.count; i += 50) {
          const batch = await Promise.all(
            Array.from({ length: Math.min(50, command.count - i) }, (_, k) => {
              const parses = (i + k) % command.parseEvery === 0;
              if (parses) parsers += 1;
              return open(command.port, command.topic, command.sampleEvery, i + k, parses);
            }),
          );
          subscribers.push(...batch);
        }
        send({ type: 'ready', connected: subscribers.length });
      } catch (err) {
        send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
      }
    })();
  }
});
