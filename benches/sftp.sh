#!/usr/bin/env bash
# SFTP to a loopback OpenSSH sshd: ferry against rclone's SFTP backend, scp
# and sftp -b on the same files, in one run, the tools taking turns.
#
#   bash benches/sftp.sh            # Markdown for BENCHMARKS.md
#   SFTP_ROUNDS=5 bash benches/sftp.sh
#   FERRY_BEFORE=/path/to/old/ferry bash benches/sftp.sh   # one row more
#   SFTP_RATE=200M bash benches/sftp.sh   # the 1 GiB file only, every tool
#                                         # held to 200 MB/s (a network's pace)
#   SFTP_SMALL=no bash benches/sftp.sh    # the 1 GiB file only
#
# 1. One file of 1 GiB. 2. 1,000 files of 256 KiB in 10 folders.
# ferry is timed twice: `ferry sync` whole (the scan that hashes the
# source, the upload, the server's SHA-256 of each file), and `ferry upload`
# of jobs a scan queued before (untimed). rclone copy runs with
# --transfers 4 (ferry's -j 4) and checks each file's hash on the server
# after the upload, as it does by default; scp and sftp check nothing.
# scp runs twice: with OpenSSH's default cipher (ChaCha20-Poly1305), and
# with AES-GCM, the one ferry's ssh offers first on a CPU with AES; and a
# third time followed by `sync` (the server is this machine), since ferry
# waits for fsync@openssh.com before it calls a file uploaded and scp
# leaves its bytes in the server's page cache.
# The sshd runs as root with a key made here; every client reads the same
# ssh_config (ferry through FERRY_SSH_CONFIG). Medians of the rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
ferry=$PWD/target/release/ferry
rounds=${SFTP_ROUNDS:-3}
before=${FERRY_BEFORE:-}
rate=${SFTP_RATE:-}
# Each tool's own limit: ferry's and rclone's in bytes per second, scp's
# and sftp's in Kbit/s.
ferry_limit=() rclone_limit=() ssh_limit=()
if [ -n "$rate" ]; then
    bytes=$(numfmt --from=si "$rate")
    ferry_limit=(--bwlimit "$rate") rclone_limit=(--bwlimit "$rate")
    ssh_limit=(-l "$((bytes * 8 / 1000))")
fi
for tool in rclone bc; do
    command -v "$tool" >/dev/null || apt-get install -y -qq "$tool" >/dev/null
done
[ -x /usr/sbin/sshd ] || apt-get install -y -qq openssh-server >/dev/null
rclone_version=$(rclone version 2>/dev/null | sed -n '1s/^rclone //p')
ssh_version=$(ssh -V 2>&1)

work=$(mktemp -d -p "${BENCH_DIR:-/var/tmp}")
# shellcheck source=benches/common.sh
. benches/common.sh
keys=$(mktemp -d -p /var/lib)
hold_freed_memory
trap 'kill "$(cat "$keys/sshd.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work" "$keys"; release_freed_memory' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ssh-keygen -q -t ed25519 -N "" -f "$keys/host_key"
ssh-keygen -q -t ed25519 -N "" -f "$keys/user_key"
cp "$keys/user_key.pub" "$keys/authorized_keys"
mkdir -p /run/sshd
cat >"$keys/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $keys/host_key
PidFile $keys/sshd.pid
AuthorizedKeysFile $keys/authorized_keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
MaxSessions 100
Subsystem sftp internal-sftp
EOF
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$keys/host_key.pub")" >"$keys/known_hosts"
cat >"$keys/ssh_config" <<EOF
Host 127.0.0.1
  User $(id -un)
  Port $port
  IdentityFile $keys/user_key
  IdentitiesOnly yes
  IdentityAgent none
  UserKnownHostsFile $keys/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
EOF
/usr/sbin/sshd -f "$keys/sshd_config"
sleep 0.5
export FERRY_SSH_CONFIG=$keys/ssh_config
rclone_remote=":sftp,host=127.0.0.1,port=$port,user=$(id -un),key_file=$keys/user_key,known_hosts_file=$keys/known_hosts:"

mkdir -p "$work/big" "$work/small"
head -c 1G /dev/urandom >"$work/big/clip.mov"
python3 - "$work/small" <<'EOF'
import os, sys
for n in range(1000):
    folder = os.path.join(sys.argv[1], f"{n % 10:02}")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"IMG_{n:04}.jpg"), "wb") as f:
        f.write(os.urandom(256 << 10))
EOF

timed() { # name command...: appends the seconds to the array named $1
    local name=$1; shift
    rm -rf "$work/out"; mkdir -p "$work/out"; sync
    local start; start=$(now)
    "$@" >/dev/null 2>&1 || { echo "$name failed: $*" >&2; exit 1; }
    local took; took=$(since "$start")
    eval "$name+=($took)"
}

queued_upload() { # name binary source: times the upload of jobs a scan queued
    local journal=$work/j-$RANDOM.jsonl
    rm -rf "$work/out"; mkdir -p "$work/out"
    "$2" --journal "$journal" scan -q --all-files "$3" --to "sftp://127.0.0.1:$port$work/out/"
    timed "$1" "$2" --journal "$journal" upload -q -j 4 "${ferry_limit[@]}"
}

bench() { # source folder; prints a Markdown table
    local source=$1 names=(ferry_sync ferry_upload rclone scp scp_gcm scp_then_sync sftp)
    [ -n "$before" ] && names+=(ferry_before_upload)
    ferry_sync=() ferry_upload=() ferry_before_upload=() rclone=() scp=() scp_gcm=() scp_then_sync=() sftp=()
    for _ in $(seq "$rounds"); do
        timed ferry_sync "$ferry" --journal "$work/j-$RANDOM.jsonl" sync -q -j 4 --all-files \
            "${ferry_limit[@]}" "$source" --to "sftp://127.0.0.1:$port$work/out/"
        queued_upload ferry_upload "$ferry" "$source"
        [ -n "$before" ] && queued_upload ferry_before_upload "$before" "$source"
        timed rclone rclone copy --transfers 4 "${rclone_limit[@]}" "$source" "$rclone_remote$work/out"
        timed scp scp -q -r "${ssh_limit[@]}" -F "$keys/ssh_config" "$source" "127.0.0.1:$work/out/"
        timed scp_gcm scp -q -r "${ssh_limit[@]}" -c aes128-gcm@openssh.com -F "$keys/ssh_config" "$source" "127.0.0.1:$work/out/"
        timed scp_then_sync sh -c "scp -q -r ${ssh_limit[*]} -F '$keys/ssh_config' '$source' '127.0.0.1:$work/out/' && sync"
        timed sftp sh -c "printf 'put -r %s %s\n' '$source' '$work/out/' | sftp -q ${ssh_limit[*]} -F '$keys/ssh_config' -b - 127.0.0.1"
    done
    local scp_median; scp_median=$(median "${scp[@]}")
    local rclone_median; rclone_median=$(median "${rclone[@]}")
    echo "| tool | seconds (median of $rounds) | rounds | scp's time ÷ this | rclone's time ÷ this |"
    echo "|---|---|---|---|---|"
    for name in "${names[@]}"; do
        eval "local values=(\"\${$name[@]}\")"
        local m; m=$(median "${values[@]}")
        printf '| %s | %.2f | %s | %s× | %s× |\n' "$name" "$m" "$(printf '%.2f ' "${values[@]}")" \
            "$(ratio "$scp_median" "$m")" "$(ratio "$rclone_median" "$m")"
    done
}

echo "SFTP to a loopback sshd ($ssh_version; rclone $rclone_version), $(nproc) cores, files on $(df --output=fstype "$work" | tail -1)"
echo
echo "### One file of 1 GiB${rate:+, every tool held to $rate/s}"
echo
bench "$work/big"
[ -n "$rate" ] || [ "${SFTP_SMALL:-yes}" = no ] && exit 0
echo
echo "### 1,000 files of 256 KiB"
echo
bench "$work/small"
