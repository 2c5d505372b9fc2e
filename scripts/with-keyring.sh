#!/usr/bin/env bash
# Runs a command with a throw-away, unlocked Secret Service (gnome-keyring) as the OS
# keychain. Meant to run inside `dbus-run-session`, e.g.:
#   dbus-run-session -- scripts/with-keyring.sh cargo test
# The keyring lives in a private temporary HOME and is deleted afterwards: nothing touches
# the real user's keychain.
set -euo pipefail

if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  echo "with-keyring.sh: no D-Bus session; run it under dbus-run-session" >&2
  exit 2
fi

# Keep the Rust toolchain where it is before HOME moves.
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
scratch="$(mktemp -d -t closebook-keyring.XXXXXX)"
export HOME="$scratch/home"
export XDG_RUNTIME_DIR="$scratch/run"
export XDG_DATA_HOME="$HOME/.local/share"
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" "$XDG_DATA_HOME"
chmod 700 "$XDG_RUNTIME_DIR"

# --unlock reads the login keyring's password from stdin and creates it unlocked.
eval "$(printf 'closebook-throwaway' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
cleanup() {
  pkill -u "$(id -u)" -f "gnome-keyring-daemon.*$scratch" 2>/dev/null || true
  [ -n "${GNOME_KEYRING_PID:-}" ] && kill "$GNOME_KEYRING_PID" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT

export CLOSEBOOK_TEST_SECRET_SERVICE=1
"$@"
