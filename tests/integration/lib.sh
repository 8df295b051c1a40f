# lib.sh -- shared set-up for process-level tests: sourced by every t_*.sh.
#
# Each test runs in a fresh directory ($T) with its own cluster state, and
# a trap stops every process it started and removes the directory, pass or
# fail. Binaries come from $DMR_BIN (default: the repository's bin/).

set -eu
REPO=$(cd "$(dirname "$0")/../.." && pwd)
DMR_BIN=${DMR_BIN:-$REPO/bin}
case $DMR_BIN in /*) ;; *) DMR_BIN=$REPO/$DMR_BIN ;; esac
DMR=$DMR_BIN/dmr
GENTEXT=$DMR_BIN/dmr-gentext
DATA=${DMR_SHARED_DATA:-$REPO/../shared/data}
export LC_ALL=C

T=$(mktemp -d "${TMPDIR:-/tmp}/dmr-test.XXXXXX")
cd "$T"

cleanup() {
    rc=$?
    if [ -f "$T/.dmr/pids" ]; then
        "$DMR" cluster down --state "$T/.dmr" >/dev/null 2>&1 || true
    fi
    if [ $rc -ne 0 ] && [ -d "$T/.dmr" ]; then
        for log in "$T"/.dmr/*.log; do
            [ -f "$log" ] || continue
            echo "--- tail of $(basename "$log")" >&2
            tail -n 15 "$log" >&2
        done
    fi
    cd /
    rm -rf "$T"
    exit $rc
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }

# cluster_up N [extra options]: a local cluster in $T/.dmr.
cluster_up() {
    n=$1; shift
    "$DMR" cluster up -n "$n" --state "$T/.dmr" "$@" >/dev/null ||
        fail "cluster up -n $n"
}

# Reference word count: "word<TAB>count" lines, sorted.
ref_wordcount() {
    cat "$@" | tr -cs 'A-Za-z' '\n' | grep . | sort | uniq -c |
        awk '{print $2 "\t" $1}' | sort
}

# Concatenated job output, sorted.
job_output() { cat "$1"/part-* | sort; }

# same FILE_A FILE_B WHAT: exact comparison with a readable diff on failure.
same() {
    if ! cmp -s "$1" "$2"; then
        echo "--- $3 differs (first lines of diff):" >&2
        diff "$1" "$2" | head -n 20 >&2
        fail "$3"
    fi
}

# check_parts DIR R [ORDER]: R part files, each sorted by key bytewise
# (ORDER "custom": the job orders keys itself; the caller checks), no key
# in two parts.
check_parts() {
    dir=$1; r=$2; order=${3:-bytes}
    [ -f "$dir/_SUCCESS" ] || fail "$dir/_SUCCESS missing"
    n=$(ls "$dir" | grep -c '^part-')
    [ "$n" -eq "$r" ] || fail "$dir has $n part files, expected $r"
    for p in "$dir"/part-*; do
        [ "$order" = custom ] && break
        cut -f1 "$p" | sort -c 2>/dev/null || fail "$p is not sorted by key"
    done
    dups=$(cat "$dir"/part-* | cut -f1 | sort | uniq -d | head -n 3)
    [ -z "$dups" ] || fail "keys in more than one part: $dups"
    [ ! -e "$dir/_temporary" ] || fail "$dir/_temporary left behind"
}

# attempts_exactly_once JOB: every task of JOB ran exactly one attempt, ok.
attempts_exactly_once() {
    "$DMR" status "$1" > status.txt || fail "dmr status $1"
    awk '/^attempts/ {on=1; getline; next}
         on && NF >= 7 {
             key = $1 " " $2; n[key]++
             if ($7 != "ok") { print "attempt not ok: " $0; bad = 1 }
         }
         END {
             for (k in n) if (n[k] != 1) { print k " ran " n[k] " times"; bad = 1 }
             exit bad
         }' status.txt || fail "a task did not run exactly once"
    maps=$(awk '/^maps/ {split($2, a, "/"); print a[2]}' status.txt)
    reds=$(awk '/^reduces/ {split($2, a, "/"); print a[2]}' status.txt)
    got=$(awk '/^attempts/ {on=1; getline; next} on && NF >= 7' status.txt | wc -l)
    [ "$got" -eq $((maps + reds)) ] ||
        fail "$got attempts for $maps maps and $reds reduces"
}

# pid_of NAME: the pid of NAME (master, worker-I) in the cluster's pids file.
pid_of() { awk -v n="$1" '$1 == n {print $2}' "$T/.dmr/pids"; }

# wid_of PID: the id the master gave the worker process PID (dmr workers).
wid_of() { "$DMR" workers | awk -v p="$1" 'NR > 1 && $4 == p {w = $1} END {print w}'; }

# task_pids PID: the task processes (dmr task) worker process PID runs now.
task_pids() {
    ps -o pid=,args= --ppid "$1" 2>/dev/null |
        awk '$2 == "dmr" && $3 == "task" {print $1}'
}

# stray_tasks: every task process of this test's cluster still running,
# whatever its parent (a task outlives a worker killed with SIGKILL).
stray_tasks() {
    ps -eo pid=,args= |
        awk -v d="$T/.dmr/" '$2 == "dmr" && $3 == "task" && index($0, d) {print $1}'
}

# wait_until SECS COMMAND...: runs COMMAND every 0.1 s until it succeeds;
# returns 1 if it has not within SECS seconds.
wait_until() {
    _wu_n=$(($1 * 10)); shift
    until "$@"; do
        _wu_n=$((_wu_n - 1))
        [ "$_wu_n" -gt 0 ] || return 1
        sleep 0.1
    done
}

# attempt_rows [JOB]: the rows of the attempts table of dmr status (kind
# task att worker start end outcome prog error...).
attempt_rows() {
    "$DMR" status "$@" | awk '/^attempts/ {on=1; getline; next} on && NF >= 7'
}

# --- helpers for the chunk store tests (t_fs_*.sh) ---

# flip_byte FILE OFFSET: inverts every bit of the byte at OFFSET of FILE.
flip_byte() {
    _fb=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    [ -n "$_fb" ] || fail "flip_byte: $1 has no byte at offset $2"
    printf "\\$(printf %03o $((_fb ^ 255)))" |
        dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# name_of_wid WID: the cluster name (worker-I) of the live worker the
# master calls WID, via its pid.
name_of_wid() {
    _nw=$("$DMR" workers | awk -v w="$1" 'NR > 1 && $1 == w && $7 == "alive" {print $4}')
    [ -n "$_nw" ] && awk -v p="$_nw" '$2 == p {print $1}' "$T/.dmr/pids"
}

# gone PID: process PID has exited (a zombie counts: killed daemons are
# reaped by init, which may take a while).
gone() {
    ! kill -0 "$1" 2> /dev/null ||
        [ "$(ps -o stat= -p "$1" 2> /dev/null | cut -c1)" = Z ]
}

# wait_dead PID: waits (up to 10 s) until process PID is gone.
wait_dead() { wait_until 10 gone "$1"; }

# fs_chunks dmr:/PATH: one line per chunk of a stored file from dmr fs
# stat: "index id length state wid..." (a damaged replica is "wid(bad)").
fs_chunks() {
    "$DMR" fs stat "$1" | awk '$1 == "chunk" {
        printf "%s %s %s %s", $2, $3, $4, $7
        for (i = 8; i <= NF; i++) printf " %s", $i
        printf "\n" }'
}
