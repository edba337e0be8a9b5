#!/usr/bin/env bash
# berth vs Docker 20.10 on this machine (see bench/run.ts). Run as root: bash bench/run.sh > bench/results.md
# BENCH_ENGINES=docker|berth|docker,berth  BENCH_ONLY=run,exec,detached,idle,start,loadsave,cli,netrun,publish,dns,build  BENCH_RUNS=10
# BENCH_ONLY=net: the three networking rows (netrun, publish, dns) only
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh || echo "bench: build reported errors; running what dist/ has" >&2
export BERTH_SKIP_BUILD=1
exec node_modules/.bin/node bench/run.ts "$@"
