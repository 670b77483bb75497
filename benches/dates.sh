#!/usr/bin/env bash
# What reading capture dates costs a scan (issue 28), as Markdown for
# BENCHMARKS.md.
#
#   FERRY_BEFORE=/path/to/ferry bash benches/dates.sh
#
# FERRY_BEFORE is a build from before capture dates (5bb2519), which hashes
# the same files and reads no date: the difference between the two is what
# the dates cost. Every file is in the page cache; the tools take turns,
# three rounds, medians.
#
# 1. 10,000 JPEGs (a Pixel 8 Pro's EXIF from tests/fixtures/cameras, each
#    copy with its own bytes) and 200 MOVs (ffmpeg, each with its own
#    creation_time): `ferry scan`, the build before, and
#    `exiftool -fast -DateTimeOriginal -CreateDate` on the same files.
# 2. A card of 1,000 photos of 3 MiB and 10 videos of 200 MiB: a first
#    `ferry scan` (hashing included), with and without dates.
# 3. A rescan of that card, unchanged, under strace: how many of its files
#    were opened.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
ferry=$PWD/target/release/ferry
before=${FERRY_BEFORE:-}
rounds=${DATES_ROUNDS:-3}
for tool in exiftool ffmpeg strace bc; do
    if ! command -v "$tool" >/dev/null; then
        package=$tool
        [ "$tool" = exiftool ] && package=libimage-exiftool-perl
        apt-get install -y -qq "$package" >/dev/null
    fi
done
work=$(mktemp -d -p "${BENCH_DIR:-/var/tmp}")
trap 'rm -rf "$work"' EXIT
# shellcheck source=benches/common.sh
. benches/common.sh

python3 - "$work" tests/fixtures/cameras/Google.jpg <<'EOF'
import os, sys
work, base = sys.argv[1], open(sys.argv[2], "rb").read()
for n in range(10000):
    folder = os.path.join(work, "jpegs", f"{n // 1000:03}")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"PXL_{n:05}.jpg"), "wb") as f:
        f.write(base + os.urandom(16))
for n in range(1000):
    folder = os.path.join(work, "card", "DCIM", f"{100 + n // 250}CANON")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"IMG_{n:04}.JPG"), "wb") as f:
        f.write(base + os.urandom(3 << 20))
EOF
mkdir -p "$work/videos" "$work/card/DCIM/100VIDEO"
for n in $(seq 0 199); do
    day=$(printf '%02d' $((n % 28 + 1)))
    ffmpeg -loglevel error -f lavfi -i "testsrc=size=64x64:rate=5:duration=1" -c:v mjpeg \
        -metadata "creation_time=2024-03-${day}T12:00:$(printf '%02d' $((n % 60)))Z" \
        "$work/videos/CLIP_$(printf '%04d' "$n").mov"
done
for n in $(seq 0 9); do
    clip=$work/card/DCIM/100VIDEO/MVI_$(printf '%04d' "$n").MOV
    cp "$work/videos/CLIP_000$n.mov" "$clip"
    head -c 200M /dev/urandom >>"$clip"
done
cat "$work"/jpegs/*/* "$work"/videos/* "$work"/card/DCIM/*/* >/dev/null

timed() { # name command...: appends the seconds to the array named $1
    local name=$1; shift
    rm -f "$work"/*.jsonl*
    local start; start=$(now)
    "$@" >/dev/null 2>&1 || { echo "$name failed: $*" >&2; exit 1; }
    local took; took=$(since "$start")
    eval "$name+=($took)"
}

scan() { # binary folder
    "$1" --journal "$work/scan.jsonl" scan -q "$2" --to "$work/dest"
}

line() { # label files seconds...
    local label=$1 files=$2; shift 2
    local m; m=$(median "$@")
    printf '| %s | %.3f; %s | %s |\n' "$label" "$m" "$(printf '%.3f ' "$@")" \
        "$(echo "scale=0; $files / $m" | bc)"
}

echo "Capture dates: $(nproc) cores, files on $(df --output=fstype "$work" | tail -1), page-cached; $(exiftool -ver | sed 's/^/exiftool /')"
for set in jpegs videos; do
    files=$(find "$work/$set" -type f | wc -l)
    with=() without=() exif=()
    for _ in $(seq "$rounds"); do
        timed with scan "$ferry" "$work/$set"
        [ -n "$before" ] && timed without scan "$before" "$work/$set"
        timed exif exiftool -fast -q -r -DateTimeOriginal -CreateDate "$work/$set"
    done
    echo
    echo "### $files ${set/jpegs/JPEGs}"
    echo
    echo "| command | seconds (median; all rounds) | files/s |"
    echo "|---|---|---|"
    line "ferry scan (hash and date)" "$files" "${with[@]}"
    if [ -n "$before" ]; then
        line "ferry scan, the build before dates (hash only)" "$files" "${without[@]}"
        dates=$(echo "$(median "${with[@]}") - $(median "${without[@]}")" | bc)
        echo "| the dates alone (the difference of the medians) | $dates | $(echo "scale=0; $files / $dates" | bc 2>/dev/null || echo -) |"
    fi
    line "exiftool -fast -DateTimeOriginal -CreateDate" "$files" "${exif[@]}"
done

echo
echo "### A card: 1,000 photos of 3 MiB and 10 videos of 200 MiB (4.9 GiB)"
echo
with=() without=()
for _ in $(seq "$rounds"); do
    timed with scan "$ferry" "$work/card"
    [ -n "$before" ] && timed without scan "$before" "$work/card"
done
echo "| first scan | seconds (median; all rounds) |"
echo "|---|---|"
printf '| with dates | %.2f; %s |\n' "$(median "${with[@]}")" "$(printf '%.2f ' "${with[@]}")"
if [ -n "$before" ]; then
    printf '| the build before dates | %.2f; %s |\n' "$(median "${without[@]}")" "$(printf '%.2f ' "${without[@]}")"
    echo
    echo "Dates add $(echo "scale=1; ($(median "${with[@]}") - $(median "${without[@]}")) * 100 / $(median "${without[@]}")" | bc)% to the first scan."
fi

rm -f "$work"/*.jsonl*
scan "$ferry" "$work/card"
strace -f -e trace=open,openat,openat2 -o "$work/trace" "$ferry" --journal "$work/scan.jsonl" scan -q "$work/card" --to "$work/dest"
opened=$(grep -F "$work/card/" "$work/trace" | grep -vc O_DIRECTORY || true)
echo
echo "A rescan of the unchanged card opened $opened of its 1,010 files (strace -f, open/openat/openat2)."
