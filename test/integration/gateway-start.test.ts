// A start refused for a bad listener profile opens nothing first: no books, no listener (src/Gateway.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/config/logger.js';
import { loadConfig } from '../../src/config/load.js';
import { Gateway } from '../../src/Gateway.js';
import { freePort } from '../support/net.js';

test('two listeners with one name: the start is refused before the ledger is opened', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'equigate-start-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ledgerFile = path.join(dir, 'books.sqlite');
  const port = await freePort();
  const config = loadConfig({
    overrides: {
      log: { level: 'silent' },
      stratum: {
        host: '127.0.0.1',
        port: 0,
        listeners: [
          { name: 'same', transport: 'tcp', port },
          { name: 'same', transport: 'tcp', port: port + 1 },
        ],
      },
      http: { port: 0 },
      events: { wsPort: 0 },
      ledger: { url: `sqlite:${ledgerFile}` },
    },
    args: [],
    env: {},
  });
  await assert.rejects(Gateway.start(config, { logger: silentLogger() }), /used twice/);
  assert.equal(existsSync(ledgerFile), false, 'the books were never opened');
});
