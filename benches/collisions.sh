#!/usr/bin/env bash
# Name collisions on `ferry serve`: 1,000 uploads of different content to one
# name (each lands as `IMG_0001 (n).JPG`) against 1,000 uploads to distinct
# names, same files, same server, same run. Sources and the server's folder
# are in tmpfs, so the figures measure placement rather than the disk.
#
#   bash benches/collisions.sh [FERRY_BINARY]    # prints a Markdown table
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then
    ferry=$1
else
    cargo build --release --quiet
    ferry=$PWD/target/release/ferry
fi
work=$(mktemp -d -p /dev/shm)
trap 'pkill -P $$ || true; rm -rf "$work"' EXIT

mkdir -p "$work/src"
for i in $(seq -w 1 1000); do head -c 4096 /dev/urandom >"$work/src/f$i.jpg"; done
"$ferry" serve --listen 127.0.0.1:0 --dir "$work/dest" 2>"$work/serve.log" &
for _ in $(seq 200); do
    port=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.log" | head -1 | cut -d: -f3 || true)
    [ -n "$port" ] && break
    sleep 0.05
done

# Times `ferry upload --protocol put` of the scanned jobs to $1; prints seconds.
timed_upload() {
    local to=$1 journal=$work/journal-$RANDOM.jsonl
    "$ferry" --journal "$journal" scan "$work/src" --to "$to" --protocol put --all-files -q
    local start end
    start=$(date +%s.%N)
    "$ferry" --journal "$journal" upload -q
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

distinct=$(timed_upload "http://127.0.0.1:$port/files/distinct/")
same=$(timed_upload "http://127.0.0.1:$port/files/same/IMG_0001.JPG?v={sha256}")
[ "$(ls "$work/dest/same" | wc -l)" = 1000 ]
[ "$(ls "$work/dest/distinct" | wc -l)" = 1000 ]
echo "| 1,000 uploads of 4 KiB to ferry serve | seconds | uploads/s |"
echo "|---|---|---|"
echo "| to 1,000 distinct names | $distinct | $(echo "scale=0; 1000 / $distinct" | bc) |"
echo "| to one name (999 collisions) | $same | $(echo "scale=0; 1000 / $same" | bc) |"
echo
echo "One name ÷ distinct names: $(echo "scale=2; $same / $distinct" | bc)"
