#!/usr/bin/env node
// ExecStartPost of deploy/equigate.service: waits until GET URL answers 200 (equigate's /ready), polling every
// second, for at most SECONDS. Exit 0 when ready, 1 when the time is up (systemd then fails the start).
// Plain JavaScript with no dependencies: it runs from the checkout without a build.
const [url = 'http://127.0.0.1:8080/ready', seconds = '110'] = process.argv.slice(2);
const deadline = Date.now() + Number(seconds) * 1000;
let last = 'no answer';
while (Date.now() < deadline) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    const body = await res.text();
    if (res.status === 200) process.exit(0);
    last = `${res.status} ${body.slice(0, 200)}`;
  } catch (err) {
    last = err instanceof Error ? err.message : String(err);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
process.stderr.write(`equigate not ready after ${seconds} s at ${url}: ${last}\n`);
process.exit(1);
