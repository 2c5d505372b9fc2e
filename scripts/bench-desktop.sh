#!/usr/bin/env bash
# Desktop benchmark: the release build of the app, started through WebDriver (as the
# end-to-end tests do) on the ledger benchmark's workspace of about a million postings
# (built by `cargo bench --bench ledger` first), measuring the time to the first painted
# ledger rows and frame times while scrolling. Prints two BENCHMARKS.md rows, also left in
# target/bench-desktop.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source_path="$PATH"
[ "${CLOSEBOOK_SETUP_DONE:-}" = 1 ] || scripts/setup.sh
export PATH="$HOME/.cargo/bin:$source_path"
postings="${BENCH_POSTINGS:-1000000}"
ws="$PWD/target/bench-data/ledger-$postings/ws-0"
if [ ! -d "$ws" ]; then
  BENCH_POSTINGS="$postings" BENCH_RUNS=1 cargo bench --locked --bench ledger
fi
(cd ui && npm run build --silent)
cargo build --locked --release -p closebook-desktop
export CLOSEBOOK_E2E_APP="$PWD/target/release/closebook-desktop"
export CLOSEBOOK_BENCH_WORKSPACE="$ws" CLOSEBOOK_BENCH_POSTINGS="$postings"
xvfb-run --auto-servernum --server-args="-screen 0 1280x800x24" \
  dbus-run-session -- scripts/with-keyring.sh \
  cargo test --locked --test e2e -- --ignored --nocapture desktop_start_and_scroll_benchmark
