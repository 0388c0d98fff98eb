// The dashboard in a real browser: Debian's chromium (installed by .ci/chromium.sh) driven by playwright-core
// through executablePath opens GET / on a running gateway with reference miners, and the hashrate chart and the
// miners table fill with live data from /api/statistics and the event API. The screenshot is kept in
// test-artifacts/dashboard.png.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { miners, REPO_ROOT, startGateway, startNode, Teardown, type Stack } from '../support/e2e.js';
import { freePort } from '../support/net.js';
import { waitFor } from '../support/wait.js';

interface PageGlobal {
  readonly document: {
    getElementById(id: string): { dataset: Record<string, string | undefined>; textContent: string | null } | null;
    querySelectorAll(selector: string): { length: number };
    querySelector(selector: string): unknown;
  };
}

const CHROMIUM = process.env.EQUIGATE_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts');

describe('dashboard in headless chromium', { timeout: 120_000 }, () => {
  const teardown = new Teardown();
  let stack: Stack;
  let browser: Browser;

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: run .ci/chromium.sh (apt-get install chromium)`);
    const node = await startNode(teardown, { tls: false, chain: 'devnet', difficulty: 30, blockIntervalMs: 0 });
    stack = await startGateway(teardown, node, {
      http: { port: await freePort() },
      events: { wsPort: await freePort(), heartbeatIntervalMs: 200 }, // telemetry (a chart point) every second
    });
    miners(teardown, { url: stack.url, key: 'alice.rig1', miners: 1, rate: 20 });
    miners(teardown, { url: stack.url, key: 'bob.rig7', miners: 1, rate: 10 });
    await waitFor(() => stack.events.blocks.some((b) => b.status === 'accepted'), 'a block found', 30_000, 10);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    teardown.defer(() => browser.close());
  });
  after(() => teardown.run());

  it('the hashrate chart and the miners table fill with live data; shares, blocks and upstream status shown', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    await page.goto(`http://127.0.0.1:${stack.gateway.operations.httpPort ?? 0}/`);
    // Functions run in the page (serialised, types erased); this project's TypeScript has no DOM types, so the
    // few page calls used are typed here. Strings would be eval'd, which the dashboard's CSP forbids.
    const wait = (predicate: () => boolean): Promise<unknown> => page.waitForFunction(predicate, undefined, { timeout: 30_000 });
    await wait(() => Number((globalThis as unknown as PageGlobal).document.getElementById('chart')?.dataset.livePoints) >= 3);
    await wait(() => (globalThis as unknown as PageGlobal).document.querySelectorAll('#miners tbody tr.miner').length >= 2);
    await wait(() => (globalThis as unknown as PageGlobal).document.querySelectorAll('#blocks tbody tr').length >= 1);
    await wait(() => Number((globalThis as unknown as PageGlobal).document.getElementById('accepted')?.textContent) > 0);

    const chart = await page.evaluate(() => {
      const { document } = globalThis as unknown as PageGlobal;
      return { points: Number(document.getElementById('chart')?.dataset.livePoints), canvas: document.querySelector('#chart canvas') !== null };
    });
    assert.ok(chart.canvas, 'uPlot drew a canvas');
    assert.ok(chart.points >= 3);
    const rows = await page.$$eval('#miners tbody tr.miner', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    assert.deepEqual(rows.map((r) => r[0]).sort(), ['alice', 'bob']);
    for (const row of rows) assert.ok(Number(row[1]) > 0, `hashrate shown for ${row[0]}: ${row[1]}`);
    const workers = await page.$$eval('#miners tbody tr.worker td:first-child', (tds) => tds.map((td) => td.textContent));
    assert.deepEqual(workers.sort(), ['rig1', 'rig7']);
    const blockHash = await page.$eval('#blocks tbody tr code', (el) => el.textContent ?? '');
    assert.match(blockHash, /^[0-9a-f]{64}$/);
    assert.equal(await page.$eval('#upstream', (el) => el.textContent), 'logged-in');
    assert.equal(await page.$eval('#ws', (el) => el.textContent), 'connected');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    assert.deepEqual(errors, [], 'no script errors in the page');
  });
});
