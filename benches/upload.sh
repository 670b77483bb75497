#!/usr/bin/env bash
# Sending side: `ferry upload` against the peers on the same work, same server,
# same run, all on 127.0.0.1.
#
#   bash benches/upload.sh        # prints Markdown tables for BENCHMARKS.md
#
# 1. One 1 GiB file to `ferry serve`: curl making the same two requests as
#    ferry (IETF careful creation with Repr-Digest, then one PATCH, so the
#    server does the same work), tus-js-client (tus, one PATCH), ferry (auto =
#    IETF interop 8). An untimed warm-up round, then three timed rounds,
#    taking turns; medians.
# 2. 1,000 files of 256 KiB: to `ferry serve`, tus-js-client one after another
#    against ferry (4 jobs at once); to `rclone serve webdav`,
#    `rclone copy --transfers 4` against ferry --protocol put (4 at once).
# 3. Peak RSS of `ferry upload` while sending a 4 GiB file (to disk).
#
# ferry's times are `ferry upload` alone (the scan that hashes the files runs
# before, untimed, as it would have in an earlier `ferry scan`); they include
# process start, opening the journal, OPTIONS and the journal fsyncs. Every
# timed run starts after `sync`, so no client pays for the last one's writeback.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
ferry=$PWD/target/release/ferry
peers=$PWD/tests/peers
(cd "$peers" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
if ! command -v rclone >/dev/null; then
    apt-get install -y -qq rclone >/dev/null
fi

# Parts 1 and 2 keep sources and servers' folders in memory (tmpfs), so the
# figures measure the clients, not this machine's noisy disk; part 3 uses disk.
work=$(mktemp -d -p /dev/shm)
disk=$(mktemp -d)
# shellcheck source=benches/common.sh
. benches/common.sh
hold_freed_memory
trap 'pkill -P $$ || true; rm -rf "$work" "$disk"; release_freed_memory' EXIT

# 1. One large file.
mkdir -p "$work/big"
head -c 1G /dev/urandom >"$work/big/big.bin"
digest=$(openssl dgst -sha256 -binary "$work/big/big.bin" | base64)
serve "$work/dest" "$work/serve.log"

location() { grep -i '^location:' | tr -d '\r' | cut -d' ' -f2; }

# A warm-up round (round 0: page cache, server, node's first start), then
# three rounds, the clients taking turns, so that noise hits all alike.
curl_all=() tusjs_all=() ferry_all=()
for round in 0 1 2 3; do
    rm -rf "$work/dest"/*
    sync
    start=$(now)
    url=$(curl -sf -D - -o /dev/null -X POST -H 'Upload-Draft-Interop-Version: 8' \
        -H 'Upload-Complete: ?0' -H "Upload-Length: $((1 << 30))" \
        -H "Repr-Digest: sha-256=:$digest:" "http://127.0.0.1:$port/files/curl/big.bin" | location)
    # ferry serve answers with a relative Location.
    [[ $url == /* ]] && url="http://127.0.0.1:$port$url"
    curl -sf -o /dev/null -X PATCH -T "$work/big/big.bin" -H 'Upload-Draft-Interop-Version: 8' \
        -H 'Upload-Complete: ?1' -H 'Upload-Offset: 0' \
        -H 'Content-Type: application/partial-upload' "$url"
    [ "$round" = 0 ] || curl_all+=("$(since "$start")")
    cmp "$work/big/big.bin" "$work/dest/curl/big.bin"

    sync
    start=$(now)
    node "$peers/tus-js-upload.mjs" "http://127.0.0.1:$port/files/" "$work/big/big.bin" tus-v1 \
        tus-js/big.bin 2147483648 >/dev/null
    [ "$round" = 0 ] || tusjs_all+=("$(since "$start")")
    cmp "$work/big/big.bin" "$work/dest/tus-js/big.bin"

    ferry_upload "$work/big" "http://127.0.0.1:$port/files/ferry/"
    [ "$round" = 0 ] || ferry_all+=("$seconds")
    cmp "$work/big/big.bin" "$work/dest/ferry/big.bin"
done
curl_s=$(median "${curl_all[@]}")
tusjs_s=$(median "${tusjs_all[@]}")
ferry_s=$(median "${ferry_all[@]}")
big_rate=$(mib 1024 "$ferry_s")

echo "### One 1 GiB file to ferry serve"
echo
echo "Median of three rounds after a warm-up (all rounds: curl ${curl_all[*]}; tus-js-client ${tusjs_all[*]}; ferry ${ferry_all[*]} s)."
echo
echo "| client | seconds | MiB/s | ferry's throughput ÷ this |"
echo "|---|---|---|---|"
echo "| curl (IETF: POST, then 1 PATCH with Repr-Digest) | $curl_s | $(mib 1024 "$curl_s") | $(ratio "$curl_s" "$ferry_s") |"
echo "| tus-js-client 4.3.1 (tus, 1 PATCH) | $tusjs_s | $(mib 1024 "$tusjs_s") | $(ratio "$tusjs_s" "$ferry_s") |"
echo "| ferry upload (IETF interop 8: POST, 1 PATCH) | $ferry_s | $big_rate | 1 |"
echo
rm -rf "$work/dest"/*

# 2. 1,000 small files.
mkdir -p "$work/small"
for i in $(seq -w 1 1000); do head -c 256K /dev/urandom >"$work/small/IMG_$i.jpg"; done

sync
start=$(now)
node "$peers/tus-js-many.mjs" "http://127.0.0.1:$port/files/" "$work/small" >/dev/null
tusjs_many_s=$(since "$start")
[ "$(ls "$work/dest/tus-js" | wc -l)" = 1000 ]

ferry_upload "$work/small" "http://127.0.0.1:$port/files/ferry/"
ferry_many_s=$seconds
[ "$(ls "$work/dest/ferry" | wc -l)" = 1000 ]

rclone_port=$((port + 1))
mkdir -p "$work/webdav-rclone" "$work/webdav-ferry"
rclone serve webdav --addr "127.0.0.1:$rclone_port" "$work/webdav-rclone" -q &
rclone serve webdav --addr "127.0.0.1:$((rclone_port + 1))" "$work/webdav-ferry" -q &
sleep 1
sync
start=$(now)
rclone copy --transfers 4 "$work/small" ":webdav,url='http://127.0.0.1:$rclone_port':" -q
rclone_s=$(since "$start")
[ "$(ls "$work/webdav-rclone" | wc -l)" = 1000 ]

ferry_upload "$work/small" "http://127.0.0.1:$((rclone_port + 1))/" --protocol put
ferry_put_s=$seconds
[ "$(ls "$work/webdav-ferry" | wc -l)" = 1000 ]
cmp "$work/small/IMG_0500.jpg" "$work/webdav-ferry/IMG_0500.jpg"

echo "### 1,000 files of 256 KiB"
echo
echo "| client | server | seconds | files/s | MiB/s | ferry's files/s ÷ this |"
echo "|---|---|---|---|---|---|"
echo "| tus-js-client, one after another | ferry serve | $tusjs_many_s | $(files_per_s "$tusjs_many_s") | $(mib 250 "$tusjs_many_s") | $(ratio "$tusjs_many_s" "$ferry_many_s") |"
echo "| ferry upload (IETF, -j 4) | ferry serve | $ferry_many_s | $(files_per_s "$ferry_many_s") | $(mib 250 "$ferry_many_s") | 1 |"
echo "| rclone $(rclone version | head -1 | cut -d' ' -f2) copy --transfers 4 | rclone serve webdav | $rclone_s | $(files_per_s "$rclone_s") | $(mib 250 "$rclone_s") | $(ratio "$rclone_s" "$ferry_put_s") |"
echo "| ferry upload --protocol put (-j 4) | rclone serve webdav | $ferry_put_s | $(files_per_s "$ferry_put_s") | $(mib 250 "$ferry_put_s") | 1 |"
echo
echo "Small files to ferry serve reach $(ratio "$(mib 250 "$ferry_many_s")" "$big_rate") of ferry's 1 GiB byte rate."
echo
rm -rf "$work/small" "$work/dest"/* "$work/big"

# 3. Memory on a 4 GiB file, on disk.
mkdir -p "$disk/huge"
head -c 4G /dev/urandom >"$disk/huge/huge.bin"
serve "$disk/dest" "$disk/serve.log"
ferry_upload "$disk/huge" "http://127.0.0.1:$port/files/"
cmp "$disk/huge/huge.bin" "$disk/dest/huge.bin"
echo "### Memory"
echo
echo "ferry upload of a 4 GiB file: peak RSS $rss MiB ($seconds s)."
