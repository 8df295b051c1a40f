#!/bin/sh
# b_txn.sh -- the transactional checker (Elle's job): how `dmr check
# --local` grows with the size of a list-append history, and how long
# Elle's huge-scc history takes.
#
# Histories come from bin/dmr-gentxn (a seeded simulated store; cached in
# $BENCH_CACHE across runs): list-append, 1-5 micro-ops per transaction
# (--max-ops 5), 10 processes, a snapshot-isolation store with
# first-committer-wins, seed 1, at BENCH_TXN_SIZES transactions (default
# 10000 100000 1000000 4000000). For each size, BENCH_TXN_RUNS runs
# (default 3) of two checks, alternating:
#
#   si:  dmr check --local --model list-append --consistency-models snapshot-isolation FILE
#        must say valid (exit 0): a snapshot-isolation store never shows
#        G0, G1 or G-single;
#   ss:  dmr check --local --model list-append FILE   (strict-serializable, Elle's default)
#        must say NOT valid (exit 1) at the sizes where the store's
#        write skew shows (G2-item), valid otherwise; any G0, G1 or
#        G-single among the anomaly types fails the benchmark.
#
# Each run is timed as a whole process (reading, parsing, inference,
# cycle search, output) by /usr/bin/time -f '%e %M': wall seconds and peak
# RSS. Reported per size: the median wall time, transactions per second
# at that median, the peak RSS, and the growth ratio of time from the
# previous size (10x more transactions: ~10 is linear). Target: 1M
# transactions in <= 10 s and <= 1 GiB (the issue's target is for the
# cluster path; this is the local one, single-threaded).
#
# huge-scc.edn (Elle's own, $DMR_SHARED_DATA/histories/elle; skipped when
# absent): BENCH_TXN_RUNS runs each of --consistency-models serializable
# (valid) and the default strict-serializable (NOT valid, realtime
# anomalies only), alternating.
#
# Environment: BENCH_TXN_SIZES, BENCH_TXN_RUNS (3), BENCH_CACHE,
# DMR_SHARED_DATA.
. "$(dirname "$0")/lib.sh"

SIZES=${BENCH_TXN_SIZES:-10000 100000 1000000 4000000}
RUNS=${BENCH_TXN_RUNS:-3}
HIST=${DMR_SHARED_DATA:-$REPO/../shared/data}/histories/elle
GENTXN=$DMR_BIN/dmr-gentxn
[ -x "$GENTXN" ] || fail "$GENTXN missing; build first (make all)"
TIMECMD=/usr/bin/time
[ -x "$TIMECMD" ] || fail "/usr/bin/time missing (Debian package time)"

report_header "dmr check --local on list-append histories"
say "params   BENCH_TXN_SIZES=\"$SIZES\" BENCH_TXN_RUNS=$RUNS"
say "history  \$ dmr-gentxn --workload list-append --isolation snapshot-isolation --procs 10 --max-ops 5 --seed 1 --txns N"

# timed NAME EXPECT_STATUS command...: runs it under /usr/bin/time,
# appends "secs kb" to $W/NAME.t, leaves stdout in $W/out.txt.
timed() {
    name=$1 want=$2
    shift 2
    set +e
    "$TIMECMD" -f '%e %M' -o "$W/time.txt" "$@" > "$W/out.txt" 2> "$W/err.txt"
    rc=$?
    set -e
    if [ "$rc" -ne "$want" ]; then
        head -n 20 "$W/out.txt" "$W/err.txt" >&2
        fail "$* exited $rc, expected $want"
    fi
    tail -n 1 "$W/time.txt" >> "$W/$name.t"
}
# ms_median NAME: median wall ms over $W/NAME.t; kb_max NAME: peak RSS KiB.
ms_median() { awk '{ printf "%d\n", $1 * 1000 }' "$W/$1.t" > "$W/$1.ms"; median "$W/$1.ms"; }
kb_max() { awk '$2 > m { m = $2 } END { print m + 0 }' "$W/$1.t"; }

mkdir -p "$CACHE"
VERDICT=PASS
say ""
say "-- growth (median of $RUNS runs, si and ss alternating)"
say "$(printf '   %-9s %9s %-7s %9s %10s %9s %7s   %-7s %9s %9s' txns MB check ms txns/s peakMB growth check ms peakMB)"
prev=""
for n in $SIZES; do
    f=$CACHE/txn-la-si-$n-1.edn
    if [ ! -s "$f" ]; then
        note "generating $n transactions"
        "$GENTXN" --workload list-append --isolation snapshot-isolation \
            --procs 10 --max-ops 5 --seed 1 --txns "$n" > "$f.tmp"
        mv "$f.tmp" "$f"
    fi
    mb=$(($(wc -c < "$f") / 1048576))
    : > "$W/si-$n.t"
    : > "$W/ss-$n.t"
    r=0
    while [ $r -lt "$RUNS" ]; do
        note "$n transactions, run $((r + 1))/$RUNS"
        timed "si-$n" 0 "$DMR" check --local --model list-append \
            --consistency-models snapshot-isolation "$f"
        grep -q ": valid: snapshot-isolation" "$W/out.txt" || fail "si $n: not valid"
        set +e
        "$TIMECMD" -f '%e %M' -o "$W/time.txt" "$DMR" check --local \
            --model list-append --json "$f" > "$W/out.txt" 2> "$W/err.txt"
        rc=$?
        set -e
        [ $rc -le 1 ] || fail "ss $n: exit $rc: $(head -c 300 "$W/err.txt")"
        tail -n 1 "$W/time.txt" >> "$W/ss-$n.t"
        if grep -o '"anomaly_types":\[[^]]*\]' "$W/out.txt" |
            grep -q -E '"(G0|G1[abc]?|G-single)[-"]'; then
            fail "ss $n: a snapshot-isolation store got G0, G1 or G-single"
        fi
        r=$((r + 1))
    done
    si_ms=$(ms_median "si-$n")
    ss_ms=$(ms_median "ss-$n")
    si_kb=$(kb_max "si-$n")
    ss_kb=$(kb_max "ss-$n")
    tps=$(awk -v n="$n" -v ms="$si_ms" 'BEGIN { printf "%d", (ms > 0 ? n * 1000 / ms : 0) }')
    growth=-
    [ -z "$prev" ] || growth=$(awk -v a="$prev" -v b="$si_ms" 'BEGIN { printf "%.1fx", (a > 0 ? b / a : 0) }')
    say "$(printf '   %-9s %9s %-7s %9s %10s %9s %7s   %-7s %9s %9s' "$n" "$mb" si "$si_ms" "$tps" $((si_kb / 1024)) "$growth" ss "$ss_ms" $((ss_kb / 1024)))"
    prev=$si_ms
    if [ "$n" = 1000000 ]; then
        ONE_M="$si_ms ms, $((si_kb / 1024)) MB"
        [ "$si_ms" -le 10000 ] && [ "$si_kb" -le 1048576 ] || VERDICT=MISS
    fi
done

say ""
if [ -f "$HIST/huge-scc.edn" ]; then
    say "-- huge-scc.edn (Elle's), $RUNS runs each, alternating"
    : > "$W/hs-ser.t"
    : > "$W/hs-ss.t"
    r=0
    while [ $r -lt "$RUNS" ]; do
        timed hs-ser 0 "$DMR" check --local --model list-append \
            --consistency-models serializable "$HIST/huge-scc.edn"
        timed hs-ss 1 "$DMR" check --local --model list-append "$HIST/huge-scc.edn"
        r=$((r + 1))
    done
    HS="serializable $(ms_median hs-ser) ms (valid), strict-serializable $(ms_median hs-ss) ms (NOT valid: $(grep '^  anomalies:' "$W/out.txt" | sed 's/^  anomalies: //'))"
    say "   $HS"
else
    HS="skipped: $HIST absent"
    say "   huge-scc.edn: $HS"
fi

results_begin
say "1M transactions, --local, snapshot-isolation: ${ONE_M:-not run} (target <= 10000 ms, <= 1024 MB)"
say "huge-scc: $HS"
say "verdict: $VERDICT"
results_end
target_met "$VERDICT"
