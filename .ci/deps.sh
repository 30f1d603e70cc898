#!/usr/bin/env bash
# Installs what `make test` needs that a fresh machine lacks, or stops naming each
# missing tool and the command that installs it.
#
# Toolchains of the UDF examples and the conformance suite (udf-examples/):
#   wat2wasm, wasm-opt           wabt, binaryen
#   Rust -> Wasm                 Debian's rustc 1.63 and cargo with the wasm32 standard
#                                libraries; called as /usr/bin/rustc, since another
#                                rustc (rustup's) may come first on PATH
#   C -> Wasm                    clang 14, lld (wasm-ld), wasi-libc and the wasm32
#                                compiler-rt builtins
#   AssemblyScript -> Wasm       Node.js and npm, then the compiler pinned in
#                                sdk/assemblyscript/package-lock.json (npm ci)
set -euo pipefail
missing=()   # "tool|debian-package"
command -v go >/dev/null || { echo "deps: Go is required (1.26): install it from your distribution or go.dev"; exit 1; }
command -v wat2wasm >/dev/null || missing+=("wat2wasm|wabt")
command -v wasm-opt >/dev/null || missing+=("wasm-opt|binaryen")
[ -x /usr/bin/rustc ] || missing+=("rustc (/usr/bin/rustc)|rustc")
[ -x /usr/bin/cargo ] || missing+=("cargo (/usr/bin/cargo)|cargo")
# The wasm32 standard libraries of Debian's rustc (both targets come in one package).
ls -d /usr/lib/rustlib/wasm32-wasi/lib >/dev/null 2>&1 && ls -d /usr/lib/rustlib/wasm32-unknown-unknown/lib >/dev/null 2>&1 ||
  missing+=("Rust's wasm32 standard library (/usr/lib/rustlib/wasm32-*)|libstd-rust-dev-wasm32")
command -v clang-14 >/dev/null || command -v clang >/dev/null || missing+=("clang|clang")
command -v wasm-ld >/dev/null || command -v wasm-ld-14 >/dev/null || missing+=("wasm-ld|lld")
[ -f /usr/include/wasm32-wasi/stdlib.h ] || [ -d /usr/lib/wasm32-wasi ] ||
  missing+=("wasi-libc (/usr/include/wasm32-wasi)|wasi-libc")
ls /usr/lib/llvm-14/lib/clang/14*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1 ||
  missing+=("compiler-rt builtins for wasm32 (libclang_rt.builtins-wasm32.a)|libclang-rt-14-dev-wasm32")
# The web UI's browser tests (internal/e2e/ui) drive Debian's Chromium; without the
# Liberation fonts its screenshots show boxes instead of text.
[ -x /usr/bin/chromium ] || missing+=("chromium|chromium")
[ -e /usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf ] || missing+=("fonts-liberation|fonts-liberation")
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
  # Wait for another apt-get (a concurrent install) rather than fail at once.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${pkgs[@]}"
  install_asc
  exit 0
fi
echo "deps: missing tools:"
for m in "${missing[@]}"; do echo "  ${m%%|*}: apt-get install -y --no-install-recommends ${m#*|}"; done
exit 1
