# wordcount from the chunk store to the chunk store, with a worker killed
# with SIGKILL halfway through the maps: the output parts are replicated
# files in the store, identical (once sorted) to the reference; most maps
# ran where a replica of their chunk was.
. "$(dirname "$0")/lib.sh"
"$GENTEXT" --bytes 12m --seed 17 --files 3 --dir in > /dev/null
ref_wordcount in/* > want
cluster_up 4 --heartbeat-ms 100 --dead-after-ms 1000
EP=$(cat .dmr/master.endpoint)
export DMR_MASTER=$EP
for f in in/*; do
    "$DMR" fs put "$f" "dmr:/in/$(basename "$f")" --chunk 1m || fail "put $f"
done
"$DMR" submit wordcount --input dmr:/in --output dmr:/out -R 3 \
    > submit.log 2>&1 &
sp=$!
i=0
while :; do
    m=$("$DMR" status 1 2>/dev/null | awk '$1 == "maps" {split($2, a, "/"); print a[1]}')
    [ "${m:-0}" -ge 4 ] && break
    i=$((i + 1)); [ $i -lt 400 ] || fail "no map finished"
    sleep 0.05
done
victim=$("$DMR" cluster kill --state .dmr 2>/dev/null)
wait $sp || { cat submit.log >&2; fail "the job failed"; }
echo "killed $victim with $m maps done"
"$DMR" fs ls dmr:/out > ls.txt
[ "$(grep -c '^part-' ls.txt)" -eq 3 ] || fail "parts: $(cat ls.txt)"
grep -q '^_SUCCESS$' ls.txt || fail "no _SUCCESS: $(cat ls.txt)"
grep -q '_temporary' ls.txt && fail "_temporary left: $(cat ls.txt)"
for p in 0 1 2; do "$DMR" fs cat "dmr:/out/part-0000$p"; done | sort > got
same got want "wordcount dmr:/ -> dmr:/"
local=$(awk '$1 == "data_local_map_tasks" {print $2}' submit.log)
remote=$(awk '$1 == "remote_map_tasks" {print $2}' submit.log)
echo "data-local maps: $local, remote: $remote"
[ "${local:-0}" -gt "${remote:-0}" ] || fail "most maps should be data-local"
"$DMR" fs stat dmr:/out/part-00000 | grep -q "replication 3" ||
    fail "output parts are not replicated"
# The store repairs what the dead worker held.
i=0
until "$DMR" fs fsck > fsck.txt; do
    i=$((i + 1)); [ $i -lt 150 ] || fail "fsck not healthy: $(tail -n 3 fsck.txt)"
    sleep 0.2
done
