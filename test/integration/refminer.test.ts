// Reference miners against SimNode (and small stand-in servers) over real sockets on 127.0.0.1.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { SimNode, type SimNodeOptions, type SimSolutionOutcome } from '../../src/sim/SimNode.js';
import { loadScriptFile } from '../../src/sim/simNodeConfig.js';
import { startMiners, loadReplayFile, type MinerGroup, type MinerOptions } from '../../src/sim/refminer/ReferenceMiner.js';
import { SolverPool } from '../../src/sim/refminer/SolverPool.js';
import { native, NativeVariant } from '../../src/pow/native.js';
import { difficultyToPacked, meetsTarget } from '../../src/pow/difficulty.js';

const VECTORS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../vectors/beamhash.json');

/** Polls until `check` holds; fails after `ms` (a bound, not a timing assertion). */
async function waitFor(what: string, check: () => boolean, ms = 15000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('reference miner', () => {
  const nodes: SimNode[] = [];
  const groups: MinerGroup[] = [];
  const closers: (() => Promise<void>)[] = [];
  const node = async (opts: SimNodeOptions = {}): Promise<SimNode> => {
    const n = await SimNode.start({ tls: false, ...opts });
    nodes.push(n);
    return n;
  };
  const miners = (opts: MinerOptions): MinerGroup => {
    const g = startMiners({ statsIntervalMs: 0, reconnectMinMs: 50, ...opts });
    groups.push(g);
    return g;
  };
  const solutionsOf = (n: SimNode): SimSolutionOutcome[] => {
    const seen: SimSolutionOutcome[] = [];
    n.on('solution', (s) => seen.push(s));
    return seen;
  };
  after(async () => {
    await Promise.all(groups.map((g) => g.stop()));
    await Promise.all(nodes.map((n) => n.stop()));
    for (const c of closers) await c();
  });

  it('devnet solver outputs verify natively, directly and through the worker pool', async () => {
    const input = createHash('sha256').update('refminer').digest();
    let checked = 0;
    for (let i = 1; checked < 3 && i < 1000; i++) {
      const nonce = Buffer.alloc(8);
      nonce.writeUInt32BE(i, 4);
      for (const out of native.solve(NativeVariant.Devnet, input, nonce)) {
        assert.equal(out.length, 36);
        assert.equal(native.verifyOne(NativeVariant.Devnet, input, nonce, out).code, 0);
        checked++;
      }
    }
    assert.ok(checked >= 3);
    const pool = new SolverPool(1);
    try {
      let pooled = 0;
      for (let i = 1; pooled < 2 && i < 1000; i++) {
        const nonce = i.toString(16).padStart(16, '0');
        for (const s of await pool.solve(NativeVariant.Devnet, input.toString('hex'), nonce)) {
          const out = Buffer.from(s.output, 'hex');
          assert.equal(native.verifyOne(NativeVariant.Devnet, input, Buffer.from(nonce, 'hex'), out).code, 0);
          assert.equal(s.hash, createHash('sha256').update(out).digest('hex'));
          pooled++;
        }
      }
      assert.ok(pooled >= 2);
    } finally {
      await pool.close();
    }
  });

  it('finds devnet blocks that SimNode accepts, nonces carry the node prefix, only target-meeting solutions are sent', async () => {
    const n = await node({ noncePrefix: 'ab12', difficulty: 4 });
    const seen = solutionsOf(n);
    const g = miners({ url: `stratum+tcp://127.0.0.1:${n.port}`, key: 'k', miners: 3 });
    await waitFor('5 blocks', () => n.stats().blocks.length >= 5);
    await g.stop();
    const s = g.stats();
    assert.equal(s.logins, 3);
    assert.ok(s.accepted >= 5);
    assert.ok(s.belowTarget > 0, 'some solutions missed difficulty 4 and were kept back');
    assert.ok(seen.length > 0);
    for (const sol of seen) assert.ok(sol.nonce.startsWith('ab12'), `nonce ${sol.nonce} carries the prefix`);
    const ns = n.stats();
    assert.equal(ns.rejectReasons['below-target'], undefined);
    assert.equal(ns.rejectReasons['prefix-mismatch'], undefined);
    assert.equal(ns.rejectReasons['bad-pow'], undefined);
    const nodeHashes = new Set(ns.blocks.map((b) => b.hash));
    for (const h of s.blockHashes) assert.ok(nodeHashes.has(h), 'every blockhash the miners got is a block the node recorded');
    assert.ok((s.results['1'] ?? 0) <= (ns.solutionsByCode['1'] ?? 0), 'no accept the node did not give');
  });

  it('stratum+ssl against the TLS default, and reconnects after a kick', async () => {
    const n = await node({ tls: true });
    const g = miners({ url: `stratum+ssl://127.0.0.1:${n.port}`, key: 'k', miners: 2 });
    await waitFor('a block over TLS', () => n.stats().blocks.length >= 1);
    await waitFor('both logged in', () => n.stats().loggedIn === 2);
    n.kickAll();
    await waitFor('reconnect and login again', () => g.stats().logins >= 4);
    const before = n.stats().blocks.length;
    await waitFor('a block after reconnecting', () => n.stats().blocks.length > before);
    assert.ok(g.stats().reconnects >= 2);
  });

  it('ws:// one message per frame (through a ws relay to SimNode)', async () => {
    const n = await node();
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    const frames: string[] = [];
    wss.on('connection', (ws: WebSocket) => {
      const up = net.connect({ host: '127.0.0.1', port: n.port });
      let buf = '';
      up.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl = buf.indexOf('\n');
        while (nl !== -1) {
          ws.send(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
        }
      });
      ws.on('message', (data: Buffer) => {
        const text = data.toString();
        frames.push(text);
        up.write(`${text}\n`);
      });
      ws.on('close', () => up.destroy());
      up.on('close', () => ws.close());
      up.on('error', () => ws.close());
    });
    closers.push(() => new Promise((r) => wss.close(() => r())));
    const port = (wss.address() as net.AddressInfo).port;
    miners({ url: `ws://127.0.0.1:${port}`, key: 'k', miners: 1 });
    await waitFor('a block over ws', () => n.stats().blocks.length >= 1);
    assert.ok(frames.length >= 2);
    for (const f of frames) {
      assert.ok(!f.endsWith('\n'), 'no trailing newline in a frame');
      assert.doesNotThrow(() => JSON.parse(f));
    }
  });

  it('honours a prefix sent in each job, cancel, and the job difficulty as share target', async () => {
    const difficulty = difficultyToPacked(8);
    const input = createHash('sha256').update('fake-node').digest('hex');
    const got: { id: string; nonce: string; output: string }[] = [];
    let sock: net.Socket | undefined;
    const server = net.createServer((s) => {
      sock = s;
      let buf = '';
      s.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl = buf.indexOf('\n');
        while (nl !== -1) {
          const msg = JSON.parse(buf.slice(0, nl)) as { method: string; id: string; nonce: string; output: string };
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
          if (msg.method === 'login') {
            s.write(`${JSON.stringify({ method: 'result', id: msg.id, code: 0, description: 'Success', nonceprefix: 'aa' })}\n`);
            s.write(`${JSON.stringify({ method: 'job', id: '7', input, difficulty, height: 5, nonceprefix: 'bbcc' })}\n`);
          } else if (msg.method === 'solution') {
            got.push(msg);
            s.write(`${JSON.stringify({ method: 'result', id: msg.id, code: 1, description: 'accepted' })}\n`);
          }
        }
      });
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise((r) => server.close(() => r())));
    const port = (server.address() as net.AddressInfo).port;
    const g = miners({ url: `stratum+tcp://127.0.0.1:${port}`, key: 'k', miners: 1 });
    await waitFor('3 solutions', () => got.length >= 3);
    for (const sol of got) {
      assert.equal(sol.id, '7');
      assert.ok(sol.nonce.startsWith('bbcc'), `job prefix wins over login prefix: ${sol.nonce}`);
      const out = Buffer.from(sol.output, 'hex');
      assert.equal(native.verifyOne(NativeVariant.Devnet, Buffer.from(input, 'hex'), Buffer.from(sol.nonce, 'hex'), out).code, 0);
      assert.ok(meetsTarget(createHash('sha256').update(out).digest(), difficulty), 'only target-meeting solutions are sent');
    }
    sock?.write(`${JSON.stringify({ method: 'cancel', id: '7' })}\n`);
    await waitFor('the cancel', () => g.stats().cancels === 1);
    // After a cancel the miner idles: a fresh job restarts it.
    const before = got.length;
    sock?.write(`${JSON.stringify({ method: 'job', id: '8', input, difficulty, height: 6 })}\n`);
    await waitFor('solutions for job 8', () => got.slice(before).some((s) => s.id === '8'));
    const after8 = got.slice(got.findIndex((s, i) => i >= before && s.id === '8'));
    for (const sol of after8) assert.equal(sol.id, '8');
    assert.ok(after8.every((s) => s.nonce.startsWith('aa')), 'without a job prefix, the login prefix applies');
  });

  it('--rate caps submissions per second per miner', async () => {
    const n = await node({ difficulty: 1 });
    const t0 = Date.now();
    const g = miners({ url: `stratum+tcp://127.0.0.1:${n.port}`, key: 'k', miners: 2, rate: 5 });
    await waitFor('some submissions', () => g.stats().submitted >= 6);
    await g.stop();
    const elapsedS = (Date.now() - t0) / 1000;
    for (const m of g.stats().perMiner) assert.ok(m.submitted <= 5 * elapsedS + 5, `${m.submitted} within the cap over ${elapsedS}s`);
  });

  it('replays a known mainnet solution for a scripted job (block 903720)', async () => {
    const n = await node({ chain: 'beam-mainnet', script: loadScriptFile(VECTORS) });
    const g = miners({ url: `stratum+tcp://127.0.0.1:${n.port}`, key: 'k', chain: 'beam-mainnet', replay: loadReplayFile(VECTORS) });
    await waitFor('the replayed block', () => n.stats().blocks.length === 1);
    assert.equal(n.stats().blocks[0]?.hash, '23fe8673db74c43d4933b1f2d16db11b1a4895e3924a2f9caf92afa89fd01faf');
    await waitFor('the answer', () => g.stats().accepted === 1);
    assert.deepEqual(g.stats().blockHashes, ['23fe8673db74c43d4933b1f2d16db11b1a4895e3924a2f9caf92afa89fd01faf']);
  });
});
