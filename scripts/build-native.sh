#!/usr/bin/env bash
# Builds the fabric's native addons with the system C compiler against the Node-API headers of the Node on PATH:
# packages/fabric/native/batch-udp.c → build/batch-udp.node (batched socket I/O; without it the fabric uses
# Node's dgram) and cpu-slice.c → build/cpu-slice.node (the forwarding thread's scheduler slice; without it the
# kernel's default slice stays). Optional both.
# Exit status 0 on success, 1 when an addon could not be built (callers treat that as a warning).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src_dir="$root/packages/fabric/native"
out_dir="$root/packages/fabric/native/build"
cc="${CC:-cc}"

if ! command -v "$cc" >/dev/null 2>&1; then
  echo "build-native: no C compiler ($cc): the fabric will use Node's dgram sockets" >&2
  exit 1
fi
if ! command -v node >/dev/null 2>&1; then
  echo "build-native: no node on PATH (source scripts/node-env.sh first)" >&2
  exit 1
fi
# The headers ship with the Node distribution: <prefix>/include/node beside <prefix>/bin/node.
include="$(node -p 'require("node:path").resolve(require("node:fs").realpathSync(process.execPath), "../../include/node")')"
if [ ! -f "$include/node_api.h" ]; then
  echo "build-native: no Node-API headers in $include: the fabric will use Node's dgram sockets" >&2
  exit 1
fi
mkdir -p "$out_dir"
for name in batch-udp cpu-slice; do
  tmp="$out_dir/$name.node.tmp"
  "$cc" -O2 -fPIC -shared -std=gnu11 -Wall -Wextra -fvisibility=hidden \
    -I"$include" -o "$tmp" "$src_dir/$name.c"
  mv -f "$tmp" "$out_dir/$name.node" # atomic: a running agent never sees half a file
  echo "build-native: built packages/fabric/native/build/$name.node" >&2
done
