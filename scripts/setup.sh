#!/usr/bin/env bash
# Installs what building and testing Closebook needs on Debian or Ubuntu, skipping what is
# already there. Safe to run again. Needs root or sudo for the system packages.
set -euo pipefail

packages=(
  build-essential pkg-config libssl-dev file     # compilers; SQLCipher links the system libcrypto
  libwebkit2gtk-4.1-dev                          # the desktop app's webview (Tauri 2 on Linux)
  postgresql                                     # a real PostgreSQL server for the pull tests
  dbus dbus-x11 gnome-keyring libsecret-tools    # a throw-away Secret Service for keychain tests
  xvfb xauth webkit2gtk-driver                   # end-to-end tests: a virtual display and WebKitWebDriver
  hledger ledger                                 # independent recomputation of the exported journal (and benchmark peers)
  libreoffice-calc-nogui python3-openpyxl        # exported workbooks opened by LibreOffice and read back by openpyxl
  python3-xlsxwriter                             # the XLSX benchmark's peer
  ca-certificates curl
)
# Node.js 18 or newer builds the UI; Debian 12's own package is enough.
if ! command -v node >/dev/null 2>&1 || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 18 ]; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Rust: edition 2024 and Tauri 2.12 need Rust 1.90 or newer, from rustup (Debian's rustc is too old).
if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "setup: installing Rust with rustup" >&2
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component clippy,rustfmt
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
fi
if command -v rustup >/dev/null 2>&1; then
  for c in clippy rustfmt; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
  done
fi

# tauri-driver bridges WebDriver clients to WebKitWebDriver for the end-to-end tests.
if ! command -v tauri-driver >/dev/null 2>&1; then
  echo "setup: installing tauri-driver" >&2
  cargo install tauri-driver --locked --version '^2' --quiet
fi

# The UI's packages at the versions of package-lock.json. (`npm install`, not `npm ci`: the
# lock lists only the platform packages of the machine that wrote it, which `npm ci` refuses.)
ui="$(dirname "$0")/../ui"
if [ ! -d "$ui/node_modules" ] || [ "$ui/package-lock.json" -nt "$ui/node_modules/.package-lock.json" ]; then
  echo "setup: installing the UI's npm packages" >&2
  (cd "$ui" && npm install --no-audit --no-fund --loglevel=error)
fi
