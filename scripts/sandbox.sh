#!/usr/bin/env bash
# Try berth without touching this machine's network: berthd in a new network namespace with a temp
# data root and exec root.
#   sudo scripts/sandbox.sh start    # prints: export DOCKER_HOST=unix://…
#   sudo scripts/sandbox.sh status
#   sudo scripts/sandbox.sh stop     # removes containers, stops berthd, unmounts, removes netns and dirs
# State of the running sandbox: /run/berth-sandbox/env.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
STATE_DIR=/run/berth-sandbox
STATE=$STATE_DIR/env

die() { echo "sandbox: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces, mounts)"

start() {
  if [ -f "$STATE" ]; then
    # shellcheck disable=SC1090
    . "$STATE"
    if kill -0 "$SB_PID" 2>/dev/null; then
      echo "sandbox: already running (pid $SB_PID)" >&2
      echo "export DOCKER_HOST=$SB_HOST"
      return
    fi
    stop
  fi
  bash scripts/build.sh >&2 || echo "sandbox: build reported errors; using what dist/ has" >&2
  local rand ns dir
  rand=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
  ns=berth-sb-$rand
  dir=$(mktemp -d "/var/tmp/berth-sb-$rand.XXXX")
  mkdir -p "$dir/root" "$dir/exec" "$STATE_DIR"
  echo '{}' >"$dir/daemon.json"   # edit it and `kill -HUP` berthd to reload
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  local sock=$dir/berth.sock
  nsenter --net="/run/netns/$ns" "$REPO/bin/berthd" --data-root "$dir/root" --exec-root "$dir/exec" \
    -H "unix://$sock" --pidfile "$dir/berthd.pid" --config-file "$dir/daemon.json" "$@" \
    </dev/null >"$dir/berthd.log" 2>&1 &
  local pid=$!
  cat >"$STATE" <<EOS
SB_NS=$ns
SB_DIR=$dir
SB_PID=$pid
SB_HOST=unix://$sock
EOS
  for _ in $(seq 1 300); do
    if curl -fsS --unix-socket "$sock" http://localhost/_ping >/dev/null 2>&1; then
      echo "sandbox: berthd (pid $pid) in netns $ns, data under $dir, log $dir/berthd.log" >&2
      echo "export DOCKER_HOST=unix://$sock"
      return
    fi
    kill -0 "$pid" 2>/dev/null || { tail -20 "$dir/berthd.log" >&2; stop; die "berthd exited"; }
    sleep 0.1
  done
  tail -20 "$dir/berthd.log" >&2
  stop
  die "berthd did not answer within 30 s"
}

stop() {
  [ -f "$STATE" ] || { echo "sandbox: not running" >&2; return 0; }
  # shellcheck disable=SC1090
  . "$STATE"
  if kill -0 "$SB_PID" 2>/dev/null; then
    local ids
    ids=$(DOCKER_HOST=$SB_HOST timeout 30 "$REPO/bin/berth" ps -aq 2>/dev/null || DOCKER_HOST=$SB_HOST timeout 30 docker ps -aq 2>/dev/null || true)
    if [ -n "$ids" ]; then
      # shellcheck disable=SC2086
      DOCKER_HOST=$SB_HOST timeout 120 docker rm -f $ids >/dev/null 2>&1 || true
    fi
    kill -TERM "$SB_PID" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$SB_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$SB_PID" 2>/dev/null && kill -KILL "$SB_PID" 2>/dev/null || true
  fi
  # Anything left of this sandbox only: runc containers under its exec root, then conmons that name its dir.
  if [ -d "$SB_DIR" ]; then
    while IFS= read -r st; do
      local cdir; cdir=$(dirname "$st")
      runc --root "$(dirname "$cdir")" delete --force "$(basename "$cdir")" >/dev/null 2>&1 || true
    done < <(find "$SB_DIR/exec" -maxdepth 4 -name state.json 2>/dev/null)
    for p in /proc/[0-9]*; do
      if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF "$SB_DIR"; then kill -KILL "${p#/proc/}" 2>/dev/null || true; fi
    done
    # Unmount leftovers under the sandbox dir, deepest first.
    awk -v d="$SB_DIR" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r | while IFS= read -r m; do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
  fi
  ip netns del "$SB_NS" 2>/dev/null || true
  [ -n "$SB_DIR" ] && [ -d "$SB_DIR" ] && rm -rf "$SB_DIR"
  rm -f "$STATE"
  echo "sandbox: stopped and removed" >&2
}

status() {
  [ -f "$STATE" ] || { echo "sandbox: not running"; return 1; }
  # shellcheck disable=SC1090
  . "$STATE"
  if kill -0 "$SB_PID" 2>/dev/null; then echo "running: pid $SB_PID, netns $SB_NS, dir $SB_DIR"; echo "export DOCKER_HOST=$SB_HOST"
  else echo "stale: berthd (pid $SB_PID) is gone; run: $0 stop"; return 1; fi
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start [berthd flags…] | stop | status" >&2; exit 2 ;;
esac
