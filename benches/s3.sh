#!/usr/bin/env bash
# S3: ferry against rclone and the AWS CLI on the same work, to the same
# single Garage node, in one run, all on 127.0.0.1.
#
#   bash benches/s3.sh        # prints Markdown tables for BENCHMARKS.md
#
# 1. One 1 GiB file: a single `curl --aws-sigv4` PUT (the store's own limit
#    for one request), `rclone copy --transfers 4` (Debian's rclone, S3
#    backend), `aws s3 cp --recursive` (PyPI awscli), `ferry upload`
#    (multipart, 8 MiB parts, 4 at once). Three rounds, taking turns; medians.
# 2. 1,000 files of 256 KiB: the same three clients, three rounds, medians.
# 3. Peak RSS of `ferry upload` while sending a 4 GiB file.
#
# Sources are in tmpfs; Garage's data is on disk. Every upload goes to a new
# prefix, so nothing is skipped as already there. ferry's times are
# `ferry upload` alone: the scan that hashes the files runs before, untimed,
# as it would have in an earlier `ferry scan` (the others hash as they send:
# rclone MD5, the AWS CLI its checksums). Every timed run starts after `sync`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
ferry=$PWD/target/release/ferry
garage=${FERRY_TEST_CACHE:-$HOME/.cache/ferry-test-peers}/garage-2.5.0/bin/garage
if [ ! -x "$garage" ]; then
    cargo install --locked --quiet garage@2.5.0 --no-default-features \
        --features bundled-libs,lmdb --root "$(dirname "$(dirname "$garage")")"
fi
command -v rclone >/dev/null || apt-get install -y -qq rclone >/dev/null
command -v aws >/dev/null || pip install --quiet awscli
unset AWS_CA_BUNDLE # rclone 1.60 fails on any endpoint when it is set

work=$(mktemp -d -p /dev/shm)
disk=$(mktemp -d)
# shellcheck source=benches/common.sh
. benches/common.sh
hold_freed_memory
trap 'pkill -P $$ || true; rm -rf "$work" "$disk"; release_freed_memory' EXIT

# One Garage node on fixed loopback ports, set up with the garage command.
garage_node "$disk/garage" 39300 39301

timed() {
    sync
    local start; start=$(now)
    "$@" >/dev/null
    seconds=$(since "$start")
}
objects() { aws s3 ls --recursive "s3://bench/$1" | wc -l; }

mkdir -p "$work/big" "$work/small"
head -c 1G /dev/urandom >"$work/big/big.mov"
for i in $(seq -w 1 1000); do head -c 256K /dev/urandom >"$work/small/IMG_$i.jpg"; done

curl_all=() rclone_all=() aws_all=() ferry_all=()
rclone_small=() aws_small=() ferry_small=()
for round in 1 2 3; do
    timed curl -sSf --aws-sigv4 "aws:amz:garage:s3" \
        --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
        -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
        -T "$work/big/big.mov" "$AWS_ENDPOINT_URL/bench/curl-$round/big.mov"
    curl_all+=("$seconds")
    timed rclone copy --transfers 4 "$work/big" "g:bench/rclone-$round" -q
    rclone_all+=("$seconds")
    timed aws s3 cp --recursive --quiet "$work/big" "s3://bench/aws-$round/"
    aws_all+=("$seconds")
    ferry_upload "$work/big" "s3://bench/ferry-$round/"
    ferry_all+=("$seconds")
    [ "$(objects "ferry-$round/")" = 1 ]

    timed rclone copy --transfers 4 "$work/small" "g:bench/rclone-small-$round" -q
    rclone_small+=("$seconds")
    timed aws s3 cp --recursive --quiet "$work/small" "s3://bench/aws-small-$round/"
    aws_small+=("$seconds")
    ferry_upload "$work/small" "s3://bench/ferry-small-$round/"
    ferry_small+=("$seconds")
    [ "$(objects "ferry-small-$round/")" = 1000 ]
done
aws s3 cp --quiet s3://bench/ferry-1/big.mov "$disk/back.mov"
cmp "$work/big/big.mov" "$disk/back.mov" && rm "$disk/back.mov"

curl_s=$(median "${curl_all[@]}")
rclone_s=$(median "${rclone_all[@]}")
aws_s=$(median "${aws_all[@]}")
ferry_s=$(median "${ferry_all[@]}")
echo "### One 1 GiB file to one Garage node"
echo
echo "Median of three rounds (all rounds: curl ${curl_all[*]}; rclone ${rclone_all[*]}; AWS CLI ${aws_all[*]}; ferry ${ferry_all[*]} s)."
echo
echo "| client | seconds | MiB/s | ferry's throughput ÷ this |"
echo "|---|---|---|---|"
echo "| curl --aws-sigv4, one PUT (the store's limit) | $curl_s | $(mib 1024 "$curl_s") | $(ratio "$curl_s" "$ferry_s") |"
echo "| rclone $(rclone version | head -1 | cut -d' ' -f2) copy --transfers 4 | $rclone_s | $(mib 1024 "$rclone_s") | $(ratio "$rclone_s" "$ferry_s") |"
echo "| $(aws --version 2>&1 | cut -d' ' -f1) s3 cp --recursive | $aws_s | $(mib 1024 "$aws_s") | $(ratio "$aws_s" "$ferry_s") |"
echo "| ferry upload (multipart, 8 MiB parts, 4 at once) | $ferry_s | $(mib 1024 "$ferry_s") | 1 |"
echo

rclone_m=$(median "${rclone_small[@]}")
aws_m=$(median "${aws_small[@]}")
ferry_m=$(median "${ferry_small[@]}")
echo "### 1,000 files of 256 KiB to one Garage node"
echo
echo "Median of three rounds (all rounds: rclone ${rclone_small[*]}; AWS CLI ${aws_small[*]}; ferry ${ferry_small[*]} s)."
echo
echo "| client | seconds | files/s | ferry's files/s ÷ this |"
echo "|---|---|---|---|"
echo "| rclone copy --transfers 4 | $rclone_m | $(files_per_s "$rclone_m") | $(ratio "$rclone_m" "$ferry_m") |"
echo "| AWS CLI s3 cp --recursive | $aws_m | $(files_per_s "$aws_m") | $(ratio "$aws_m" "$ferry_m") |"
echo "| ferry upload (PutObject, -j 4) | $ferry_m | $(files_per_s "$ferry_m") | 1 |"
echo
rm -rf "$work/big" "$work/small"

# 3. Memory on a 4 GiB file.
mkdir -p "$work/huge"
head -c 4G /dev/urandom >"$work/huge/huge.mov"
ferry_upload "$work/huge" "s3://bench/huge/"
echo "### Memory"
echo
echo "ferry upload of a 4 GiB file to Garage: peak RSS $rss MiB ($seconds s)."
