#!/usr/bin/env bash
# ferry serve under abuse: while benches/load_abuse.py holds 1,000 idle
# connections, 200 connections trickling a request head one byte a second
# and 100 bodies sending one byte every 5 s (reconnecting whatever serve
# closes), a real client uploads 200 files of 2 MiB with `ferry sync`, and
# a prober times one small curl PUT every 0.25 s for 20 s from the sync's
# start. The same sync and prober run first without the abuse, on a fresh
# serve, for comparison.
#
#   bash benches/load.sh        # prints Markdown for BENCHMARKS.md
#
# Reported: the sync's time, whether every file arrived byte-identical, the
# prober's slowest and median request, and serve's peak RSS (VmHWM).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
ferry=$PWD/target/release/ferry
ulimit -n 8192
work=$(mktemp -d -p /dev/shm)
# shellcheck source=benches/common.sh
. benches/common.sh
trap 'pkill -P $$ || true; rm -rf "$work"' EXIT

mkdir -p "$work/src"
for n in $(seq 200); do
    head -c $((2048 * 1024 + n)) /dev/urandom >"$work/src/IMG_$n.jpg"
done
head -c 20000 /dev/urandom >"$work/probe.bin"

# Times one small PUT every 0.25 s for 20 s; one line of seconds per
# request in $1.
prober() {
    local out=$1 n=0 until=$(($(date +%s) + 20))
    while [ "$(date +%s)" -lt "$until" ]; do
        n=$((n + 1))
        # A refusal (-f) counts as a request that never succeeded: 60 s.
        curl -sf -o /dev/null -w '%{time_total}\n' --max-time 60 -T "$work/probe.bin" \
            "http://127.0.0.1:$port/files/probe/$n.bin" >>"$out" || echo 60 >>"$out"
        sleep 0.25
    done
}

# One round: a fresh serve, optionally the abuse, then the sync and prober.
round() {
    local name=$1 abuse=$2
    rm -rf "$work/dest" "$work/journal.jsonl" "$work/probe-$name.txt"
    serve "$work/dest" "$work/serve-$name.log"
    if [ "$abuse" = yes ]; then
        python3 benches/load_abuse.py 127.0.0.1 "$port" 100 1000 200 100 >"$work/abuse.txt" &
        abuser=$!
        for _ in $(seq 600); do grep -q ready "$work/abuse.txt" && break; sleep 0.1; done
        grep -q ready "$work/abuse.txt" || { echo "the abuse never got ready" >&2; exit 1; }
        # Past serve's 30 s header timeout, so its closing and the abuse's
        # reconnecting are under way while the real client runs.
        sleep 35
    fi
    prober "$work/probe-$name.txt" &
    local prober_pid=$!
    local start; start=$(now)
    "$ferry" --journal "$work/journal.jsonl" sync "$work/src" \
        --to "http://127.0.0.1:$port/files/real/" -q
    sync_s=$(since "$start")
    wait "$prober_pid"
    if diff -r "$work/src" "$work/dest/real" >/dev/null; then identical=yes; else identical=NO; fi
    slowest=$(sort -n "$work/probe-$name.txt" | tail -1)
    typical=$(median $(cat "$work/probe-$name.txt"))
    probes=$(wc -l <"$work/probe-$name.txt")
    rss=$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$server/status")
    threads=$(ls "/proc/$server/task" | wc -l)
    if [ "$abuse" = yes ]; then
        wait "$abuser"
        held=$(tail -1 "$work/abuse.txt")
    else
        held="none"
    fi
    kill "$server"
    wait "$server" || true
    echo "| $name | $(printf %.1f "$sync_s") | $identical | $probes | $(printf %.3f "$typical") | $(printf %.3f "$slowest") | $rss | $threads |"
    echo "$name abuse: $held" >&2
}

echo "| run | 200-file sync (s) | byte-identical | probe requests | median probe (s) | slowest probe (s) | serve peak RSS (MiB) | serve threads at end |"
echo "|---|---|---|---|---|---|---|---|"
round quiet no
round abused yes
