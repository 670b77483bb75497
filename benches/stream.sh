#!/usr/bin/env bash
# The upload stream alone: ferry against curl making the same IETF requests
# (a POST with Repr-Digest, then one PATCH of the whole file) to one fresh
# `ferry serve` per size, sources and server folder in tmpfs.
#
#   bash benches/stream.sh            # 5 rounds at 256 MiB and at 1 GiB
#   ROUNDS=3 SIZES=64 bash benches/stream.sh
#   SCHEMES="http https" bash benches/stream.sh   # also over TLS
#
# With https, serve gets a certificate from a CA made here by openssl (EC
# P-256, as a Let's Encrypt ECDSA certificate), curl `--cacert` and ferry
# `--ca-cert`, over TLS 1.3; curl picks HTTP/2, ferry speaks HTTP/1.1.
# The last line compares each client's median time over TLS with plain HTTP.
#
# The clients take turns, round by round. Each timed client is one process
# under /usr/bin/time, whose user + sys seconds give its CPU per GiB. ferry's
# scan (which hashes) runs before, untimed, as an earlier `ferry scan` would.
# Prints Markdown for BENCHMARKS.md with every round listed.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
ferry=${FERRY:-$PWD/target/release/ferry}
rounds=${ROUNDS:-5}
sizes=${SIZES:-256 1024}
schemes=${SCHEMES:-http}

work=$(mktemp -d -p /dev/shm)
# shellcheck source=benches/common.sh
. benches/common.sh
hold_freed_memory
trap 'pkill -P $$ || true; rm -rf "$work"; release_freed_memory' EXIT

# The server's CPU seconds so far (user + sys, from /proc).
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$server/stat"; }

# Runs a command under /usr/bin/time; sets $seconds, $cpu (its user + sys)
# and $served (the server's CPU seconds meanwhile).
timed() {
    sync
    local start before; start=$(now) before=$(server_cpu)
    /usr/bin/time -f '%U %S' -o "$work/time.txt" "$@"
    seconds=$(since "$start")
    served=$(echo "$(server_cpu) - $before" | bc)
    cpu=$(awk '{ print $1 + $2 }' "$work/time.txt")
}

# A CA and a certificate for 127.0.0.1, for the https rounds.
certs() {
    local dir=$work/certs
    mkdir -p "$dir"
    local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    openssl req -x509 "${ec[@]}" -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 2 \
        -subj "/CN=bench CA" -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign 2>/dev/null
    openssl req "${ec[@]}" -keyout "$dir/key.pem" -out "$dir/leaf.csr" -subj /CN=127.0.0.1 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$dir/leaf.ext"
    openssl x509 -req -in "$dir/leaf.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -CAcreateserial -out "$dir/cert.pem" -days 2 -extfile "$dir/leaf.ext" 2>/dev/null
}
certs
declare -A medians

# An untimed warm-up round per size faults in the memory the timed rounds
# reuse (see hold_freed_memory in benches/common.sh).
for scheme in $schemes; do
if [ "$scheme" = https ]; then
    serve_tls=(--tls-cert "$work/certs/cert.pem" --tls-key "$work/certs/key.pem")
    curl_tls=(--cacert "$work/certs/ca.pem")
    ferry_tls=(--ca-cert "$work/certs/ca.pem")
else
    serve_tls=() curl_tls=() ferry_tls=()
fi
export curl_tls_args="${curl_tls[*]}"
for mib_size in $sizes; do
    bytes=$((mib_size << 20))
    mkdir -p "$work/src"
    head -c "$bytes" /dev/urandom >"$work/src/video.mov"
    digest=$(openssl dgst -sha256 -binary "$work/src/video.mov" | base64)
    serve "$work/dest" "$work/serve.log" "${serve_tls[@]}"

    curl_s=() curl_cpu=() curl_srv=() ferry_s=() ferry_cpu=() ferry_srv=()
    for round in warm-up $(seq "$rounds"); do
        # Both of curl's requests are timed, as both of ferry's are; the
        # shell that joins them is counted in curl's CPU time (about 2 ms).
        export bytes digest port round scheme src=$work/src/video.mov
        # shellcheck disable=SC2086 # curl_tls_args is empty or two words
        timed bash -c 'url=$(curl $curl_tls_args -sf -D - -o /dev/null -X POST \
                -H "Upload-Draft-Interop-Version: 8" -H "Upload-Complete: ?0" \
                -H "Upload-Length: $bytes" -H "Repr-Digest: sha-256=:$digest:" \
                "$scheme://127.0.0.1:$port/files/curl-$round/video.mov" |
                grep -i "^location:" | tr -d "\r" | cut -d" " -f2)
            [[ $url == /* ]] && url="$scheme://127.0.0.1:$port$url"
            curl $curl_tls_args -sf -o /dev/null -X PATCH -T "$src" \
                -H "Upload-Draft-Interop-Version: 8" -H "Upload-Complete: ?1" \
                -H "Upload-Offset: 0" -H "Content-Type: application/partial-upload" "$url"'
        [ "$round" = warm-up ] || curl_s+=("$seconds") curl_cpu+=("$cpu") curl_srv+=("$served")
        cmp "$work/src/video.mov" "$work/dest/curl-$round/video.mov"

        journal=$work/journal-$round.jsonl
        "$ferry" --journal "$journal" scan "$work/src" \
            --to "$scheme://127.0.0.1:$port/files/ferry-$round/" -q
        timed "$ferry" --journal "$journal" upload -q "${ferry_tls[@]}"
        [ "$round" = warm-up ] || ferry_s+=("$seconds") ferry_cpu+=("$cpu") ferry_srv+=("$served")
        cmp "$work/src/video.mov" "$work/dest/ferry-$round/video.mov"
        rm -rf "$work/dest"/*
    done
    kill "$server"
    wait "$server" 2>/dev/null || true
    rm -rf "$work/src" "$work/dest"

    c=$(median "${curl_s[@]}") f=$(median "${ferry_s[@]}")
    cc=$(median "${curl_cpu[@]}") fc=$(median "${ferry_cpu[@]}")
    gib=$(echo "scale=4; $mib_size / 1024" | bc)
    medians[$scheme-$mib_size]="$c $f"
    echo "### $mib_size MiB, $rounds rounds, $scheme"
    echo
    echo "| round | curl s | ferry s | curl CPU s | ferry CPU s | server CPU s (curl) | server CPU s (ferry) |"
    echo "|---|---|---|---|---|---|---|"
    for i in $(seq 0 $((rounds - 1))); do
        printf '| %d | %.3f | %.3f | %.2f | %.2f | %.2f | %.2f |\n' $((i + 1)) "${curl_s[$i]}" \
            "${ferry_s[$i]}" "${curl_cpu[$i]}" "${ferry_cpu[$i]}" "${curl_srv[$i]}" "${ferry_srv[$i]}"
    done
    printf '| **median** | **%.3f** | **%.3f** | **%.2f** | **%.2f** | **%.2f** | **%.2f** |\n' \
        "$c" "$f" "$cc" "$fc" "$(median "${curl_srv[@]}")" "$(median "${ferry_srv[@]}")"
    echo
    printf "ferry's throughput ÷ curl's: **%.2f×**" "$(ratio "$c" "$f")"; echo " ($(mib "$mib_size" "$f") vs $(mib "$mib_size" "$c") MiB/s)."
    printf "Client CPU per GiB (user + sys): ferry %.2f s, curl %.2f s.\n" "$(echo "scale=3; $fc / $gib" | bc)" "$(echo "scale=3; $cc / $gib" | bc)"
    echo
done
done

if [[ $schemes == *https* && $schemes == *http\ * ]]; then
    for mib_size in $sizes; do
        read -r ch fh <<<"${medians[http-$mib_size]}"
        read -r cs fs <<<"${medians[https-$mib_size]}"
        printf "%s MiB over TLS ÷ plain HTTP, median time: ferry **%.2f×**, curl **%.2f×**.\n" \
            "$mib_size" "$(ratio "$fs" "$fh")" "$(ratio "$cs" "$ch")"
    done
fi
