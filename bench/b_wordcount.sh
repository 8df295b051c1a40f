#!/bin/sh
# b_wordcount.sh -- dmr's wordcount against the code a user would write
# instead: a hand-written single-threaded C word count (bin/dmr-wcref, from
# bench/wcref.c) and the shell pipeline tr | sort | uniq; and how dmr's
# time changes with 1, 2 and 4 workers on this machine.
#
# Corpus: BENCH_MB MiB (default 256) of Zipf text in one file, made once
# and cached under $BENCH_CACHE (default /tmp/dmr-bench-cache) with its
# reference word count (lib.sh's corpus and ref_wordcount: tr | grep |
# sort | uniq -c | awk | sort, computed once when the corpus is made):
#
#   dmr-gentext --bytes BENCH_MB m --seed BENCH_SEED --files 1 --dir DIR
#
# i.e. a vocabulary of 100000 words, Zipf exponent s = 1.1, lines of 10 to
# 15 words (the generator's defaults). The file is read once before the
# runs (cat > /dev/null) and the page cache is never dropped: every run
# reads it warm, so this measures computation, not the disk.
#
# Part 1 -- side by side. A local cluster of 2 workers (dmr cluster up -n
# 2, 2 task slots each: the default). First one run of dmr and one of
# dmr-wcref, not counted (warm-up). Then BENCH_RUNS rounds (default 5), in
# each of which these run one after the other, the order of the first two
# alternating from round to round (dmr first in odd rounds):
#
#   dmr submit wordcount --input FILE --output OUT -D split_mb=32 -q
#   dmr-wcref FILE > OUT
#   LC_ALL=C tr -cs A-Za-z '\n' < FILE | LC_ALL=C sort | LC_ALL=C uniq -c > OUT
#
# the pipeline only in the first BENCH_PIPE_RUNS rounds (default 1: it
# takes ~25 s here). Wall time is measured around each command (date
# +%s%3N, ~1 ms; the submit returns when the job has ended). CPU seconds
# are reported too: for dmr those of the master and the workers (with
# the task processes they ran and reaped), from /proc; for the others
# those of the shell's reaped children (sort runs several threads); and
# for every run how the whole machine's CPU time went (/proc/stat: busy,
# idle, and steal -- time the hypervisor gave to other guests). Every
# output is checked, outside the timing: dmr's part files concatenated and
# sorted (LC_ALL=C), dmr-wcref's output as it is, and the pipeline's
# normalised to "word<TAB>count" (awk) and sorted, must each equal the
# reference byte for byte; a difference fails the benchmark. For the
# first counted dmr run the report gives the job's counters and attempts
# (dmr status), and for each dmr run its map phase (submit to the end of
# the last map attempt) and its reduce attempt's duration.
#
# Targets (medians): dmr / dmr-wcref <= 1.0 (the two cores must pay for
# the whole framework) and pipeline / dmr >= 5.
#
# Part 2 -- scaling: the same dmr job on a fresh cluster of N workers (2
# slots each) for each N in BENCH_SCALE (default "1 2 4"): one warm-up run,
# then BENCH_RUNS counted runs, each output checked. Reported: the
# medians, the speed-up over 1 worker and the ratio to dmr-wcref's median.
# This machine has 2 cores (the report says how many it found), and with
# 2 slots even 1 worker runs two tasks at once: more workers only add
# processes to share the same cores. Informational, no target.
#
# The whole benchmark takes ~3 minutes here (plus ~45 s the first time,
# to make the corpus and its reference count).
#
# Environment: BENCH_MB (256), BENCH_RUNS (5), BENCH_PIPE_RUNS (1; 1 to
# BENCH_RUNS), BENCH_SEED (1), BENCH_SPLIT_MB (32), BENCH_SCALE
# ("1 2 4"; empty skips part 2).
. "$(dirname "$0")/lib.sh"

MB=${BENCH_MB:-256}
RUNS=${BENCH_RUNS:-5}
PIPE_RUNS=${BENCH_PIPE_RUNS:-1}
SEED=${BENCH_SEED:-1}
SPLIT=${BENCH_SPLIT_MB:-32}
SCALE=${BENCH_SCALE-1 2 4}
WORKERS=2
TARGET_REF=1.0
TARGET_PIPE=5
CLK=$(getconf CLK_TCK)
[ "$RUNS" -ge 1 ] || fail "BENCH_RUNS must be at least 1"
[ "$PIPE_RUNS" -ge 1 ] || PIPE_RUNS=1
[ "$PIPE_RUNS" -le "$RUNS" ] || PIPE_RUNS=$RUNS

[ -x "$DMR_BIN/dmr-wcref" ] || fail "$DMR_BIN/dmr-wcref missing; build first (make all)"
cp "$DMR_BIN/dmr-wcref" "$W/dmr/bin/"
WCREF=$W/dmr/bin/dmr-wcref

report_header "wordcount: dmr against a hand-written C word count and tr|sort|uniq; scaling with workers"
say "params   BENCH_MB=$MB BENCH_RUNS=$RUNS BENCH_PIPE_RUNS=$PIPE_RUNS BENCH_SEED=$SEED BENCH_SPLIT_MB=$SPLIT BENCH_SCALE=\"$SCALE\""

corpus "$MB" "$SEED" 1
FILE=$CORPUS/part-00000.txt
[ -f "$FILE" ] || fail "$FILE missing; remove $(dirname "$CORPUS")"
BYTES=$(stat -c %s "$FILE")
cat "$FILE" > /dev/null
say "corpus   $FILE: $BYTES bytes, $(wc -l < "$FILE") lines"
say "         (dmr-gentext --bytes ${MB}m --seed $SEED --files 1: vocabulary 100000, zipf 1.1, 10..15 words a line)"
say "         reference: $(wc -l < "$REF") distinct words, $(awk -F '\t' '{ n += $2 } END { printf "%d", n }' "$REF") in all (tr|grep|sort|uniq -c, made with the corpus)"
say "cache    the corpus is read once before the runs; every run reads it from the page cache"

# ---------------------------------------------------------------- probes
# (cpu_of and self_cpu are in lib.sh)

# jiffies: "busy idle steal" jiffies of the whole machine so far (all
# CPUs; idle includes iowait; steal: time the hypervisor gave away).
jiffies() {
    awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8, $5 + $6, $9 }' /proc/stat
}

# machine BEFORE AFTER: how the machine's CPU time went between two
# jiffies snapshots, as "busy B%, idle I%, steal S%" of all its cores.
machine() {
    echo "$1 $2" | awk '{ t = ($4 - $1) + ($5 - $2) + ($6 - $3); if (t <= 0) t = 1
        printf "machine busy %d%%, idle %d%%, steal %d%%", 100 * ($4 - $1) / t,
            100 * ($5 - $2) / t, 100 * ($6 - $3) / t }'
}

cluster_pids() { awk '$1 == "master" || $1 ~ /^worker-/ { print $2 }' "$ST/pids"; }

# secs TICKS: clock ticks as seconds.
secs() { awk -v t="$1" -v c="$CLK" 'BEGIN { printf "%.1f", t / c }'; }

# ratio A B: A / B to 2 decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# ------------------------------------------------------------- the runs

NJOB=0

JOBCMD="dmr submit wordcount --input $FILE --output OUT -D split_mb=$SPLIT -q"
PIPECMD="LC_ALL=C tr -cs A-Za-z '\\n' < $FILE | LC_ALL=C sort | LC_ALL=C uniq -c > OUT"

# attempts STATUS: the attempts `dmr status` lists, as "kind task att
# worker start end outcome" lines (columns found by their names).
attempts() {
    awk '/^attempts/ { on = 1; getline; for (i = 1; i <= NF; i++) col[$i] = i; next }
        on && NF >= 7 {
            print $col["kind"], $col["task"], $col["att"], $col["worker"],
                  $col["start"], $col["end"], $col["outcome"]
        }' "$1"
}

# run_dmr NAME WHAT: one wordcount job on the cluster in $ST; its wall
# time goes to $W/NAME.ms, CPU ticks to $W/NAME.cpu, and the map phase and
# reduce time to $W/NAME.map / NAME.red. Sets MS, CPU, STATUS.
run_dmr() {
    out=$W/out-dmr
    rm -rf "$out"
    pids=$(cluster_pids)
    c0=$(cpu_of $pids)
    j0=$(jiffies)
    t0=$(now_ms)
    "$DMR" submit wordcount --input "$FILE" --output "$out" \
        -D split_mb="$SPLIT" -q --master "$EP" > "$W/submit.out" 2>&1 || {
        cat "$W/submit.out" >&2
        "$DMR" status --master "$EP" >&2 || true
        fail "$2: dmr submit wordcount exited with an error"
    }
    t1=$(now_ms)
    j1=$(jiffies)
    c1=$(cpu_of $pids)
    MS=$((t1 - t0))
    CPU=$((c1 - c0))
    NJOB=$((NJOB + 1))
    STATUS=$W/status-$NJOB.txt
    "$DMR" status --master "$EP" > "$STATUS" || fail "$2: dmr status"
    head -n 1 "$STATUS" | grep -q "wordcount  succeeded" ||
        fail "$2: dmr status says: $(head -n 1 "$STATUS")"
    check_output "$out" "$2"
    rm -rf "$out"
    mapend=0
    for c in $(attempts "$STATUS" | awk '$1 == "map" && $7 == "ok" { print $6 }'); do
        t=$(clock_ms "$c" "$t0")
        [ "$t" -le "$mapend" ] || mapend=$t
    done
    set -- "$1" $(attempts "$STATUS" | awk '$1 == "reduce" && $7 == "ok" { print $5, $6; exit }')
    red=-
    [ $# -lt 3 ] || red=$(($(clock_ms "$3" "$t0") - $(clock_ms "$2" "$t0")))
    echo "$MS" >> "$W/$1.ms"
    echo "$CPU" >> "$W/$1.cpu"
    echo "$((mapend - t0))" >> "$W/$1.map"
    echo "$red" >> "$W/$1.red"
    el=$(head -n 1 "$STATUS" | sed -n 's/.* elapsed \([0-9.]*s\).*/\1/p')
    DETAIL="map phase $((mapend - t0)) ms, reduce $red ms; job elapsed $el (dmr status); CPU $(secs "$CPU") s (master + workers); $(machine "$j0" "$j1")"
}

# run_wcref NAME: dmr-wcref once; to $W/NAME.ms and NAME.cpu.
run_wcref() {
    c0=$(self_cpu)
    j0=$(jiffies)
    t0=$(now_ms)
    "$WCREF" "$FILE" > "$W/out-wcref" || fail "dmr-wcref $FILE exited with an error"
    t1=$(now_ms)
    j1=$(jiffies)
    c1=$(self_cpu)
    MS=$((t1 - t0))
    CPU=$((c1 - c0))
    cmp -s "$W/out-wcref" "$REF" || {
        diff "$W/out-wcref" "$REF" | head -n 20 >&2
        fail "dmr-wcref: output differs from the reference word count"
    }
    rm -f "$W/out-wcref"
    echo "$MS" >> "$W/$1.ms"
    echo "$CPU" >> "$W/$1.cpu"
    DETAIL="CPU $(secs "$CPU") s; $(machine "$j0" "$j1")"
}

# run_pipe NAME: the tr|sort|uniq pipeline once; to $W/NAME.ms, NAME.cpu.
run_pipe() {
    c0=$(self_cpu)
    j0=$(jiffies)
    t0=$(now_ms)
    LC_ALL=C tr -cs A-Za-z '\n' < "$FILE" | LC_ALL=C sort | LC_ALL=C uniq -c \
        > "$W/out-pipe" || fail "the tr|sort|uniq pipeline exited with an error"
    t1=$(now_ms)
    j1=$(jiffies)
    c1=$(self_cpu)
    MS=$((t1 - t0))
    CPU=$((c1 - c0))
    # "  COUNT WORD" lines (and one for the empty line a leading separator
    # makes) -> "WORD<TAB>COUNT", sorted.
    awk 'NF == 2 { print $2 "\t" $1 }' "$W/out-pipe" | LC_ALL=C sort > "$W/out-pipe.norm"
    cmp -s "$W/out-pipe.norm" "$REF" || {
        diff "$W/out-pipe.norm" "$REF" | head -n 20 >&2
        fail "tr|sort|uniq: output (normalised) differs from the reference word count"
    }
    rm -f "$W/out-pipe" "$W/out-pipe.norm"
    echo "$MS" >> "$W/$1.ms"
    echo "$CPU" >> "$W/$1.cpu"
    DETAIL="CPU $(secs "$CPU") s (tr + sort + uniq); $(machine "$j0" "$j1")"
}

show() { say "$(printf '  %-9s %7d ms   %s' "$1" "$MS" "$DETAIL")"; }

# ------------------------------------------------- part 1: side by side

say ""
say "-- part 1: side by side, $WORKERS workers x 2 slots"
say "   \$ dmr cluster up -n $WORKERS --state \$W/side"
say "   dmr       \$ $JOBCMD"
say "   wcref     \$ dmr-wcref $FILE > OUT"
say "   pipeline  \$ $PIPECMD"
say "   (each output checked against the reference outside the timing)"
cluster_up side "$WORKERS"
for f in dmr wcref pipe warm; do
    for x in ms cpu map red; do : > "$W/$f.$x"; done
done
say ""
say "   warm-up (not counted)"
run_dmr warm "dmr warm-up run"
show dmr
run_wcref warm
show wcref
COUNTERS=""
r=1
while [ "$r" -le "$RUNS" ]; do
    say ""
    say "   round $r (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    if [ $((r % 2)) -eq 1 ]; then
        run_dmr dmr "dmr run in round $r"
        show dmr
        [ -n "$COUNTERS" ] || COUNTERS=$STATUS
        run_wcref wcref
        show wcref
    else
        run_wcref wcref
        show wcref
        run_dmr dmr "dmr run in round $r"
        show dmr
    fi
    if [ "$r" -le "$PIPE_RUNS" ]; then
        note "round $r: the tr|sort|uniq pipeline (~25 s)"
        run_pipe pipe
        show pipeline
    fi
    r=$((r + 1))
done
cluster_down

say ""
say "   \$ dmr status    (of the round-1 dmr job: its counters and attempts)"
grep -v '^output ' "$COUNTERS" > "$W/status.show"
while IFS= read -r l; do say "     $l"; done < "$W/status.show"

# --------------------------------------------------- part 2: scaling

if [ -n "$SCALE" ]; then
    say ""
    say "-- part 2: scaling: the same job on a fresh cluster of N workers (2 slots each), 1 warm-up + $RUNS runs"
    for n in $SCALE; do
        say ""
        say "   \$ dmr cluster up -n $n --state \$W/scale$n"
        cluster_up "scale$n" "$n"
        for x in ms cpu map red; do : > "$W/scale$n.$x"; done
        run_dmr "warm$n" "warm-up run with $n workers"
        say "$(printf '  %-9s %7d ms   %s' warm-up "$MS" "$DETAIL")"
        i=1
        while [ "$i" -le "$RUNS" ]; do
            run_dmr "scale$n" "run $i with $n workers"
            say "$(printf '  %-9s %7d ms   %s' "run $i" "$MS" "$DETAIL")"
            i=$((i + 1))
        done
        cluster_down
        rm -rf "$ST"
    done
fi

# ---------------------------------------------------------------- results

DMR_MED=$(median "$W/dmr.ms")
REF_MED=$(median "$W/wcref.ms")
PIPE_MED=$(median "$W/pipe.ms")
R_REF=$(ratio "$DMR_MED" "$REF_MED")
R_PIPE=$(ratio "$PIPE_MED" "$DMR_MED")
V_REF=$(awk -v r="$R_REF" -v t="$TARGET_REF" 'BEGIN { print (r <= t ? "PASS" : "FAIL") }')
V_PIPE=$(awk -v r="$R_PIPE" -v t="$TARGET_PIPE" 'BEGIN { print (r >= t ? "PASS" : "FAIL") }')
verdict=PASS
[ "$V_REF" = PASS ] && [ "$V_PIPE" = PASS ] || verdict=FAIL

# row LABEL NAME: one row of the side-by-side table.
row() {
    set -- "$1" "$2" $(stats "$W/$2.ms")
    mb=$(awk -v b="$BYTES" -v ms="$4" 'BEGIN { printf "%.0f", (ms > 0 ? b / ms / 1000 : 0) }')
    say "$(printf '%-10s %4s %7s %9s %7s %7s %11s   %s' "$1" "$(wc -l < "$W/$2.ms")" "$3" "$4" "$5" "$mb" "$(secs "$(median "$W/$2.cpu")")" "$(tr '\n' ' ' < "$W/$2.ms")")"
}

results_begin
say "wordcount over $BYTES bytes ($MB MiB, one file, warm in the page cache), $(wc -l < "$REF") distinct words; $(nproc) cores"
say "dmr: $WORKERS workers x 2 slots, split_mb=$SPLIT: $(awk '/^maps/ { split($2, a, "/"); print a[2] }' "$COUNTERS") map tasks, 1 reduce task; runs alternating, medians"
say ""
say "$(printf '%-10s %4s %7s %9s %7s %7s %11s   %s' '' runs min_ms median_ms max_ms MB/s median_cpu_s 'ms in run order')"
row dmr dmr
row dmr-wcref wcref
row pipeline pipe
say "dmr phases (medians): map phase $(median "$W/dmr.map") ms (submit -> last map attempt done), reduce attempt $(median "$W/dmr.red") ms"
say "dmr/dmr-wcref round by round (the two runs of a round are next to each other): $(paste -d ' ' "$W/dmr.ms" "$W/wcref.ms" | awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), ($2 > 0 ? $1 / $2 : 0) }')"
say "(cpu: dmr = master + workers with their task processes; dmr-wcref = one process; pipeline = tr + sort + uniq;"
say " dmr's wall time includes dmr submit's status polling: every 10 ms at first, slowing to every 100 ms)"
if [ -n "$SCALE" ]; then
    one=""
    say ""
    say "scaling on $(nproc) cores (fresh cluster per row, 2 slots per worker, $RUNS runs after a warm-up):"
    say "$(printf '%-8s %6s %9s %7s %7s %11s %10s   %s' workers slots median_ms min_ms max_ms vs_1_worker vs_wcref 'ms in run order')"
    for n in $SCALE; do
        set -- $(stats "$W/scale$n.ms")
        [ -n "$one" ] || one=$2
        say "$(printf '%-8s %6s %9s %7s %7s %11s %10s   %s' "$n" $((2 * n)) "$2" "$1" "$3" "$(ratio "$one" "$2")x" "$(ratio "$2" "$REF_MED")" "$(tr '\n' ' ' < "$W/scale$n.ms")")"
    done
    say "(vs_1_worker = speed-up over the first row; vs_wcref = median / dmr-wcref's median in part 1; median map phase per row: $(for n in $SCALE; do printf '%s:%sms ' "$n" "$(median "$W/scale$n.map")"; done))"
fi
say ""
nout=$((2 * RUNS + PIPE_RUNS + 2))
[ -z "$SCALE" ] || nout=$((nout + $(echo $SCALE | wc -w) * (RUNS + 1)))
say "outputs: all $nout runs (warm-ups included) equal the reference word count"
say "ratio dmr/dmr-wcref (medians): $R_REF   target <= $TARGET_REF: $V_REF"
say "ratio pipeline/dmr (medians):  $R_PIPE   target >= $TARGET_PIPE: $V_PIPE"
say "target: dmr <= $TARGET_REF x dmr-wcref and >= ${TARGET_PIPE} x faster than tr|sort|uniq: $verdict"
results_end
target_met "$verdict"
