# lib.sh -- shared set-up for the benchmarks: sourced by every b_*.sh.
#
# Each benchmark works in a fresh temporary directory ($W) holding its
# cluster state directories (never the repository's .dmr), and a trap stops
# every cluster started there and removes the directory, pass or fail
# (BENCH_KEEP=1 keeps it). Binaries come from $DMR_BIN (default: the
# repository's bin/).
#
# A benchmark prints progress on stderr and its report on stdout through
# say(); the report, which ends in a results block (results_begin ..
# results_end), is also written to bench/results/NAME.txt
# ($BENCH_RESULTS/NAME.txt) -- a run that fails or is interrupted leaves
# its report there too, with a results block saying so. Exit status: 0
# when every target is met, 1 when a target is missed or anything went
# wrong (a wrong output, a job that failed, a cluster that did not start).

set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
DMR_BIN=${DMR_BIN:-$REPO/bin}
case $DMR_BIN in /*) ;; *) DMR_BIN=$REPO/$DMR_BIN ;; esac
DMR=$DMR_BIN/dmr
GENTEXT=$DMR_BIN/dmr-gentext
RESULTS=${BENCH_RESULTS:-$REPO/bench/results}
CACHE=${BENCH_CACHE:-${TMPDIR:-/tmp}/dmr-bench-cache}
export LC_ALL=C
unset DMR_MASTER

BENCH=$(basename "$0" .sh)
BENCH=${BENCH#b_}

[ -x "$DMR" ] && [ -x "$GENTEXT" ] || {
    echo "$BENCH: $DMR or $GENTEXT missing; build first (make all)" >&2
    exit 1
}

W=$(mktemp -d "${TMPDIR:-/tmp}/dmr-bench-$BENCH.XXXXXX")
REPORT=$W/report.txt
: > "$REPORT"
BG_PIDS=""
CACHE_TMP=""
PUBLISHED=""

cleanup() {
    rc=$?
    for pid in $BG_PIDS; do
        kill "$pid" 2>/dev/null || true
    done
    for st in "$W"/*/pids; do
        [ -f "$st" ] || continue
        "$DMR" cluster down --state "$(dirname "$st")" >/dev/null 2>&1 || true
    done
    if [ $rc -ne 0 ] && [ -z "${MISSED:-}" ]; then
        for log in "$W"/*/master.log; do
            [ -f "$log" ] || continue
            echo "--- tail of $log" >&2
            tail -n 15 "$log" >&2
        done
    fi
    [ -z "$CACHE_TMP" ] || rm -rf "$CACHE_TMP"
    if [ -z "$PUBLISHED" ] && [ -s "$REPORT" ]; then
        # A run that did not get to its results still leaves its report.
        say "" >/dev/null
        say "---- RESULTS: $BENCH ----" >/dev/null
        say "the run did not complete (exit status $rc): no figures" >/dev/null
        say "---- END RESULTS: $BENCH ----" >/dev/null
        mkdir -p "$RESULTS" && cp "$REPORT" "$RESULTS/$BENCH.txt" || true
    fi
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "$BENCH: kept $W" >&2
    else
        rm -rf "$W"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The clusters run a private copy of the binaries and bundled jobs: a
# worker runs each task by exec'ing the path of its own binary, so a
# rebuild of bin/dmr while a benchmark runs would make every task fail.
mkdir -p "$W/dmr/bin" "$W/dmr/lib/dmr"
cp "$DMR" "$GENTEXT" "$W/dmr/bin/"
cp "$DMR_BIN"/../lib/dmr/*.so "$W/dmr/lib/dmr/" 2>/dev/null || true
DMR_SRC=$DMR
DMR=$W/dmr/bin/dmr
GENTEXT=$W/dmr/bin/dmr-gentext

fail() { echo "$BENCH: FAIL: $*" >&2; say "FAIL: $*"; exit 1; }
note() { echo "$BENCH: $*" >&2; }

# say LINE...: one line of the report (stdout and the results file).
say() {
    printf '%s\n' "$*"
    printf '%s\n' "$*" >> "$REPORT"
}

# report_header TITLE: what ran where, for the top of the report.
report_header() {
    rev=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [ -n "$(git -C "$REPO" status --porcelain -uno 2>/dev/null)" ]; then
        rev="$rev (with uncommitted changes)"
    fi
    say "== $BENCH: $1"
    say "date     $(date '+%Y-%m-%d %H:%M:%S %Z')"
    say "commit   $rev"
    say "binary   $DMR_SRC (cksum $(cksum < "$DMR" | cut -d' ' -f1), run from a copy)"
    say "machine  $(uname -sm), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
}

results_begin() {
    say ""
    say "---- RESULTS: $BENCH ----"
}

# results_end: closes the block and publishes the report.
results_end() {
    say "(load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
    say "---- END RESULTS: $BENCH ----"
    mkdir -p "$RESULTS"
    cp "$REPORT" "$RESULTS/$BENCH.txt"
    PUBLISHED=1
    note "report written to $RESULTS/$BENCH.txt"
}

# target_met VERDICT: the exit status of a benchmark whose run went well:
# 0 for PASS, 1 (without the log tails of a failed run) otherwise.
target_met() {
    [ "$1" = PASS ] && return 0
    MISSED=1
    exit 1
}

# Wall-clock time in milliseconds since the epoch.
now_ms() { date +%s%3N; }

# clock MS: a time in ms since the epoch as HH:MM:SS.mmm.
clock() { date -d "@$(($1 / 1000)).$(printf %03d $(($1 % 1000)))" +%H:%M:%S.%3N; }

# log_ms LINE: the timestamp of a dmr log line ("2026-11-26 14:27:41.700
# master[..] ..."), in ms since the epoch.
log_ms() {
    date -d "$(printf '%s\n' "$1" | cut -d' ' -f1-2)" +%s%3N
}

# clock_ms HH:MM:SS.mmm NEAR_MS: a time of day as printed by `dmr status`,
# in ms since the epoch, taking the day on which it is closest to NEAR_MS.
clock_ms() {
    t=$(date -d "$(date -d "@$(($2 / 1000))" +%F) $1" +%s%3N)
    if [ "$t" -gt $(($2 + 43200000)) ]; then
        t=$((t - 86400000))
    elif [ "$t" -lt $(($2 - 43200000)) ]; then
        t=$((t + 86400000))
    fi
    echo "$t"
}

# sleep_ms MS (nothing if MS <= 0)
sleep_ms() {
    [ "$1" -le 0 ] || sleep "$(awk -v ms="$1" 'BEGIN { printf "%.3f", ms / 1000 }')"
}

# stats FILE: "min median max" of the integers in FILE, one a line (the
# median of an even count is the mean of the two middle values, rounded).
stats() {
    sort -n "$1" | awk '{ v[NR] = $1 }
        END {
            if (NR == 0) { print "- - -"; exit }
            m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%d %.0f %d\n", v[1], m, v[NR]
        }'
}

# median FILE: the median of the numbers in FILE, rounded to an integer.
median() {
    sort -n "$1" | awk '{ v[NR] = $1 }
        END { printf "%.0f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ------------------------------------------------------------- clusters

# cluster_up NAME N [options...]: master + N workers with state in $W/NAME;
# sets ST (state directory) and EP (master endpoint).
cluster_up() {
    ST=$W/$1
    n=$2
    shift 2
    "$DMR" cluster up -n "$n" --state "$ST" "$@" > "$W/endpoint" \
        2> "$W/cluster-up.err" || {
        cat "$W/cluster-up.err" >&2
        fail "dmr cluster up -n $n --state $ST $*"
    }
    EP=$(cat "$W/endpoint")
}

cluster_down() {
    "$DMR" cluster down --state "$ST" >/dev/null 2>&1 || true
}

# cpu_of PID...: utime+stime of these processes and of their reaped
# children, in clock ticks (a process that is gone counts 0).
cpu_of() {
    for p in "$@"; do
        sed 's/.*) //' "/proc/$p/stat" 2>/dev/null || true
    done | awk '{ t += $12 + $13 + $14 + $15 } END { print t + 0 }'
}

# self_cpu: the same for the children this shell has reaped.
self_cpu() { sed 's/.*) //' "/proc/$$/stat" | awk '{ print $14 + $15 }'; }

# pid_of NAME: the pid STATE/pids holds for a local process (worker-2).
pid_of() { awk -v n="$1" '$1 == n { print $2 }' "$ST/pids"; }

# workers: `dmr workers` as "id pid state" lines (columns found by name).
workers() {
    "$DMR" workers --master "$EP" | awk '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        { print $col["id"], $col["pid"], $col["state"] }'
}

# wid_of PID: the id the master gives the live worker with that pid.
wid_of() { workers | awk -v p="$1" '$2 == p && $3 == "alive" { print $1 }'; }

# log_lines: how many lines the master log has now (a mark to search after).
log_lines() { wc -l < "$ST/master.log"; }

# wait_log MARK PATTERN TIMEOUT_MS: the first master log line after line
# MARK matching the (grep basic) PATTERN; empty if none came in time.
wait_log() {
    deadline=$(($(now_ms) + $3))
    while :; do
        line=$(tail -n "+$(($1 + 1))" "$ST/master.log" | grep -m 1 -e "$2" || true)
        if [ -n "$line" ] || [ "$(now_ms)" -gt "$deadline" ]; then
            printf '%s\n' "$line"
            return 0
        fi
        sleep 0.02
    done
}

# restart_worker NAME: starts a killed worker again and waits until the
# master has registered it; prints its new master id.
restart_worker() {
    mark=$(log_lines)
    "$DMR" cluster start "$1" --state "$ST" >/dev/null 2>&1 ||
        fail "dmr cluster start $1 --state $ST"
    newpid=$(pid_of "$1")
    line=$(wait_log "$mark" " registered (incarnation [0-9]*): [^ ]* pid $newpid on" 15000)
    [ -n "$line" ] || fail "$1 (pid $newpid) did not register again within 15 s"
    printf '%s\n' "$line" | sed 's/.* worker \(w[0-9]*\) registered .*/\1/'
}

# wait_gone PID... : waits (up to 30 s) until none of these processes
# exists any more (killed workers' task children, say).
wait_gone() {
    deadline=$(($(now_ms) + 30000))
    for pid in "$@"; do
        while [ -d "/proc/$pid" ] &&
            ! awk '{ exit !($3 == "Z") }' "/proc/$pid/stat" 2>/dev/null; do
            [ "$(now_ms)" -lt "$deadline" ] || {
                note "process $pid still running 30 s after its worker was killed"
                return 1
            }
            sleep 0.05
        done
    done
}

# ---------------------------------------------------------------- inputs

# corpus MB SEED FILES: a generated corpus and its reference word count,
# made once and cached under $CACHE (keyed by size, seed, file count and
# the generator's source). Sets CORPUS (directory) and REF (file).
corpus() {
    src=$REPO/bench/gentext.c
    [ -f "$src" ] || src=$GENTEXT
    gen=$(cksum < "$src" | cut -d' ' -f1)
    key=corpus-${1}m-seed$2-files$3-gen$gen
    CORPUS=$CACHE/$key/text
    REF=$CACHE/$key/wordcount.ref
    if [ -f "$CACHE/$key/complete" ]; then
        note "using cached corpus $CACHE/$key"
        return 0
    fi
    mkdir -p "$CACHE"
    CACHE_TMP=$(mktemp -d "$CACHE/.$key.XXXXXX")
    note "generating a $1 MiB corpus (seed $2, $3 files) in $CACHE/$key"
    "$GENTEXT" --bytes $(($1 * 1048576)) --seed "$2" --files "$3" \
        --dir "$CACHE_TMP/text" >/dev/null || fail "dmr-gentext"
    note "computing the reference word count"
    ref_wordcount "$CACHE_TMP"/text/* > "$CACHE_TMP/wordcount.ref"
    touch "$CACHE_TMP/complete"
    # If another run made it meanwhile, mv -T fails and ours goes.
    mv -T "$CACHE_TMP" "$CACHE/$key" 2>/dev/null || rm -rf "$CACHE_TMP"
    CACHE_TMP=""
    [ -f "$CACHE/$key/complete" ] || fail "cannot cache the corpus in $CACHE/$key"
}

# Reference word count: "word<TAB>count" lines, sorted.
ref_wordcount() {
    cat "$@" | tr -cs 'A-Za-z' '\n' | grep . | sort | uniq -c |
        awk '{print $2 "\t" $1}' | sort
}

# check_output DIR WHAT: the job output in DIR equals the reference $REF.
check_output() {
    [ -f "$1/_SUCCESS" ] || fail "$2: $1/_SUCCESS missing"
    cat "$1"/part-* | sort > "$W/got"
    if ! cmp -s "$W/got" "$REF"; then
        echo "--- $2: output differs from the reference (first lines of diff):" >&2
        diff "$W/got" "$REF" | head -n 20 >&2
        fail "$2: output of $1 differs from the reference word count"
    fi
    rm -f "$W/got"
}
