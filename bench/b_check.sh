#!/bin/sh
# b_check.sh -- the linearizability checker: how long `dmr check --local`
# searches on recorded histories with known verdicts, against Porcupine,
# and how its search time grows with generated histories.
#
# Every check is one single-threaded process:
#
#   dmr check --local --json --model MODEL --timeout BENCH_CHECK_TIMEOUT_S FILE
#
# which prints one JSON line per file, {"file":..,"verdict":..,"parts":
# [{..,"steps":N,"seen":N,"us":N,..},..]}, one object per part (a kv
# history has one part per key). The check time of a file is the sum of
# "us" over its parts: microseconds spent in the search only (reading and
# compiling the history excluded), extracted with grep/awk. The timeout
# holds for each part (a search that runs out of time or of its memory
# budget, --max-mb 1024 by default, says "unknown" instead of hanging);
# the search looks at the clock once every 4096 steps, which costs
# nothing measurable. The exit status and the verdict of every check are
# checked; an "error" verdict fails the benchmark.
#
# Shared histories (in $DMR_SHARED_DATA/histories, default
# $REPO/../shared/data/histories; when absent, these parts are skipped,
# the report says so and their targets are not checked):
#   1. each jepsen-etcd/*.log once with --model cas-register: verdict,
#      time, steps and memoised configurations (informational);
#   2. jepsen-etcd/etcd_002.log and etcd_007.log, BENCH_RUNS times each
#      (default 15), alternating: min/median/max of "us" against
#      Porcupine's time on this machine for the same file (single thread,
#      parsing excluded: BENCH_PORCUPINE_002_MS = 187, BENCH_PORCUPINE_007_MS
#      = 113). Target: median <= 1/3 of Porcupine's, i.e. <= 62 ms and
#      <= 37 ms (Porcupine's ms / 3, rounded down);
#   3. porcupine-kv/c50-ok.txt and c50-bad.txt with --model kv, BENCH_RUNS
#      times each, alternating: the sum of "us" over the 10 per-key parts.
#      For c50-bad the local check stops at the first violating part and
#      the parts not yet decided say "skipped", but the time they already
#      searched is in their "us" and counts. Target: median < 20 ms each.
#      The wall-clock time of the whole command (process start, parsing,
#      output; measured around it with date +%s%3N, ~1 ms resolution) is
#      reported for information.
# Every run must give the known verdict (etcd_000 and etcd_057 NOT
# linearizable, etcd_002 and etcd_007 linearizable; c50-ok linearizable,
# c50-bad NOT); a wrong one fails the benchmark.
#
# Growth curves, with histories from bin/dmr-genhist (a seeded simulation
# of a store: linearizable by construction): for each point,
# BENCH_SEEDS histories (seeds 1..N, default 5; the same histories every
# run), and per point the median, min and max of the check time, the
# median of "steps", and how many verdicts were linearizable / NOT /
# unknown (with why: timeout or memory):
#   cas-ops    --model cas-register --procs 5 --info 0.05, --ops in
#              BENCH_CHECK_OPS (default 250 500 1000 2000 4000 8000);
#   cas-procs  --model cas-register --ops 1000 --info 0.05, --procs in
#              BENCH_CHECK_PROCS (default 2 4 8 16 32);
#   kv-ops     --model kv --keys 5 --procs 5, --ops as above;
#   kv-procs   --model kv --keys 5 --ops 1000, --procs as above;
#   faulty-ops --model cas-register --procs 5 --faulty 0.1 (a store that
#              serves 10% stale reads), --ops as above: the time to find
#              the violation, and the median length of the longest
#              linearisable prefix the checker reports (how far in the
#              history the violation is).
# (--info 0.05: 5% of the operations crash and stay open, as :info.)
# The generator draws from one stream per seed, so along an --ops curve
# the history of seed S at N ops is the first part of the one at 2N: the
# points are nested, not independent (in faulty-ops every size holds the
# same first violation, so the steps stay flat and the time shows what a
# check costs per operation of the history beyond the search itself).
# Every generated history without --faulty must be found linearizable: a
# NOT linearizable verdict is a checker bug and fails the benchmark (the
# report gives the generator command that reproduces it). "unknown" is
# reported, not failed. A faulty history is almost always NOT
# linearizable; one found linearizable is reported (a stale read can be a
# legal answer by chance). The whole benchmark takes ~40 s here. Dropped
# as too slow: --ops 16000 (cas-ops: ~15 s, one seed out of memory)
# and kv --procs 64 (4 of 5 seeds unknown after 20 s per part, ~150 s
# for the point).
#
# Environment: BENCH_RUNS (15), BENCH_SEEDS (5), BENCH_CHECK_TIMEOUT_S
# (20), BENCH_CHECK_OPS ("250 500 1000 2000 4000 8000"), BENCH_CHECK_PROCS
# ("2 4 8 16 32"), BENCH_PORCUPINE_002_MS (187), BENCH_PORCUPINE_007_MS
# (113), DMR_SHARED_DATA ($REPO/../shared/data).
. "$(dirname "$0")/lib.sh"

RUNS=${BENCH_RUNS:-15}
SEEDS=${BENCH_SEEDS:-5}
TIMEOUT=${BENCH_CHECK_TIMEOUT_S:-20}
OPS_LIST=${BENCH_CHECK_OPS:-250 500 1000 2000 4000 8000}
PROCS_LIST=${BENCH_CHECK_PROCS:-2 4 8 16 32}
PORC_002=${BENCH_PORCUPINE_002_MS:-187}
PORC_007=${BENCH_PORCUPINE_007_MS:-113}
SHARED=${DMR_SHARED_DATA:-$REPO/../shared/data}
HIST=$SHARED/histories
KV_TARGET_MS=20

[ -x "$DMR_BIN/dmr-genhist" ] || fail "$DMR_BIN/dmr-genhist missing; build first (make all)"
cp "$DMR_BIN/dmr-genhist" "$W/dmr/bin/"
GENHIST=$W/dmr/bin/dmr-genhist

report_header "linearizability checker: dmr check --local search time (recorded histories vs Porcupine; growth curves)"
say "params   BENCH_RUNS=$RUNS BENCH_SEEDS=$SEEDS BENCH_CHECK_TIMEOUT_S=$TIMEOUT BENCH_CHECK_OPS=\"$OPS_LIST\" BENCH_CHECK_PROCS=\"$PROCS_LIST\" BENCH_PORCUPINE_002_MS=$PORC_002 BENCH_PORCUPINE_007_MS=$PORC_007"
say "check    \$ dmr check --local --json --model MODEL --timeout $TIMEOUT FILE   (time = sum of \"us\" over the parts: search only, parsing excluded)"
if [ -d "$HIST" ]; then
    HAVE_SHARED=1
    say "data     $(cd "$HIST" && pwd)"
else
    HAVE_SHARED=0
    say "data     NO SHARED DATA: $HIST is absent; the recorded-history parts are skipped, only the generated curves run"
fi

# ------------------------------------------------------------- JSON fields

# json_sum NAME FILE: the sum of every "NAME":N in FILE.
json_sum() {
    grep -o "\"$1\":[0-9]*" "$2" | awk -F: '{ s += $2 } END { printf "%.0f\n", s }'
}

# json_verdict FILE: the first "verdict" in FILE (the file's own).
json_verdict() {
    awk 'match($0, /"verdict":"[^"]*"/) { print substr($0, RSTART + 11, RLENGTH - 12); exit }' "$1"
}

# json_whys FILE: the "why" of the unknown parts, comma-separated.
json_whys() {
    grep -o '"verdict":"unknown",[^{}]*"why":"[^"]*"' "$1" |
        sed 's/.*"why":"\([^"]*\)"/\1/' | sort | uniq -c |
        awk '{ printf "%s%s%s", (NR > 1 ? "," : ""), $2, ($1 > 1 ? "x" $1 : "") }'
}

# run_check MODEL FILE: one check; the JSON line goes to $W/out.json.
# Sets VERDICT, US, STEPS, SEEN, WALL_MS, WHY (unknown parts' reasons).
run_check() {
    rc=0
    t0=$(now_ms)
    "$DMR" check --local --json --model "$1" --timeout "$TIMEOUT" "$2" \
        > "$W/out.json" 2> "$W/check.err" || rc=$?
    WALL_MS=$(($(now_ms) - t0))
    VERDICT=$(json_verdict "$W/out.json")
    case "$rc:$VERDICT" in
    "0:linearizable" | "1:not linearizable" | "2:unknown") ;;
    *)
        cat "$W/check.err" "$W/out.json" >&2
        fail "dmr check --local --json --model $1 --timeout $TIMEOUT $2: exit $rc, verdict '$VERDICT'"
        ;;
    esac
    US=$(json_sum us "$W/out.json")
    STEPS=$(json_sum steps "$W/out.json")
    SEEN=$(json_sum seen "$W/out.json")
    WHY=""
    [ "$VERDICT" != unknown ] || WHY=$(json_whys "$W/out.json")
}

# known FILE: the known verdict of a shared history ("" if none).
known() {
    case $(basename "$1") in
    etcd_000.log | etcd_057.log | c50-bad.txt) echo "not linearizable" ;;
    etcd_002.log | etcd_007.log | c50-ok.txt) echo "linearizable" ;;
    *) echo "" ;;
    esac
}

WRONG=0
: > "$W/wrong"

# expect FILE WHAT: the verdict just found must be FILE's known one.
expect() {
    k=$(known "$1")
    [ -n "$k" ] || return 0
    [ "$VERDICT" = "$k" ] && return 0
    WRONG=$((WRONG + 1))
    echo "$2: '$VERDICT', known to be '$k'" >> "$W/wrong"
    say "   !! WRONG VERDICT: $2: '$VERDICT', known to be '$k'"
}

ms() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }

# ---------------------------------------------- 1. the jepsen-etcd logs

ETCD_ONCE=""
if [ "$HAVE_SHARED" = 1 ]; then
    say ""
    say "-- 1. jepsen-etcd logs, each once (--model cas-register)"
    say "$(printf '   %-14s %-18s %-18s %10s %10s %8s' file verdict known us steps seen)"
    for f in "$HIST"/jepsen-etcd/*.log; do
        [ -f "$f" ] || continue
        run_check cas-register "$f"
        b=$(basename "$f")
        k=$(known "$f")
        say "$(printf '   %-14s %-18s %-18s %10s %10s %8s' "$b" "$VERDICT${WHY:+ ($WHY)}" "${k:--}" "$US" "$STEPS" "$SEEN")"
        expect "$f" "$b"
        ETCD_ONCE="$ETCD_ONCE$b $(echo "$VERDICT" | sed 's/not linearizable/NOT/') ${US}us; "
    done
    [ -n "$ETCD_ONCE" ] || say "   (no jepsen-etcd/*.log in $HIST)"
fi

# timed FILE... : BENCH_RUNS runs of each of MODEL's FILEs, alternating;
# "us" to $W/NAME.us, wall ms to $W/NAME.wall, listed in the report.
timed() {
    model=$1
    shift
    for f in "$@"; do
        b=$(basename "$f")
        : > "$W/$b.us"
        : > "$W/$b.wall"
    done
    i=1
    while [ "$i" -le "$RUNS" ]; do
        for f in "$@"; do
            b=$(basename "$f")
            run_check "$model" "$f"
            expect "$f" "$b (run $i)"
            echo "$US" >> "$W/$b.us"
            echo "$WALL_MS" >> "$W/$b.wall"
        done
        i=$((i + 1))
    done
    for f in "$@"; do
        b=$(basename "$f")
        say "   $b: us in run order: $(tr '\n' ' ' < "$W/$b.us")"
        say "   $b: wall ms of the whole command: $(tr '\n' ' ' < "$W/$b.wall")"
    done
}

# ------------------------------ 2. etcd_002 and etcd_007 against Porcupine

E2=$HIST/jepsen-etcd/etcd_002.log
E7=$HIST/jepsen-etcd/etcd_007.log
HAVE_ETCD=0
if [ "$HAVE_SHARED" = 1 ]; then
    say ""
    say "-- 2. etcd_002.log and etcd_007.log, $RUNS runs each, alternating (--model cas-register)"
    if [ -f "$E2" ] && [ -f "$E7" ]; then
        HAVE_ETCD=1
        timed cas-register "$E2" "$E7"
    else
        say "   etcd_002.log or etcd_007.log missing in $HIST/jepsen-etcd: skipped"
    fi
fi

# ------------------------------------------------- 3. porcupine-kv c50

K1=$HIST/porcupine-kv/c50-ok.txt
K2=$HIST/porcupine-kv/c50-bad.txt
HAVE_KV=0
if [ "$HAVE_SHARED" = 1 ]; then
    say ""
    say "-- 3. porcupine-kv c50-ok.txt and c50-bad.txt, $RUNS runs each, alternating (--model kv; time = sum of \"us\" over all parts, skipped ones too)"
    if [ -f "$K1" ] && [ -f "$K2" ]; then
        HAVE_KV=1
        timed kv "$K1" "$K2"
        # One more run of each, not counted: where the time goes, per key.
        for f in "$K1" "$K2"; do
            run_check kv "$f"
            say "   $(basename "$f") per key (one more run, not counted): key=verdict:us/steps"
            say "     $(grep -o '"part":"[^}]*"us":[0-9]*' "$W/out.json" |
                sed 's/"part":"\\"\([^\\]*\)\\"".*"verdict":"\([a-z]*\)".*"steps":\([0-9]*\).*"us":\([0-9]*\)/\1=\2:\4\/\3/' |
                tr '\n' ' ')"
        done
    else
        say "   c50-ok.txt or c50-bad.txt missing in $HIST/porcupine-kv: skipped"
    fi
fi

# ------------------------------------------------------ 4. growth curves

NGEN=0
NUNK=0
: > "$W/unknowns"

# point CURVE X EXPECT MODEL GENARGS...: BENCH_SEEDS generated histories
# checked; one row of $W/CURVE.rows. EXPECT: lin (every history must be
# linearizable) or any (faulty store).
point() {
    cv=$1 x=$2 exp=$3 model=$4
    shift 4
    : > "$W/p.us"
    : > "$W/p.steps"
    : > "$W/p.prefix"
    nlin=0 nnot=0 nunk=0 whys="" seeds=""
    s=1
    while [ "$s" -le "$SEEDS" ]; do
        "$GENHIST" "$@" --seed "$s" > "$W/gen.json" || fail "dmr-genhist $* --seed $s"
        run_check "$model" "$W/gen.json"
        NGEN=$((NGEN + 1))
        echo "$US" >> "$W/p.us"
        echo "$STEPS" >> "$W/p.steps"
        mark=""
        case $VERDICT in
        linearizable)
            nlin=$((nlin + 1))
            [ "$exp" = lin ] || mark="L"
            ;;
        "not linearizable")
            nnot=$((nnot + 1))
            json_sum prefix "$W/out.json" >> "$W/p.prefix"
            if [ "$exp" = lin ]; then
                mark="N"
                WRONG=$((WRONG + 1))
                echo "bin/dmr-genhist $* --seed $s > h.json; bin/dmr check --local --model $model h.json: NOT linearizable (generated linearizable)" >> "$W/wrong"
                say "   !! WRONG VERDICT: \$ bin/dmr-genhist $* --seed $s > h.json; bin/dmr check --local --model $model h.json  -> NOT linearizable; the generator made it linearizable"
            fi
            ;;
        unknown)
            nunk=$((nunk + 1))
            NUNK=$((NUNK + 1))
            mark="?"
            whys="$whys${whys:+,}$WHY"
            echo "$cv $x seed $s: unknown ($WHY) after ${US}us: dmr-genhist $* --seed $s" >> "$W/unknowns"
            ;;
        esac
        seeds="$seeds $US$mark"
        s=$((s + 1))
    done
    set -- $(stats "$W/p.us")
    pre=-
    [ ! -s "$W/p.prefix" ] || pre=$(median "$W/p.prefix")
    unk=$nunk
    [ -z "$whys" ] || unk="$nunk ($whys)"
    printf '%s|%s|%s|%s|%s|%s|%s|%s|%s\n' "$x" "$2" "$1" "$3" "$(median "$W/p.steps")" \
        "$nlin" "$nnot" "$unk" "$pre" >> "$W/$cv.rows"
    say "   $cv $x: us per seed:$seeds"
    note "$cv $x: median $2 us"
}

# curve CURVE TITLE XNAME EXPECT MODEL X_OPTION XS FIXED_ARGS...
curve() {
    c=$1 title=$2 xname=$3 exp=$4 model=$5 xopt=$6 xs=$7
    shift 7
    : > "$W/$c.rows"
    echo "$title|$xname" > "$W/$c.title"
    say ""
    say "-- curve $c: \$ dmr-genhist --model $model $* $xopt X --seed S (S = 1..$SEEDS)"
    for x in $xs; do
        point "$c" "$x" "$exp" "$model" --model "$model" "$@" "$xopt" "$x"
    done
}

say ""
say "-- 4. growth curves (generated histories; us per seed, in seed order; ? unknown, N NOT linearizable, L linearizable despite --faulty)"
curve cas-ops "cas-register --procs 5 --info 0.05" ops lin cas-register --ops "$OPS_LIST" --procs 5 --info 0.05
curve cas-procs "cas-register --ops 1000 --info 0.05" procs lin cas-register --procs "$PROCS_LIST" --ops 1000 --info 0.05
curve kv-ops "kv --keys 5 --procs 5" ops lin kv --ops "$OPS_LIST" --keys 5 --procs 5
curve kv-procs "kv --keys 5 --ops 1000" procs lin kv --procs "$PROCS_LIST" --keys 5 --ops 1000
curve faulty-ops "cas-register --procs 5 --faulty 0.1 (stale reads)" ops any cas-register --ops "$OPS_LIST" --procs 5 --faulty 0.1

# ---------------------------------------------------------------- results

verdict=PASS
results_begin
if [ "$HAVE_SHARED" = 1 ]; then
    [ -z "$ETCD_ONCE" ] || say "jepsen-etcd, once each: $ETCD_ONCE"
    say "$(printf '%-16s %4s %9s %10s %9s %13s %14s %s' file runs min_us median_us max_us porcupine_us dmr/porcupine target)"
    if [ "$HAVE_ETCD" = 1 ]; then
        for pair in "etcd_002.log $PORC_002" "etcd_007.log $PORC_007"; do
            set -- $pair
            b=$1 p=$2
            lim=$((p / 3 * 1000))
            set -- $(stats "$W/$b.us")
            ok=PASS
            [ "$2" -le "$lim" ] || { ok=FAIL; verdict=FAIL; }
            ratio=$(awk -v d="$2" -v q="$p" 'BEGIN { printf "%.4f", d / (q * 1000) }')
            say "$(printf '%-16s %4s %9s %10s %9s %13s %14s %s' "$b" "$RUNS" "$1" "$2" "$3" "$((p * 1000))" "$ratio" "median <= $lim: $ok")"
        done
    else
        say "etcd_002/etcd_007: files missing, target NOT CHECKED"
    fi
    if [ "$HAVE_KV" = 1 ]; then
        for b in c50-ok.txt c50-bad.txt; do
            set -- $(stats "$W/$b.us")
            ok=PASS
            [ "$2" -lt $((KV_TARGET_MS * 1000)) ] || { ok=FAIL; verdict=FAIL; }
            say "$(printf '%-16s %4s %9s %10s %9s %13s %14s %s' "$b (kv)" "$RUNS" "$1" "$2" "$3" - - "median < $((KV_TARGET_MS * 1000)): $ok")"
        done
        say "wall-clock of the whole dmr check --local command, ms min/median/max (process start, parsing, search, output): c50-ok $(stats "$W/c50-ok.txt.wall" | tr ' ' /), c50-bad $(stats "$W/c50-bad.txt.wall" | tr ' ' /)"
    else
        say "c50-ok/c50-bad: files missing, target NOT CHECKED"
    fi
    [ "$HAVE_ETCD" = 0 ] || say "wall-clock, ms min/median/max: etcd_002 $(stats "$W/etcd_002.log.wall" | tr ' ' /), etcd_007 $(stats "$W/etcd_007.log.wall" | tr ' ' /)"
    say "(us = search only, parsing excluded, summed over a file's parts; porcupine = Porcupine (Go) on this machine, single thread, parsing excluded)"
else
    say "NO SHARED DATA ($HIST absent): etcd/Porcupine and c50 targets NOT CHECKED"
fi
for c in cas-ops cas-procs kv-ops kv-procs faulty-ops; do
    IFS='|' read -r title xname < "$W/$c.title"
    say ""
    say "$c: $title; check time vs --$xname ($SEEDS seeds per point)"
    if [ "$c" = faulty-ops ]; then
        say "$(printf '%7s %10s %9s %9s %9s %12s %4s %4s %-12s %s' "$xname" median_us ms min_us max_us median_steps lin NOT unknown median_prefix)"
    else
        say "$(printf '%7s %10s %9s %9s %9s %12s %4s %4s %s' "$xname" median_us ms min_us max_us median_steps lin NOT unknown)"
    fi
    while IFS='|' read -r x med mn mx st nl nn nu pre; do
        if [ "$c" = faulty-ops ]; then
            say "$(printf '%7s %10s %9s %9s %9s %12s %4s %4s %-12s %s' "$x" "$med" "$(ms "$med")" "$mn" "$mx" "$st" "$nl" "$nn" "$nu" "$pre")"
        else
            say "$(printf '%7s %10s %9s %9s %9s %12s %4s %4s %s' "$x" "$med" "$(ms "$med")" "$mn" "$mx" "$st" "$nl" "$nn" "$nu")"
        fi
    done < "$W/$c.rows"
done
say ""
say "(faulty-ops: median_prefix = ops in the longest linearisable prefix the checker reports, i.e. how far in the violation is; a faulty history found linearizable is by chance, not an error)"
if [ "$NUNK" -gt 0 ]; then
    say "unknown verdicts ($NUNK of $NGEN generated histories; per-part timeout $TIMEOUT s, --max-mb 1024):"
    while read -r l; do say "  $l"; done < "$W/unknowns"
else
    say "unknown verdicts: none of $NGEN generated histories (per-part timeout $TIMEOUT s)"
fi
if [ "$WRONG" -gt 0 ]; then
    verdict=FAIL
    say "WRONG VERDICTS: $WRONG (a checker bug):"
    while read -r l; do say "  $l"; done < "$W/wrong"
else
    say "verdicts: every check gave the right verdict ($([ "$HAVE_SHARED" = 1 ] && echo "shared histories as known; ")every generated non-faulty history linearizable or unknown)"
fi
say "target: etcd_002 / etcd_007 median <= Porcupine/3, c50-ok / c50-bad median < $KV_TARGET_MS ms, no wrong verdict: $verdict$([ "$HAVE_SHARED" = 1 ] || echo " (shared-data targets not checked)")"
results_end
target_met "$verdict"
