# The master journals job and task state. Killed with SIGKILL mid-job and
# started again on the same data directory, it resumes the job -- workers
# and the waiting `dmr submit` reconnect on their own -- and the output is
# right. A journal whose last record is torn is repaired (the tail is
# dropped); one damaged in the middle is refused, untouched, with the
# offset named.
. "$(dirname "$0")/lib.sh"
"$GENTEXT" --bytes 16m --seed 3 --files 4 --dir in > /dev/null
ref_wordcount in/* > want
cluster_up 3
EP=$(cat .dmr/master.endpoint)
JNL=.dmr/master/journal

maps_done() { "$DMR" status 1 --master "$EP" 2>/dev/null |
              awk '$1 == "maps" {split($2, a, "/"); print a[1]}'; }

# 1. Kill the master once some maps are done; start it again.
"$DMR" submit wordcount --input in --output out -R 3 -D split_mb=1 \
    --master "$EP" > submit.log 2>&1 &
sp=$!
i=0
until [ "$(maps_done)" -ge 3 ] 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 400 ] || fail "no map finished"
    sleep 0.05
done
"$DMR" cluster kill master --state .dmr > /dev/null || fail "kill master"
sleep 0.5
"$DMR" cluster start master --state .dmr > /dev/null || fail "restart master"
wait $sp || { cat submit.log >&2; fail "the job did not survive the restart"; }
job_output out > got
same got want "output across a master restart"
check_parts out 3
"$DMR" status 1 --master "$EP" > status.txt
grep -q "master restarted: resuming" status.txt ||
    fail "no restart event: $(cat status.txt | head -n 20)"
grep -q "journal .*records, 1 jobs, 1 to resume" .dmr/master.log ||
    fail "master log does not show the replay"
echo "job 1 survived a master kill"

# 2. A torn last record: cut the journal inside its last record.
"$DMR" cluster kill master --state .dmr > /dev/null
sleep 0.2
size=$(wc -c < "$JNL")
cp "$JNL" jnl.orig
head -c $((size - 5)) jnl.orig > "$JNL"
"$DMR" cluster start master --state .dmr > /dev/null
i=0
until grep -q "dropped 7 bytes of torn tail\|dropped [0-9]* bytes of torn tail" \
        .dmr/master.log; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "torn tail not reported"
    sleep 0.05
done
"$DMR" jobs --master "$EP" > jobs.txt || fail "dmr jobs after repair"
grep -q "succeeded" jobs.txt || fail "job 1 lost in the repair: $(cat jobs.txt)"
rm -rf out2
"$DMR" submit wordcount --input in --output out2 -R 2 --master "$EP" -q ||
    fail "a job after the repair"
job_output out2 > got2
same got2 want "output after the repair"
echo "torn tail dropped; history kept; new job ran"

# 3. Damage in the middle: the master refuses to start and changes nothing.
"$DMR" cluster kill master --state .dmr > /dev/null
sleep 0.2
cp "$JNL" jnl.good
# Flip one byte inside the first record's payload (after the 8-byte header
# and 12-byte record header).
printf '\377' | dd of="$JNL" bs=1 seek=30 conv=notrunc 2> /dev/null
cp "$JNL" jnl.damaged
"$DMR" master --bind tcp://127.0.0.1:0 --data .dmr/master > bad.log 2>&1 &&
    fail "the master started on a damaged journal"
grep -q "offset 8 is damaged" bad.log ||
    fail "the error does not name the offset: $(cat bad.log)"
cmp -s "$JNL" jnl.damaged || fail "the damaged journal was modified"
cp jnl.good "$JNL"
"$DMR" cluster start master --state .dmr > /dev/null
"$DMR" jobs --master "$EP" > jobs.txt || fail "dmr jobs after restore"
[ "$(grep -c succeeded jobs.txt)" -eq 2 ] || fail "jobs after restore: $(cat jobs.txt)"
echo "middle damage refused with the offset; restored journal works"
