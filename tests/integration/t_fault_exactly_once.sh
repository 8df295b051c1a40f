# Without failures, and with speculation off, every task runs exactly once;
# map tasks run in parallel on different workers; no reduce calls reduce
# before the last map has ended (reduces may start, and fetch, earlier).
# The evidence comes from the pids test job, which appends "KIND TASK
# ATTEMPT PID START_MS END_MS FIRST_MS" per attempt, independent of what
# the master reports -- and the master's report is checked too.
. "$(dirname "$0")/lib.sh"
[ -f "$DMR_TESTJOBS/pids.so" ] || fail "pids.so not built (make testjobs)"
"$GENTEXT" --bytes 3m --seed 11 --files 6 --dir in > /dev/null
cluster_up 3 --slots 2
mkdir pl
"$DMR" submit "$DMR_TESTJOBS/pids.so" --input in --output out -R 3 -q \
    -D split_mb=1 -D speculative=0 -D pidlog="$T/pl" -D sleep_ms=300 ||
    fail "submit pids"
ref_wordcount in/* > want
job_output out > got
same got want "pids job output"
check_parts out 3
attempts_exactly_once 1

maps=$(awk '/^maps/ {split($2, a, "/"); print a[2]}' status.txt)
awk -v maps="$maps" -v reds=3 '
    { n[$1 " " $2]++; if ($1 == "map") { m++; mpid[$4] = 1
          if ($6 > mend) mend = $6; ms[m] = $5; me[m] = $6 }
      else { r++; if ($7 > 0 && (rfirst == "" || $7 < rfirst)) rfirst = $7 } }
    END {
        bad = 0
        for (k in n) if (n[k] != 1) { print k " ran " n[k] " times"; bad = 1 }
        if (m != maps) { print m " map attempts logged, want " maps; bad = 1 }
        if (r != reds) { print r " reduce attempts logged, want " reds; bad = 1 }
        np = 0; for (p in mpid) np++
        if (np < 2) { print "all maps ran in one process"; bad = 1 }
        over = 0
        for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++)
            if (ms[i] < me[j] && ms[j] < me[i]) over = 1
        if (!over) { print "no two maps overlapped in time"; bad = 1 }
        if (rfirst == "") { print "no reduce logged a reduce call"; bad = 1 }
        else if (rfirst < mend) { print "a reduce called reduce at " rfirst \
            " before the last map ended at " mend; bad = 1 }
        exit bad
    }' pl/log || fail "execution log: $(cat pl/log | head -n 30)"

# The master's view agrees: maps on more than one worker.
nw=$(awk '/^attempts/ {on=1; getline; next} on && $1 == "map" {print $4}' \
     status.txt | sort -u | wc -l)
[ "$nw" -ge 2 ] || fail "maps ran on $nw worker(s)"
