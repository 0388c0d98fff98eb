// All three miner transports through one gateway, and the gateway living through its node going away:
//   SimNode (TLS, devnet) ← Gateway (tcp + tls + ws, api keys file) ← a TCP, a TLS and a WebSocket reference miner.
// Proves: each transport logs in, mines under its own prefix and gets shares accepted; a node that drops every
// connection, or stops and comes back on the same port with its job ids restarted at 1, costs miners a cancel and
// nothing else; the api keys file is re-read without a restart.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ResultCode } from '../../src/protocol/resultCodes.js';
import type { MinerGroup, MinerGroupStats } from '../../src/sim/refminer/ReferenceMiner.js';
import type { TransportKind } from '../../src/transports/types.js';
import type { SimNodeOptions } from '../../src/sim/SimNode.js';
import { miners, startGateway, startNode, Teardown, type Stack } from '../support/e2e.js';
import { freePort, StratumClient } from '../support/net.js';
import { makeCertFiles } from '../support/tls.js';
import { eventually, waitFor } from '../support/wait.js';

const MINER_KEY = 'transport-miner-key';
const NEW_KEY = 'key-added-while-running';
const KINDS: readonly TransportKind[] = ['tcp', 'tls', 'ws'];

describe('transports end to end: tcp, tls and ws miners through one gateway; node drops and restarts', { timeout: 180_000 }, () => {
  const teardown = new Teardown();
  const dir = mkdtempSync(path.join(tmpdir(), 'equigate-e2e-'));
  const keysFile = path.join(dir, 'stratum.api.keys');
  const nodeOptions: SimNodeOptions = { tls: true, chain: 'devnet', noncePrefix: 'c3', difficulty: 20, blockIntervalMs: 0 };
  let stack: Stack;
  const groups = new Map<TransportKind, MinerGroup>();

  const statsOf = (kind: TransportKind): MinerGroupStats => {
    const group = groups.get(kind);
    assert.ok(group !== undefined);
    return group.stats();
  };
  const everyMiner = (what: string, check: (s: MinerGroupStats, kind: TransportKind) => boolean, timeoutMs = 30_000): Promise<void> =>
    waitFor(() => KINDS.every((kind) => check(statsOf(kind), kind)), what, timeoutMs, 10);
  const snapshot = (): Map<TransportKind, MinerGroupStats> => new Map(KINDS.map((kind) => [kind, statsOf(kind)]));
  const before_ = (snap: Map<TransportKind, MinerGroupStats>, kind: TransportKind): MinerGroupStats => {
    const s = snap.get(kind);
    assert.ok(s !== undefined);
    return s;
  };
  const upstreamLoggedIn = (): number => stack.events.upstream.filter((e) => e.state === 'logged-in').length;

  before(async () => {
    writeFileSync(keysFile, `# miners\nshort\n${MINER_KEY}\n`);
    const certs = await makeCertFiles(dir, 'gateway.equigate.test');
    const node = await startNode(teardown, nodeOptions);
    stack = await startGateway(teardown, node, {
      stratum: { tlsPort: await freePort(), wsPort: await freePort(), ...certs, apiKeysFile: keysFile },
      upstream: { reconnectMinMs: 50, reconnectMaxMs: 100 },
    });
    const { ports } = stack.gateway;
    const urls: Partial<Record<TransportKind, string>> = {
      tcp: `stratum+tcp://127.0.0.1:${ports.tcp ?? 0}`,
      tls: `stratum+ssl://127.0.0.1:${ports.tls ?? 0}`,
      ws: `ws://127.0.0.1:${ports.ws ?? 0}`,
    };
    for (const kind of KINDS) groups.set(kind, miners(teardown, { url: urls[kind] ?? '', key: MINER_KEY, miners: 1, workers: 1, rate: 5, chain: 'devnet' }));
  });
  after(async () => {
    await teardown.run();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a TCP, a TLS and a WebSocket miner log in, mine under their own prefix and get shares accepted', async () => {
    await everyMiner('a share accepted on every transport', (s) => s.accepted > 0 && s.logins === 1);
    const sessions = [...stack.gateway.hub.loggedInSessions()];
    assert.deepEqual(sessions.map((s) => s.connection.transport).sort(), [...KINDS].sort());
    const prefixes = sessions.map((s) => s.noncePrefix);
    assert.equal(new Set(prefixes).size, 3, 'own prefixes');
    for (const p of prefixes) assert.ok(p.startsWith('c3'));
    for (const session of sessions) {
      const accepted = stack.events.sharesWith(ResultCode.Accepted).filter((s) => s.sessionId === session.id);
      assert.ok(accepted.length > 0, `${session.connection.transport} shares accepted`);
      for (const share of accepted) assert.ok(share.nonce.startsWith(session.noncePrefix));
    }
    for (const kind of KINDS) {
      // A solution may cross a new tip's cancel on the wire (blocks are frequent here): stale, and nothing else.
      const codes = Object.keys(statsOf(kind).results).filter((code) => code !== String(ResultCode.Accepted));
      assert.ok(codes.every((code) => code === String(ResultCode.StaleJob)), `${kind}: only stale rejects, got ${codes.join(',')}`);
    }
  });

  it('node drops every connection: miners stay connected, get a cancel, and the next job once NodeLink is back', async () => {
    const snap = snapshot();
    const loginsBefore = upstreamLoggedIn();
    assert.ok(stack.node.kickAll() >= 1, 'the gateway was connected');
    await waitFor(() => upstreamLoggedIn() > loginsBefore, 'NodeLink logged in again', 30_000, 10);
    await everyMiner('a cancel and a job after the node came back', (s, kind) => s.cancels > before_(snap, kind).cancels && s.jobs > before_(snap, kind).jobs);
    await everyMiner('shares accepted again', (s, kind) => s.accepted > before_(snap, kind).accepted);
    for (const kind of KINDS) {
      assert.equal(statsOf(kind).reconnects, 0, `${kind} miner never lost its connection`);
      assert.equal(statsOf(kind).connected, 1);
    }
    assert.ok(stack.events.upstream.some((e) => e.state === 'disconnected'));
  });

  it('node stops and restarts on the same port (job ids from 1 again): the gateway recovers and blocks reach the new node', async () => {
    const old = stack.node;
    const snap = snapshot();
    const loginsBefore = upstreamLoggedIn();
    const lastGatewayJob = Number(stack.events.jobs.at(-1)?.jobId ?? 0);
    await old.stop();
    const reborn = await startNode(teardown, { ...nodeOptions, port: old.port });
    assert.equal(reborn.port, old.port);
    await waitFor(() => upstreamLoggedIn() > loginsBefore, 'NodeLink logged in to the restarted node', 30_000, 10);
    await everyMiner('jobs from the restarted node', (s, kind) => s.jobs > before_(snap, kind).jobs);
    const firstNew = stack.events.jobs.find((j) => Number(j.jobId) > lastGatewayJob && j.upstreamJobId === '1');
    assert.ok(firstNew !== undefined, 'the restarted node’s job 1 became a new gateway job');
    assert.ok(firstNew.newTip);
    await waitFor(() => reborn.stats().blocks.length >= 1, 'a block accepted by the restarted node', 60_000, 10);
    const block = reborn.stats().blocks[0];
    await waitFor(() => stack.events.blocks.some((b) => b.status === 'accepted' && b.blockHash === block?.hash), 'the block event', 10_000);
    const event = stack.events.blocks.find((b) => b.status === 'accepted' && b.blockHash === block?.hash);
    assert.equal(event?.upstreamJobId, block?.jobId, 'forwarded under the new node’s job id');
    assert.ok(Number(event?.jobId) >= Number(firstNew.jobId), 'mined on a job of the restarted node');
    for (const kind of KINDS) assert.equal(statsOf(kind).reconnects, 0, `${kind} miner never lost its connection`);
  });

  it('api keys file: an unknown key gets -32003, and logs in once the key is appended (no restart)', async () => {
    const port = stack.gateway.ports.tcp ?? 0;
    const refused = await StratumClient.connect(port);
    teardown.defer(() => refused.destroy());
    const answer = await refused.login(NEW_KEY);
    assert.equal(answer.code, ResultCode.LoginFailed);
    assert.equal(answer.description, 'Login failed');
    await refused.closedByServer('the connection closed after a failed login');

    appendFileSync(keysFile, `${NEW_KEY}\n`);
    // ApiKeys notices the change on its own poll; try again until it has.
    await eventually(async () => {
      const client = await StratumClient.connect(port);
      try {
        const result = await client.login(NEW_KEY);
        if (result.code !== ResultCode.LoginOk) return false;
        const job = await client.nextJob();
        assert.ok(String(job.nonceprefix).startsWith('c3'));
        return true;
      } finally {
        client.destroy();
      }
    }, 'the appended key to be accepted', 15_000, 200);
    // The old key still works.
    const old = await StratumClient.connect(port);
    teardown.defer(() => old.destroy());
    assert.equal((await old.login(MINER_KEY)).code, ResultCode.LoginOk);
  });
});
