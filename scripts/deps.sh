#!/usr/bin/env bash
# Installs the Debian packages fairgate needs, only those missing. Idempotent.
set -euo pipefail
PKGS=(build-essential cmake pkg-config libpaho-mqtt-dev libssl-dev libmbedtls-dev libsodium-dev
      libyaml-dev libcjson-dev libcmocka-dev mosquitto mosquitto-clients mosquitto-dev libmosquitto-dev openssl
      clang procps python3 jq libmicrohttpd-dev dpkg-dev
      chromium fonts-dejavu-core) # chromium: renders the works council report in tests (e2e_council_screenshots)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "deps: installing ${missing[*]}"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian package starts a system mosquitto on 1883; fairgate's demo and tests
# use their own brokers on random ports and never touch it.
