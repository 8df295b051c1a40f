# A map output damaged on its worker's disk: the reducer that fetches it
# finds a CRC mismatch (or an unreadable index), reports which map output
# it could not read, and the master re-runs that map; the output is exact.
# The reduces sleep 2 s before they fetch, so that the damage (done within
# a few ms of the first map output appearing, about 0.7 s in) comes first.
# Both for a job with a general combiner (pids) and for a summing one
# (pidsum), whose reduce folds each output as it arrives and must give
# that up for the merge, which names the bad output.
. "$(dirname "$0")/lib.sh"
"$GENTEXT" --bytes 6m --seed 8 --files 3 --dir in > /dev/null
ref_wordcount in/* > want
cluster_up 3 --slots 1
jobno=0
for job in pids pidsum; do
    jobno=$((jobno + 1))
    rm -rf pl out
    mkdir pl
    "$DMR" submit "$DMR_TESTJOBS/$job.so" --input in --output out -R 2 \
        -D split_mb=1 -D pidlog="$T/pl" -D sleep_ms=700 \
        -D reduce_sleep_ms=2000 -D speculative=0 \
        > submit.log 2>&1 &
    sp=$!
    # The first committed map output: damage 64 bytes in its middle.
    i=0
    while :; do
        f=$(ls .dmr/worker-*/jobs/$jobno/map-*-1.run 2>/dev/null | head -n 1)
        [ -n "$f" ] && break
        i=$((i + 1)); [ $i -lt 400 ] || fail "no map output appeared"
        sleep 0.02
    done
    size=$(wc -c < "$f")
    head -c 64 /dev/urandom | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc 2> /dev/null
    echo "damaged $f ($size bytes)"
    wait $sp || { cat submit.log >&2; fail "the job failed"; }
    job_output out > got
    same got want "output after a damaged map output"
    check_parts out 2
    grep -q "could not read the output of map" submit.log ||
        fail "no fetch-failure event: $(cat submit.log)"
    m=$(basename "$f" | cut -d- -f2)
    [ "$(grep -c "^map $m " pl/log)" -ge 2 ] || fail "map $m was not run again"
done
