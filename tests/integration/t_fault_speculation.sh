# Stragglers: map 2's first attempt sleeps 8 s (pids job, -D slow_map=2).
# With speculation on, a backup attempt on another worker finishes first
# and is committed; the straggler is killed and never reports; the job
# ends long before 8 s and its output is exact. With -D speculative=0 the
# job waits for the straggler and every task runs exactly once.
. "$(dirname "$0")/lib.sh"
"$GENTEXT" --bytes 6m --seed 21 --files 3 --dir in > /dev/null
ref_wordcount in/* > want
cluster_up 3 --slots 2
mkdir pl pl0

start=$(date +%s)
"$DMR" submit "$DMR_TESTJOBS/pids.so" --input in --output out -R 2 -q \
    -D split_mb=1 -D pidlog="$T/pl" -D sleep_ms=200 -D slow_map=2 \
    -D slow_ms=8000 || fail "submit with speculation"
secs=$(( $(date +%s) - start ))
job_output out > got
same got want "output with a backup attempt"
check_parts out 2
[ "$secs" -lt 7 ] || fail "the job took ${secs}s: the backup did not win"
"$DMR" status 1 > status.txt
awk '/^attempts/ {on=1; getline; next}
     on && $1 == "map" && $2 == 2 {print $3, $7}' status.txt > map2.txt
grep -q '^1 killed$' map2.txt || fail "map 2 attempt 1 not killed: $(cat map2.txt)"
grep -q '^2 ok$' map2.txt || fail "map 2 attempt 2 did not win: $(cat map2.txt)"
grep -q "map 2 is slow .*backup attempt 2" status.txt ||
    fail "no backup event: $(sed -n '/^events/,/^attempts/p' status.txt)"
grep -q "^map 2 1 " pl/log && fail "the straggler ran to its end"
grep -q "^map 2 2 " pl/log || fail "the backup left no log line"
echo "backup won after ${secs}s"

start=$(date +%s)
"$DMR" submit "$DMR_TESTJOBS/pids.so" --input in --output out0 -R 2 -q \
    -D split_mb=1 -D pidlog="$T/pl0" -D sleep_ms=200 -D slow_map=2 \
    -D slow_ms=3000 -D speculative=0 || fail "submit without speculation"
secs=$(( $(date +%s) - start ))
job_output out0 > got0
same got0 want "output without speculation"
[ "$secs" -ge 3 ] || fail "the job took ${secs}s, less than the straggler"
attempts_exactly_once 2
[ "$(wc -l < pl0/log)" -eq "$(awk '/^attempts/ {on=1; getline; next} on && NF >= 7' status.txt | wc -l)" ] ||
    fail "the log and the master disagree on the number of attempts"
