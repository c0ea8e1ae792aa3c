#!/usr/bin/env bash
# Runs `demo` N times in a row while busy loops keep every core busy, and reports whether each
# run's output matched replay of the same book (the demo checks itself and exits non-zero when
# it does not). Usage: benches/demo_under_load.sh [RUNS=10] [BUSY_LOOPS=3] [demo args...]
# Build first: cargo build --release.
set -u
cd "$(dirname "$0")/.."
runs=${1:-10}
loops=${2:-3}
shift $(( $# > 2 ? 2 : $# ))
bin=target/release/postloan-monitor
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 2; }
pids=()
for _ in $(seq "$loops"); do
    # Bounded: each loop ends by itself after an hour even if this script is killed.
    timeout 3600 bash -c 'while :; do :; done' &
    pids+=($!)
done
trap 'kill "${pids[@]}" 2> /dev/null' EXIT
ok=0
for r in $(seq "$runs"); do
    out=$("$bin" demo "$@" 2> /dev/null)
    rc=$?
    line=$(grep -E "events in" <<< "$out" | sed 's/^ *//')
    verdict=$(grep -E "^Output" <<< "$out")
    echo "run $r: exit $rc; $line; $verdict"
    [ "$rc" -eq 0 ] && ok=$((ok + 1))
done
echo "$ok of $runs runs matched replay under $loops busy loops on $(nproc) cores ($(date -u +%F))"
[ "$ok" -eq "$runs" ]
