#!/usr/bin/env bash
# Installs Mosquitto from Debian (if missing) and starts it on 127.0.0.1:${EQUIGATE_TEST_MQTT_PORT:-18830} with the
# shipped config/mosquitto/ (config + ACL) and test logins, for the work service's e2e suite on an external broker.
# Idempotent: a broker already answering on the port is reused. Source it (`. .ci/mosquitto.sh`) so that
# EQUIGATE_TEST_MQTT_URL is exported for `npm test`; run as a script it only starts the broker.
_equigate_mosquitto() (
  set -euo pipefail
  local port=${EQUIGATE_TEST_MQTT_PORT:-18830}
  local repo
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  local dir=${EQUIGATE_MOSQUITTO_DIR:-/tmp/equigate-mosquitto-$port}
  if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
    local sudo=''
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y mosquitto
  fi
  local bin
  bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
  local passwd_bin
  passwd_bin=$(command -v mosquitto_passwd || echo /usr/bin/mosquitto_passwd)
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "mosquitto: something already listens on 127.0.0.1:$port; reusing it"
    return 0
  fi
  mkdir -p "$dir"
  cp "$repo/config/mosquitto/equigate.acl" "$dir/equigate.acl"
  rm -f "$dir/equigate.passwd"
  "$passwd_bin" -b -c "$dir/equigate.passwd" "${EQUIGATE_TEST_MQTT_GATEWAY_USER:-equigate}" "${EQUIGATE_TEST_MQTT_GATEWAY_PASSWORD:-equigate-test-gateway}"
  "$passwd_bin" -b "$dir/equigate.passwd" "${EQUIGATE_TEST_MQTT_WORKER_USER:-client}" "${EQUIGATE_TEST_MQTT_WORKER_PASSWORD:-client}"
  # The shipped config with this run's port and files; the broker runs in the background with its own log.
  sed -e "s|^listener .*|listener $port 127.0.0.1|" \
      -e "s|^password_file .*|password_file $dir/equigate.passwd|" \
      -e "s|^acl_file .*|acl_file $dir/equigate.acl|" \
      "$repo/config/mosquitto/mosquitto.conf" >"$dir/mosquitto.conf"
  printf 'pid_file %s\nlog_dest file %s\n' "$dir/mosquitto.pid" "$dir/mosquitto.log" >>"$dir/mosquitto.conf"
  # Run as root, Mosquitto drops to the mosquitto user: let it read its files.
  if [ "$(id -u)" -eq 0 ] && id mosquitto >/dev/null 2>&1; then chown -R mosquitto "$dir"; fi
  chmod 700 "$dir"
  "$bin" -c "$dir/mosquitto.conf" -d
  for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "mosquitto: listening on 127.0.0.1:$port ($dir)"
      return 0
    fi
    sleep 0.2
  done
  echo "mosquitto: did not start on 127.0.0.1:$port; log:"
  cat "$dir/mosquitto.log" 2>/dev/null || true
  return 1
)
_equigate_mosquitto
export EQUIGATE_TEST_MQTT_URL="mqtt://127.0.0.1:${EQUIGATE_TEST_MQTT_PORT:-18830}"
