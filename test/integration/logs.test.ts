// Readable logs (docs/operations.md "Logs"): JSON lines when stderr is not a terminal (files, journald, CI), human
// lines when asked (log.format pretty, or auto on a TTY). Run in child processes, since the format is chosen by
// where stderr goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../support/e2e.js';

function stderrOf(format: string): string {
  const logger = path.join(REPO_ROOT, 'src', 'config', 'logger.ts');
  const script = `import(${JSON.stringify(logger)}).then((m) => { m.createLogger('info', undefined, ${JSON.stringify(format)}).child({ component: 'transport' }).info({ port: 3333 }, 'listening'); })`;
  // stderr is a pipe here, never a TTY; 2>&1 brings it to the captured stdout.
  return execFileSync('sh', ['-c', `"${process.execPath}" --import tsx -e '${script.replace(/'/g, `'\\''`)}' 2>&1`], { cwd: REPO_ROOT, encoding: 'utf8' });
}

test('auto without a terminal and json: one JSON object a line; pretty: one human line with the component', () => {
  for (const format of ['auto', 'json']) {
    const lines = stderrOf(format).trim().split('\n');
    assert.equal(lines.length, 1, format);
    const record = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    assert.equal(record.msg, 'listening');
    assert.equal(record.component, 'transport');
    assert.equal(record.port, 3333);
  }
  const pretty = stderrOf('pretty').trim().split('\n');
  assert.equal(pretty.length, 1);
  const plain = (pretty[0] ?? '').replace(/\x1b\[[0-9;]*m/g, '');
  assert.match(plain, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: transport: listening \{"port":3333\}$/);
});
