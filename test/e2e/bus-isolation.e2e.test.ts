// The event bus contract under live mining (docs/architecture.md "Event bus"): a subscriber that rejects
// asynchronously and one that throws synchronously on every share, while reference miners mine through a real
// gateway. The process stays up, every other subscriber gets every event, and each failing subscriber is logged
// once, by name — not once per event.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus, type ShareEvent } from '../../src/events/EventBus.js';
import { Gateway } from '../../src/Gateway.js';
import { ResultCode } from '../../src/protocol/resultCodes.js';
import { gatewayConfig, miners, startNode, Teardown } from '../support/e2e.js';
import { capturedLogger } from '../support/logs.js';
import { waitFor } from '../support/wait.js';

const SHARES = 300;

describe('event bus: failing subscribers during live mining', { timeout: 120_000 }, () => {
  const teardown = new Teardown();
  const { logger, lines: logLines } = capturedLogger();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  const counted: ShareEvent[] = [];
  let bus: EventBus;
  let minerAccepted = 0;

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    teardown.defer(() => {
      process.off('unhandledRejection', onUnhandled);
    });
    bus = new EventBus({ logger });
    bus.subscribe('share', 'rejects-always', async () => {
      await Promise.resolve();
      throw new Error('async subscriber failure');
    });
    bus.subscribe('share', 'throws-always', () => {
      throw new Error('sync subscriber failure');
    });
    bus.subscribe('share', 'counter', (share) => {
      counted.push(share);
    });
    const node = await startNode(teardown, { tls: false, chain: 'devnet', difficulty: 2 ** 30, blockIntervalMs: 0 });
    const config = await gatewayConfig({ port: node.port, tls: false }, { stratum: { shareDifficulty: 1 } });
    const gateway = await Gateway.start(config, { logger, bus });
    teardown.defer(() => gateway.stop());
    const group = miners(teardown, { url: `stratum+tcp://127.0.0.1:${gateway.ports.tcp ?? 0}`, key: 'bus-miner', miners: 4, rate: 200, chain: 'devnet' });
    await waitFor(() => counted.length >= SHARES, `${SHARES} shares`, 60_000, 20);
    await group.stop();
    // Every answer the miners got is on the bus (the share event follows the reply in the same tick).
    minerAccepted = group.stats().accepted;
    await new Promise((resolve) => setImmediate(resolve));
  });
  after(() => teardown.run());

  it('every share reached the healthy subscriber, including every one the miners were told was accepted', () => {
    assert.ok(counted.length >= SHARES);
    assert.equal(counted.filter((s) => s.code === ResultCode.Accepted).length >= minerAccepted, true);
    assert.ok(minerAccepted > 0);
  });

  it('each failure was counted against its subscriber, none escaped to the process', () => {
    assert.equal(bus.failures().get('throws-always'), counted.length);
    assert.equal(bus.failures().get('rejects-always'), counted.length);
    assert.equal(bus.failures().get('counter'), undefined);
    assert.deepEqual(unhandled, []);
  });

  it('each failing subscriber was logged once, with its name', () => {
    const failures = logLines.filter((line) => line['component'] === 'bus');
    assert.deepEqual(failures.map((line) => line['subscriber']).sort(), ['rejects-always', 'throws-always']);
    assert.ok(failures.every((line) => typeof line['err'] === 'object'));
  });
});
