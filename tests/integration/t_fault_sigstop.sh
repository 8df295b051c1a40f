# SIGSTOP, the process-level stand-in for a machine that hangs or a long
# GC pause. (a) A worker frozen mid-map with its running tasks stops
# heartbeating: the master declares it lost and re-runs its tasks
# elsewhere, and the job gives the reference output. Continued, the worker
# comes back as a new incarnation, its stale results change nothing, and
# it gets work again. (b) One frozen task process under a worker that keeps
# heartbeating makes no progress: after the job's task timeout the attempt
# is abandoned as hung (its process killed) and the task re-run on another
# worker. Speculation is off, so that no backup attempt hides the failure.
. "$(dirname "$0")/lib.sh"
JOBS=${DMR_TESTJOBS:-$REPO/build/test/jobs}
[ -f "$JOBS/pids.so" ] || fail "pids.so not built (make testjobs)"
"$GENTEXT" --bytes 6m --seed 21 --files 6 --dir in > /dev/null || fail "gentext"
ref_wordcount in/* > want
cluster_up 3

has_tasks() { [ -n "$(task_pids "$1")" ]; }
no_tasks() { [ -z "$(task_pids "$1")" ]; }
gone() { ! kill -0 "$1" 2> /dev/null; }
state_of() { "$DMR" workers | awk -v w="$1" '$1 == w {print $4 " " $7}'; }
is_alive() { [ "$(state_of "$1")" = "$2 alive" ]; }

# --- (a) the whole worker: 6 maps of 1 MiB, each sleeping 1.5 s in setup.
w=$(pid_of worker-1)
wid=$(wid_of "$w")
[ -n "$wid" ] || fail "no worker id for worker-1 (pid $w)"
"$DMR" submit "$JOBS/pids.so" --input in --output outa -R 2 -D split_mb=1 \
    -D speculative=0 -D pidlog="$T/pla" -D sleep_ms=1500 > suba.txt 2>&1 &
sub=$!
wait_until 10 has_tasks "$w" || fail "worker-1 ($wid) never ran a task"
kill -s STOP "$w"
frozen=$(task_pids "$w")
[ -z "$frozen" ] || kill -s STOP $frozen
echo "froze worker-1 ($wid, pid $w) and its tasks:" $frozen
wait "$sub" || { cat suba.txt >&2; fail "the job with a frozen worker failed"; }
grep -q "worker $wid lost (no heartbeat for" suba.txt ||
    { cat suba.txt >&2; fail "submit did not report $wid lost"; }
[ "$(state_of "$wid")" = "$w dead" ] ||
    fail "dmr workers shows $wid as '$(state_of "$wid")' while it is stopped"
attempt_rows 1 > att1
# Every attempt on the frozen worker was lost, and its task then ran to
# completion on another worker.
awk -v w="$wid" '
    $4 == w { if ($7 != "lost") { print "attempt on " w " is " $7 ": " $0; bad = 1 }
              lost[$1 " " $2] = 1; n++ }
    $4 != w && $7 == "ok" { ok[$1 " " $2] = 1 }
    END { if (!n) { print "no attempt ran on " w; bad = 1 }
          for (k in lost) if (!(k in ok)) { print k " never succeeded elsewhere"; bad = 1 }
          exit bad }' att1 || fail "attempts of job 1: $(cat att1)"
check_parts outa 2
job_output outa > gota
same gota want "output with a frozen worker"

# Continued (its tasks first: once it runs, it kills them), it learns it
# was declared dead, drops the tasks of its old incarnation and registers
# again.
[ -z "$frozen" ] || kill -s CONT $frozen
kill -s CONT "$w"
wait_until 10 grep -q "worker $wid registered (incarnation 2)" .dmr/master.log ||
    fail "the master did not take $wid back as incarnation 2"
grep -q "registered as $wid (incarnation 2)" .dmr/worker-1.log ||
    fail "worker-1 does not log its incarnation 2"
wait_until 5 is_alive "$wid" "$w" ||
    fail "dmr workers shows $wid as '$(state_of "$wid")', not alive with pid $w"
# The tasks of its old incarnation are gone; the finished job is unchanged.
wait_until 20 no_tasks "$w" || fail "tasks of worker-1 still running: $(task_pids "$w")"
sleep 0.5
check_parts outa 2
job_output outa > gota
same gota want "output after the frozen worker came back"
# The new incarnation gets work: 6 maps on 6 slots go to every worker.
"$DMR" submit wordcount --input in --output outa2 -R 2 -D split_mb=1 -q ||
    fail "job after the worker came back"
job_output outa2 > gota2
same gota2 want "output of the job after the worker came back"
attempt_rows 2 | awk -v w="$wid" '$4 == w && $7 == "ok" {f = 1} END {exit !f}' ||
    fail "$wid ran nothing of job 2"

# --- (b) one task process frozen; its worker keeps heartbeating.
w=$(pid_of worker-2)
wid=$(wid_of "$w")
"$DMR" submit "$JOBS/pids.so" --input in --output outb -R 2 -D split_mb=1 \
    -D speculative=0 -D task_timeout_ms=3000 -D pidlog="$T/plb" \
    -D sleep_ms=1500 > subb.txt 2>&1 &
sub=$!
wait_until 10 has_tasks "$w" || fail "worker-2 ($wid) never ran a task"
c=$(task_pids "$w" | head -n 1)
# The attempt directory names it: .../jobs/JOB/KIND-TASK-ATTEMPT
set -- $(ps -o args= -p "$c" |
    sed -n 's|^dmr task .*/jobs/[0-9]*/\([a-z]*\)-\([0-9]*\)-\([0-9]*\) .*|\1 \2 \3|p')
[ $# -eq 3 ] || fail "cannot tell which task pid $c runs: $(ps -o args= -p "$c")"
kind=$1 task=$2 att=$3
kill -s STOP "$c"
echo "froze $kind $task attempt $att (pid $c) on worker-2 ($wid)"
wait "$sub" || { cat subb.txt >&2; fail "the job with a frozen task failed"; }
grep -q "$kind $task attempt $att on $wid hung: no progress for" subb.txt ||
    { cat subb.txt >&2; fail "submit did not report $kind $task as hung"; }
attempt_rows 3 > att3
awk -v k="$kind" -v t="$task" -v a="$att" -v w="$wid" '
    $1 == k && $2 == t && $3 == a {
        seen = 1
        if ($4 != w || $7 != "failed" || $0 !~ /no progress for/) {
            print "the frozen attempt: " $0; bad = 1 } }
    $1 == k && $2 == t && $7 == "ok" { ok = 1
        if ($4 == w) { print "re-run on the same worker: " $0; bad = 1 } }
    END { if (!seen || !ok) { print "frozen attempt seen " seen+0 ", ok attempt " ok+0; bad = 1 }
          exit bad }' att3 || fail "attempts of job 3: $(cat att3)"
wait_until 5 gone "$c" || fail "the hung task (pid $c) was not killed: $(ps -o stat=,args= -p "$c")"
[ "$(state_of "$wid")" = "$w alive" ] ||
    fail "worker-2 ($wid) is '$(state_of "$wid")' after its task hung"
# The frozen process never reached teardown; another one ran the task.
awk -v p="$c" '$4 == p {exit 1}' plb/log || fail "the frozen task process logged a run"
awk -v k="$kind" -v t="$task" '$1 == k && $2 == t {n++} END {exit n != 1}' plb/log ||
    fail "$kind $task logged $(grep -c "^$kind $task " plb/log) runs, not 1"
check_parts outb 2
job_output outb > gotb
same gotb want "output with a frozen task"
