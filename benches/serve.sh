#!/usr/bin/env bash
# Receiving side: peak memory and throughput of `ferry serve` against the
# @tus/server peer (npm, with @tus/file-store), same file, same client (curl,
# one streamed request per upload), same run. Sizes: 256 MiB and 2 GiB, to
# show that memory does not grow with the upload.
#
#   bash benches/serve.sh            # prints a Markdown table for BENCHMARKS.md
#
# Peak RSS is GNU time's "Maximum resident set size" of the server process,
# started fresh for each upload and stopped with SIGTERM after it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
ferry=$PWD/target/release/ferry
peers=$PWD/tests/peers
(cd "$peers" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

work=$(mktemp -d)
trap 'pkill -P $$ || true; rm -rf "$work"' EXIT

# Starts "$@" under GNU time; sets $server_pid and $port from its first
# "listening on http://127.0.0.1:PORT" line.
start() {
    local log=$1; shift
    /usr/bin/time -v "$@" >"$log" 2>&1 &
    server_pid=$!
    for _ in $(seq 200); do
        port=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1 | cut -d: -f3 || true)
        [ -n "$port" ] && return
        sleep 0.05
    done
    echo "server did not start: $(cat "$log")" >&2
    exit 1
}

# Stops the server started last; sets $rss to its peak RSS in MiB.
stop() {
    local log=$1
    pkill -TERM -P "$server_pid" || true
    wait "$server_pid" || true
    rss=$(grep 'Maximum resident set size' "$log" | awk '{printf "%.1f", $NF / 1024}')
}

location() { grep -i '^location:' | tr -d '\r' | cut -d' ' -f2; }

echo "| size | server | protocol | seconds | MiB/s | peak RSS (MiB) |"
echo "|---|---|---|---|---|---|"
for size in 256 2048; do
    file=$work/source-$size.bin
    head -c "${size}M" /dev/urandom >"$file"

    rm -rf "$work/ferry-dest"
    start "$work/ferry.log" "$ferry" serve --listen 127.0.0.1:0 --dir "$work/ferry-dest"
    url=$(curl -s -D - -o /dev/null -X POST -H 'Upload-Draft-Interop-Version: 8' \
        -H 'Upload-Complete: ?0' -H "Upload-Length: $((size << 20))" \
        "http://127.0.0.1:$port/files/bench.bin" | location)
    seconds=$(curl -s -o /dev/null -w '%{time_total}' -X PATCH -T "$file" \
        -H 'Upload-Draft-Interop-Version: 8' -H 'Upload-Complete: ?1' -H 'Upload-Offset: 0' \
        -H 'Content-Type: application/partial-upload' "$url")
    cmp -s "$file" "$work/ferry-dest/bench.bin" || { echo "ferry serve: file differs" >&2; exit 1; }
    stop "$work/ferry.log"
    echo "| $size MiB | ferry serve | IETF (interop 8), SHA-256 verified | $seconds | $(echo "$size / $seconds" | bc) | $rss |"

    rm -rf "$work/node-dest" && mkdir -p "$work/node-dest"
    start "$work/node.log" node "$peers/tus-node-server.mjs" 0 "$work/node-dest"
    url=$(curl -s -D - -o /dev/null -X POST -H 'Tus-Resumable: 1.0.0' \
        -H "Upload-Length: $((size << 20))" "http://127.0.0.1:$port/files/" | location)
    seconds=$(curl -s -o /dev/null -w '%{time_total}' -X PATCH -T "$file" \
        -H 'Tus-Resumable: 1.0.0' -H 'Upload-Offset: 0' \
        -H 'Content-Type: application/offset+octet-stream' "$url")
    cmp -s "$file" "$work/node-dest/${url##*/}" || { echo "@tus/server: file differs" >&2; exit 1; }
    stop "$work/node.log"
    echo "| $size MiB | @tus/server 2.4.5 (node $(node --version)) | tus 1.0.0, no digest | $seconds | $(echo "$size / $seconds" | bc) | $rss |"
    rm -f "$file"
done
