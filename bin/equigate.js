#!/usr/bin/env node
// Runs the compiled CLI (npm install compiles src/ into dist/).
import '../dist/cli/run.js';
