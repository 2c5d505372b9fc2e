#!/usr/bin/env bash
# Release bundles of the desktop app through the Tauri CLI (from ui/node_modules):
# .deb and AppImage on Linux, .app and .dmg on macOS, .msi and NSIS .exe on Windows.
# Output: target/release/bundle/. Pass --bundles deb to build only some of them (the
# AppImage bundler downloads linuxdeploy, so it needs internet access).
set -euo pipefail
cd "$(dirname "$0")/.."
source_path="$PATH"
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$source_path"
cd ui
TAURI_APP_PATH=../src-tauri TAURI_FRONTEND_PATH=. npx tauri build "$@"
