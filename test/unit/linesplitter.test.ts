import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter, LineTooLongError } from '../../src/protocol/LineSplitter.js';

test('blank and whitespace-only lines are skipped, or kept as empty lines for a peer that treats them as errors', () => {
  const input = Buffer.from('a\n\n   \r\nb\n');
  assert.deepEqual(new LineSplitter(64).push(input), ['a', 'b']);
  assert.deepEqual(new LineSplitter(64, true).push(input), ['a', '', '', 'b']);
});

test('the bound is in bytes: a line of multi-byte characters over the limit is refused', () => {
  const splitter = new LineSplitter(16);
  assert.throws(() => splitter.push(Buffer.from(`${'é'.repeat(9)}\n`)), LineTooLongError);
});
