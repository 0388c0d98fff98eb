#!/usr/bin/env bash
# Debian's chromium for the dashboard browser test (test/e2e/dashboard.e2e.test.ts drives it with playwright-core
# through executablePath; nothing is downloaded outside apt). Idempotent: does nothing when it is installed.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "chromium: $(chromium --version 2>/dev/null || echo present)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "chromium: $(chromium --version)"
