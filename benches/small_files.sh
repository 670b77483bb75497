#!/usr/bin/env bash
# Many small files, durable: ferry against the peers on the same files, in
# one run, on this machine's disk (a sync costs nothing on tmpfs).
#
#   bash benches/small_files.sh                  # Markdown for BENCHMARKS.md
#   FERRY_BEFORE=/path/to/old/ferry bash benches/small_files.sh
#                                                # adds an older build's figures
#   SMALL_FILES_COUNTS=10000 bash benches/small_files.sh   # part 1 with 10,000 only
#   SMALL_FILES_PARTS=local bash benches/small_files.sh     # parts 1 and its strace only
#   SMALL_FILES_ROUNDS=4 ...                                # rounds of part 1 (3, and 2 at 100,000)
#
# 1. 10,000 and 100,000 files of 2 KiB in 10 folders to a local folder:
#    `ferry upload` (the scan that hashes runs before, untimed), against
#    `rclone copy --transfers 4` (no sync at all) and `cp -r` then one `sync`.
#    Three rounds for 10,000 and two for 100,000, the tools taking turns;
#    medians. Each timed run starts after `sync`.
# 2. 1,000 files of 256 KiB: ferry to ferry serve, ferry to @tus/server, and
#    tus-js-client (one upload after another, in one node process) to the
#    same @tus/server. Five rounds, medians.
# 3. strace -f -c of one more run of each ferry, client and server apart:
#    fsync, fdatasync and syncfs calls per 1,000 files; the client's journal
#    lines and the server's requests per file.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
ferry=$PWD/target/release/ferry
before=${FERRY_BEFORE:-}
peers=$PWD/tests/peers
(cd "$peers" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
for tool in rclone strace; do
    command -v "$tool" >/dev/null || apt-get install -y -qq "$tool" >/dev/null
done

rclone_version=$(rclone version 2>/dev/null | sed -n '1s/^rclone //p')
work=$(mktemp -d -p "${BENCH_DIR:-/var/tmp}")
# shellcheck source=benches/common.sh
. benches/common.sh
trap 'pkill -P $$ || true; rm -rf "$work"' EXIT

make_files() { # folder count bytes folders
    python3 - "$@" <<'EOF'
import os, sys
root, count, size, folders = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for n in range(count):
    folder = os.path.join(root, f"{n % folders:02}")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"IMG_{n:06}.jpg"), "wb") as f:
        f.write(os.urandom(size))
EOF
}

round2() { printf '%.2f ' "$@" | sed 's/ $//'; }

# `ferry upload` of the jobs `ferry scan` queued, binary $1; sets $seconds.
timed_upload() {
    local binary=$1 source=$2 to=$3; shift 3
    local journal=$work/journal-$RANDOM.jsonl
    "$binary" --journal "$journal" scan "$source" --to "$to" --all-files -q "$@"
    sync
    local start; start=$(now)
    "$binary" --journal "$journal" upload -q
    seconds=$(since "$start")
    rm -f "$journal"
}

clients=(ferry)
[ -n "$before" ] && clients+=(before)
binary_of() { if [ "$1" = before ]; then echo "$before"; else echo "$ferry"; fi; }

# 1. Local folder.
declare -A times
local_round() { # count round
    local count=$1 source=$work/src$1
    for client in "${clients[@]}"; do
        rm -rf "$work/dest"; sync
        timed_upload "$(binary_of "$client")" "$source" "$work/dest"
        times[$client-$count]+="$seconds "
        [ "$(find "$work/dest" -name '*.jpg' | wc -l)" = "$count" ]
    done
    rm -rf "$work/dest"; sync
    local start; start=$(now)
    rclone copy --transfers 4 "$source" "$work/dest" -q 2>/dev/null
    times[rclone-$count]+="$(since "$start") "
    rm -rf "$work/dest"; sync
    start=$(now)
    cp -r "$source" "$work/dest"
    sync
    times[cp-$count]+="$(since "$start") "
    cmp "$source/05/IMG_000005.jpg" "$work/dest/05/IMG_000005.jpg"
    rm -rf "$work/dest"; sync
}

echo "### Small files to a local folder (disk)"
echo
echo "| files | client | seconds (median; all rounds) | files/s | rclone's time ÷ this | (cp -r + sync)'s time ÷ this |"
echo "|---|---|---|---|---|---|"
for count in ${SMALL_FILES_COUNTS:-10000 100000}; do
    make_files "$work/src$count" "$count" 2048 10
    rounds=3; [ "$count" = 100000 ] && rounds=2
    rounds=${SMALL_FILES_ROUNDS:-$rounds}
    for _ in $(seq "$rounds"); do local_round "$count"; done
    read -ra r <<<"${times[rclone-$count]}"; rclone_s=$(median "${r[@]}")
    read -ra c <<<"${times[cp-$count]}"; cp_s=$(median "${c[@]}")
    for client in "${clients[@]}" rclone cp; do
        read -ra all <<<"${times[$client-$count]}"
        s=$(median "${all[@]}")
        name=$client
        case $client in
        ferry) name="ferry upload (this build)" ;;
        before) name="ferry upload (FERRY_BEFORE)" ;;
        rclone) name="rclone $rclone_version copy --transfers 4 (no sync)" ;;
        cp) name="cp -r, then sync" ;;
        esac
        echo "| $count | $name | $(round2 "$s"); $(round2 "${all[@]}") | $(echo "scale=0; $count / $s" | bc) | $(ratio "$rclone_s" "$s") | $(ratio "$cp_s" "$s") |"
    done
done
echo

# fsync-like calls per 1,000 files, of one untimed run over 10,000 files.
syncs_per_1000() { # strace summary file, files
    awk -v files="$2" '$NF ~ /^(fsync|fdatasync|syncfs)$/ { n[$NF] = $4 }
        END { printf "%d fsync, %d fdatasync, %d syncfs", n["fsync"] * 1000 / files, n["fdatasync"] * 1000 / files, n["syncfs"] * 1000 / files }' "$1"
}
read -r first_count _ <<<"${SMALL_FILES_COUNTS:-10000 100000}"
echo "### Sync calls per 1,000 files (strace -f -c, $first_count files of 2 KiB to a local folder)"
echo
echo "| build | calls per 1,000 files |"
echo "|---|---|"
for client in "${clients[@]}"; do
    journal=$work/journal-strace.jsonl
    "$(binary_of "$client")" --journal "$journal" scan "$work/src$first_count" --to "$work/dest" --all-files -q
    strace -f -c -o "$work/strace.txt" "$(binary_of "$client")" --journal "$journal" upload -q
    echo "| $client | $(syncs_per_1000 "$work/strace.txt" "$first_count") |"
    rm -rf "$work/dest" "$journal"
done
echo
rm -rf "$work"/src*
# SMALL_FILES_PARTS=local stops here.
[ "${SMALL_FILES_PARTS:-all}" = local ] && exit 0

# 2. 1,000 files of 256 KiB to ferry serve and to @tus/server.
make_files "$work/small" 1000 262144 1

# Starts a server command in the background, logging to $1; sets $url from
# the first http://127.0.0.1:PORT... its log prints, and $server_pid.
start_server() {
    local log=$1; shift
    "$@" >"$log" 2>&1 &
    server_pid=$!
    for _ in $(seq 200); do
        url=$(grep -o 'http://127.0.0.1:[0-9]*/files/' "$log" | head -1 || true)
        [ -n "$url" ] && return
        sleep 0.05
    done
    echo "server did not start: $(cat "$log")" >&2
    exit 1
}
stop_server() {
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
}

start_server "$work/tus.log" node "$peers/tus-node-server.mjs" 0 "$work/tus-store"
tus_pid=$server_pid tus_url=$url
declare -A many
for round in 1 2 3 4 5; do
    for client in "${clients[@]}"; do
        binary=$(binary_of "$client")
        rm -rf "$work/served"; sync
        # Each build against its own server: "ferry serve" is part of it.
        start_server "$work/serve.log" "$binary" serve --listen 127.0.0.1:0 --dir "$work/served"
        timed_upload "$binary" "$work/small" "$url"
        many[$client-serve]+="$seconds "
        stop_server
        [ "$(ls "$work/served/00" | wc -l)" = 1000 ]
        rm -rf "${work:?}/tus-store/"*; sync
        timed_upload "$binary" "$work/small" "$tus_url"
        many[$client-tus]+="$seconds "
    done
    rm -rf "${work:?}/tus-store/"*; sync
    start=$(now)
    node "$peers/tus-js-many.mjs" "$tus_url" "$work/small/00" >/dev/null
    many[tusjs-tus]+="$(since "$start") "
    [ "$(find "$work/tus-store" -type f ! -name '*.json' | wc -l)" = 1000 ]
done
kill -TERM "$tus_pid" 2>/dev/null || true
read -ra t <<<"${many[tusjs-tus]}"; tusjs_s=$(median "${t[@]}")
echo "### 1,000 files of 256 KiB (disk)"
echo
echo "| client | server | seconds (median; all rounds) | files/s | tus-js-client's time ÷ this |"
echo "|---|---|---|---|---|"
for key in "${clients[@]/%/-serve}" "${clients[@]/%/-tus}" tusjs-tus; do
    read -ra all <<<"${many[$key]}"
    s=$(median "${all[@]}")
    client=${key%-*}
    server="ferry serve (same build)"; [ "${key##*-}" = tus ] && server="@tus/server 2.4.5"
    case $client in
    ferry) client="ferry upload (this build, -j 4)" ;;
    before) client="ferry upload (FERRY_BEFORE, -j 4)" ;;
    tusjs) client="tus-js-client 4.3.1, one after another" ;;
    esac
    echo "| $client | $server | $(round2 "$s"); $(round2 "${all[@]}") | $(files_per_s "$s") | $(ratio "$tusjs_s" "$s") |"
done
echo

# 3. What one small upload costs, client and server apart, from strace:
# the requests the client writes (writes that begin with a method), its
# syncs and journal lines, and the server's syncs.
count_calls() { # trace file, pattern
    grep -c -E "$2" "$1" || true
}
per_file() { echo "scale=2; $1 / 1000" | bc; }
echo "### What 1,000 files of 256 KiB cost (strace)"
echo
echo "| client | server | requests per file | server's fsync + fdatasync + syncfs per 1,000 files | client's, per 1,000 files | client's journal lines per file |"
echo "|---|---|---|---|---|---|"
for client in "${clients[@]}"; do
    binary=$(binary_of "$client")
    for server in serve tus; do
        rm -rf "$work/served" "$work/tus-store"
        trace=(strace -f -qq -c -o "$work/server.txt")
        if [ "$server" = serve ]; then
            start_server "$work/serve.log" "${trace[@]}" "$binary" serve --listen 127.0.0.1:0 --dir "$work/served"
        else
            start_server "$work/tus.log" "${trace[@]}" node "$peers/tus-node-server.mjs" 0 "$work/tus-store"
        fi
        journal=$work/journal-strace.jsonl
        "$binary" --journal "$journal" scan "$work/small" --to "$url" --all-files -q
        lines=$(wc -l <"$journal")
        strace -f -qq -e trace=write,writev,sendto,sendmsg,fsync,fdatasync,syncfs -s 8 \
            -o "$work/client.trace" "$binary" --journal "$journal" upload -q
        lines=$(($(wc -l <"$journal") - lines))
        # The server itself, not strace: strace then writes its summary.
        pkill -TERM -P "$server_pid" || true
        wait "$server_pid" 2>/dev/null || true
        requests=$(count_calls "$work/client.trace" '(write|writev|sendto|sendmsg)\([0-9]+, \[?\{?(iov_base=)?"(POST|PATCH|PUT|HEAD|OPTIONS|GET|DELETE) ')
        client_syncs=$(count_calls "$work/client.trace" '^[0-9]+ +(fsync|fdatasync|syncfs)\(')
        server_syncs=$(awk '$NF ~ /^(fsync|fdatasync|syncfs)$/ { n += $4 } END { print n + 0 }' "$work/server.txt")
        name="ferry serve"; [ "$server" = tus ] && name="@tus/server"
        echo "| $client | $name | $(per_file "$requests") | $server_syncs | $client_syncs | $(per_file "$lines") |"
        rm -f "$journal" "$work/client.trace" "$work/server.txt"
    done
done
