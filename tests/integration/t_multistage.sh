# A multi-stage job (topwords: word count, then a ranking over its output):
# the master starts stage 2 over stage 1's parts without the client; the
# output is the reference ranking, locally and from the chunk store to the
# chunk store, with a worker killed with SIGKILL in the middle of stage 2;
# the stage directories are gone after success.
. "$(dirname "$0")/lib.sh"
"$GENTEXT" --bytes 12m --seed 23 --files 4 --dir in > /dev/null
TAB=$(printf '\t')
# The ranking: "count<TAB>word", by count descending then word bytewise.
ref_wordcount in/* | awk -F"$TAB" '{print $2 "\t" $1}' |
    sort -t"$TAB" -k1,1nr -k2,2 > want

cluster_up 3 --heartbeat-ms 100 --dead-after-ms 1000
export DMR_MASTER=$(cat .dmr/master.endpoint)

# --- local files
"$DMR" submit topwords -i in -o out -R 3 -D reduces.1=4 > submit.log 2>&1 ||
    { cat submit.log >&2; fail "topwords failed"; }
grep -q "stage 1 of 2 done; stage 2 runs as job 2" submit.log ||
    { cat submit.log >&2; fail "submit did not follow stage 2"; }
[ -f out/_SUCCESS ] || fail "no out/_SUCCESS"
[ "$(ls out | grep -c '^part-')" -eq 4 ] || fail "stage 2 should write 4 parts: $(ls out)"
[ ! -e out/_stage-0 ] || fail "out/_stage-0 left behind"
cat out/part-00000 out/part-00001 out/part-00002 out/part-00003 > got
same got want "topwords, local"
"$DMR" jobs > jobs.txt
awk '$1 == 1 && $2 == "topwords" && $3 == "succeeded"' jobs.txt | grep -q . &&
    awk '$1 == 2 && $2 == "topwords-rank" && $3 == "succeeded" && $5 == "4/4"' jobs.txt | grep -q . ||
    { cat jobs.txt >&2; fail "dmr jobs does not show both stages"; }

# --- store to store, a worker killed while stage 2 runs
for f in in/*; do
    "$DMR" fs put "$f" "dmr:/in/$(basename "$f")" --chunk 1m || fail "put $f"
done
"$DMR" submit topwords --input dmr:/in --output dmr:/out -R 2 \
    -D reduces.1=3 > submit2.log 2>&1 &
sp=$!
# Stage 2 is job 4 (jobs 1-2 were the first run, 3 is stage 1 here).
wait_until 60 sh -c '"$0" status 4 > /dev/null 2>&1' "$DMR" ||
    fail "stage 2 never started"
victim=$("$DMR" cluster kill --state .dmr 2>/dev/null)
wait $sp || { cat submit2.log >&2; fail "the job failed after $victim was killed"; }
echo "killed $victim during stage 2"
"$DMR" fs ls dmr:/out > ls.txt
[ "$(grep -c '^part-' ls.txt)" -eq 3 ] || fail "parts: $(cat ls.txt)"
grep -q '^_SUCCESS$' ls.txt || fail "no _SUCCESS: $(cat ls.txt)"
grep -q '_stage' ls.txt && fail "_stage-0 left: $(cat ls.txt)"
for p in 0 1 2; do "$DMR" fs cat "dmr:/out/part-0000$p"; done > got2
same got2 want "topwords, dmr:/ -> dmr:/"

# --- the master killed with SIGKILL in stage 1, then in stage 2: it
# resumes from its journal, the next stage is submitted once, and the
# waiting dmr submit follows it to the end.
njobs() { "$DMR" jobs 2>/dev/null | awk 'NR > 1' | wc -l; }
maps_at_least() {
    "$DMR" status "$1" 2>/dev/null |
        awk -v n="$2" '$1 == "maps" {split($2, a, "/"); ok = a[1] >= n} END {exit !ok}'
}
job_exists() { "$DMR" status "$1" > /dev/null 2>&1; }
for when in 1 2; do
    base=$(njobs)
    "$DMR" submit topwords -i in -o out-m$when -R 2 -D split_mb=1 \
        > submit-m$when.log 2>&1 &
    sp=$!
    if [ $when = 1 ]; then
        wait_until 60 maps_at_least $((base + 1)) 2 || fail "stage 1 made no progress"
    else
        wait_until 60 job_exists $((base + 2)) || fail "stage 2 never started"
    fi
    "$DMR" cluster kill master --state .dmr > /dev/null || fail "kill master"
    sleep 0.3
    "$DMR" cluster start master --state .dmr > /dev/null || fail "restart master"
    wait $sp || { cat submit-m$when.log >&2; fail "topwords did not survive a master restart in stage $when"; }
    cat out-m$when/part-00000 out-m$when/part-00001 > got-m$when
    same got-m$when want "topwords across a master restart in stage $when"
    [ "$(njobs)" -eq $((base + 2)) ] ||
        { "$DMR" jobs >&2; fail "restart in stage $when: not exactly 2 jobs for 2 stages"; }
    [ ! -e out-m$when/_stage-0 ] || fail "out-m$when/_stage-0 left behind"
    echo "topwords survived a master restart in stage $when"
done

# --- a stage that fails is reported as the job's failure
"$DMR" submit topwords -i in -o out3 -R 1 -D reduces.1=0 > submit3.log 2>&1 &&
    fail "-D reduces.1=0 was accepted"
grep -q "reduces.1=0" submit3.log || { cat submit3.log >&2; fail "no error naming reduces.1"; }
exit 0
