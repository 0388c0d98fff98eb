import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus } from '../../src/events/EventBus.js';
import { capturedLogger } from '../support/logs.js';

interface Events {
  a: { n: number };
  b: { n: number };
}

test('a throwing and a rejecting subscriber reach neither the emitter nor the other subscribers', async () => {
  const { logger, lines } = capturedLogger();
  const bus = new EventBus<Events>({ logger });
  const seen: number[] = [];
  bus.subscribe('a', 'thrower', () => {
    throw new Error('sync boom');
  });
  bus.subscribe('a', 'rejecter', async () => {
    throw new Error('async boom');
  });
  bus.subscribe('a', 'good', (e) => {
    seen.push(e.n);
  });
  for (let n = 0; n < 100; n++) assert.doesNotThrow(() => bus.emit('a', { n }));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(seen.length, 100);
  assert.equal(bus.failures().get('thrower'), 100);
  assert.equal(bus.failures().get('rejecter'), 100);
  assert.equal(bus.failures().get('good'), undefined);
  const logged = lines.filter((l) => l['subscriber'] !== undefined);
  assert.deepEqual(logged.map((l) => l['subscriber']).sort(), ['rejecter', 'thrower'], 'one line per failing subscriber');
});

test('events emitted from inside a subscriber are delivered after the current one, in order per topic', () => {
  const bus = new EventBus<Events>();
  const first: number[] = [];
  const second: number[] = [];
  bus.subscribe('a', 'reemitter', (e) => {
    if (e.n < 3) bus.emit('a', { n: e.n + 1 });
  });
  bus.subscribe('a', 'one', (e) => first.push(e.n));
  bus.subscribe('a', 'two', (e) => second.push(e.n));
  bus.emit('a', { n: 0 });
  assert.deepEqual(first, [0, 1, 2, 3]);
  assert.deepEqual(second, [0, 1, 2, 3]);
});

test('unsubscribe stops delivery, and subscribing during an emit does not change that emit', () => {
  const bus = new EventBus<Events>();
  const seen: string[] = [];
  const off = bus.subscribe('b', 'x', (e) => {
    seen.push(`x${e.n}`);
    bus.subscribe('b', 'late', (l) => seen.push(`late${l.n}`));
  });
  bus.emit('b', { n: 1 });
  off();
  bus.emit('b', { n: 2 });
  assert.deepEqual(seen, ['x1', 'late2']);
  assert.equal(bus.subscriberCount('b'), 1);
});

test('a failing failure hook is contained too', () => {
  const bus = new EventBus<Events>();
  bus.onFailure(() => {
    throw new Error('hook boom');
  });
  bus.subscribe('a', 'thrower', () => {
    throw new Error('boom');
  });
  assert.doesNotThrow(() => bus.emit('a', { n: 1 }));
});
