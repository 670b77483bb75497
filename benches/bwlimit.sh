#!/usr/bin/env bash
# Bandwidth limits: how close `ferry upload --bwlimit` keeps to its rate, and
# a timetable switching the rate during a run. Against `ferry serve` on
# 127.0.0.1, sources and server folder in tmpfs.
#
#   bash benches/bwlimit.sh     # takes up to a minute and a half
#
# 1. A 64 MiB file under --bwlimit 16M, three rounds: the target is 4 s
#    within 15%. The times are whole `ferry upload` processes.
# 2. A 96 MiB file under a timetable "HH:MM,4M HH:MM+1,32M", started ten
#    seconds before the minute turns: the JSON progress events, stamped as
#    they arrive, give the rate before and after the `bwlimit` event.
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

# 1. A fixed rate.
mkdir -p "$work/fixed"
head -c 64M /dev/urandom >"$work/fixed/clip.mov"
rounds=()
for round in 1 2 3; do
    journal=$work/fixed-$round.jsonl
    "$ferry" --journal "$journal" scan "$work/fixed" --to "http://127.0.0.1:$port/files/fixed-$round/" -q
    start=$(now)
    "$ferry" --journal "$journal" upload -q --bwlimit 16M
    rounds+=("$(printf '%.3f' "$(since "$start")")")
    cmp "$work/fixed/clip.mov" "$work/dest/fixed-$round/clip.mov"
done
middle=$(median "${rounds[@]}")
echo "### --bwlimit 16M, 64 MiB"
echo
echo "Rounds: ${rounds[*]} s; median **$middle s** (target 4 s within 15%: 3.4 to 4.6 s),"
echo "$(mib 64 "$middle") MiB/s for a limit of 16 MiB/s."
echo

# 2. A timetable that changes the rate during the run.
mkdir -p "$work/timed"
head -c 96M /dev/urandom >"$work/timed/long.mov"
"$ferry" --journal "$work/timed.jsonl" scan "$work/timed" --to "http://127.0.0.1:$port/files/timed/" -q
while [ "$(date +%S | sed 's/^0//')" -ge 50 ]; do sleep 0.2; done
while [ "$(date +%S | sed 's/^0//')" -lt 50 ]; do sleep 0.2; done
this=$(date +%H:%M) next=$(date -d '+1 minute' +%H:%M)
"$ferry" --journal "$work/timed.jsonl" --json upload --bwlimit "$this,4M $next,32M" |
    while IFS= read -r line; do echo "$(now) $line"; done >"$work/events.txt"
cmp "$work/timed/long.mov" "$work/dest/timed/long.mov"
# Rates from the first progress event to the last one before the switch,
# and from the first one after it to the end.
read -r before after switched_at <<<"$(awk '
    /"type":"bwlimit"/ { if (++limits == 2) switched = 1 }
    /"type":"progress"/ {
        match($0, /"offset":[0-9]+/); offset = substr($0, RSTART + 9, RLENGTH - 9)
        if (!switched) {
            if (first_t == "") { first_t = $1; first_o = offset }
            last_t = $1; last_o = offset
        } else if (after_t == "") { after_t = $1; after_o = offset }
    }
    /"type":"succeeded"/ { end_t = $1 }
    END {
        mib = 1048576
        printf "%.2f %.2f %s\n", (last_o - first_o) / mib / (last_t - first_t),
            (96 * mib - after_o) / mib / (end_t - after_t), after_o / mib
    }' "$work/events.txt")"
echo "### Timetable \"$this,4M $next,32M\", 96 MiB"
echo
echo "Before the switch: **$before MiB/s** (limit 4); after it, from the first progress event after it ($(printf '%.1f' "$switched_at") MiB) to the end: **$after MiB/s** (limit 32)."
echo "The \`bwlimit\` events:"
echo
echo '```'
grep '"type":"bwlimit"' "$work/events.txt" | cut -d' ' -f2-
echo '```'
