#!/usr/bin/env bash
# End-to-end tests of the real desktop app: builds the UI and the app (UI embedded), then
# drives it through WebDriver (tauri-driver → WebKitWebDriver) on a virtual 1280×800 X
# display, in a private D-Bus session with a throw-away keychain. Screenshots of every
# screen visited land in target/e2e-screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
source_path="$PATH"
[ "${CLOSEBOOK_SETUP_DONE:-}" = 1 ] || scripts/setup.sh
export PATH="$HOME/.cargo/bin:$source_path"

if [ "${CLOSEBOOK_UI_BUILT:-}" != 1 ]; then
  (cd ui && npm run build --silent)
fi
cargo build --locked -p closebook-desktop
rm -rf target/e2e-screenshots
export CLOSEBOOK_E2E_APP="${CLOSEBOOK_E2E_APP:-$PWD/target/debug/closebook-desktop}"
xvfb-run --auto-servernum --server-args="-screen 0 1280x800x24" \
  dbus-run-session -- scripts/with-keyring.sh \
  cargo test --locked --test e2e -- --ignored --test-threads=1 "$@"
echo "e2e: screenshots in target/e2e-screenshots/" >&2
ls target/e2e-screenshots >&2
