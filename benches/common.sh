# Helpers the upload benchmarks share; sourced after $ferry and $work are set.

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
ratio() { echo "scale=2; $1 / $2" | bc; }
mib() { echo "scale=1; $1 / $2" | bc; }
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
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
