# Reduces start before the last map ends and fetch map outputs as maps
# finish, but call reduce only once every output is here (the pids job
# logs when each attempt started and when it first called reduce).
# (a) Five quick maps and one slow one (slow, but making progress): while
# the slow map runs, the reduces' attempt directories already hold the
# five quick outputs and the master shows them running; they wait far
# longer than the job's task timeout without being taken for hung; every
# task runs once and the output is exact. (b) A worker running a waiting
# reduce is killed with SIGKILL: the output is still exactly the
# reference. (c) The job fails while its reduces wait (a hung map, one
# attempt allowed): it names the map, and no task process is left.
# (d) Two workers of one slot each (besides their reduce slots): reduces
# wait in every slot but the one a hung map holds; the map, timed out,
# must run again on the other worker, whose slot a reduce holds: the
# master stops that reduce to free it, instead of both waiting for ever,
# and the output is exact. (e) A worker's reduce slot: with every slot
# busy with maps, a reduce still starts before the last map ends.
. "$(dirname "$0")/lib.sh"
[ -f "$DMR_TESTJOBS/pids.so" ] || fail "pids.so not built (make testjobs)"
"$GENTEXT" --bytes 3m --seed 17 --files 6 --dir in > /dev/null
ref_wordcount in/* > want
cluster_up 3 --slots 2 --heartbeat-ms 100 --dead-after-ms 800

# fetched JOB: map outputs the reduces of JOB have begun to copy.
fetched() { ls .dmr/worker-*/jobs/"$1"/reduce-*/in-*.run 2> /dev/null | wc -l; }
# quick_fetched JOB: both reduces have the five quick outputs.
quick_fetched() { [ "$(fetched "$1")" -ge 10 ]; }
slow_map_running() { ! grep -q "^map 2 " "$1"/log 2> /dev/null; }

# --- (a) 6 maps on 6 slots; map 2 takes 6 s, in 600 map calls of 10 ms.
mkdir pl1
"$DMR" submit "$DMR_TESTJOBS/pids.so" --input in --output out1 -R 2 -q \
    -D split_mb=1 -D speculative=0 -D task_timeout_ms=1500 \
    -D pidlog="$T/pl1" -D slow_map=2 -D slow_ms=6000 -D slow_calls=600 \
    > sub1.log 2>&1 &
sp=$!
wait_until 5 quick_fetched 1 ||
    fail "the reduces did not fetch the quick outputs: $(fetched 1) begun"
slow_map_running pl1 || fail "map 2 ended before the check"
"$DMR" status 1 > status1.txt
ls .dmr/worker-*/jobs/1/reduce-*/in-00002.run > /dev/null 2>&1 &&
    fail "an output of map 2 was fetched before map 2 ended"
grep -q '^maps  *5/6 done' status1.txt ||
    fail "the master does not show 5 of 6 maps done: $(head -n 4 status1.txt)"
[ "$(attempt_rows 1 | awk '$1 == "reduce" && $7 == "running"' | wc -l)" -eq 2 ] ||
    fail "the reduces do not run while map 2 runs: $(attempt_rows 1)"
echo "while map 2 runs the reduces hold $(fetched 1) map outputs"
wait $sp || { cat sub1.log >&2; fail "job 1 failed"; }
job_output out1 > got1
same got1 want "output of job 1"
check_parts out1 2
attempts_exactly_once 1
awk '$1 == "map" { if ($6 > mend) mend = $6; if ($2 == 2) slow = $6 }
     $1 == "reduce" { r++; start[r] = $5; first[r] = $7 }
     END {
         for (i = 1; i <= r; i++) {
             if (slow - start[i] < 3000) {
                 print "reduce " i " started at " start[i] ", " \
                     slow - start[i] " ms before map 2 ended"; bad = 1 }
             if (first[i] > 0 && first[i] < mend) {
                 print "reduce " i " called reduce at " first[i] \
                     " before the last map ended at " mend; bad = 1 }
         }
         if (r != 2) { print r " reduce attempts logged"; bad = 1 }
         exit bad
     }' pl1/log || fail "execution log: $(cat pl1/log)"
echo "the reduces waited over 3 s (task timeout 1.5 s) and reduced after the maps"

# --- (b) the same job; a worker running a waiting reduce is killed.
mkdir pl2
"$DMR" submit "$DMR_TESTJOBS/pids.so" --input in --output out2 -R 2 -q \
    -D split_mb=1 -D speculative=0 -D pidlog="$T/pl2" -D slow_map=2 \
    -D slow_ms=6000 > sub2.log 2>&1 &
sp=$!
wait_until 5 quick_fetched 2 ||
    fail "the reduces of job 2 did not fetch: $(fetched 2) begun"
slow_map_running pl2 || fail "map 2 of job 2 ended before the kill"
# Preferably not the worker of the slow map: then the reduces, not the
# map, are what the kill interrupts.
victim=""
for d in .dmr/worker-*/jobs/2/reduce-*; do
    w=$(echo "$d" | cut -d/ -f2)
    [ -n "$victim" ] || victim=$w
    if [ ! -e ".dmr/$w/jobs/2/map-2-1" ]; then victim=$w; break; fi
done
[ -n "$victim" ] || fail "no worker runs a reduce of job 2"
vwid=$(wid_of "$(pid_of "$victim")")
"$DMR" cluster kill "$victim" --state .dmr > /dev/null 2>&1 ||
    fail "cannot kill $victim"
echo "killed $victim ($vwid) while its reduce waited for map 2"
wait $sp || { cat sub2.log >&2; fail "job 2 failed"; }
job_output out2 > got2
same got2 want "output of job 2 with $victim killed"
check_parts out2 2
"$DMR" status 2 > status2.txt
grep -q "worker $vwid lost" status2.txt ||
    fail "no event of $vwid lost: $(sed -n '/^events/,/^attempts/p' status2.txt)"
attempt_rows 2 | awk -v w="$vwid" '
    $1 == "reduce" && $4 == w { seen = 1; if ($7 != "lost") bad = 1 }
    $7 == "failed" { bad = 1 }
    END { exit bad || !seen }' ||
    fail "attempts of job 2: $(attempt_rows 2)"
victim_tasks() { stray_tasks | while read -r p; do
    ps -o args= -p "$p" | grep -qF "$T/.dmr/$victim/" && echo "$p"; done; }
no_victim_tasks() { [ -z "$(victim_tasks)" ]; }
wait_until 10 no_victim_tasks ||
    fail "task processes of the killed $victim are left: $(victim_tasks)"

# --- (c) one attempt per task; map 2's first attempt hangs in setup, so
# the task timeout fails the job while the reduces wait for map 2.
"$DMR" cluster down --state .dmr > /dev/null
rm -rf .dmr
cluster_up 2 --slots 3 -M --max-attempts=1
mkdir pl3
"$DMR" submit "$DMR_TESTJOBS/pids.so" --input in --output out3 -R 2 \
    -D split_mb=1 -D speculative=0 -D task_timeout_ms=3000 \
    -D pidlog="$T/pl3" -D slow_map=2 -D slow_ms=600000 > sub3.log 2>&1 &&
    fail "job 3 succeeded with a hung map"
grep -q "map task 2 failed 1 times" sub3.log ||
    fail "job 3 did not fail on map 2: $(tail -n 5 sub3.log)"
attempt_rows 1 | awk '$1 == "reduce" { n++; if ($7 != "killed") bad = 1 }
                      END { exit bad || n != 2 }' ||
    fail "the reduces of job 3 did not wait until the job ended: $(attempt_rows 1)"
no_tasks() { [ -z "$(stray_tasks)" ]; }
wait_until 5 no_tasks || fail "task processes left after the job failed: $(stray_tasks)"
echo "the failed job stopped its waiting reduces"

# --- (d) one slot per worker (and its reduce slot). Maps take turns; map
# 2 hangs on one worker while reduces, offered once every other map was
# done, fill the other (its reduce slot and its one slot) and the reduce
# slot of the first.
"$DMR" cluster down --state .dmr > /dev/null
rm -rf .dmr
cluster_up 2 --slots 1
mkdir pl4
"$DMR" submit "$DMR_TESTJOBS/pids.so" --input in --output out4 -R 4 \
    -D split_mb=1 -D speculative=0 -D task_timeout_ms=3000 \
    -D pidlog="$T/pl4" -D slow_map=2 -D slow_ms=600000 > sub4.log 2>&1 ||
    { cat sub4.log >&2; fail "job 1 of the two-slot cluster failed"; }
job_output out4 > got4
same got4 want "output when a reduce gave its slot to a map"
check_parts out4 4
grep -q "map 2 waits for a slot: stopping reduce [0-3] attempt 1" sub4.log ||
    fail "no reduce was stopped for map 2: $(cat sub4.log)"
attempt_rows 1 | awk '$1 == "reduce" && $3 == 1 && $7 == "killed" {k = 1}
                      $1 == "reduce" && $7 == "failed" {bad = 1}
                      END {exit bad || !k}' ||
    fail "attempts: $(attempt_rows 1)"
echo "a waiting reduce gave its slot to map 2"

# --- (e) one worker, two slots, four slow maps: once the last two maps
# have their slots (no map waits), the reduce starts in the worker's
# reduce slot while both still run.
"$DMR" cluster down --state .dmr > /dev/null
rm -rf .dmr
cluster_up 1 --slots 2
mkdir pl5
"$GENTEXT" --bytes 800k --seed 5 --files 4 --dir in5 > /dev/null
"$DMR" submit "$DMR_TESTJOBS/pids.so" --input in5 --output out5 -R 1 \
    -D speculative=0 -D sleep_ms=1500 -D pidlog="$T/pl5" > sub5.log 2>&1 ||
    { cat sub5.log >&2; fail "job 1 of the one-worker cluster failed"; }
ref_wordcount in5/* > want5
job_output out5 > got5
same got5 want5 "output with a reduce in the reduce slot"
awk '$1 == "map" && $2 >= 2 && (end == "" || $6 < end) {end = $6}
     $1 == "reduce" {start = $5}
     END {if (start == "" || end == "" || start >= end) exit 1}' pl5/log ||
    fail "the reduce did not start while the last maps ran: $(cat pl5/log)"
echo "the reduce started in its own slot while both slots ran maps"
