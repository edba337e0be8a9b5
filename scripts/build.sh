#!/usr/bin/env bash
# Emit plain .js into dist/ (the bins run dist/, tests may run src/ directly). Skips when up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=dist/.built
if [ -f "$stamp" ] && [ -z "$(find src tsconfig.json package-lock.json -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  exit 0
fi
node_modules/.bin/tsc -p tsconfig.json
touch "$stamp"
