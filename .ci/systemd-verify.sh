#!/usr/bin/env bash
# Checks deploy/equigate.service with `systemd-analyze verify` (works in a container without a running systemd:
# verify only parses and checks the unit offline). Installs Debian's systemd package for the tool when missing.
# A unit with an unknown directive, a bad value or a missing executable fails this script.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v systemd-analyze >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends systemd >/dev/null
fi
unit=deploy/equigate.service
# verify reports problems on stderr and, for some, still exits 0; treat any output about our unit as a failure.
out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$unit" 2>&1) || { echo "$out"; echo "systemd-verify: $unit rejected"; exit 1; }
if printf '%s\n' "$out" | grep -q "equigate.service"; then
  echo "$out"; echo "systemd-verify: warnings about $unit"; exit 1
fi
echo "systemd-verify: $unit ok ($(systemd-analyze --version | head -1))"
