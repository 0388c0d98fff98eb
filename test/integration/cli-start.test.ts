// `equigate sim-node` and `equigate start --config FILE` as separate processes, the way an operator runs them:
// a miner logs in through the gateway and gets a job, and SIGTERM shuts the gateway down cleanly (exit 0).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/net.js';
import { makeCertFiles } from '../support/tls.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Spawned {
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
}

function equigate(args: string[]): Spawned {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { child, output: () => text };
}

async function waitForOutput(proc: Spawned, pattern: RegExp, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(proc.output())) {
    if (proc.child.exitCode !== null) assert.fail(`${what}: process exited ${proc.child.exitCode}:\n${proc.output()}`);
    if (Date.now() > deadline) assert.fail(`${what}: not seen within ${timeoutMs} ms:\n${proc.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Logs in over plain TCP and resolves with the first two messages (login result, job). */
async function loginAndFirstJob(port: number): Promise<Array<Record<string, unknown>>> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  // Bounded: the job comes as soon as the gateway has one from the node.
  socket.setTimeout(30_000, () => socket.destroy(new Error('no login result and job within 30 s')));
  socket.write('{"method":"login","api_key":"cli-test-miner-key","id":"login","jsonrpc":"2.0"}\n');
  let buffered = '';
  const messages: Array<Record<string, unknown>> = [];
  try {
    for await (const chunk of socket) {
      buffered += String(chunk);
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') messages.push(JSON.parse(line) as Record<string, unknown>);
      if (messages.length >= 2) break;
    }
  } finally {
    socket.destroy();
  }
  return messages;
}

/**
 * Starts `equigate sim-node` (plain TCP) and `equigate start` on a config pointing at it, as separate processes,
 * both killed when the test ends; resolves once the gateway says it started.
 */
async function startNodeAndGateway(
  t: TestContext,
  dir: string,
  stratum: Record<string, unknown>,
): Promise<{ gateway: Spawned }> {
  const nodePort = await freePort();
  const node = equigate(['sim-node', '--port', String(nodePort), '--tls', 'false', '--block-interval', '0']);
  t.after(() => node.child.kill('SIGKILL'));
  await waitForOutput(node, /sim node: stratum\+tcp:\/\//, 'sim node listening');
  const configFile = path.join(dir, 'gateway.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      chain: 'devnet',
      upstream: { host: '127.0.0.1', port: nodePort, tls: false, apiKey: 'cli-test-gateway-key' },
      stratum: { host: '127.0.0.1', ...stratum },
      http: { port: 0 },
      events: { wsPort: 0 },
      ledger: { url: `sqlite:${path.join(dir, 'ledger.sqlite')}` },
    }),
  );
  const gateway = equigate(['start', '--config', configFile]);
  t.after(() => gateway.child.kill('SIGKILL'));
  await waitForOutput(gateway, /"msg":"gateway started"/, 'gateway started');
  return { gateway };
}

test('sim-node and start as processes: miner gets a job through the gateway; SIGTERM exits 0 after a graceful stop', async (t) => {
  const stratumPort = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'equigate-cli-'));
  const { gateway } = await startNodeAndGateway(t, dir, { port: stratumPort });

  const [login, job] = await loginAndFirstJob(stratumPort);
  assert.equal(login?.method, 'result');
  assert.equal(login?.code, 0);
  assert.equal(job?.method, 'job');
  assert.match(String(job?.nonceprefix), /^([0-9a-f]{2})+$/);

  const exited = once(gateway.child, 'exit');
  gateway.child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  assert.equal(code, 0, gateway.output());
  assert.match(gateway.output(), /"msg":"gateway stopped"/);
});

test('start with an invalid config file: exit 2 and a message naming the problem', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'equigate-cli-'));
  const configFile = path.join(dir, 'bad.json');
  writeFileSync(configFile, JSON.stringify({ stratum: { noncePrefixDigits: 5 } }));
  const gateway = equigate(['start', '--config', configFile]);
  const [code] = (await once(gateway.child, 'exit')) as [number | null];
  assert.equal(code, 2);
  assert.match(gateway.output(), /noncePrefixDigits/);
});

/** The subject CN of the certificate a TLS listener presents now. */
async function presentedCommonName(port: number): Promise<string> {
  const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
  socket.setTimeout(10_000, () => socket.destroy(new Error('TLS handshake timed out')));
  await once(socket, 'secureConnect');
  const cn = socket.getPeerCertificate().subject?.CN;
  socket.destroy();
  return String(cn);
}

test('SIGHUP makes a running gateway load the new TLS certificate; connections after it see the new one', async (t) => {
  const [stratumPort, tlsPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(path.join(tmpdir(), 'equigate-cli-'));
  const certs = await makeCertFiles(dir, 'before-reload');
  const { gateway } = await startNodeAndGateway(t, dir, { port: stratumPort, tlsPort, ...certs });
  assert.equal(await presentedCommonName(tlsPort), 'before-reload');

  await makeCertFiles(dir, 'after-reload'); // same paths, new pair
  gateway.child.kill('SIGHUP');
  await waitForOutput(gateway, /TLS certificate reloaded/, 'the reload log line');
  assert.equal(await presentedCommonName(tlsPort), 'after-reload');
  assert.equal(gateway.child.exitCode, null, 'SIGHUP does not stop the gateway');
});
