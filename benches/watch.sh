#!/usr/bin/env bash
# `ferry watch` (issue 18): how long a new file waits, and what a watcher
# costs while nothing happens. Against `ferry serve` on 127.0.0.1, the
# watched folders and the server's folder in tmpfs.
#
#   bash benches/watch.sh       # takes about five minutes
#
# 1. Latency: a 10 MiB file is written into a watched folder (--settle 2s);
#    the clock runs from the end of its last write to the watcher's
#    `succeeded` event, polled every 10 ms. Five rounds. The same file's
#    whole `ferry sync` (a process that scans and uploads it) is timed in the
#    same run: latency - settle - sync is what watching adds.
# 2. A tree of 100,000 files in 1,000 folders: the first sync is timed, then
#    the watcher's CPU time (utime + stime from /proc, 10 ms ticks) over 60 s
#    of idling, its RSS, and the latency of a 10 MiB file dropped into that
#    tree (three rounds), which shows a batch does not walk the tree again.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
ferry=$PWD/target/release/ferry

work=$(mktemp -d -p /dev/shm)
# shellcheck source=benches/common.sh
. benches/common.sh
hold_freed_memory
trap 'pkill -P $$ || true; rm -rf "$work"; release_freed_memory' EXIT

serve "$work/dest" "$work/serve.log"

# Polls the last lines of $1 every 10 ms until one matches $2 (up to 10
# minutes); sets $seen to the time it was found.
wait_for() {
    local file=$1 pattern=$2
    for _ in $(seq 60000); do
        if tail -n 50 "$file" 2>/dev/null | grep -q -- "$pattern"; then
            seen=$(now)
            return
        fi
        sleep 0.01
    done
    echo "timed out waiting for $pattern in $file" >&2
    exit 1
}

# CPU seconds (user + system) a process has used so far.
cpu_seconds() {
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"
}
status_mib() { awk -v key="$2:" '$1 == key { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# 1. Latency in a small folder.
mkdir -p "$work/small"
"$ferry" --journal "$work/small.jsonl" --json watch "$work/small" \
    --to "http://127.0.0.1:$port/files/small/" --settle 2s >"$work/small-events.jsonl" 2>"$work/small.log" &
watcher=$!
wait_for "$work/small-events.jsonl" '"type":"nothing_to_do"\|"type":"upload_summary"'
latencies=()
for round in 1 2 3 4 5; do
    head -c 10M /dev/urandom >"$work/clip-$round.mov"
    # The write, not the random numbers, is what the clock starts after.
    cp "$work/clip-$round.mov" "$work/small/clip-$round.mov"
    written=$(now)
    wait_for "$work/small-events.jsonl" "\"type\":\"succeeded\".*clip-$round.mov"
    latencies+=("$(printf '%.3f' "$(echo "$seen - $written" | bc)")")
    cmp "$work/clip-$round.mov" "$work/dest/small/clip-$round.mov"
done
kill -TERM "$watcher"
wait "$watcher" || true
syncs=()
for round in 1 2 3 4 5; do
    mkdir -p "$work/once-$round"
    cp "$work/clip-$round.mov" "$work/once-$round/"
    start=$(now)
    "$ferry" --journal "$work/once-$round.jsonl" -q sync "$work/once-$round" --to "http://127.0.0.1:$port/files/once-$round/"
    syncs+=("$(printf '%.3f' "$(since "$start")")")
done
latency=$(median "${latencies[@]}")
synced=$(median "${syncs[@]}")
echo "### From the last write to the upload: one 10 MiB file, --settle 2s"
echo
echo "Rounds: ${latencies[*]} s; median **$latency s** (target: under 3 s, --settle + 1 s)."
echo "A whole \`ferry sync\` of the same file: ${syncs[*]} s; median $synced s."
echo "What watching adds beyond the settle time and a sync: $(printf '%.3f' "$(echo "$latency - 2 - $synced" | bc)") s."
echo

# 2. A tree of 100,000 files.
python3 - "$work/tree" <<'EOF'
import os, sys
root = sys.argv[1]
for folder in range(1000):
    path = os.path.join(root, f"{folder // 100:02d}", f"{folder:04d}")
    os.makedirs(path)
    for n in range(100):
        with open(os.path.join(path, f"IMG_{n:04d}.jpg"), "wb") as out:
            out.write(os.urandom(512))
EOF
start=$(now)
"$ferry" --journal "$work/tree.jsonl" watch "$work/tree" \
    --to "http://127.0.0.1:$port/files/tree/" --settle 2s 2>"$work/tree.log" &
watcher=$!
wait_for "$work/tree.log" "100,000 uploaded · 0 queued"
first=$(printf '%.1f' "$(since "$start")")
sleep 5
cpu_before=$(cpu_seconds "$watcher")
idle_start=$(now)
sleep 60
cpu_after=$(cpu_seconds "$watcher")
idle=$(printf '%.1f' "$(since "$idle_start")")
rss=$(status_mib "$watcher" VmRSS)
peak=$(status_mib "$watcher" VmHWM)
threads=$(awk '$1 == "Threads:" { print $2 }' "/proc/$watcher/status")
tree_latencies=()
for round in 1 2 3; do
    cp "$work/clip-$round.mov" "$work/tree/05/0500/VID_$round.mov"
    written=$(now)
    wait_for "$work/tree.log" "uploaded 05/0500/VID_$round.mov\|uploaded VID_$round.mov"
    tree_latencies+=("$(printf '%.3f' "$(echo "$seen - $written" | bc)")")
    cmp "$work/clip-$round.mov" "$work/dest/tree/05/0500/VID_$round.mov"
    wait_for "$work/tree.log" "100,00$round uploaded · 0 queued"
done
sleep 2
rss_after=$(status_mib "$watcher" VmRSS)
kill -TERM "$watcher"
wait "$watcher" || true
echo "### A watched tree of 100,000 files (1,000 folders)"
echo
echo "- First sync (hash and upload all 100,000, then the first status line): $first s."
echo "- Idle for $idle s: **$(printf '%.2f' "$(echo "$cpu_after - $cpu_before" | bc)") s of CPU** (from $cpu_before to $cpu_after s; /proc ticks are 10 ms)."
echo "- Journal: $(du -m "$work/tree.jsonl" | cut -f1) MiB."
echo "- RSS while idle: **$rss MiB** (peak over the first sync: $peak MiB; $threads threads)."
echo "- A 10 MiB file dropped into the tree, from its last write to its upload: ${tree_latencies[*]} s; median $(median "${tree_latencies[@]}") s."
echo "- RSS idle after those three batches: $rss_after MiB."
