// Precache from a node WebSocket (docs/work-service.md "Precache") against the simulated node of src/sim/nano:
// subscribe with ack, confirmations of served accounts precached and answered at once, on-demand first,
// reconnect after a drop and after unanswered pings.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SimNanoNode } from '../../src/sim/nano/SimNanoNode.js';
import type { NanoWorker } from '../../src/sim/nanoworker/NanoWorker.js';
import { Teardown } from '../support/e2e.js';
import { waitFor, within } from '../support/wait.js';
import { findWork, randomAddress, randomHash, startWorkStack, type WorkStack } from '../support/work.js';

const LOW_BASE = 'ff00000000000000';

describe('precache from the node confirmation topic', () => {
  const cleanup = new Teardown();
  let node: SimNanoNode;
  let stack: WorkStack;
  let worker: NanoWorker;
  before(async () => {
    node = await SimNanoNode.start();
    cleanup.defer(() => node.stop());
    stack = await startWorkStack({ broker: 'embedded', base: LOW_BASE, work: { nodeWsUrl: node.url, nodePingMs: 300, nodeReconnectMinMs: 20, nodeReconnectMaxMs: 100 } }, cleanup);
    worker = await stack.worker({ work: 'any' });
    await waitFor(() => node.confirmationSubscribers === 1, 'the service subscribed', 10_000);
  });
  after(() => cleanup.run());

  test('subscribes to confirmation asking for an ack', () => {
    const subscribe = node.received.find((a) => a.action === 'subscribe');
    assert.equal(subscribe?.topic, 'confirmation');
    assert.equal(subscribe?.ack, true);
  });

  test("the next block of a served account is precached, then answered at once and counted as precache", async () => {
    const account = randomAddress();
    const served = randomHash();
    const first = await within(stack.rpc({ action: 'work_generate', hash: served, timeout: 30, user: 'wallet' }), 'first work', 40_000);
    assert.equal(first.error, undefined);
    // The service publishes its block (root `served`); the node confirms it as `next`: its hash is the next root.
    const next = randomHash();
    node.confirm({ account, hash: next, previous: served });
    await waitFor(() => stack.service.hasPrecached(next), 'precached work for the next block', 30_000);
    await waitFor(() => worker.cancels.includes(`precache:${next}`), 'cancel/precache at the worker', 10_000);
    assert.equal((await stack.credits.totals(worker.address)).precache, 1, 'the worker is credited for precache');

    const answered = stack.workEvents.length;
    const second = await within(stack.rpc({ action: 'work_generate', hash: next, user: 'wallet' }), 'precached work', 10_000);
    assert.equal(second.error, undefined);
    const event = stack.workEvents.slice(answered).find((e) => e.request.hash === next);
    assert.equal(event?.workType, 'precache');
    assert.equal(event?.result?.source, 'precache');
    assert.equal(stack.service.stats().answered.precache, 1);

    // The account is followed now: its later blocks are precached without a new request.
    const third = randomHash();
    node.confirm({ account, hash: third, previous: next });
    await waitFor(() => stack.service.hasPrecached(third), 'precache of the following block', 30_000);
  });

  test('confirmations of accounts never served are ignored', async () => {
    const before = stack.gateway.work?.runtime.node?.precached ?? 0;
    node.confirm({ account: randomAddress(), hash: randomHash(), previous: randomHash() });
    // A served hash confirmed afterwards proves the first message was read (in order) and skipped.
    const served = randomHash();
    await within(stack.rpc({ action: 'work_generate', hash: served, timeout: 30, user: 'wallet' }), 'work', 40_000);
    const follow = randomHash();
    node.confirm({ account: randomAddress(), hash: follow, previous: served });
    await waitFor(() => stack.service.hasPrecached(follow), 'precache of the served one', 30_000);
    assert.equal(stack.gateway.work?.runtime.node?.precached, before + 1);
  });

  test('reconnects and subscribes again after the node drops it, and after unanswered pings', async () => {
    const link = stack.gateway.work?.runtime.node;
    assert.ok(link !== undefined);
    const connects = link.connects;
    node.dropConnections();
    await waitFor(() => link.connects > connects && node.confirmationSubscribers === 1 && link.linkState === 'subscribed', 'resubscribed after a drop', 10_000);
    node.answerPings = false;
    const again = link.connects;
    await waitFor(() => link.connects > again, 'reconnected after unanswered pings', 10_000);
    node.answerPings = true;
    await waitFor(() => link.linkState === 'subscribed', 'subscribed again', 10_000);
  });
});

describe('on-demand work goes before precache', () => {
  const cleanup = new Teardown();
  after(() => cleanup.run());

  test('a precache waits while an on-demand job is open and starts when it ends', async () => {
    const node = await SimNanoNode.start();
    cleanup.defer(() => node.stop());
    const stack = await startWorkStack({ broker: 'embedded', base: LOW_BASE, work: { nodeWsUrl: node.url } }, cleanup);
    await waitFor(() => node.confirmationSubscribers === 1, 'subscribed', 10_000);
    // No workers: a served hash comes from an answered request, so serve one by hand through a raw client.
    const served = randomHash();
    const raw = await stack.rawClient();
    const pending = stack.rpc({ action: 'work_generate', hash: served, timeout: 30, user: 'wallet' });
    await waitFor(() => stack.service.stats().openOndemand === 1, 'open', 10_000);
    await raw.publishAsync('result/ondemand', `${served},${findWork(served, (v) => v >= 0xff00000000000000n)},${randomAddress()}`, { qos: 1 });
    await within(pending, 'answered', 10_000);

    // Now an on-demand job stays open (nobody works) while the node confirms the served account's next block.
    const blocking = stack.rpc({ action: 'work_generate', hash: randomHash(), timeout: 2, user: 'wallet' });
    await waitFor(() => stack.service.stats().openOndemand === 1, 'on-demand open', 10_000);
    const next = randomHash();
    node.confirm({ account: randomAddress(), hash: next, previous: served });
    await waitFor(() => stack.service.stats().precacheQueued === 1, 'precache queued', 10_000);
    assert.equal(stack.service.stats().openPrecache, 0, 'not started while on-demand work is open');
    const timedOut = await within(blocking, 'the on-demand timeout', 10_000);
    assert.match(String(timedOut.error), /Timeout reached without work/);
    await waitFor(() => stack.service.stats().openPrecache === 1, 'precache started once on-demand work ended', 10_000);

    // A service asks for the hash being precached: the job becomes on-demand (credited so), and its end is
    // announced on both cancel topics, since workers may hold it from either.
    const cancels: string[] = [];
    await raw.subscribeAsync(['cancel/ondemand', 'cancel/precache'], { qos: 1 });
    raw.on('message', (topic, payload) => cancels.push(`${topic} ${payload.toString()}`));
    const asked = stack.rpc({ action: 'work_generate', hash: next, timeout: 30, user: 'wallet' });
    await waitFor(() => stack.service.stats().openOndemand === 1 && stack.service.stats().openPrecache === 0, 'upgraded to on-demand', 10_000);
    const solver = randomAddress();
    await raw.publishAsync('result/precache', `${next},${findWork(next, (v) => v >= 0xff00000000000000n)},${solver}`, { qos: 1 });
    assert.equal((await within(asked, 'answer', 10_000)).error, undefined);
    await waitFor(() => cancels.includes(`cancel/ondemand ${next}`) && cancels.includes(`cancel/precache ${next}`), 'both cancels', 10_000);
    await waitFor(() => stack.service.stats().accepted.ondemand >= 2, 'accepted', 10_000);
    const totals = await stack.credits.totals(solver);
    assert.deepEqual([totals.ondemand, totals.precache], [1, 0], 'credited as on-demand whatever the topic said');
  });
});
