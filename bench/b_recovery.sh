#!/bin/sh
# b_recovery.sh -- recovery overhead: how much longer does a job take when
# a worker dies in the middle of its map phase?
#
# A generated 256 MiB corpus (BENCH_MB; made once and cached with its
# reference word count under $BENCH_CACHE, default /tmp/dmr-bench-cache)
# and a local cluster of 3 workers (2 slots each, the default heartbeat
# 250 ms and dead-after 2000 ms) run
#
#   dmr submit wordcount --input CORPUS --output OUT -R 4 -D split_mb=8 -q
#
# First a warm-up run, then an undisturbed calibration run (neither is
# counted) that measures the map phase: from just before the submit to the
# end of the last successful map attempt in `dmr status`. Then BENCH_RUNS pairs (default 3) of runs, one
# without a kill and one in which a worker (worker-1, -2, -3 in turn) is
# killed with `kill -9` at BENCH_KILL_AT percent (default 50) of that map
# phase after the submit; the order within a pair alternates (plain first,
# then killed first). Wall time is measured around the submit, which
# returns when the job ends. Between runs the killed worker is started
# again (dmr cluster start) and the next run waits until the master has
# registered it and until the task processes of the killed worker are
# gone, so every run starts with 3 workers and an otherwise idle machine.
#
# Every output is compared with the reference word count (computed once
# with tr/sort/uniq); any difference fails the benchmark loudly. For the
# killed runs the report shows what `dmr status` says was re-executed
# (the "worker wN lost ...: re-running ..." event, attempts per task) and
# how long the master took to declare the worker lost.
#
# Target: median(kill) / median(no kill) <= 1.5.
#
# Environment: BENCH_MB (256), BENCH_RUNS (3), BENCH_KILL_AT (50),
# BENCH_SEED (1), BENCH_FILES (8), BENCH_SPLIT_MB (8), BENCH_REDUCES (4).
. "$(dirname "$0")/lib.sh"

MB=${BENCH_MB:-256}
RUNS=${BENCH_RUNS:-3}
KILL_AT=${BENCH_KILL_AT:-50}
SEED=${BENCH_SEED:-1}
FILES=${BENCH_FILES:-8}
SPLIT=${BENCH_SPLIT_MB:-8}
R=${BENCH_REDUCES:-4}
TARGET=1.5

report_header "recovery overhead (wordcount with one worker killed at $KILL_AT% of the map phase)"
say "params   BENCH_MB=$MB BENCH_RUNS=$RUNS BENCH_KILL_AT=$KILL_AT BENCH_SEED=$SEED BENCH_FILES=$FILES BENCH_SPLIT_MB=$SPLIT BENCH_REDUCES=$R"

corpus "$MB" "$SEED" "$FILES"
say "corpus   $CORPUS ($FILES files, $(du -sm "$CORPUS" | cut -f1) MiB; reference: $(wc -l < "$REF") distinct words)"
say "cluster  \$ dmr cluster up -n 3 --state \$W/cluster"
cluster_up cluster 3
say "job      \$ dmr submit wordcount --input $CORPUS --output OUT -R $R -D split_mb=$SPLIT -q"

JOB=0

# submit OUT: starts the job in the background; sets SUBMIT_PID, T0.
submit() {
    JOB=$((JOB + 1))
    T0=$(now_ms)
    "$DMR" submit wordcount --input "$CORPUS" --output "$1" -R "$R" \
        -D split_mb="$SPLIT" -q --master "$EP" &
    SUBMIT_PID=$!
    BG_PIDS=$SUBMIT_PID
}

# finish OUT WHAT: waits for the job, checks it and its output; sets WALL
# (ms) and STATUS (the `dmr status` of the job).
finish() {
    rc=0
    wait "$SUBMIT_PID" || rc=$?
    WALL=$(($(now_ms) - T0))
    BG_PIDS=""
    STATUS=$W/status-$JOB.txt
    "$DMR" status "$JOB" --master "$EP" > "$STATUS" || true
    [ "$rc" -eq 0 ] || {
        cat "$STATUS" >&2
        fail "$2: dmr submit exited with $rc"
    }
    head -n 1 "$STATUS" | grep -q "^job $JOB  wordcount  succeeded" ||
        fail "$2: dmr status $JOB: $(head -n 1 "$STATUS")"
    check_output "$1" "$2"
    rm -rf "$1"
}

# attempts: the attempts listed in $STATUS, as "kind task att worker start
# end outcome" lines (columns found by their names in the header).
attempts() {
    awk '/^attempts/ { on = 1; getline; for (i = 1; i <= NF; i++) col[$i] = i; next }
        on && NF >= 7 {
            print $col["kind"], $col["task"], $col["att"], $col["worker"],
                  $col["start"], $col["end"], $col["outcome"]
        }' "$STATUS"
}

# map_end_ms: when the last successful map attempt of $STATUS ended.
map_end_ms() {
    end=0
    for c in $(attempts | awk '$1 == "map" && $7 == "ok" { print $6 }'); do
        t=$(clock_ms "$c" "$T0")
        [ "$t" -le "$end" ] || end=$t
    done
    echo "$end"
}

# tasks_summary: how many attempts for how many tasks in $STATUS.
tasks_summary() {
    n=$(attempts | wc -l)
    t=$(attempts | awk '{ print $1, $2 }' | sort -u | wc -l)
    b=$(grep -c 'backup attempt' "$STATUS" || true)
    echo "$n attempts for $t tasks ($b speculative backups)"
}

run_plain() {
    submit "$W/out"
    finish "$W/out" "run $JOB (no kill)"
    echo "$WALL" >> "$W/plain.ms"
    say "  job $JOB  no kill  ${WALL} ms  map phase $(($(map_end_ms) - T0)) ms; $(tasks_summary)"
}

# run_kill NAME: a run in which the worker NAME is killed at KILL_MS.
run_kill() {
    name=$1
    pid=$(pid_of "$name")
    wid=$(wid_of "$pid")
    [ -n "$wid" ] || fail "the master lists no live worker with pid $pid ($name)"
    from=$(log_lines)
    submit "$W/out"
    sleep_ms $((T0 + KILL_MS - $(now_ms)))
    kill -0 "$SUBMIT_PID" 2>/dev/null ||
        fail "job $JOB ended before the kill at $KILL_MS ms; lower BENCH_KILL_AT"
    kids=$(pgrep -P "$pid" || true)
    tk=$(now_ms)
    kill -9 "$pid"
    finish "$W/out" "run $JOB (kill of $name = $wid)"
    echo "$WALL" >> "$W/kill.ms"
    lost=$(wait_log "$from" " WARN workers: worker $wid lost (" 0)
    [ -n "$lost" ] || fail "job $JOB: the master never declared $wid lost"
    det=$(($(log_ms "$lost") - tk))
    echo "$det" >> "$W/detect.ms"
    ev=$(sed -n "s/^  \[ *[0-9.]*s\] \(worker $wid lost .*\)/\1/p" "$STATUS")
    [ -n "$ev" ] || ev="(no lost-worker event in dmr status $JOB)"
    maps=$(printf '%s\n' "$ev" | sed -n 's/.*re-running \([0-9]*\) map.*/\1/p')
    reds=$(printf '%s\n' "$ev" | sed -n 's/.* and \([0-9]*\) reduce task.*/\1/p')
    echo "${maps:-0} ${reds:-0}" >> "$W/reexec"
    say "  job $JOB  kill     ${WALL} ms  map phase $(($(map_end_ms) - T0)) ms; $(tasks_summary)"
    say "           kill -9 $pid ($name = $wid) at $((tk - T0)) ms with $(echo "$kids" | wc -w) task(s) running on it; declared lost $det ms later"
    say "           event: $ev"
    restart_worker "$name" >/dev/null
    wait_gone $kids || fail "task processes of the killed $name outlived it"
}

# Warm-up (the workers fetch the job object, the corpus gets into the page
# cache), then calibration: the map phase of an undisturbed run.
say ""
say "-- warm-up and calibration (not counted)"
submit "$W/out"
finish "$W/out" "warm-up run"
say "  job $JOB  no kill  ${WALL} ms  map phase $(($(map_end_ms) - T0)) ms (warm-up); $(tasks_summary)"
submit "$W/out"
finish "$W/out" "calibration run"
MAP_MS=$(($(map_end_ms) - T0))
KILL_MS=$((MAP_MS * KILL_AT / 100))
NMAP=$(awk '/^maps/ { split($2, a, "/"); print a[2] }' "$STATUS")
say "  job $JOB  no kill  ${WALL} ms  map phase $MAP_MS ms ($NMAP maps); $(tasks_summary)"
say "  -> the kill comes $KILL_MS ms after the submit"

say ""
say "-- $RUNS pairs"
: > "$W/plain.ms"
: > "$W/kill.ms"
: > "$W/reexec"
: > "$W/detect.ms"
p=1
while [ "$p" -le "$RUNS" ]; do
    victim=worker-$(((p - 1) % 3 + 1))
    if [ $((p % 2)) -eq 1 ]; then
        run_plain
        run_kill "$victim"
    else
        run_kill "$victim"
        run_plain
    fi
    p=$((p + 1))
done
cluster_down

plain=$(median "$W/plain.ms")
killed=$(median "$W/kill.ms")
ratio=$(awk -v k="$killed" -v p="$plain" 'BEGIN { printf "%.2f", k / p }')
verdict=$(awk -v r="$ratio" -v t="$TARGET" 'BEGIN { print r <= t ? "PASS" : "FAIL" }')

results_begin
say "wordcount over $MB MiB ($NMAP maps, $R reduces) on 3 workers x 2 slots; kill -9 of one worker $KILL_MS ms after submit ($KILL_AT% of the $MAP_MS ms map phase)"
say "$(printf '%-8s %-28s %s' runs 'wall_ms (in run order)' median_ms)"
say "$(printf '%-8s %-28s %s' 'no kill' "$(tr '\n' ' ' < "$W/plain.ms")" "$plain")"
say "$(printf '%-8s %-28s %s' kill "$(tr '\n' ' ' < "$W/kill.ms")" "$killed")"
say "re-executed per killed run (map tasks, reduce tasks): $(awk '{ printf "%s(%s, %s)", (NR > 1 ? " " : ""), $1, $2 }' "$W/reexec")"
say "kill -9 -> master declares the worker lost (ms): $(tr '\n' ' ' < "$W/detect.ms")"
say "outputs: all $((2 * RUNS + 2)) runs equal the reference word count"
say "ratio kill/no-kill (medians): $ratio"
say "target: ratio <= $TARGET: $verdict"
results_end
target_met "$verdict"
