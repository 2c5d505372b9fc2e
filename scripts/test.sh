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
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
dbus-run-session -- scripts/with-keyring.sh cargo test --workspace --locked 2>&1 | grep --line-buffered -v '^dbus-daemon\[' | tee "$log"
status="${PIPESTATUS[0]}"
set -e
# One closing line for the whole suite, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;?$/) p += $i; if ($(i+1) ~ /^failed;?$/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
