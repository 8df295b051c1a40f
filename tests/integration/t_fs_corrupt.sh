# Damage on a worker's disk never reaches a reader and is repaired.
# 1. One byte flipped inside a replica's data (.chunk): get still returns
#    the right bytes (from another replica), the master log shows the
#    damaged replica reported, and within a bounded time the chunk again
#    has 3 good replicas; the damaged file is gone or replaced by a good
#    copy.
# 2. One byte flipped in the header of another replica's .meta, and its
#    worker restarted: it does not offer that replica (it deletes it), and
#    once the old process is declared dead the store is healthy again.
. "$(dirname "$0")/lib.sh"
cluster_up 4
CH=262144
head -c $((8 * CH + 999)) /dev/urandom > data
"$DMR" fs put data dmr:/data --chunk 256k || fail "put"
"$DMR" fs put data dmr:/other --chunk 256k -R 2 || fail "put other"
"$DMR" fs fsck > /dev/null || fail "fsck after the puts"

# dir_of WID: the data directory of the live worker the master calls WID.
dir_of() {
    _n=$(name_of_wid "$1") || fail "no worker process for $1"
    echo ".dmr/$_n"
}

# slice IDX: the bytes chunk IDX of dmr:/data must hold.
slice() { dd if=data bs=$CH skip="$1" count=1 2> /dev/null; }

# snapshot: the chunks of dmr:/data (chunks.txt) and the cluster name of
# each live worker id (wmap.txt), for chunk_ok.
snapshot() {
    fs_chunks dmr:/data > chunks.txt
    "$DMR" workers | awk 'NR > 1 && $7 == "alive" {print $1, $4}' |
        while read -r _w _p; do
            echo "$_w $(awk -v p="$_p" '$2 == p {print $1}' .dmr/pids)"
        done > wmap.txt
}

# chunk_ok IDX: in the last snapshot, chunk IDX of dmr:/data is healthy
# with 3 good replicas on distinct live workers, each of which holds the
# right bytes on disk.
chunk_ok() {
    awk -v i="$1" '$1 == i' chunks.txt > c.txt
    read -r _i _id _len _st _reps < c.txt || return 1
    [ "$_st" = healthy ] || return 1
    [ "$(echo $_reps | wc -w)" -eq 3 ] || return 1
    [ "$(printf '%s\n' $_reps | sort -u | wc -l)" -eq 3 ] || return 1
    slice "$1" > c.want
    for _w in $_reps; do
        _n=$(awk -v w="$_w" '$1 == w {print $2}' wmap.txt)
        [ -n "$_n" ] || return 1 # not a live worker (or "(bad)")
        cmp -s ".dmr/$_n/chunks/$_id.chunk" c.want || return 1
    done
}

# get_ok: get returns the file's bytes.
get_ok() {
    rm -f got
    "$DMR" fs get dmr:/data got || fail "get: $*"
    cmp -s got data || fail "get $*: bytes differ"
    [ "$(sha256sum < got)" = "$(sha256sum < data)" ] || fail "sha256 $*"
}

# 1. A flipped byte in the data of the replica a reader tries first.
set -- $(fs_chunks dmr:/data | awk '$1 == 3')
id=$2 first=$5
d=$(dir_of "$first")
victim="$d/chunks/$id.chunk"
flip_byte "$victim" 100000
slice 3 > want3
! cmp -s "$victim" want3 || fail "the byte flip did not change $victim"
get_ok "with a damaged replica"
echo "get with chunk 3 damaged on $first: bytes identical"
reported() {
    grep -q "replica of chunk $id on $first is damaged" .dmr/master.log
}
wait_until 5 reported ||
    fail "the master log does not show the damaged replica of $id on $first"
grep "replica of chunk $id on $first is damaged" .dmr/master.log | head -n 1 |
    sed 's/^.*WARN fs: /master log: /'
damaged_gone() {
    [ ! -e "$victim" ] || cmp -s "$victim" want3
}
repaired() { snapshot && chunk_ok 3 && damaged_gone && "$DMR" fs fsck > /dev/null; }
wait_until 15 repaired ||
    fail "chunk 3 not repaired: $(fs_chunks dmr:/data | awk '$1 == 3'); damaged file $(
        [ -e "$victim" ] && echo "still there" || echo gone)"
if [ -e "$victim" ]; then
    echo "chunk 3 repaired; the damaged file on $first was replaced by a good copy"
else
    echo "chunk 3 repaired; the damaged file on $first is gone"
fi
get_ok "after the repair"

# 2. A damaged .meta header, then the worker restarts.
set -- $(fs_chunks dmr:/data | awk '$1 == 5')
id5=$2 holder=$6
d=$(dir_of "$holder")
name=${d#.dmr/}
meta="$d/chunks/$id5.meta"
valid=$(ls "$d/chunks" | grep -c '\.meta$')
flip_byte "$meta" 2 # inside the magic: covered by the header CRC
opid=$(pid_of "$name")
"$DMR" cluster kill "$name" --state .dmr > /dev/null 2>&1 || fail "kill $name"
wait_dead "$opid" || fail "$name did not die"
"$DMR" cluster start "$name" --state .dmr > /dev/null 2>&1 || fail "start $name"
npid=$(pid_of "$name")
[ "$npid" != "$opid" ] || fail "$name has the same pid after the restart"
registered() { [ -n "$(wid_of "$npid")" ]; }
wait_until 10 registered || fail "$name did not register again"
nwid=$(wid_of "$npid")
offered() { grep -q "fs: $nwid holds $((valid - 1)) replicas; 0 stale" .dmr/master.log; }
wait_until 5 offered ||
    fail "$name ($nwid) should offer $((valid - 1)) of its $valid replicas: $(grep "fs: $nwid holds" .dmr/master.log)"
grep -q "replica of chunk $id5 is damaged; deleting it" ".dmr/$name.log" ||
    fail "$name.log does not show the damaged replica deleted"
echo "$name restarted as $nwid: offered $((valid - 1)) of $valid replicas, deleted the damaged $id5"
# Same data directory, same worker: it keeps its id, as a new incarnation.
[ "$nwid" = "$holder" ] || fail "$name came back as $nwid, not $holder"
oldgone() { grep -q "worker $holder lost (replaced by a new process" .dmr/master.log; }
wait_until 10 oldgone || fail "the master did not retire $holder's old incarnation"
# all_ok: every chunk of dmr:/data as chunk_ok says, and fsck healthy
# (surplus copies made while the worker was away are trimmed by then).
all_ok() {
    snapshot
    _i=0
    while [ $_i -lt 9 ]; do
        chunk_ok $_i || return 1
        _i=$((_i + 1))
    done
    "$DMR" fs fsck > /dev/null
}
wait_until 15 all_ok ||
    fail "not healthy after the restart: $("$DMR" fs fsck | tail -n 3; cat chunks.txt)"
if [ -e "$meta" ]; then
    slice 5 > want5
    cmp -s "$d/chunks/$id5.chunk" want5 || fail "$meta is back but its data is wrong"
fi
get_ok "after the restart"
"$DMR" fs get dmr:/other got.other && cmp -s got.other data || fail "dmr:/other"
echo "healthy again: 3 good replicas of every chunk, bytes identical"
