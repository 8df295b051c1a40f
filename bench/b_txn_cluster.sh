#!/bin/sh
# b_txn_cluster.sh -- the transactional checker (Elle's job) as the
# txncheck job on a local cluster of 2 workers: how `dmr check --model
# list-append` grows with the size of a history, each worker's peak
# memory, and Elle's huge-scc history.
#
# Histories are those of b_txn.sh (bin/dmr-gentxn: list-append, 1-5
# micro-ops per transaction, 10 processes, a snapshot-isolation store with
# first-committer-wins, seed 1; cached in $BENCH_CACHE), at
# BENCH_TXN_SIZES transactions (default 10000 100000 1000000 4000000).
# For each size, BENCH_TXN_RUNS runs (default 3) of, alternating:
#
#   cluster: dmr check --model list-append --consistency-models snapshot-isolation FILE
#   local:   the same with --local (one process, for the ratio)
#
# both must say valid (a snapshot-isolation store never shows G0, G1 or
# G-single). A run is timed as a whole process (submission, the four
# stages, reading the results back). While a cluster run lasts, each
# worker's memory is sampled every 50 ms from /proc as the RSS of the
# worker and of its task processes together; the peak is reported.
# Targets: 1M transactions in <= 10 s with every worker's peak <= 1 GiB.
#
# huge-scc.edn (Elle's, $DMR_SHARED_DATA/histories/elle; skipped when
# absent): BENCH_TXN_RUNS runs of the default strict-serializable check on
# the cluster (NOT valid, realtime anomalies only); target <= 30 s.
#
# Environment: BENCH_TXN_SIZES, BENCH_TXN_RUNS (3), BENCH_CACHE,
# DMR_SHARED_DATA.
. "$(dirname "$0")/lib.sh"

SIZES=${BENCH_TXN_SIZES:-10000 100000 1000000 4000000}
RUNS=${BENCH_TXN_RUNS:-3}
HIST=${DMR_SHARED_DATA:-$REPO/../shared/data}/histories/elle
GENTXN=$DMR_BIN/dmr-gentxn
[ -x "$GENTXN" ] || fail "$GENTXN missing; build first (make all)"

report_header "dmr check (the txncheck job) on a local cluster of 2 workers"
say "params   BENCH_TXN_SIZES=\"$SIZES\" BENCH_TXN_RUNS=$RUNS"
say "history  \$ dmr-gentxn --workload list-append --isolation snapshot-isolation --procs 10 --max-ops 5 --seed 1 --txns N"
say "cluster  \$ dmr cluster up -n 2; dmr check --model list-append --consistency-models snapshot-isolation FILE"
cluster_up txn 2
MASTER=$(cat "$ST/master.endpoint")
WPIDS=$(awk '$1 ~ /^worker-/ {print $2}' "$ST/pids")

# tree_kb PID: the RSS of PID and its children, KiB.
tree_kb() {
    kb=$(awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0)
    for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        k=$(awk '/^VmRSS/ {print $2}' "/proc/$c/status" 2>/dev/null || echo 0)
        kb=$((kb + ${k:-0}))
    done
    echo "${kb:-0}"
}
# sampler: until $W/sampling goes, the peak tree RSS of each worker into
# $W/peak.PID.
sampler() {
    for p in $WPIDS; do echo 0 > "$W/peak.$p"; done
    while [ -f "$W/sampling" ]; do
        for p in $WPIDS; do
            kb=$(tree_kb "$p")
            [ "$kb" -le "$(cat "$W/peak.$p")" ] || echo "$kb" > "$W/peak.$p"
        done
        sleep 0.05
    done
}
# timed NAME STATUS cmd...: wall ms appended to $W/NAME.ms.
timed() {
    name=$1 want=$2
    shift 2
    t0=$(date +%s%N)
    set +e
    "$@" > "$W/out.txt" 2> "$W/err.txt"
    rc=$?
    set -e
    t1=$(date +%s%N)
    [ "$rc" -eq "$want" ] || {
        head -n 20 "$W/out.txt" "$W/err.txt" >&2
        fail "$* exited $rc, expected $want"
    }
    echo $(((t1 - t0) / 1000000)) >> "$W/$name.ms"
}

mkdir -p "$CACHE"
VERDICT=PASS
say ""
say "-- growth (median of $RUNS runs; cluster and local alternating)"
say "$(printf '   %-9s %6s %11s %10s %7s %14s %9s %14s' txns MB "cluster ms" txns/s growth "worker peak MB" "local ms" cluster/local)"
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
    : > "$W/c-$n.ms"
    : > "$W/l-$n.ms"
    peak=0
    r=0
    while [ $r -lt "$RUNS" ]; do
        note "$n transactions, run $((r + 1))/$RUNS"
        touch "$W/sampling"
        sampler &
        spid=$!
        BG_PIDS="$BG_PIDS $spid"
        timed "c-$n" 0 "$DMR" check --master "$MASTER" --model list-append \
            --consistency-models snapshot-isolation "$f"
        rm -f "$W/sampling"
        wait "$spid" 2>/dev/null || true
        grep -q ": valid: snapshot-isolation" "$W/out.txt" || fail "cluster $n: not valid"
        for p in $WPIDS; do
            k=$(cat "$W/peak.$p")
            [ "$k" -le "$peak" ] || peak=$k
        done
        timed "l-$n" 0 "$DMR" check --local --model list-append \
            --consistency-models snapshot-isolation "$f"
        r=$((r + 1))
    done
    c_ms=$(median "$W/c-$n.ms")
    l_ms=$(median "$W/l-$n.ms")
    tps=$(awk -v n="$n" -v ms="$c_ms" 'BEGIN { printf "%d", (ms > 0 ? n * 1000 / ms : 0) }')
    ratio=$(awk -v a="$c_ms" -v b="$l_ms" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    growth=-
    [ -z "$prev" ] || growth=$(awk -v a="$prev" -v b="$c_ms" 'BEGIN { printf "%.1fx", (a > 0 ? b / a : 0) }')
    say "$(printf '   %-9s %6s %11s %10s %7s %14s %9s %14s' "$n" "$mb" "$c_ms" "$tps" "$growth" $((peak / 1024)) "$l_ms" "$ratio")"
    prev=$c_ms
    if [ "$n" = 1000000 ]; then
        ONE_M="$c_ms ms ($tps txn/s), worker peak $((peak / 1024)) MB; --local $l_ms ms"
        [ "$c_ms" -le 10000 ] && [ "$peak" -le 1048576 ] || VERDICT=MISS
    fi
done

say ""
if [ -f "$HIST/huge-scc.edn" ]; then
    say "-- huge-scc.edn (Elle's) on the cluster, strict-serializable, $RUNS runs"
    : > "$W/hs.ms"
    r=0
    while [ $r -lt "$RUNS" ]; do
        timed hs 1 "$DMR" check --master "$MASTER" --model list-append \
            "$HIST/huge-scc.edn"
        r=$((r + 1))
    done
    hs_ms=$(median "$W/hs.ms")
    HS="$hs_ms ms (NOT valid: $(grep '^  anomalies:' "$W/out.txt" | sed 's/^  anomalies: //'))"
    [ "$hs_ms" -le 30000 ] || VERDICT=MISS
    say "   $HS"
else
    HS="skipped: $HIST absent"
    say "   huge-scc.edn: $HS"
fi

results_begin
say "1M transactions on 2 workers, snapshot-isolation: ${ONE_M:-not run} (target <= 10000 ms, <= 1024 MB a worker)"
say "huge-scc on 2 workers: $HS (target <= 30000 ms)"
say "verdict: $VERDICT"
results_end
target_met "$VERDICT"
