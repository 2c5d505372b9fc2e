#!/usr/bin/env bash
# The whole test suite: installs what it needs, checks formatting and lints, then runs
# every test (unit, integration, a real PostgreSQL server, the real OS keychain through a
# throw-away Secret Service) in a private D-Bus session.
set -euo pipefail
cd "$(dirname "$0")/.."
source_path="$PATH"
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$source_path"

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test" >&2
dbus-run-session -- scripts/with-keyring.sh cargo test --workspace --locked 2> >(grep -v '^dbus-daemon\[' >&2)
