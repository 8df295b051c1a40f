# A worker holding replicas is killed with SIGKILL: fsck reports its chunks
# under-replicated (never missing), the master copies them from the
# surviving replicas, and within a bounded time every chunk again has
# exactly 3 good replicas on 3 distinct live workers, none on the dead
# one, each byte-identical on disk to the file's slice; get returns the
# same bytes. Started again, the worker's stale replicas are surplus and
# are deleted: still exactly 3 replicas per chunk, on disk too.
. "$(dirname "$0")/lib.sh"
cluster_up 4
CH=262144
head -c $((80 * CH)) /dev/urandom > data
"$DMR" fs put data dmr:/data --chunk 256k || fail "put"
fs_chunks dmr:/data > before.txt
[ "$(wc -l < before.txt)" -eq 80 ] || fail "$(wc -l < before.txt) chunks, expected 80"

# check_replicas FILE [DEAD_WID]: every chunk healthy with 3 distinct
# replicas, none on DEAD_WID, each a live worker.
check_replicas() {
    "$DMR" workers | awk 'NR > 1 && $7 == "alive" {print $1}' > alive.txt
    awk -v dead="${2:-}" '
        FILENAME == "alive.txt" { alive[$1] = 1; next }
        { if ($4 != "healthy") { print "chunk " $1 " is " $4; bad = 1 }
          if (NF - 4 != 3) { print "chunk " $1 " has " NF - 4 " replicas"; bad = 1 }
          delete seen
          for (i = 5; i <= NF; i++) {
              if ($i in seen) { print "chunk " $1 " twice on " $i; bad = 1 }
              if ($i == dead) { print "chunk " $1 " on the dead " $i; bad = 1 }
              if (!($i in alive)) { print "chunk " $1 " on " $i ", not alive"; bad = 1 }
              seen[$i] = 1
          } }
        END { exit bad }' alive.txt "$1" > why.txt || fail "$(head -n 5 why.txt)"
}

# check_disk FILE: each replica listed is on its worker's disk with the
# file's bytes.
check_disk() {
    "$DMR" workers | awk 'NR > 1 && $7 == "alive" {print $1, $4}' > wpids.txt
    while read -r idx id len state reps; do
        dd if=data of=slice bs=$CH skip="$idx" count=1 2> /dev/null
        for w in $reps; do
            p=$(awk -v w="$w" '$1 == w {print $2}' wpids.txt)
            name=$(awk -v p="$p" '$2 == p {print $1}' .dmr/pids)
            [ -n "$name" ] || fail "no worker process for $w"
            [ -f ".dmr/$name/chunks/$id.meta" ] || fail "$name ($w) lacks $id.meta"
            cmp -s ".dmr/$name/chunks/$id.chunk" slice ||
                fail "chunk $idx ($id) on $name ($w) differs from the file"
        done
    done < "$1"
}

check_replicas before.txt
victim_wid=$(awk '{for (i = 5; i <= NF; i++) n[$i]++}
    END {for (w in n) if (n[w] > best) {best = n[w]; v = w}; print v}' before.txt)
held=$(awk -v w="$victim_wid" '{for (i = 5; i <= NF; i++) n += $i == w}
    END {print n}' before.txt)
victim=$(name_of_wid "$victim_wid") || fail "no process for $victim_wid"
vpid=$(pid_of "$victim")
echo "killing $victim ($victim_wid), which holds $held of 80 chunks"
"$DMR" cluster kill "$victim" --state .dmr > /dev/null 2>&1 || fail "kill $victim"
wait_dead "$vpid" || fail "$victim did not die"
killed=$(date +%s)

# Poll fsck until healthy again after the master noticed the loss.
saw=""
lost_logged() { grep -q "$held chunk replicas lost with $victim_wid" .dmr/master.log; }
while :; do
    # Whether the loss was logged, before asking: a healthy answer counts
    # only if the master had dropped the replicas when it gave it.
    noticed=""; ! lost_logged || noticed=y
    rc=0; "$DMR" fs fsck > fsck.txt || rc=$?
    line=$(grep ' chunks: ' fsck.txt) || fail "fsck: $(cat fsck.txt)"
    case $line in *" 0 corrupt, 0 missing") ;;
        *) fail "fsck during the repair: $line" ;; esac
    if [ $rc -ne 0 ] && [ -z "$saw" ]; then
        grep -q "under-replicated, [0-9]* good of 3" fsck.txt ||
            fail "fsck says not healthy without naming a chunk: $(cat fsck.txt)"
        saw=$line
        echo "fsck after the kill: $line"
    fi
    [ $rc -eq 0 ] && [ -n "$noticed" ] && break
    [ $(($(date +%s) - killed)) -lt 30 ] ||
        fail "not healthy 30 s after the kill: $line"
    sleep 0.1
done
secs=$(($(date +%s) - killed))
lost_logged || fail "the master log does not show the lost replicas"
if [ -z "$saw" ]; then
    echo "repair too fast to see in fsck; the master log has: $(grep "replicas lost with $victim_wid" .dmr/master.log)"
fi
echo "healthy again ${secs}s after the kill"

fs_chunks dmr:/data > after.txt
awk '{print $1, $2, $3}' before.txt > ids.before
awk '{print $1, $2, $3}' after.txt > ids.after
same ids.after ids.before "chunk ids and lengths after the repair"
check_replicas after.txt "$victim_wid"
check_disk after.txt
"$DMR" fs get dmr:/data got || fail "get after the repair"
cmp -s got data || fail "get after the repair: bytes differ"
[ "$(sha256sum < got)" = "$(sha256sum < data)" ] || fail "sha256 after the repair"
echo "80 chunks with 3 good replicas each, none on $victim_wid; bytes identical"

# The dead worker comes back with its old replicas: they are surplus.
"$DMR" cluster start "$victim" --state .dmr > /dev/null 2>&1 || fail "start $victim"
back() { [ -n "$(wid_of "$(pid_of "$victim")")" ]; }
wait_until 10 back || fail "$victim did not re-register"
settled() {
    fs_chunks dmr:/data > now.txt &&
        awk 'NF - 4 != 3 || $4 != "healthy" {bad = 1} END {exit bad}' now.txt &&
        [ "$(ls .dmr/worker-*/chunks/ | grep -c '\.meta$')" -eq 240 ]
}
wait_until 15 settled ||
    fail "surplus not removed: $(ls .dmr/worker-*/chunks/ | grep -c '\.meta$') replica files; $(awk 'NF - 4 != 3' now.txt | head -n 3)"
check_replicas now.txt
check_disk now.txt
"$DMR" fs fsck > /dev/null || fail "fsck after the worker came back"
echo "$victim back: surplus replicas deleted, 240 replicas on disk"
