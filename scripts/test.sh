#!/usr/bin/env bash
# Runs every test: unit tests (no root) always; integration tests (real runc/conmon/overlay, each
# daemon in its own netns) when root. `scripts/test.sh unit` runs unit tests only.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE=node_modules/.bin/node
node_modules/.bin/tsc -p tsconfig.json --noEmit
node_modules/.bin/tsc -p tsconfig.tests.json   # the tests, the harness and the bench too
files=(test/*.test.ts)
while IFS= read -r f; do files+=("$f"); done < <(find src -name '*.test.ts' | sort)
if [ "${1:-all}" != unit ]; then
  if [ "$(id -u)" = 0 ]; then
    while IFS= read -r f; do files+=("$f"); done < <(find test/integration -name '*.test.ts' | sort)
  else
    echo "test: not root: integration tests need root (sudo npm test)" >&2
    exit 1
  fi
fi
exec "$NODE" --test --test-concurrency="${BERTH_TEST_CONCURRENCY:-2}" --test-timeout=600000 "${files[@]}"
