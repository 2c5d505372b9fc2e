#!/usr/bin/env bash
# Coverage-guided fuzzing of the importers, Stripe page parsing, approval files and the
# simulator's request handling, on the stable toolchain: libFuzzer (libfuzzer-sys) with the
# sanitizer-coverage instrumentation cargo-fuzz uses, minus its nightly-only address
# sanitizer (safe Rust needs it least; panics, overflows and debug assertions are on).
#
#   scripts/fuzz.sh                 every target for FUZZ_SECONDS (default 20) each: the smoke
#                                   run scripts/test.sh makes
#   scripts/fuzz.sh import 600      one target, longer
#
# Seeds come from the fixtures (fuzz/seeds.py); what a run learns stays in
# target/fuzz/corpus/<target>; a failing input is saved as target/fuzz/artifacts/<target>/crash-*.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

targets=(import stripe_page approval_file sim_request)
if [ $# -ge 1 ]; then targets=("$1"); fi
seconds="${2:-${FUZZ_SECONDS:-20}}"

host="$(rustc -vV | sed -n 's/^host: //p')"
# Instrument our code for libFuzzer's coverage feedback. `--target` keeps these flags off
# build scripts and proc macros, which must link without libFuzzer.
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cforce-frame-pointers"
echo "== fuzz: build (${targets[*]})" >&2
# fuzz/Cargo.lock is the fuzz workspace's own: after changing a dependency of the engine or
# the simulator, refresh it with `cargo metadata --manifest-path fuzz/Cargo.toml >/dev/null`.
cargo build --release --locked --manifest-path fuzz/Cargo.toml --target "$host" \
  --target-dir target/fuzz $(printf -- '--bin %s ' "${targets[@]}")

seeds="$(mktemp -d)"
trap 'rm -rf "$seeds"' EXIT
python3 fuzz/seeds.py "$seeds"
for t in "${targets[@]}"; do
  corpus="target/fuzz/corpus/$t"
  artifacts="target/fuzz/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  echo "== fuzz: $t for ${seconds}s" >&2
  # Limits: 2 GiB of RSS and 512 MiB per allocation catch unbounded memory; 10 s per
  # input catches hangs; inputs up to 64 KiB cover every format's structure.
  set +e
  "target/fuzz/$host/release/$t" "$corpus" "$seeds/$t" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 \
    -max_len=65536 -artifact_prefix="$artifacts/" -print_final_stats=1 2>&1 \
    | grep --line-buffered -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==|.*(panicked|ERROR|SUMMARY|crash-|leak|timeout|out-of-memory))'
  status="${PIPESTATUS[0]}"
  set -e
  if [ "$status" != 0 ]; then
    echo "fuzz: $t failed (exit $status); the input is in $artifacts/" >&2
    exit 1
  fi
done
echo "fuzz: ${#targets[@]} targets ran ${seconds}s each without a failure" >&2
