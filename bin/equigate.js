#!/usr/bin/env node
// Entry point: runs the compiled CLI (npm install compiles src/ into dist/).
import('../dist/cli/main.js').then((m) => m.main(process.argv.slice(2))).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => { console.error(err); process.exitCode = 70; },
);
