# Job code that segfaults on one record, every time: the task's process
# dies of SIGSEGV, never its worker. The master retries the task on other
# workers up to --max-attempts (default 4, then 2) and fails the job with
# an error naming the task, the signal and the job's last stderr line;
# the workers live on and the next job on the same cluster succeeds. With
# --blacklist-after=1 each worker the task failed on is blacklisted for
# that job (and only that job).
. "$(dirname "$0")/lib.sh"
JOBS=${DMR_TESTJOBS:-$REPO/build/test/jobs}
[ -f "$JOBS/segv.so" ] || fail "segv.so not built (make testjobs)"
mkdir in
"$GENTEXT" --bytes 1m --seed 5 --files 3 --dir in > /dev/null || fail "gentext"
! grep -q Kaboom in/* || fail "the generated text already says Kaboom"
# The record that crashes starts at byte 11 of in/boom.txt.
printf 'first line\nthis line says Kaboom and dies\nlast line\n' > in/boom.txt
ref_wordcount in/* > want

no_strays() { [ -z "$(stray_tasks)" ]; }

# crash JOB MAX: runs the crashing job (number JOB) on cluster $C, which
# allows MAX attempts per task, and checks how it failed. Sets $task.
crash() {
    job=$1; max=$2
    set +e
    "$DMR" submit "$JOBS/segv.so" --input in --output "out$C$job" -R 2 \
        -D segv_match=Kaboom > "submit$C$job.txt" 2>&1
    rc=$?
    set -e
    [ "$rc" -eq 1 ] || { cat "submit$C$job.txt" >&2; fail "job $job: submit exited $rc, not 1"; }
    set +e
    "$DMR" status "$job" > "status$C$job.txt"
    rc=$?
    set -e
    [ "$rc" -eq 1 ] || fail "dmr status $job (a failed job) exited $rc, not 1"
    attempt_rows "$job" > "att$C$job"
    # Which map task read boom.txt: the one whose attempts failed.
    task=$(awk '$7 == "failed" {print $1 " " $2}' "att$C$job" | sort -u)
    [ "$(echo "$task" | wc -l)" -eq 1 ] && [ "${task%% *}" = map ] ||
        fail "job $job: failed attempts are of '$task', not of one map task: $(cat "att$C$job")"
    task=${task#map }
    awk -v t="$task" -v max="$max" '
        $1 == "map" && $2 == t {
            n++; w[$4] = 1
            if ($7 != "failed" || $0 !~ /killed by signal 11 \(Segmentation fault\)/) {
                print "not a segfault: " $0; bad = 1 } }
        END { if (n != max) { print "map " t " ran " n " attempts, not " max; bad = 1 }
              nw = 0; for (k in w) nw++
              if (nw != (max < 3 ? max : 3)) { print "its attempts ran on " nw " workers"; bad = 1 }
              exit bad }' "att$C$job" || fail "job $job attempts: $(cat "att$C$job")"
    head -n 1 "status$C$job.txt" | grep -q "^job $job .* failed" ||
        fail "dmr status $job: $(head -n 1 "status$C$job.txt")"
    for text in "job $job failed after" "map task $task failed $max times" \
        "map task $task attempt $max on w[0-9]* killed by signal 11 (Segmentation fault)" \
        "stderr: segv: crashing on record at offset 11 of [^ ]*in/boom.txt"; do
        grep -q "$text" "submit$C$job.txt" ||
            { cat "submit$C$job.txt" >&2; fail "job $job: submit did not say '$text'"; }
    done
    grep -q "^error .*map task $task failed $max times" "status$C$job.txt" ||
        fail "dmr status $job shows no error for map $task"
    [ ! -e "out$C$job/_SUCCESS" ] && [ ! -e "out$C$job/_temporary" ] ||
        fail "job $job left _SUCCESS or _temporary: $(ls -A "out$C$job")"
    # Every worker lives, with the pid it started with; no task is left.
    "$DMR" workers > "workers$C$job.txt"
    for name in worker-1 worker-2 worker-3; do
        pid=$(pid_of $name)
        kill -0 "$pid" || fail "$name (pid $pid) died"
        awk -v p="$pid" '$4 == p && $7 == "alive" {f = 1} END {exit !f}' \
            "workers$C$job.txt" || fail "$name (pid $pid) not alive: $(cat "workers$C$job.txt")"
    done
    [ "$(grep -c alive "workers$C$job.txt")" -eq 3 ] ||
        fail "workers after job $job: $(cat "workers$C$job.txt")"
    wait_until 5 no_strays || fail "task processes left after job $job: $(stray_tasks)"
    echo "job $job: map $task failed $max times, as allowed"
}

# wordcount JOB: an ordinary job (number JOB) on cluster $C succeeds with
# the reference output, and uses every worker.
wordcount() {
    "$DMR" submit wordcount --input in --output "out$C$1" -R 2 -q ||
        fail "wordcount (job $1) after the crashes"
    check_parts "out$C$1" 2
    job_output "out$C$1" > "got$C$1"
    same "got$C$1" want "wordcount output after the crashes (job $1)"
    n=$(attempt_rows "$1" | awk '$7 == "ok" {print $4}' | sort -u | wc -l)
    [ "$n" -eq 3 ] || fail "job $1 ran on $n workers, not 3"
}

# new_cluster ARGS: a fresh 3-worker cluster in place of the old one.
new_cluster() {
    "$DMR" cluster down --state "$T/.dmr" > /dev/null 2>&1 || fail "cluster down"
    rm -rf "$T/.dmr"
    cluster_up 3 "$@"
}

C=a
cluster_up 3
crash 1 4
wordcount 2
grep -q "blacklisted" submita1.txt && fail "blacklisted with the default --blacklist-after=3"

C=b
new_cluster -M --max-attempts=2
crash 1 2
grep -q "map $task attempt 1 failed on w[0-9]* (failure 1 of 2)" submitb1.txt ||
    fail "no 'failure 1 of 2' event: $(cat submitb1.txt)"

# Blacklisted after one failure: attempts 1, 2 and 3 each blacklist their
# worker, so attempt 4 runs on a blacklisted one (there is no other).
C=c
new_cluster -M --blacklist-after=1
crash 1 4
awk -v t="$task" '$1 == "map" && $2 == t && $3 <= 3 {print $4}' attc1 | sort > failed_on
sed -n 's/.*worker \(w[0-9]*\) blacklisted for this job after 1 failed attempts.*/\1/p' \
    statusc1.txt | sort > blacklisted
[ "$(wc -l < blacklisted)" -eq 3 ] && cmp -s failed_on blacklisted ||
    fail "blacklisted '$(cat blacklisted)' for failures on '$(cat failed_on)': $(cat statusc1.txt)"
grep -q "worker w[0-9]* blacklisted for this job" submitc1.txt ||
    fail "submit did not report the blacklist"
# The blacklist was for that job: the next one uses every worker.
wordcount 2
