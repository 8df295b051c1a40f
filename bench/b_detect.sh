#!/bin/sh
# b_detect.sh -- failure-detection latency: how long after a worker dies
# does the master declare it lost?
#
# A local cluster of 3 idle workers (heartbeat 250 ms, dead-after 2000 ms).
# BENCH_RUNS times (default 10): take a live worker (worker-1, -2, -3 in
# turn), find the id the master gave to its pid (dmr workers lists pid per
# id), note the wall-clock time in ms just before `kill -9` of that pid,
# wait for the master log line "WARN workers: worker wN lost (...)", and
# take as latency the timestamp of that line minus the kill time. Then
# restart the worker (dmr cluster start worker-I), wait until the master
# logs it registered again (under a new id), and let BENCH_SETTLE_MS
# (default 1500) pass -- plus a shift of up to one heartbeat that changes
# from run to run, to vary where in the heartbeat cycle the kill falls --
# so the detector has a heartbeat history again before the next kill.
#
# The same runs are then made against a master using the phi-accrual
# detector (-M --detector=phi, threshold BENCH_PHI, default 8), which
# declares a worker dead when its silence is too unlikely given its recent
# heartbeat intervals.
#
# Target: with the fixed timeout every latency <= dead_after_ms + one
# heartbeat interval (2250 ms): the silence is counted from the last
# heartbeat, which came at most one interval before the kill. Phi has no
# such bound; its figures stand next to the fixed ones to show the
# trade-off: it suspects a worker after a much shorter silence. Workers
# declared lost without having been killed (false suspicions) are counted
# for both.
#
# Environment: BENCH_RUNS (10), BENCH_HEARTBEAT_MS (250),
# BENCH_DEAD_AFTER_MS (2000), BENCH_PHI (8), BENCH_SETTLE_MS (1500).
. "$(dirname "$0")/lib.sh"

RUNS=${BENCH_RUNS:-10}
HB=${BENCH_HEARTBEAT_MS:-250}
DEAD=${BENCH_DEAD_AFTER_MS:-2000}
PHI=${BENCH_PHI:-8}
SETTLE=${BENCH_SETTLE_MS:-1500}
TARGET=$((DEAD + HB))

report_header "failure-detection latency (kill -9 of an idle worker -> master declares it lost)"
say "params   BENCH_RUNS=$RUNS BENCH_HEARTBEAT_MS=$HB BENCH_DEAD_AFTER_MS=$DEAD BENCH_PHI=$PHI BENCH_SETTLE_MS=$SETTLE"

# measure DETECTOR MASTER_ARGS...: BENCH_RUNS kills against a fresh
# cluster; latencies go to $W/DETECTOR.lat, false suspicions to
# $W/DETECTOR.false.
measure() {
    det=$1
    shift
    say ""
    say "-- detector: $det"
    say "   \$ dmr cluster up -n 3 --state \$W/$det --heartbeat-ms $HB --dead-after-ms $DEAD${*:+ $*}"
    cluster_up "$det" 3 --heartbeat-ms "$HB" --dead-after-ms "$DEAD" "$@"
    : > "$W/$det.lat"
    killed=" "
    i=1
    while [ "$i" -le "$RUNS" ]; do
        name=worker-$(((i - 1) % 3 + 1))
        sleep_ms $((SETTLE + (i * 97) % HB))
        pid=$(pid_of "$name")
        wid=$(wid_of "$pid")
        [ -n "$wid" ] || fail "the master lists no live worker with pid $pid ($name)"
        from=$(log_lines)
        t0=$(now_ms)
        kill -9 "$pid"
        lost=$(wait_log "$from" " WARN workers: worker $wid lost (" 30000)
        [ -n "$lost" ] ||
            fail "$det: $wid ($name, pid $pid) not declared lost within 30 s of kill -9"
        lat=$(($(log_ms "$lost") - t0))
        why=$(printf '%s\n' "$lost" | sed 's/.* lost (\(.*\)): [0-9]* tasks* to re-run$/\1/')
        echo "$lat" >> "$W/$det.lat"
        killed="$killed$wid "
        say "   run $i: kill -9 $pid ($name = $wid) at $(clock "$t0"); lost at $(clock "$(log_ms "$lost")"): $lat ms ($why)"
        restart_worker "$name" >/dev/null
        i=$((i + 1))
    done
    # Anyone declared lost that we did not kill was suspected wrongly.
    sed -n 's/.* WARN workers: worker \(w[0-9]*\) lost (.*/\1/p' "$ST/master.log" |
        while read -r w; do
            case $killed in *" $w "*) ;; *) echo "$w" ;; esac
        done > "$W/$det.false"
    nfalse=$(wc -l < "$W/$det.false")
    [ "$nfalse" -eq 0 ] ||
        say "   false suspicions: $(tr '\n' ' ' < "$W/$det.false")"
    set -- $(stats "$W/$det.lat")
    say "   latency over $RUNS kills: min $1 ms, median $2 ms, max $3 ms"
    cluster_down
}

measure fixed
measure phi -M "--detector=phi" -M "--phi-threshold=$PHI"

set -- $(stats "$W/fixed.lat")
fmin=$1 fmed=$2 fmax=$3
set -- $(stats "$W/phi.lat")
pmin=$1 pmed=$2 pmax=$3
if [ "$fmax" -le "$TARGET" ]; then verdict=PASS; else verdict=FAIL; fi
phi_ok=no
[ "$pmax" -gt "$TARGET" ] || phi_ok=yes

results_begin
say "$(printf '%-34s %4s %8s %10s %8s %7s' detector kills min_ms median_ms max_ms false)"
say "$(printf '%-34s %4s %8s %10s %8s %7s' "fixed (dead-after $DEAD ms)" "$RUNS" "$fmin" "$fmed" "$fmax" "$(wc -l < "$W/fixed.false")")"
say "$(printf '%-34s %4s %8s %10s %8s %7s' "phi accrual (threshold $PHI)" "$RUNS" "$pmin" "$pmed" "$pmax" "$(wc -l < "$W/phi.false")")"
say "(heartbeat every $HB ms; latency = master log 'lost' timestamp - time of kill -9; false = workers declared lost that were not killed)"
say "target: fixed-timeout latency <= dead_after_ms + heartbeat_ms = $TARGET ms for every kill: $verdict (max $fmax ms)"
say "phi accrual: median $pmed ms vs $fmed ms fixed (within $TARGET ms: $phi_ok; not held to the target)"
results_end
target_met "$verdict"
