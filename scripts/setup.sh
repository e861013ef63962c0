#!/usr/bin/env bash
# Sets up this checkout on a fresh machine: Debian packages the tests and the lab use (when root),
# Node 24 from the npm registry (when the system Node is older), and the npm dependencies.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: PostgreSQL for the store suite, the lab's network tools and failover software, Chromium for
# the console's browser test, iperf3 and the OVN peer (Open vSwitch, OVN) for the benchmarks and their smoke tests,
# a C compiler for the fabric's batched-I/O addon.
HAVIP_DEBIAN_PACKAGES=(postgresql iproute2 ethtool keepalived arping iputils-ping tcpdump procps util-linux curl nftables
  chromium fonts-dejavu-core iperf3 openvswitch-switch ovn-central ovn-host gcc libc6-dev)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  for p in "${HAVIP_DEBIAN_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
else
  echo "setup: not root (or no apt-get): skipping Debian packages (${HAVIP_DEBIAN_PACKAGES[*]})" >&2
fi

# shellcheck source=scripts/node-env.sh
source scripts/node-env.sh
echo "setup: node $(node --version), npm $(npm --version 2>/dev/null)" >&2

# npm dependencies, exactly as locked. Skipped when node_modules already matches the lockfile.
stamp=node_modules/.havip-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

# The fabric's native addons, batched UDP and the CPU slice (optional: the fabric works without them).
scripts/build-native.sh || echo "setup: warning: native addons not built; VXLAN I/O falls back to dgram, the fabric agent keeps the kernel's CPU slice" >&2

# The web console's bundle (havipd serves packages/console/dist at `/`).
npm run build --loglevel=error >/dev/null
echo "setup: web console built (packages/console/dist)" >&2
