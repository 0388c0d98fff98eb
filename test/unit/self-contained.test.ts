// The repository stands alone: nothing it builds, runs or tests reads outside the checkout, and comments cite
// the repository's own docs (docs/…) or protocol section names, never a design file or issue kept elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHECKED = /^(src|test|bench|native|\.ci|config|deploy|bin)\/|^(package\.json|binding\.gyp|tsconfig[^/]*\.json|\.dependency-cruiser\.cjs)$/;
const THIS_FILE = 'test/unit/self-contained.test.ts';
// The folder beside the checkout and the design notes kept there, spelled in parts so that this file (which the
// scan skips anyway) does not itself read as a reference to them.
const OUTSIDE = 'sha' + 'red';
const NOTES = 'des' + 'ign';
const FORBIDDEN = new RegExp(String.raw`\.\./${OUTSIDE}\b|['"]${OUTSIDE}['"]\s*,\s*['"]vectors['"]|${NOTES}\.md|${NOTES} §`);

function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter((file) => CHECKED.test(file) && file !== THIS_FILE && !file.startsWith('test/vectors/'));
}

test('no file reads the folder beside the checkout or cites its design notes', () => {
  const offenders: string[] = [];
  for (const file of trackedFiles()) {
    let text: string;
    try {
      text = readFileSync(path.join(root, file), 'utf8');
    } catch {
      continue; // deleted in the work tree
    }
    text.split('\n').forEach((line, index) => {
      if (FORBIDDEN.test(line)) offenders.push(`${file}:${index + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(offenders, []);
});
