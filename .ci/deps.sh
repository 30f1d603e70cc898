#!/usr/bin/env bash
# Installs what `make test` needs that a fresh machine lacks, or stops naming each
# missing tool and the command that installs it.
set -euo pipefail
missing=()   # "tool|debian-package"
command -v go >/dev/null || { echo "deps: Go is required (1.26): install it from your distribution or go.dev"; exit 1; }
command -v wat2wasm >/dev/null || missing+=("wat2wasm|wabt")
# AssemblyScript (sdk/assemblyscript): Node.js and npm from Debian, then the
# compiler pinned in that package's package-lock.json, installed with npm ci.
command -v node >/dev/null || missing+=("node|nodejs")
command -v npm >/dev/null || missing+=("npm|npm")
install_asc() {
  local sdk=sdk/assemblyscript
  # npm ci again only when the lock file changed since the last install.
  if [ -x "$sdk/node_modules/.bin/asc" ] && [ "$sdk/node_modules/.package-lock.json" -nt "$sdk/package-lock.json" ]; then
    return 0
  fi
  echo "deps: installing the AssemblyScript compiler (npm ci in $sdk)"
  (cd "$sdk" && npm ci --no-audit --no-fund) || {
    echo "deps: npm ci failed in $sdk; run it by hand: (cd $sdk && npm ci)"; exit 1; }
}
if [ ${#missing[@]} -eq 0 ]; then
  install_asc
  echo "deps: all present"
  exit 0
fi
pkgs=()
for m in "${missing[@]}"; do pkgs+=("${m#*|}"); done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "deps: installing ${pkgs[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
  install_asc
  exit 0
fi
echo "deps: missing tools:"
for m in "${missing[@]}"; do echo "  ${m%%|*}: apt-get install -y ${m#*|}"; done
exit 1
