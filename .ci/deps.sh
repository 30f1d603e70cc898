#!/usr/bin/env bash
# Installs what `make test` needs that a fresh machine lacks, or stops naming each
# missing tool and the command that installs it.
set -euo pipefail
missing=()   # "tool|debian-package"
command -v go >/dev/null || { echo "deps: Go is required (1.26): install it from your distribution or go.dev"; exit 1; }
command -v wat2wasm >/dev/null || missing+=("wat2wasm|wabt")
# The web UI's browser tests (internal/e2e/ui) drive Debian's Chromium; without the
# Liberation fonts its screenshots show boxes instead of text.
[ -x /usr/bin/chromium ] || missing+=("chromium|chromium")
[ -e /usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf ] || missing+=("fonts-liberation|fonts-liberation")
[ ${#missing[@]} -eq 0 ] && { echo "deps: all present"; exit 0; }
pkgs=()
for m in "${missing[@]}"; do pkgs+=("${m#*|}"); done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "deps: installing ${pkgs[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
  exit 0
fi
echo "deps: missing tools:"
for m in "${missing[@]}"; do echo "  ${m%%|*}: apt-get install -y ${m#*|}"; done
exit 1
