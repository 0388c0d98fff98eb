// The fuzz suite, bounded to a few seconds for `npm test` (bench/fuzz.ts runs the same fuzzers for longer):
// hostile miner lines into the codec and real sessions, a hostile node into NodeLink over a socket, and random
// WebSocket frames into the WebSocket transport. Nothing may throw out of the gateway; answers stay well-formed.
import { after, before, describe, it } from 'node:test';
import { fuzzCodec, fuzzNodeLink, fuzzSessions, fuzzWebSocket } from '../support/fuzzers.js';

const uncaught: unknown[] = [];
const onUncaught = (error: unknown): void => {
  uncaught.push(error);
};
before(() => {
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
});
after(() => {
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
  if (uncaught.length > 0) throw new Error(`the process threw while fuzzing: ${String(uncaught[0])}`);
});

describe('fuzz (bounded)', () => {
  it('session codec: parseMessage returns a message or throws ProtocolError, nothing else', () => {
    fuzzCodec(3_000);
  });
  it('real sessions: hostile line sequences never throw and every answer is well-formed', async () => {
    await fuzzSessions(400);
  });
  it('NodeLink: a hostile node never throws out of the link and the link keeps taking jobs', async () => {
    await fuzzNodeLink(60);
  });
  it('WebSocket: random frames never throw, every connection is released, answers are well-formed', async () => {
    await fuzzWebSocket(80);
  });
});
