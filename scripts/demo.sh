#!/usr/bin/env bash
# The main job on its embedded default: builds Closebook and opens the demo workspace
# (creating it from fixtures/demo the first time) in the desktop app. On a machine with no
# display (a server, a fresh container) it runs the headless demo instead and prints what
# the workspace holds. `scripts/demo.sh --headless` forces the latter.
set -euo pipefail
cd "$(dirname "$0")/.."
source_path="$PATH"
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$source_path"

headless=0
if [ "${1:-}" = "--headless" ]; then headless=1; shift; fi
if [ "$(uname)" != "Darwin" ] && [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  headless=1
fi

if [ "$headless" = 0 ]; then
  (cd ui && npm run build --silent)
  cargo build --locked --quiet -p closebook-desktop
  # The demo's key goes into the OS keychain of this desktop session.
  exec target/debug/closebook-desktop --demo "$@"
fi

cargo build --locked --quiet --bin closebook
if [ "$(uname)" = "Darwin" ] || [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  # A desktop session: the key goes into the OS keychain.
  exec target/debug/closebook demo "$@"
else
  # No keychain here: keep the key in an owner-only file.
  echo "demo: no display here, so this is the headless demo (the desktop app needs a desktop session)" >&2
  mkdir -p .closebook-demo
  exec target/debug/closebook --workspace .closebook-demo/workspace --key-file .closebook-demo/workspace.key demo "$@"
fi
