#!/usr/bin/env bash
# Writes docs/configuration.md from the configuration table compiled into the
# binary (`fairgate config docs`), so the reference never drifts from the
# parser. tests/e2e/config_doc.sh fails when the committed file differs.
# usage: scripts/gen-config-doc.sh [BUILD_DIR]   (default: build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-${FAIRGATE_BUILD_DIR:-$ROOT/build}}
[ -x "$BUILD/fairgate" ] || { echo "gen-config-doc: build first ($BUILD/fairgate missing)" >&2; exit 1; }
tmp=$(mktemp "$ROOT/docs/.configuration.md.XXXXXX")
trap 'rm -f "$tmp"' EXIT
"$BUILD/fairgate" config docs >"$tmp"
mv "$tmp" "$ROOT/docs/configuration.md"
trap - EXIT
echo "wrote docs/configuration.md"
