# A writer killed with SIGKILL in the middle of a put, after some of its
# chunks reached the workers, leaves nothing visible: ls, stat, get and
# cat know no such file, fsck is healthy, other files are intact and new
# puts work. A new put of the same path succeeds too. (The orphaned
# replicas are deleted when the master expires the abandoned write
# session, after 120 s: not waited for here.)
. "$(dirname "$0")/lib.sh"
cluster_up 4 -M --write-lease-ms=2000
head -c 700000 /dev/urandom > keep
"$DMR" fs put keep dmr:/keep --chunk 256k || fail "put keep"

# The writer reads its input from a fifo: 3 MiB (three 1 MiB chunks),
# then nothing until the fifo is closed.
head -c 3145728 /dev/urandom > part
mkfifo in.fifo
"$DMR" fs put - dmr:/partial --chunk 1m < in.fifo > put.log 2>&1 &
putpid=$!
exec 3> in.fifo
cat part >&3 || fail "the writer stopped reading: $(cat put.log)"
# At least one chunk of dmr:/partial stored besides dmr:/keep's 3 x 3.
stored_partial() {
    [ "$(ls .dmr/worker-*/chunks/ | grep -c '\.chunk$')" -gt 9 ]
}
wait_until 10 stored_partial || fail "no chunk of the put reached a worker"
ls .dmr/worker-*/chunks/ | grep -c '\.chunk$' > n.before
kill -9 "$putpid"
wait "$putpid" 2> /dev/null || true
exec 3>&-
echo "writer killed with $(($(cat n.before) - 9)) replicas of dmr:/partial on disk"

# expect_missing WHAT COMMAND...: exit 1, "no such file".
expect_missing() {
    what=$1; shift
    rc=0; "$@" > out.txt 2> err.txt || rc=$?
    [ "$rc" -eq 1 ] || fail "$what: exit $rc, expected 1: $(cat out.txt err.txt)"
    grep -q "no such file" err.txt || fail "$what: $(cat err.txt)"
}
"$DMR" fs ls > ls.txt || fail "ls"
echo keep > want.txt
same ls.txt want.txt "ls after the killed put"
"$DMR" fs ls -l > lsl.txt || fail "ls -l"
! grep -q partial lsl.txt || fail "ls -l shows the killed put: $(cat lsl.txt)"
expect_missing "get of the killed put" "$DMR" fs get dmr:/partial got
[ ! -e got ] || fail "get of the killed put wrote a file"
expect_missing "cat of the killed put" "$DMR" fs cat dmr:/partial
expect_missing "stat of the killed put" "$DMR" fs stat dmr:/partial
"$DMR" fs fsck > fsck.txt || fail "fsck after the killed put: $(cat fsck.txt)"
grep -q "^1 files, 700000 bytes, 3 chunks: 3 healthy" fsck.txt ||
    fail "fsck after the killed put: $(cat fsck.txt)"
"$DMR" fs get dmr:/keep got.keep && cmp -s got.keep keep || fail "dmr:/keep damaged"
echo "nothing visible; fsck healthy; dmr:/keep intact"

# New puts: another path, then the same path.
"$DMR" fs put part dmr:/other --chunk 1m || fail "put of another path"
"$DMR" fs get dmr:/other got.other && cmp -s got.other part || fail "dmr:/other"
# The dead writer still holds the path until its lease (2 s here) runs
# out; then a new writer takes it over.
rc=0
"$DMR" fs put part dmr:/partial --chunk 1m 2> put2.err || rc=$?
if [ $rc -ne 0 ]; then
    grep -q "lease" put2.err || fail "refusal does not mention the lease: $(cat put2.err)"
    sleep 2.5
    rc=0
    "$DMR" fs put part dmr:/partial --chunk 1m 2> put2.err || rc=$?
fi
[ $rc -eq 0 ] ||
    fail "a new put of dmr:/partial after its writer's lease: exit $rc: $(cat put2.err)"
"$DMR" fs get dmr:/partial got.partial || fail "get dmr:/partial"
cmp -s got.partial part || fail "dmr:/partial: bytes differ"
"$DMR" fs fsck > /dev/null || fail "fsck at the end"
echo "a new put of dmr:/partial works"
