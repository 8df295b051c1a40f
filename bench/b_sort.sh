#!/bin/sh
# b_sort.sh -- dmr sort (TeraSort) against GNU sort, and the memory of the
# workers while it runs.
#
# Input: BENCH_SORT_MB MiB (default 1024) of 100-byte records from
# bin/dmr-gensort (seed BENCH_SEED, 8 files), made once and cached under
# $BENCH_CACHE, and read once (cat > /dev/null) before the runs, so every
# run reads it warm.
#
# A local cluster of 2 workers (2 task slots each). One dmr run not counted
# (warm-up), then BENCH_RUNS rounds (default 3) of, in alternating order:
#
#   dmr sort --input DIR --output OUT -R 4 -D sort_mb=128 -D reduce_mb=128 -q
#   LC_ALL=C sort -S 4G --parallel=2 DIR/* > FILE
#
# timed around each command (date +%s%3N). Outside the timing, every dmr
# output is checked with `dmr sort --validate-only` (order within and across
# parts; count and CRC32 sum against the input) and the first one is also
# compared byte for byte with GNU sort's output. Target: median dmr / GNU
# sort <= 0.75.
#
# Memory: during the counted dmr runs the resident set of each worker
# together with the task processes it runs (its child processes) is sampled
# every 0.1 s from /proc; the peak of that sum over the workers is the
# worker's peak RSS. Target: <= 400 MiB with sort_mb=128 reduce_mb=128.
#
# Environment: BENCH_SORT_MB (1024), BENCH_RUNS (3), BENCH_SEED (1),
# BENCH_SORT_R (4).
. "$(dirname "$0")/lib.sh"

MB=${BENCH_SORT_MB:-1024}
RUNS=${BENCH_RUNS:-3}
SEED=${BENCH_SEED:-1}
R=${BENCH_SORT_R:-4}
TARGET_RATIO=0.75
TARGET_RSS_MB=400
GENSORT=$DMR_BIN/dmr-gensort
[ -x "$GENSORT" ] || fail "$GENSORT missing; build first (make all)"

report_header "sort: dmr sort (TeraSort) against GNU sort; worker memory"
say "params   BENCH_SORT_MB=$MB BENCH_RUNS=$RUNS BENCH_SEED=$SEED BENCH_SORT_R=$R"

# The records, cached by size, seed and the generator's source.
gen=$(cksum < "$REPO/bench/gensort.c" | cut -d' ' -f1)
key=records-${MB}m-seed$SEED-gen$gen
DATA=$CACHE/$key/in
if [ ! -f "$CACHE/$key/complete" ]; then
    mkdir -p "$CACHE"
    CACHE_TMP=$(mktemp -d "$CACHE/.$key.XXXXXX")
    note "generating $MB MiB of records in $CACHE/$key"
    "$GENSORT" --bytes $((MB * 1048576)) --seed "$SEED" --files 8 \
        --dir "$CACHE_TMP/in" || fail "dmr-gensort"
    touch "$CACHE_TMP/complete"
    mv -T "$CACHE_TMP" "$CACHE/$key" 2>/dev/null || rm -rf "$CACHE_TMP"
    CACHE_TMP=""
fi
cat "$DATA"/* > /dev/null
records=$(($(cat "$DATA"/* | wc -c) / 100))
say "input    $records records in $DATA"

cluster_up c 2

# rss_tree PID: KiB resident in PID and its child processes.
rss_tree() {
    for p in "$1" $(ps -o pid= --ppid "$1" 2>/dev/null); do
        awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null
    done | awk '{s += $1} END {print s + 0}'
}

# sample_rss OUT: until $W/stop appears, the largest worker tree RSS.
sample_rss() {
    peak=0
    while [ ! -f "$W/stop" ]; do
        for w in $(awk '$1 ~ /^worker/ {print $2}' "$ST/pids"); do
            r=$(rss_tree "$w")
            [ "$r" -gt "$peak" ] && peak=$r
        done
        sleep 0.1
    done
    echo "$peak" > "$1"
}

run_dmr() { # run_dmr OUT: one dmr sort, its wall ms on stdout
    t0=$(now_ms)
    "$DMR" sort --master "$EP" --input "$DATA" --output "$1" -R "$R" \
        -D sort_mb=128 -D reduce_mb=128 --overwrite -q >"$W/dmr.out" 2>&1 ||
        { cat "$W/dmr.out" >&2; fail "dmr sort"; }
    echo $(($(now_ms) - t0))
}

run_gnu() { # run_gnu OUT
    t0=$(now_ms)
    LC_ALL=C sort -S 4G --parallel=2 "$DATA"/* > "$1" || fail "GNU sort"
    echo $(($(now_ms) - t0))
}

note "warm-up run"
run_dmr "$W/out" > /dev/null
: > "$W/dmr.ms"
: > "$W/gnu.ms"
: > "$W/rss.kb"
for i in $(seq 1 "$RUNS"); do
    for which in dmr gnu; do
        [ $((i % 2)) -eq 0 ] && which=$([ $which = dmr ] && echo gnu || echo dmr)
        if [ $which = dmr ]; then
            rm -f "$W/stop"
            sample_rss "$W/rss.$i" &
            BG_PIDS="$BG_PIDS $!"
            ms=$(run_dmr "$W/out")
            touch "$W/stop"
            wait
            cat "$W/rss.$i" >> "$W/rss.kb"
            echo "$ms" >> "$W/dmr.ms"
            note "round $i: dmr sort ${ms} ms, worker peak $(cat "$W/rss.$i") KiB"
            "$DMR" sort --master "$EP" --input "$DATA" --output "$W/out" \
                --validate-only > "$W/valid.txt" ||
                { cat "$W/valid.txt" >&2; fail "dmr sort output not valid"; }
        else
            ms=$(run_gnu "$W/gnu.txt")
            echo "$ms" >> "$W/gnu.ms"
            note "round $i: GNU sort ${ms} ms"
        fi
    done
    if [ "$i" -eq 1 ]; then
        cat "$W/out"/part-* | cmp -s - "$W/gnu.txt" ||
            fail "dmr sort's output differs from GNU sort's"
    fi
done
cluster_down

set -- $(stats "$W/dmr.ms")
dmin=$1 dmed=$2 dmax=$3
set -- $(stats "$W/gnu.ms")
gmin=$1 gmed=$2 gmax=$3
rss=$(sort -n "$W/rss.kb" | tail -n 1)
ratio=$(awk -v a="$dmed" -v b="$gmed" 'BEGIN { printf "%.2f", a / b }')
rv=$(awk -v r="$ratio" -v t="$TARGET_RATIO" 'BEGIN { print (r <= t) ? "PASS" : "FAIL" }')
mv_=$(awk -v k="$rss" -v t="$TARGET_RSS_MB" 'BEGIN { print (k / 1024 <= t) ? "PASS" : "FAIL" }')

results_begin
say "input: $records records ($MB MiB), dmr sort -R $R -D sort_mb=128 -D reduce_mb=128 on 2 workers"
say "                 runs   min_ms  median_ms   max_ms"
say "$(printf 'dmr sort        %4d %8d %10d %8d' "$RUNS" "$dmin" "$dmed" "$dmax")"
say "$(printf 'GNU sort        %4d %8d %10d %8d' "$RUNS" "$gmin" "$gmed" "$gmax")"
say "dmr / GNU sort = $ratio (target <= $TARGET_RATIO): $rv"
say "peak RSS of a worker with its tasks: $((rss / 1024)) MiB (target <= $TARGET_RSS_MB MiB): $mv_"
say "every dmr output validated (order and CRC32 sum against the input); the first equals GNU sort's byte for byte"
results_end
verdict=FAIL
[ "$rv" = PASS ] && [ "$mv_" = PASS ] && verdict=PASS
target_met "$verdict"
