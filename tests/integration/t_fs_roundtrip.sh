# The chunk store keeps bytes exactly: files of 0 and 1 bytes, of exactly
# one chunk, one chunk and a byte, and of many chunks, stored with
# replication 1, 2 and 3 on 4 workers, come back identical through get and
# cat; ls and ls -l give the right sizes and chunk counts; stat puts the
# replicas of each chunk on distinct workers. Mistakes are refused with a
# clear message: exit 1 for a missing path, a path that exists, a path
# under a file and rm of a directory without -r; exit 2 for bad usage. rm -r
# removes a directory and its replicas. With every worker dead, put says
# there are no live workers.
. "$(dirname "$0")/lib.sh"
cluster_up 4
CH=65536

head -c 0 /dev/urandom > f0
head -c 1 /dev/urandom > f1
head -c $CH /dev/urandom > fone
head -c $((CH + 1)) /dev/urandom > fone1
head -c $((3 * 1048576 + 4321)) /dev/urandom > fmany
FILES="f0 f1 fone fone1 fmany"

# want_chunks FILE: chunks of CH bytes FILE needs.
want_chunks() { s=$(wc -c < "$1"); echo $(((s + CH - 1) / CH)); }

# expect_err CODE WHAT PATTERN COMMAND...: COMMAND exits CODE and says PATTERN.
expect_err() {
    code=$1 what=$2 pat=$3; shift 3
    rc=0; "$@" > err.out 2> err.txt || rc=$?
    [ "$rc" -eq "$code" ] || fail "$what: exit $rc, expected $code ($(cat err.txt))"
    grep -q -- "$pat" err.txt || fail "$what: message '$(cat err.txt)' lacks '$pat'"
    echo "$what: exit $code, $(head -n 1 err.txt)"
}

for r in 1 2 3; do
    for f in $FILES; do
        "$DMR" fs put "$f" "dmr:/r$r/$f" -R $r --chunk 64k || fail "put $f -R $r"
    done
done

for r in 1 2 3; do
    "$DMR" fs ls "dmr:/r$r" > ls.txt || fail "ls dmr:/r$r"
    printf '%s\n' $FILES | sort > want.txt
    sort ls.txt > got.txt
    same got.txt want.txt "ls dmr:/r$r"
    "$DMR" fs ls -l "dmr:/r$r" > lsl.txt || fail "ls -l dmr:/r$r"
    for f in $FILES; do
        rm -f got
        "$DMR" fs get "dmr:/r$r/$f" got || fail "get dmr:/r$r/$f"
        cmp -s got "$f" || fail "get dmr:/r$r/$f: bytes differ"
        [ "$(sha256sum < got)" = "$(sha256sum < "$f")" ] || fail "sha256 of $f"
        "$DMR" fs cat "dmr:/r$r/$f" > cat.out || fail "cat dmr:/r$r/$f"
        cmp -s cat.out "$f" || fail "cat dmr:/r$r/$f: bytes differ"

        size=$(wc -c < "$f"); nch=$(want_chunks "$f")
        awk -v f="$f" '$NF == f {print $1, $2, $3}' lsl.txt > row
        [ "$(cat row)" = "$size $r $nch" ] ||
            fail "ls -l dmr:/r$r/$f: '$(cat row)', expected '$size $r $nch'"

        "$DMR" fs stat "dmr:/r$r/$f" > stat.txt || fail "stat dmr:/r$r/$f"
        grep -q "size $size bytes, replication $r, $nch chunks" stat.txt ||
            fail "stat dmr:/r$r/$f: $(sed -n 2p stat.txt)"
        fs_chunks "dmr:/r$r/$f" > chunks.txt
        [ "$(wc -l < chunks.txt)" -eq "$nch" ] || fail "stat lists $(wc -l < chunks.txt) chunks of $f"
        awk -v r="$r" -v ch=$CH -v size="$size" -v n="$nch" '
            { nrep = NF - 4; total += $3
              if ($4 != "healthy") { print "chunk " $1 " is " $4; bad = 1 }
              if (nrep != r) { print "chunk " $1 " has " nrep " replicas"; bad = 1 }
              delete seen
              for (i = 5; i <= NF; i++) {
                  if ($i in seen) { print "chunk " $1 " twice on " $i; bad = 1 }
                  seen[$i] = 1
              }
              if ($1 < n - 1 && $3 != ch) { print "chunk " $1 " has " $3 " bytes"; bad = 1 }
              if ($1 != NR - 1) { print "chunk index " $1 " at row " NR; bad = 1 }
            }
            END { if (total != size) { print "chunk lengths add to " total; bad = 1 }
                  exit bad }' chunks.txt > why.txt ||
            fail "stat dmr:/r$r/$f: $(cat why.txt)"
    done
    echo "replication $r: 5 files identical through get and cat; ls -l and stat right"
done

# Chunk ids are unique across files.
for r in 1 2 3; do for f in $FILES; do fs_chunks "dmr:/r$r/$f"; done; done |
    awk '{print $2}' | sort | uniq -d > dup.txt
[ ! -s dup.txt ] || fail "chunk ids used twice: $(head -n 3 dup.txt)"

# Many chunks of the default chunk size are one chunk here.
"$DMR" fs put fmany dmr:/big64m || fail "put with the default chunk size"
"$DMR" fs ls -l dmr:/big64m | awk '{print $1, $2, $3}' > row
[ "$(cat row)" = "$(wc -c < fmany) 3 1" ] || fail "ls -l dmr:/big64m: $(cat row)"

# get does not overwrite a local file unless -f.
cp f1 local.bin
expect_err 1 "get onto an existing local file" "exists" \
    "$DMR" fs get dmr:/r3/fone local.bin
cmp -s local.bin f1 || fail "get without -f changed the local file"
"$DMR" fs get -f dmr:/r3/fone local.bin || fail "get -f"
cmp -s local.bin fone || fail "get -f: bytes differ"

# Refusals.
expect_err 1 "get of a missing path" "no such file" \
    "$DMR" fs get dmr:/r1/nothere got.missing
[ ! -e got.missing ] || fail "a failed get left got.missing"
expect_err 1 "cat of a missing path" "no such file" "$DMR" fs cat dmr:/nothere
expect_err 1 "put onto an existing path" "exists" \
    "$DMR" fs put f1 dmr:/r2/fone
"$DMR" fs get dmr:/r2/fone got2 && cmp -s got2 fone ||
    fail "a refused put changed dmr:/r2/fone"
expect_err 1 "put under a file" "not a directory" \
    "$DMR" fs put f1 dmr:/r2/fone/sub
expect_err 1 "put onto a directory" "is a directory" \
    "$DMR" fs put f1 dmr:/r2
expect_err 1 "rm of a directory without -r" "is a directory" \
    "$DMR" fs rm dmr:/r1
"$DMR" fs ls dmr:/r1 | grep -qx fmany || fail "a refused rm removed files"
expect_err 1 "rm of a missing path" "no such file" "$DMR" fs rm dmr:/nothere
expect_err 2 "get with a local source" "not a store path" \
    "$DMR" fs get f1 got.local
expect_err 2 "get with a store destination" "must be a local path" \
    "$DMR" fs get dmr:/r1/f1 dmr:/x
expect_err 2 "unknown verb" "unknown action" "$DMR" fs frobnicate dmr:/r1
expect_err 2 "put without a destination" "wrong number of arguments" \
    "$DMR" fs put f1
"$DMR" fs fsck > fsck.txt || fail "fsck: $(cat fsck.txt)"
grep -q "^16 files, .* 0 under-replicated, 0 corrupt, 0 missing" fsck.txt ||
    fail "fsck: $(tail -n 2 fsck.txt)"

# rm of a file; rm -r of a directory; their replicas go away.
{ fs_chunks dmr:/r1/fmany; fs_chunks dmr:/r3/fone1; } | awk '{print $2}' > ids.txt
"$DMR" fs rm dmr:/r3/fone1 || fail "rm dmr:/r3/fone1"
"$DMR" fs rm -r dmr:/r1 || fail "rm -r dmr:/r1"
expect_err 1 "ls of a removed directory" "no such file" "$DMR" fs ls dmr:/r1
expect_err 1 "get of a removed file" "no such file" \
    "$DMR" fs get dmr:/r3/fone1 got.rm
"$DMR" fs ls > ls.txt
printf 'big64m\nr2/\nr3/\n' > want.txt
same ls.txt want.txt "ls dmr:/ after rm -r"
# replicas_left: the replica files of the removed chunks still on disk.
replicas_left() {
    for id in $(cat ids.txt); do ls .dmr/worker-*/chunks/"$id".* 2>/dev/null; done
    return 0
}
no_replicas_left() { [ -z "$(replicas_left)" ]; }
wait_until 10 no_replicas_left ||
    fail "replicas of removed files still on disk: $(replicas_left | head -n 3)"
"$DMR" fs get dmr:/r3/fmany got3 && cmp -s got3 fmany || fail "rm hurt dmr:/r3/fmany"
echo "rm and rm -r: paths gone, their replicas deleted, the rest intact"

# No live workers: put says so.
for i in 1 2 3 4; do
    pid=$(pid_of worker-$i)
    "$DMR" cluster kill worker-$i --state .dmr > /dev/null 2>&1 || fail "kill worker-$i"
    wait_dead "$pid" || fail "worker-$i did not die"
done
no_live_workers() { ! "$DMR" workers | grep -q ' alive '; }
wait_until 10 no_live_workers ||
    fail "the master still lists live workers: $("$DMR" workers)"
expect_err 1 "put with no live workers" "no live workers" \
    "$DMR" fs put f1 dmr:/nowhere
expect_err 1 "the refused put left no file" "no such file" \
    "$DMR" fs stat dmr:/nowhere
