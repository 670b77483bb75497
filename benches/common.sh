# Helpers the upload benchmarks share; sourced after $ferry and $work are set.

# On a VM with free page reporting (Firecracker here, min_free_ms=0), memory
# freed by one round's cleanup goes back to the host at once, and the next
# tmpfs writes fault it in again from the host at about 200 MiB/s instead of
# 700: whichever client ran a few seconds after a cleanup was 3 to 6 times
# slower (measured: curl itself went from 1.4 s to 10 s per GiB). That was
# the unexplained 0.55x of benches/upload.sh. For the run, freed memory
# stays with the guest for a minute; release_freed_memory puts the
# settings back (call it from the EXIT trap). Without root, or on a machine
# without page reporting, this does nothing.
reporting=/sys/module/page_reporting/parameters
held_reporting=()
hold_freed_memory() {
    if [ -w "$reporting/min_free_ms" ] && [ -w "$reporting/max_waiting_mib" ]; then
        held_reporting=("$(cat "$reporting/min_free_ms")" "$(cat "$reporting/max_waiting_mib")")
        echo 60000 >"$reporting/min_free_ms"
        echo 8192 >"$reporting/max_waiting_mib"
    fi
}
release_freed_memory() {
    if [ ${#held_reporting[@]} = 2 ]; then
        echo "${held_reporting[0]}" >"$reporting/min_free_ms"
        echo "${held_reporting[1]}" >"$reporting/max_waiting_mib"
    fi
}

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
ratio() { echo "scale=2; $1 / $2" | bc; }
mib() { echo "scale=1; $1 / $2" | bc; }
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
files_per_s() { echo "scale=0; 1000 / $1" | bc; }

# Times `ferry upload` of the jobs `ferry scan $1 --to $2 ...` queued (the
# scan, which hashes, runs before and untimed); sets $seconds and $rss (MiB).
ferry_upload() {
    local source=$1 to=$2; shift 2
    local journal=$work/journal-$RANDOM.jsonl
    "$ferry" --journal "$journal" scan "$source" --to "$to" --all-files -q "$@"
    sync
    local start; start=$(now)
    /usr/bin/time -v -o "$work/time.txt" "$ferry" --journal "$journal" upload -q
    seconds=$(since "$start")
    rss=$(grep 'Maximum resident set size' "$work/time.txt" | awk '{printf "%.1f", $NF / 1024}')
}

# Starts `ferry serve` on a free port, storing in $1 and logging to $2,
# with any further arguments (--tls-cert ...); sets $port and $server (its
# PID).
serve() {
    local dir=$1 log=$2; shift 2
    "$ferry" serve --listen 127.0.0.1:0 --dir "$dir" "$@" 2>"$log" &
    server=$!
    for _ in $(seq 200); do
        port=$(grep -o 'https\?://127.0.0.1:[0-9]*' "$log" | head -1 | cut -d: -f3 || true)
        [ -n "$port" ] && return
        sleep 0.05
    done
    echo "ferry serve did not start" >&2
    exit 1
}

# Starts one Garage node ($garage) keeping its data in $1, its S3 API on
# port $2 and RPC on $3, with a bucket `bench` and a key for it; exports
# the AWS_* variables and an rclone remote `g:` for it.
garage_node() {
    local dir=$1 s3_port=$2 rpc_port=$3
    mkdir -p "$dir"
    cat >"$dir/garage.toml" <<EOF
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "lmdb"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc_port"
rpc_public_addr = "127.0.0.1:$rpc_port"
rpc_secret = "$(openssl rand -hex 32)"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$s3_port"
root_domain = ".s3.garage.localhost"
EOF
    "$garage" -c "$dir/garage.toml" server 2>"$dir/garage.log" &
    g() { "$garage" -c "$dir/garage.toml" "$@"; }
    for _ in $(seq 100); do g status >/dev/null 2>&1 && break; sleep 0.1; done
    local node key
    node=$(g status 2>/dev/null | awk '/^[0-9a-f]{16} /{print $1; exit}')
    g layout assign -z dc1 -c 10G "$node" >/dev/null
    g layout apply --version 1 >/dev/null
    g bucket create bench >/dev/null
    key=$(g key create bench)
    AWS_ACCESS_KEY_ID=$(echo "$key" | awk '/Key ID:/{print $3}')
    AWS_SECRET_ACCESS_KEY=$(echo "$key" | awk '/Secret key:/{print $3}')
    export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
    export AWS_REGION=garage AWS_DEFAULT_REGION=garage
    export AWS_ENDPOINT_URL=http://127.0.0.1:$s3_port
    g bucket allow --read --write --owner bench --key bench >/dev/null
    export RCLONE_CONFIG_G_TYPE=s3 RCLONE_CONFIG_G_PROVIDER=Other
    export RCLONE_CONFIG_G_ENDPOINT=$AWS_ENDPOINT_URL RCLONE_CONFIG_G_REGION=garage
    export RCLONE_CONFIG_G_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID
    export RCLONE_CONFIG_G_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
    export RCLONE_CONFIG_G_FORCE_PATH_STYLE=true
}
