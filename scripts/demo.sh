#!/usr/bin/env bash
# The main job on its embedded default: builds Closebook and opens the demo workspace
# (creating it from fixtures/demo the first time), then shows what it holds.
set -euo pipefail
cd "$(dirname "$0")/.."
source_path="$PATH"
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$source_path"
cargo build --locked --quiet --bin closebook

if [ "$(uname)" = "Darwin" ] || [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  # A desktop session: the key goes into the OS keychain.
  exec target/debug/closebook demo "$@"
else
  # No keychain here (a server or a fresh container): keep the key in an owner-only file.
  mkdir -p .closebook-demo
  exec target/debug/closebook --workspace .closebook-demo/workspace --key-file .closebook-demo/workspace.key demo "$@"
fi
