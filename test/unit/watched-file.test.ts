// Files re-read while running: only regular files, never blocking, with a size cap; a bad read is logged once per
// version of the file and the last good contents stay in force.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { silentLogger } from '../../src/config/logger.js';
import { readRegularFile, readRegularFileSync, WatchedFile, WatchedFileError } from '../../src/config/watchedFile.js';
import { ConnectionLimiter } from '../../src/transports/ConnectionLimiter.js';
import { TlsTransport } from '../../src/transports/TlsTransport.js';
import { capturedLogger } from '../support/logs.js';
import { makeCertFiles } from '../support/tls.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'equigate-watched-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function fifoAt(dir: string, name: string): string {
  const fifo = path.join(dir, name);
  execFileSync('mkfifo', [fifo]);
  return fifo;
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => err instanceof WatchedFileError && err.code === code);
}

test('regular files are read (async and at start-up); FIFOs, devices and directories are refused without blocking', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'keys');
  writeFileSync(file, 'hello');
  assert.equal((await readRegularFile(file, 100)).data.toString(), 'hello');
  assert.equal(readRegularFileSync(file, 100).data.toString(), 'hello');
  const fifo = fifoAt(dir, 'fifo'); // no writer: a plain open() would wait forever
  await rejectsWith(readRegularFile(fifo, 100), 'NOT_REGULAR');
  assert.throws(() => readRegularFileSync(fifo, 100), (err: unknown) => err instanceof WatchedFileError && err.code === 'NOT_REGULAR');
  await rejectsWith(readRegularFile('/dev/zero', 100), 'NOT_REGULAR');
  await rejectsWith(readRegularFile('/dev/urandom', 100), 'NOT_REGULAR');
  const sub = path.join(dir, 'sub');
  mkdirSync(sub);
  await rejectsWith(readRegularFile(sub, 100), 'NOT_REGULAR');
  await rejectsWith(readRegularFile(path.join(dir, 'missing'), 100), 'UNREADABLE');
});

test('a file over the cap is refused', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'big');
  writeFileSync(file, Buffer.alloc(101, 0x61));
  await rejectsWith(readRegularFile(file, 100), 'TOO_BIG');
  writeFileSync(file, Buffer.alloc(100, 0x61));
  assert.equal((await readRegularFile(file, 100)).data.length, 100);
});

test('WatchedFile: bad replacements are logged once each and keep the last good contents', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'watched');
  writeFileSync(file, 'good-1');
  const { logger, lines: logged } = capturedLogger();
  const seen: string[] = [];
  const watched = new WatchedFile({ path: file, maxBytes: 64, logger, label: 'test file', onContents: (data) => seen.push(data.toString()) });
  t.after(() => watched.close());
  assert.equal(watched.loadSync(), true);
  renameSync(fifoAt(dir, 'f'), file);
  await watched.check();
  await watched.check();
  await watched.check();
  assert.deepEqual(seen, ['good-1']);
  assert.deepEqual(logged.map((e) => e.code), ['NOT_REGULAR']);
  writeFileSync(path.join(dir, 'big'), Buffer.alloc(65, 0x61));
  renameSync(path.join(dir, 'big'), file);
  await watched.check();
  await watched.check();
  assert.deepEqual(logged.map((e) => e.code), ['NOT_REGULAR', 'TOO_BIG']);
  writeFileSync(path.join(dir, 'next'), 'good-2');
  renameSync(path.join(dir, 'next'), file);
  await watched.check();
  assert.deepEqual(seen, ['good-1', 'good-2']);
});

test('TLS reload: a FIFO in place of the certificate is refused and the current certificate kept', async (t) => {
  const dir = tempDir(t);
  const files = await makeCertFiles(dir, 'fifo.equigate.test');
  const logger = silentLogger();
  const transport = new TlsTransport(
    { host: '127.0.0.1', maxLineBytes: 4096, idleTimeoutMs: 60_000, maxSendQueueBytes: 65_536, tlsPort: 0, ...files },
    { acceptor: () => ({ onLine: () => {}, onClose: () => {} }), limiter: new ConnectionLimiter({ maxConnections: 10, maxConnectionsPerIp: 10 }, logger), logger },
  );
  renameSync(fifoAt(dir, 'c'), files.tlsCertFile);
  // Before: readFile opened the FIFO and waited for a writer forever (this promise never settled).
  assert.equal(await transport.reloadCertificates(), false);
});
