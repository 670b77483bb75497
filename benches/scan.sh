#!/usr/bin/env bash
# Scanner benchmarks, printed as Markdown for BENCHMARKS.md.
#
#   bash benches/scan.sh [WORKDIR]
#
# 1. One 1 GiB file in the page cache: `ferry scan --dry-run` (which hashes
#    it) against `openssl dgst -sha256` and `sha256sum` on the same file,
#    interleaved, best of 5 each.
# 2. 200 files of 8 MiB: ferry's throughput against its single-file rate.
# 3. 100,000 small files: the first scan, then a rescan of the unchanged
#    tree (wall time, peak RSS, bytes hashed).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
ferry=$PWD/target/release/ferry
work=${1:-$(mktemp -d)}
mkdir -p "$work"
trap 'rm -rf "$work/one" "$work/many" "$work/tree" "$work"/*.jsonl*' EXIT

seconds() { # prints wall seconds of a command, output discarded
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
best() { sort -g | head -1; }
mib_per_s() { echo "scale=0; $1 / 1048576 / $2" | bc -l; }

mkdir -p "$work/one" "$work/many" "$work/tree"
head -c $((1 << 30)) /dev/urandom > "$work/one/big.mov"
cat "$work/one/big.mov" > /dev/null
f_times=() o_times=() s_times=()
for _ in 1 2 3 4 5; do
  f_times+=("$(seconds "$ferry" --journal "$work/none.jsonl" scan "$work/one" --to /tmp/x --dry-run)")
  o_times+=("$(seconds openssl dgst -sha256 "$work/one/big.mov")")
  s_times+=("$(seconds sha256sum "$work/one/big.mov")")
done
f=$(printf '%s\n' "${f_times[@]}" | best)
o=$(printf '%s\n' "${o_times[@]}" | best)
s=$(printf '%s\n' "${s_times[@]}" | best)
one_rate=$(mib_per_s $((1 << 30)) "$f")
echo "| 1 GiB file, page cache (best of 5) | wall s | MiB/s | ferry ÷ tool |"
echo "|---|---|---|---|"
printf '| ferry scan --dry-run | %.3f | %s | 1.00 |\n' "$f" "$one_rate"
printf '| openssl dgst -sha256 | %.3f | %s | %.2f |\n' "$o" "$(mib_per_s $((1 << 30)) "$o")" "$(echo "$o / $f" | bc -l)"
printf '| sha256sum | %.3f | %s | %.2f |\n' "$s" "$(mib_per_s $((1 << 30)) "$s")" "$(echo "$s / $f" | bc -l)"
echo
rm -rf "$work/one"

for i in $(seq 1 200); do head -c $((8 << 20)) /dev/urandom > "$work/many/$i.jpg"; done
cat "$work/many"/* > /dev/null
m_times=()
for _ in 1 2 3; do
  m_times+=("$(seconds "$ferry" --journal "$work/none.jsonl" scan "$work/many" --to /tmp/x --dry-run)")
done
m=$(printf '%s\n' "${m_times[@]}" | best)
many_rate=$(mib_per_s $((200 * 8 << 20)) "$m")
echo "| 200 files of 8 MiB (best of 3) | wall s | MiB/s | ÷ single-file rate |"
echo "|---|---|---|---|"
printf '| ferry scan --dry-run, %s cores | %.3f | %s | %.2f |\n' "$(nproc)" "$m" "$many_rate" "$(echo "$many_rate / $one_rate" | bc -l)"
echo
rm -rf "$work/many"

python3 - "$work/tree" <<'PY'
import os, sys
root = sys.argv[1]
for i in range(100_000):
    d = os.path.join(root, f"{i // 1000:03d}")
    if i % 1000 == 0:
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"IMG_{i:06d}.jpg"), "wb") as f:
        f.write(i.to_bytes(8, "little") * 64)
PY
journal=$work/tree.jsonl
first=$( { /usr/bin/time -f '%e %M' "$ferry" --json --journal "$journal" scan "$work/tree" --to http://127.0.0.1:8080/files | tail -1 > "$work/first.json"; } 2>&1 | tail -1)
rescan=$( { /usr/bin/time -f '%e %M' "$ferry" --json --journal "$journal" scan "$work/tree" --to http://127.0.0.1:8080/files | tail -1 > "$work/rescan.json"; } 2>&1 | tail -1)
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
echo "| 100,000 files of 512 B | wall s | peak RSS MiB | hashed files | hashed bytes | queued |"
echo "|---|---|---|---|---|---|"
for run in first rescan; do
  read -r secs kib <<< "${!run}"
  printf '| %s scan | %s | %.1f | %s | %s | %s |\n' "$run" "$secs" "$(echo "$kib / 1024" | bc -l)" \
    "$(field "$work/$run.json" hashed)" "$(field "$work/$run.json" hashed_bytes)" "$(field "$work/$run.json" queued)"
done
rm -f "$work"/first.json "$work"/rescan.json
