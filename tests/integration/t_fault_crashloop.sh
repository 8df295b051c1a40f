# MIT 6.824's crash test, with real processes: crashy.so exits or stalls
# at random in a third of its attempts, and meanwhile, about every second,
# a random worker is killed with SIGKILL and started again (on the same
# data directory, so as a new worker to the master). One worker is down at
# a time, so two always live. With room for bad luck (--max-attempts=20)
# the job must end with exactly the reference output, committed once.
. "$(dirname "$0")/lib.sh"
JOBS=${DMR_TESTJOBS:-$REPO/build/test/jobs}
[ -f "$JOBS/crashy.so" ] || fail "crashy.so not built (make testjobs)"
"$GENTEXT" --bytes 3m --seed 13 --files 6 --dir in > /dev/null || fail "gentext"
ref_wordcount in/* > want
cluster_up 3 -M --max-attempts=20

( "$DMR" submit "$JOBS/crashy.so" --input in --output out -R 3 > submit.txt 2>&1
  echo $? > submit.rc ) &
has_tasks() { [ -f submit.rc ] || [ -n "$(stray_tasks)" ]; }
kills=0
start=$(date +%s)
# The first kill as soon as tasks run, then one every 0.7 to 1 s. The kills
# stop after 20 s (more than the job usually needs), so that the test ends
# even if the job could not progress under them; that is then reported,
# and the job must still finish.
wait_until 20 has_tasks || fail "no task started within 20 s"
while [ ! -f submit.rc ] && [ $(($(date +%s) - start)) -lt 20 ]; do
    [ "$kills" -eq 0 ] || sleep "0.$(($(od -An -N1 -tu1 /dev/urandom) % 4 + 7))"
    [ ! -f submit.rc ] || break
    victim=$("$DMR" cluster kill --state "$T/.dmr" 2> /dev/null) ||
        fail "no live worker to kill"
    kills=$((kills + 1))
    sleep 0.2
    "$DMR" cluster start "$victim" --state "$T/.dmr" > /dev/null 2>&1 ||
        fail "cannot start $victim again"
done
[ -f submit.rc ] || echo "NOTE: the job had not ended after $kills kills in 20 s; kills stopped"
wait
[ "$(cat submit.rc)" -eq 0 ] || { cat submit.txt >&2; fail "the job failed under the kills"; }
[ "$kills" -gt 0 ] || fail "the job ended before the first kill"
check_parts out 3
job_output out > got
same got want "crashy output with workers killed"
attempt_rows 1 > att
outcomes=$(awk '{print $7}' att | sort | uniq -c | awk '{printf " %s %s", $1, $2}')
echo "$kills workers killed in $(($(date +%s) - start)) s; $(wc -l < att) attempts:$outcomes"
echo "$(grep -c 'exiting on purpose' att || true) attempts exited on purpose," \
    "$(grep -c ' lost (' submit.txt || true) workers lost"
# Tasks die with their worker (and the rest are cancelled when the job
# ends): none may be left behind, and the output stays as committed.
no_tasks() { [ -z "$(stray_tasks)" ]; }
wait_until 5 no_tasks || fail "task processes outlived the job: $(stray_tasks)"
check_parts out 3
job_output out > got
same got want "crashy output after the job's tasks ended"
