// SimNode against docs/node-protocol.md, case by case, over real sockets on 127.0.0.1.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimNode, type SimNodeOptions } from '../../src/sim/SimNode.js';
import { loadScriptFile } from '../../src/sim/simNodeConfig.js';
import { native, NativeVariant } from '../../src/pow/native.js';

type Msg = Record<string, unknown>;

const VECTORS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../vectors/beamhash.json');
const WAIT_MS = 5000;

/** A raw stratum client: lines in as parsed objects, anything out. Every wait is bounded. */
class Client {
  private readonly queue: Msg[] = [];
  private waiter: (() => void) | undefined;
  private buf = '';
  closed = false;
  readonly closedPromise: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    this.closedPromise = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      this.buf += chunk.toString('utf8');
      let nl = this.buf.indexOf('\n');
      while (nl !== -1) {
        this.queue.push(JSON.parse(this.buf.slice(0, nl)) as Msg);
        this.buf = this.buf.slice(nl + 1);
        nl = this.buf.indexOf('\n');
      }
      this.waiter?.();
    });
  }

  static connect(node: SimNode): Promise<Client> {
    return new Promise((resolve, reject) => {
      const socket = node.tls
        ? tls.connect({ host: node.host, port: node.port, rejectUnauthorized: false }, () => resolve(new Client(socket)))
        : net.connect({ host: node.host, port: node.port }, () => resolve(new Client(socket)));
      socket.once('error', reject);
    });
  }

  static async login(node: SimNode, key = 'any-key-123'): Promise<{ client: Client; result: Msg; job: Msg }> {
    const client = await Client.connect(node);
    client.send({ method: 'login', id: 'login', api_key: key, jsonrpc: '2.0' });
    const result = await client.next();
    const job = await client.next();
    return { client, result, job };
  }

  send(msg: Msg | string): void {
    this.socket.write(typeof msg === 'string' ? msg : `${JSON.stringify(msg)}\n`);
  }

  /** The next message, or a rejection after WAIT_MS / on close. */
  async next(): Promise<Msg> {
    const deadline = Date.now() + WAIT_MS;
    while (this.queue.length === 0) {
      if (this.closed) throw new Error('connection closed while waiting for a message');
      if (Date.now() > deadline) throw new Error('timed out waiting for a message');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.queue.shift() as Msg;
  }

  /** Resolves when the peer closes; fails if it has not within WAIT_MS. Returns what arrived before. */
  async expectClose(): Promise<Msg[]> {
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('connection not closed')), WAIT_MS).unref());
    await Promise.race([this.closedPromise, timeout]);
    return this.queue.splice(0);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Finds `count` devnet solutions for a job, with nonces starting with `prefix`. */
function solveDevnet(input: string, prefix: string, count = 1): { nonce: string; output: string }[] {
  const found: { nonce: string; output: string }[] = [];
  for (let i = 1; found.length < count && i < 10000; i++) {
    const nonce = prefix + i.toString(16).padStart(16 - prefix.length, '0');
    for (const out of native.solve(NativeVariant.Devnet, Buffer.from(input, 'hex'), Buffer.from(nonce, 'hex'))) {
      found.push({ nonce, output: out.toString('hex') });
    }
  }
  assert.ok(found.length >= count, 'devnet solver found solutions');
  return found.slice(0, count);
}

function solution(jobId: unknown, s: { nonce: string; output: string }): Msg {
  return { method: 'solution', id: String(jobId), nonce: s.nonce, output: s.output, jsonrpc: '2.0' };
}

describe('SimNode (docs/node-protocol.md)', () => {
  const nodes: SimNode[] = [];
  const clients: Client[] = [];
  const start = async (opts: SimNodeOptions = {}): Promise<SimNode> => {
    const node = await SimNode.start({ tls: false, ...opts });
    nodes.push(node);
    return node;
  };
  const login = async (node: SimNode, key?: string) => {
    const r = await Client.login(node, key);
    clients.push(r.client);
    return r;
  };
  const connect = async (node: SimNode) => {
    const c = await Client.connect(node);
    clients.push(c);
    return c;
  };
  after(async () => {
    for (const c of clients) c.close();
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('serves TLS by default with a generated self-signed certificate', async () => {
    const node = await SimNode.start({});
    nodes.push(node);
    assert.equal(node.tls, true);
    const { client, result, job } = await login(node);
    const cert = (client.socket as tls.TLSSocket).getPeerCertificate();
    assert.equal(cert.subject.CN, 'equigate-simnode');
    assert.equal(result.code, 0);
    assert.equal(job.method, 'job');
  });

  it('login: code 0 with nonceprefix and fork heights, then the current job with a decimal id', async () => {
    const node = await start({ noncePrefix: 'ab12', chain: 'beam-mainnet', startHeight: 1_000_000 });
    const { result, job } = await login(node);
    assert.deepEqual(result, {
      method: 'result', id: 'login', code: 0, description: 'Success', nonceprefix: 'ab12', forkheight: 321321, forkheight2: 777777, jsonrpc: '2.0',
    });
    assert.equal(job.method, 'job');
    assert.equal(job.id, '1');
    assert.match(String(job.input), /^[0-9a-f]{64}$/);
    assert.equal(job.height, 1_000_000);
    assert.equal(typeof job.difficulty, 'number');
    assert.equal(job.nonceprefix, undefined, 'the node sends the prefix only at login');
    node.newTip();
    const { job: job2 } = await login(node);
    assert.equal(job2.id, '2');
    assert.equal(job2.height, 1_000_001);
  });

  it('login: no prefix and no fork heights on devnet', async () => {
    const node = await start();
    const { result } = await login(node);
    assert.equal(result.code, 0);
    assert.equal(result.nonceprefix, undefined);
    assert.equal(result.forkheight, undefined);
  });

  it('login failed: -32003 "Login failed", then the node closes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simnode-'));
    const keys = path.join(dir, 'stratum.api.keys');
    fs.writeFileSync(keys, 'good-key-1234\n');
    const node = await start({ apiKeysFile: keys });
    const c = await connect(node);
    c.send({ method: 'login', id: 'login', api_key: 'wrong-key-123', jsonrpc: '2.0' });
    const got = await c.expectClose();
    assert.deepEqual(got, [{ method: 'result', id: 'login', code: -32003, description: 'Login failed', jsonrpc: '2.0' }]);
  });

  it('api keys file: lines < 8 chars ignored, reloaded when mtime changes, missing file = any key', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simnode-'));
    const keys = path.join(dir, 'stratum.api.keys');
    fs.writeFileSync(keys, 'short\nfirst-key-123\r\n\n');
    const node = await start({ apiKeysFile: keys });
    assert.equal((await login(node, 'first-key-123')).result.code, 0);
    const short = await connect(node);
    short.send({ method: 'login', id: 'login', api_key: 'short' });
    assert.equal((await short.expectClose())[0]?.code, -32003);

    fs.writeFileSync(keys, 'second-key-456\n');
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(keys, later, later);
    const old = await connect(node);
    old.send({ method: 'login', id: 'login', api_key: 'first-key-123' });
    assert.equal((await old.expectClose())[0]?.code, -32003);
    assert.equal((await login(node, 'second-key-456')).result.code, 0);

    fs.rmSync(keys);
    assert.equal((await login(node, 'whatever-at-all')).result.code, 0);
  });

  describe('drops the connection without a reply', () => {
    const cases: [string, string][] = [
      ['bad JSON', '{"method":"login",\n'],
      ['a blank line', '\n'],
      ['a whitespace-only line', '   \n'],
      ['an empty id', '{"method":"login","id":"","api_key":"k-12345678"}\n'],
      ['a non-string id', '{"method":"login","id":7,"api_key":"k-12345678"}\n'],
      ['an unknown method', '{"method":"getwork","id":"1"}\n'],
      ['a node-to-miner method', '{"method":"job","id":"1","input":"00","difficulty":0,"height":1}\n'],
      ['a missing field (login without api_key)', '{"method":"login","id":"login"}\n'],
      ['a JSON array', '[1,2]\n'],
    ];
    for (const [name, line] of cases) {
      it(name, async () => {
        const node = await start();
        const c = await connect(node);
        c.send(line);
        assert.deepEqual(await c.expectClose(), []);
      });
    }

    it('a missing field after login (solution without output)', async () => {
      const node = await start();
      const { client } = await login(node);
      client.send({ method: 'solution', id: '1', nonce: '0000000000000001' });
      assert.deepEqual(await client.expectClose(), []);
    });

    it('a solution before login', async () => {
      const node = await start();
      const c = await connect(node);
      c.send({ method: 'solution', id: '1', nonce: '0000000000000001', output: '00'.repeat(36) });
      assert.deepEqual(await c.expectClose(), []);
      assert.equal(node.stats().drops['not-logged-in'], 1);
    });
  });

  it('prefix mismatch (case-sensitive): 2 "rejected", then the node disconnects', async () => {
    const node = await start({ noncePrefix: 'ab' });
    const { client, job } = await login(node);
    client.send({ method: 'solution', id: job.id, nonce: 'AB00000000000001', output: '00'.repeat(36) });
    const got = await client.expectClose();
    assert.deepEqual(got, [{ method: 'result', id: job.id, code: 2, description: 'rejected', jsonrpc: '2.0' }]);
    assert.equal(node.stats().rejectReasons['prefix-mismatch'], 1);
  });

  it('accepted: 1 with blockhash; the next height starts at once', async () => {
    const node = await start({ noncePrefix: 'c0de' });
    const { client, job } = await login(node);
    const [s] = solveDevnet(String(job.input), 'c0de');
    assert.ok(s);
    client.send(solution(job.id, s));
    const result = await client.next();
    assert.equal(result.code, 1);
    assert.equal(result.description, 'accepted');
    assert.equal(result.id, job.id);
    assert.match(String(result.blockhash), /^[0-9a-f]{64}$/);
    const next = await client.next();
    assert.equal(next.method, 'job');
    assert.equal(next.height, Number(job.height) + 1);
    const blocks = node.stats().blocks;
    assert.equal(blocks.length, 1);
    assert.deepEqual({ height: blocks[0]?.height, hash: blocks[0]?.hash }, { height: job.height, hash: result.blockhash });
  });

  it('rejected: bad PoW, wrong sizes and non-hex keep the connection', async () => {
    const node = await start();
    const { client, job } = await login(node);
    const [s] = solveDevnet(String(job.input), '');
    assert.ok(s);
    const bad = Buffer.from(s.output, 'hex');
    bad[3] = (bad[3] ?? 0) ^ 0x10;
    for (const sol of [
      { nonce: s.nonce, output: bad.toString('hex') },
      { nonce: s.nonce, output: `${s.output}00` },
      { nonce: `${s.nonce}00`, output: s.output },
      { nonce: 'zz00000000000000', output: s.output },
    ]) {
      client.send(solution(job.id, sol));
      assert.equal((await client.next()).code, 2);
    }
    assert.equal(node.stats().rejectReasons['bad-pow'], 4);
    client.send(solution(job.id, s));
    assert.equal((await client.next()).code, 1, 'still connected and judged');
  });

  it('rejected: below the block target', async () => {
    const node = await start({ difficulty: 2 ** 60 });
    const { client, job } = await login(node);
    const [s] = solveDevnet(String(job.input), '');
    assert.ok(s);
    client.send(solution(job.id, s));
    assert.equal((await client.next()).code, 2);
    assert.equal(node.stats().rejectReasons['below-target'], 1);
  });

  it('rejected: job cleared by a new tip', async () => {
    const node = await start();
    const { client, job } = await login(node);
    node.newTip();
    const next = await client.next();
    assert.equal(next.id, String(Number(job.id) + 1));
    const [s] = solveDevnet(String(job.input), '');
    assert.ok(s);
    client.send(solution(job.id, s));
    assert.equal((await client.next()).code, 2);
    assert.equal(node.stats().rejectReasons['stale-tip'], 1);
  });

  it('rejected: block already solved', async () => {
    const node = await start();
    const { client, job } = await login(node);
    const [a, b] = solveDevnet(String(job.input), '', 2);
    assert.ok(a && b);
    client.send(solution(job.id, a));
    assert.equal((await client.next()).code, 1);
    assert.equal((await client.next()).method, 'job');
    client.send(solution(job.id, b));
    assert.equal((await client.next()).code, 2);
    assert.equal(node.stats().rejectReasons['already-solved'], 1);
  });

  it('expired: a job 64 or more jobs older than the newest; 63 older is only stale', async () => {
    const node = await start();
    const { client, job } = await login(node);
    assert.equal(job.id, '1');
    for (let i = 0; i < 64; i++) node.newTip();
    for (let i = 0; i < 64; i++) await client.next();
    assert.equal(node.currentJob.id, '65');
    client.send({ method: 'solution', id: '1', nonce: '0000000000000001', output: '00'.repeat(36) });
    assert.deepEqual(await client.next(), { method: 'result', id: '1', code: 3, description: 'expired', jsonrpc: '2.0' });
    client.send({ method: 'solution', id: '2', nonce: '0000000000000001', output: '00'.repeat(36) });
    assert.equal((await client.next()).code, 2);
    client.send({ method: 'solution', id: '999', nonce: '0000000000000001', output: '00'.repeat(36) });
    assert.equal((await client.next()).code, 2, 'a never-issued id is rejected, not expired');
  });

  it('tx refresh: only when fees rise, coalesced, one job per miner_job_latency; older jobs of the tip stay valid', async () => {
    const node = await start({ minerJobLatencyMs: 100 });
    const { client, job } = await login(node);
    assert.equal(node.txUpdate(0), false, 'no rise, no job');
    assert.equal(node.txUpdate(10), true);
    assert.equal(node.txUpdate(20), true, 'rises within the latency coalesce');
    const refresh = await client.next();
    assert.equal(refresh.method, 'job');
    assert.equal(refresh.height, job.height);
    assert.notEqual(refresh.input, job.input);
    assert.equal(node.stats().jobsCreated, 2, 'two rises made one refresh');
    assert.equal(node.txUpdate(20), false, 'equal fees: nothing');
    assert.equal(node.txUpdate(5), false, 'lower fees: nothing');
    // The first job of the tip is still valid after a refresh.
    const [s] = solveDevnet(String(job.input), '');
    assert.ok(s);
    client.send(solution(job.id, s));
    assert.equal((await client.next()).code, 1);
    const tipJob = await client.next();
    assert.equal(tipJob.height, Number(job.height) + 1);
    // A new tip cancels a pending refresh.
    assert.equal(node.txUpdate(50), true);
    node.newTip();
    const afterTip = await client.next();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(node.currentJob.id, afterTip.id, 'no refresh after the tip');
  });

  it('kickAll drops every connection', async () => {
    const node = await start();
    const a = await login(node);
    const b = await login(node);
    assert.equal(node.kickAll(), 2);
    await a.client.expectClose();
    await b.client.expectClose();
    assert.equal(node.stats().connections, 0);
  });

  it('scripted mainnet block 903720: the vector solution is accepted with its block_hash', async () => {
    const vectors = JSON.parse(fs.readFileSync(VECTORS, 'utf8')) as { valid: Msg[] };
    const v = vectors.valid.find((e) => e.name === 'beam-mainnet-block-903720');
    assert.ok(v);
    const script = loadScriptFile(VECTORS);
    assert.equal(script[0]?.height, 903720);
    const node = await start({ chain: 'beam-mainnet', script });
    const { client, job } = await login(node);
    assert.deepEqual({ input: job.input, height: job.height, difficulty: job.difficulty }, { input: v.input, height: 903720, difficulty: 409392556 });
    client.send({ method: 'solution', id: job.id, nonce: v.nonce, output: v.output });
    const result = await client.next();
    assert.equal(result.code, 1);
    assert.equal(result.blockhash, v.block_hash);
    assert.equal(node.stats().blocks[0]?.hash, '23fe8673db74c43d4933b1f2d16db11b1a4895e3924a2f9caf92afa89fd01faf');
  });
});

before(() => {
  assert.ok(fs.existsSync(VECTORS), `vectors at ${VECTORS}`);
});
