# The chunk store's namespace survives a master killed with SIGKILL. Started
# again on its data directory, the master replays its journal; every
# worker registers again and reports its replicas, so ls -l, stat and get
# show the same files with the same chunks, on the same worker processes,
# with the same bytes, and fsck is healthy. A put after the restart works
# and uses no chunk id of the earlier files.
# Then the same with one worker stopped (SIGSTOP) across the restart, so it
# comes back after the others have registered: it must register too.
. "$(dirname "$0")/lib.sh"
cluster_up 4

head -c 1500000 /dev/urandom > a
head -c 300000 /dev/urandom > b
head -c 1 /dev/urandom > c
: > e
"$DMR" fs put a dmr:/a --chunk 256k || fail "put a"
"$DMR" fs put b dmr:/d/b --chunk 64k -R 2 || fail "put d/b"
"$DMR" fs put c dmr:/d/sub/c -R 1 || fail "put d/sub/c"
"$DMR" fs put e dmr:/e || fail "put e"
FILES="a d/b d/sub/c e"

# wmap: "wid name" of every live worker (name from its pid).
wmap() {
    "$DMR" workers | awk 'NR > 1 && $7 == "alive" {print $1, $4}' |
        while read -r _w _p; do
            echo "$_w $(awk -v p="$_p" '$2 == p {print $1}' .dmr/pids)"
        done
}

# listing OUT: ls -l of dmr:/, dmr:/d, dmr:/d/sub; each file's stat
# header; and per chunk "file index id length state" and, in OUT.where,
# the names of the worker processes holding it, sorted.
listing() {
    { "$DMR" fs ls -l && "$DMR" fs ls -l dmr:/d && "$DMR" fs ls -l dmr:/d/sub; } > "$1" ||
        fail "ls -l"
    wmap > wmap.txt
    : > "$1.where"
    for f in $FILES; do
        "$DMR" fs stat "dmr:/$f" | sed -n 2p >> "$1" || fail "stat dmr:/$f"
        fs_chunks "dmr:/$f" | while read -r i id len st reps; do
            echo "$f $i $id $len $st" >> "$1"
            names=$(for w in $reps; do awk -v w="$w" '$1 == w {print $2}' wmap.txt; done |
                    sort | tr '\n' ' ')
            echo "$f $i $names" >> "$1.where"
        done
    done
}

# all_back: every worker process of the cluster is a live worker of the
# master, each under its own id.
all_back() {
    "$DMR" workers 2> /dev/null | awk 'NR > 1 && $7 == "alive" {print $4}' | sort > alive.pids
    awk '$1 ~ /^worker-/ {print $2}' .dmr/pids | sort > want.pids
    cmp -s alive.pids want.pids
}

# restart_master: SIGKILL the master, start it again on its data directory.
restart_master() {
    mpid=$(pid_of master)
    "$DMR" cluster kill master --state .dmr > /dev/null 2>&1 || fail "kill master"
    wait_dead "$mpid" || fail "the master did not die"
    "$DMR" cluster start master --state .dmr > /dev/null 2>&1 || fail "start master"
    answers() { "$DMR" fs ls > /dev/null 2>&1; }
    wait_until 10 answers || fail "the restarted master does not answer"
}

check_files() {
    for f in $FILES; do
        rm -f got
        "$DMR" fs get "dmr:/$f" got || fail "get dmr:/$f $1"
        cmp -s got "$(basename "$f")" || fail "dmr:/$f $1: bytes differ"
        [ "$(sha256sum < got)" = "$(sha256sum < "$(basename "$f")")" ] ||
            fail "dmr:/$f $1: sha256 differs"
    done
}

healthy() { "$DMR" fs fsck > fsck.txt; }
healthy || fail "fsck before the restart: $(cat fsck.txt)"
listing before.txt
all_back || fail "not every worker is registered before the restart"

# 1. Kill and restart the master.
restart_master
rereg=""
if ! wait_until 10 all_back; then
    rereg="after the restart the master lists live worker pids $(tr '\n' ' ' < alive.pids)but the cluster runs $(tr '\n' ' ' < want.pids)"
    echo "NOT ALL WORKERS RE-REGISTERED: $rereg" >&2
    "$DMR" workers >&2
fi
wait_until 15 healthy || fail "fsck after the restart: $(cat fsck.txt)"
listing after.txt
same after.txt before.txt "ls -l, stat and chunks after the restart"
check_files "after the restart"
echo "after the master restart: same files, chunks and bytes; fsck healthy"

# A put after the restart uses fresh chunk ids.
head -c 600000 /dev/urandom > new
"$DMR" fs put new dmr:/d/new --chunk 64k || fail "put after the restart"
rm -f got
"$DMR" fs get dmr:/d/new got && cmp -s got new || fail "dmr:/d/new: bytes differ"
awk 'NF == 5 && length($3) == 16 {print $3}' before.txt | sort > old.ids
fs_chunks dmr:/d/new | awk '{print $2}' | sort > new.ids
[ "$(wc -l < new.ids)" -eq 10 ] || fail "dmr:/d/new has $(wc -l < new.ids) chunks"
reused=$(comm -12 old.ids new.ids)
[ -z "$reused" ] || fail "chunk ids reused after the restart: $reused"
echo "a put after the restart: ids $(head -n 1 new.ids)..$(tail -n 1 new.ids), none reused"

[ -z "$rereg" ] || fail "$rereg"
same after.txt.where before.txt.where "replica locations after the restart"
echo "every worker re-registered with its replicas"
FILES="$FILES d/new"

# 2. A worker stopped across the restart, so that it comes back last: the
# one the master now calls w1.
slow=$(name_of_wid w1) || fail "no worker w1"
spid=$(pid_of "$slow")
# Whatever happens, the stopped worker is let go before the clean-up.
release() {
    rc_=$?
    set +e
    kill -CONT "$spid" 2> /dev/null
    (exit $rc_)
    cleanup
}
trap release EXIT INT TERM
kill -STOP "$spid"
restart_master
others() { [ "$("$DMR" workers | awk 'NR > 1 && $7 == "alive"' | wc -l)" -ge 3 ]; }
if ! wait_until 10 others; then
    kill -CONT "$spid"
    "$DMR" workers >&2
    fail "with $slow stopped, the other 3 workers did not all register again"
fi
kill -CONT "$spid"
if ! wait_until 10 all_back; then
    "$DMR" workers >&2
    fail "$slow (pid $spid), stopped across the restart, never registered again: live worker pids $(tr '\n' ' ' < alive.pids)"
fi
wait_until 15 healthy || fail "fsck after the second restart: $(cat fsck.txt)"
check_files "after the second restart"
echo "after a restart with $slow late: all workers back, fsck healthy, bytes identical"
