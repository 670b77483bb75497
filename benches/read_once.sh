#!/usr/bin/env bash
# Reading a card once: what a first `ferry sync` reads from storage, against
# `rclone copy` on the same files to the same three kinds of destination.
#
#   sudo bash benches/read_once.sh                 # Markdown for BENCHMARKS.md
#   FERRY_BEFORE=/path/to/old/ferry bash benches/read_once.sh   # adds a column
#   READ_ONCE_ROUNDS=1 bash benches/read_once.sh   # one round (default 3)
#
# Needs root: each timed run starts after `sync` and dropping the page cache,
# and runs in a memory cgroup (cgroup v1's memory controller, or v2's
# memory.max) holding it to 512 MiB of memory, page cache included, as a
# card bigger than the free memory behaves. "Read" is the kernel's pgpgin
# counter (/proc/vmstat) over the run: bytes read from storage by anyone,
# so run it on a quiet machine.
#
# 1. 6 files of 400 MiB (2,400 MiB) on this machine's disk, sent with
#    `ferry sync` and `rclone copy --transfers 4` to:
#    - an HTTP upload server: ferry serve for ferry, `rclone serve webdav`
#      for rclone (rclone speaks none of ferry serve's upload protocols);
#    - a local folder on the same disk;
#    - S3: one Garage node.
#    Servers run outside the cgroup, on the same disk. Rounds take turns.
# 2. Time to the first uploaded byte of a 20 GiB card, to ferry serve: 50
#    sparse files of 400 MiB (each with 4 KiB of its own at the start, so
#    none is a duplicate), read from holes, which costs no storage: the time
#    is the hashing that comes before. Measured from the start of `ferry
#    sync --json` to its first `phase` event "uploading".
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
ferry=$PWD/target/release/ferry
before=${FERRY_BEFORE:-}
rounds=${READ_ONCE_ROUNDS:-3}
if [ "$(id -u)" != 0 ]; then
    echo "read_once.sh needs root (dropping caches, a memory cgroup)" >&2
    exit 1
fi
command -v rclone >/dev/null || apt-get install -y -qq rclone >/dev/null
garage=${FERRY_TEST_CACHE:-$HOME/.cache/ferry-test-peers}/garage-2.5.0/bin/garage
if [ ! -x "$garage" ]; then
    cargo install --locked --quiet garage@2.5.0 --no-default-features \
        --features bundled-libs,lmdb --root "$(dirname "$(dirname "$garage")")"
fi
unset AWS_CA_BUNDLE

work=$(mktemp -d -p "${BENCH_DIR:-/var/tmp}")
# shellcheck source=benches/common.sh
. benches/common.sh

# The memory cgroup every timed client runs in.
if [ -d /sys/fs/cgroup/memory ]; then
    group=/sys/fs/cgroup/memory/ferry-read-once
    mkdir -p "$group"
    echo $((512 << 20)) >"$group/memory.limit_in_bytes"
else
    group=/sys/fs/cgroup/ferry-read-once
    mkdir -p "$group"
    echo $((512 << 20)) >"$group/memory.max"
fi
trap 'pkill -P $$ || true; rm -rf "$work"; rmdir "$group" 2>/dev/null || true' EXIT

pgpgin() { awk '/^pgpgin /{print $2}' /proc/vmstat; } # KiB
# Runs a command in the cgroup after dropping caches; sets $seconds and
# $read_mib.
measured() {
    sync
    echo 3 >/proc/sys/vm/drop_caches
    local start in_before; in_before=$(pgpgin); start=$(now)
    bash -c 'echo $$ >"$0/cgroup.procs"; exec "$@"' "$group" "$@" >/dev/null
    seconds=$(since "$start")
    read_mib=$((($(pgpgin) - in_before) / 1024))
}

source_dir=$work/card
mkdir -p "$source_dir"
for i in 1 2 3 4 5 6; do head -c 400M /dev/urandom >"$source_dir/MVI_000$i.MP4"; done
source_mib=2400

# ferry serve and rclone serve webdav, outside the cgroup.
serve "$work/served" "$work/serve.log"
serve_url=http://127.0.0.1:$port/files/
mkdir -p "$work/webdav"
rclone serve webdav "$work/webdav" --addr 127.0.0.1:39411 2>"$work/webdav.log" &
for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:39411/ && break; sleep 0.1; done

# One Garage node on fixed loopback ports.
garage_node "$work/garage" 39400 39401
export RCLONE_CONFIG_W_TYPE=webdav RCLONE_CONFIG_W_URL=http://127.0.0.1:39411/

declare -A reads times
add() { reads[$1]+="$read_mib "; times[$1]+="$seconds "; }
ferry_sync() { # name binary destination
    local journal=$work/journal-$RANDOM.jsonl
    measured "$2" --journal "$journal" sync "$source_dir" --to "$3" -q
    add "$1"
    rm -f "$journal"
}
clients=(ferry)
[ -n "$before" ] && clients+=(before)
binary() { case $1 in ferry) echo "$ferry" ;; before) echo "$before" ;; esac; }
for round in $(seq "$rounds"); do
    for client in "${clients[@]}"; do
        ferry_sync "$client-serve" "$(binary "$client")" "$serve_url$client-$round/"
        ferry_sync "$client-local" "$(binary "$client")" "$work/local-$client-$round"
        rm -rf "$work/local-$client-$round"
        ferry_sync "$client-s3" "$(binary "$client")" "s3://bench/$client-$round/"
    done
    measured rclone copy --transfers 4 "$source_dir" "w:rclone-$round"
    add rclone-serve
    measured rclone copy --transfers 4 "$source_dir" "$work/local-rclone-$round"
    add rclone-local
    rm -rf "$work/local-rclone-$round"
    measured rclone copy --transfers 4 "$source_dir" "g:bench/rclone-$round"
    add rclone-s3
done
# Every copy is whole: one of each kind compared with its source.
cmp "$source_dir/MVI_0003.MP4" "$work/served/ferry-1/MVI_0003.MP4"
cmp "$source_dir/MVI_0003.MP4" "$work/webdav/rclone-1/MVI_0003.MP4"
rclone cat g:bench/ferry-1/MVI_0003.MP4 | cmp - "$source_dir/MVI_0003.MP4"

echo "### 6 files of 400 MiB, page cache held to 512 MiB"
echo
echo "$(nproc) cores, $(df --output=fstype "$work" | tail -1) on a virtual disk; rclone $(rclone version | sed -n '1s/^rclone //p'); medians of $rounds rounds (all rounds in brackets)."
echo
echo "| destination | client | read from storage | × the source | seconds | rclone's time ÷ this |"
echo "|---|---|---|---|---|---|"
for kind in serve local s3; do
    read -ra rt <<<"${times[rclone-$kind]}"; rclone_s=$(median "${rt[@]}")
    for client in "${clients[@]}" rclone; do
        read -ra r <<<"${reads[$client-$kind]}"; read -ra t <<<"${times[$client-$kind]}"
        m=$(median "${r[@]}") s=$(median "${t[@]}")
        case $kind in
            serve) where=$([ "$client" = rclone ] && echo "rclone serve webdav" || echo "ferry serve") ;;
            local) where="local folder" ;;
            s3) where="S3 (Garage)" ;;
        esac
        name=$client; [ "$client" = before ] && name="ferry before"
        printf '| %s | %s | %s MiB (%s) | %s× | %s (%s) | %s |\n' "$where" "$name" \
            "$m" "${r[*]}" "$(echo "scale=2; $m / $source_mib" | bc)" "$s" "${t[*]}" \
            "$(ratio "$rclone_s" "$s")"
    done
done
echo

# 2. The first byte of a 20 GiB card.
sparse=$work/sparse
mkdir -p "$sparse"
for i in $(seq -w 1 50); do
    truncate -s 400M "$sparse/MVI_$i.MP4"
    head -c 4096 /dev/urandom | dd of="$sparse/MVI_$i.MP4" conv=notrunc status=none
done
first_byte() { # binary
    local journal=$work/journal-$RANDOM.jsonl start
    sync
    start=$(now)
    "$1" --journal "$journal" --json sync "$sparse" --to "${serve_url}sparse-$RANDOM/" 2>/dev/null |
        while read -r line; do
            case $line in *'"type":"phase"'*'"uploading"'*)
                since "$start"
                pkill -P $$ -f "$journal" 2>/dev/null || true
                break ;;
            esac
        done
    rm -f "$journal"
}
echo "### The first uploaded byte of a 20 GiB card"
echo
echo "50 sparse files of 400 MiB to ferry serve; seconds from the start of \`ferry sync --json\` to its first \`phase\` \"uploading\" event."
echo
echo "| build | seconds |"
echo "|---|---|"
echo "| ferry | $(first_byte "$ferry") |"
[ -n "$before" ] && echo "| ferry before | $(first_byte "$before") |"
true
