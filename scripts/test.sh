#!/usr/bin/env bash
# The whole test suite: installs what it needs, checks formatting, lints and types, then
# runs every test: the UI's component tests, the Rust unit and integration tests (a real
# PostgreSQL server, the real OS keychain through a throw-away Secret Service), and the
# end-to-end tests of the real desktop app under a virtual display, and a bounded smoke run
# of every fuzz target (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source_path="$PATH"
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$source_path"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

echo "== ui: type check, component tests, build" >&2
(cd ui && npm run check && npm test 2>&1 | tee -a "$log" && npm run build --silent)

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test" >&2
set +e
dbus-run-session -- scripts/with-keyring.sh cargo test --workspace --locked 2>&1 | grep --line-buffered -v '^dbus-daemon\[' | tee -a "$log"
status="${PIPESTATUS[0]}"
set -e

if [ "$status" = 0 ]; then
  echo "== end-to-end tests of the desktop app" >&2
  set +e
  CLOSEBOOK_SETUP_DONE=1 CLOSEBOOK_UI_BUILT=1 scripts/e2e.sh 2>&1 | grep --line-buffered -v '^dbus-daemon\[' | tee -a "$log"
  status="${PIPESTATUS[0]}"
  set -e
fi

if [ "$status" = 0 ]; then
  echo "== fuzz smoke run (every target, bounded)" >&2
  set +e
  FUZZ_SECONDS="${FUZZ_SECONDS:-20}" scripts/fuzz.sh 2>&1 | grep --line-buffered -v '^ *Compiling '
  status="${PIPESTATUS[0]}"
  set -e
fi

# One closing line for the whole suite, summed over every test binary and the UI's tests.
awk '{ gsub(/\x1b\[[0-9;]*m/, "") }
     /^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;?$/) p += $i; if ($(i+1) ~ /^failed;?$/) f += $i } }
     /^ +Tests +[0-9]+/ { for (i = 1; i <= NF; i++) { if ($(i+1) == "passed") p += $i; if ($(i+1) == "failed") f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
