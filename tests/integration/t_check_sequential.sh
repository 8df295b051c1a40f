# dmr check --model sequential: sequential consistency (linearizability
# without real time) of register histories: a stale read is allowed, two
# readers seeing two writes in opposite orders is not; bad input is an
# error with file and line.
. "$(dirname "$0")/lib.sh"

run() {
    st=$1; shift
    set +e; "$@" > out.txt 2> err.txt; rc=$?; set -e
    if [ "$rc" -ne "$st" ]; then
        head -n 40 out.txt err.txt >&2
        fail "'$*' exited $rc, not $st"
    fi
}
says() {
    grep -q -F -- "$1" out.txt err.txt ||
        { head -n 40 out.txt err.txt >&2; fail "the output does not say '$1'"; }
}

op() { printf '{:process %s, :type :%s, :f :%s, :value %s}\n' "$@"; }
{
    op 0 invoke write 1; op 0 ok write 1
    op 1 invoke write 2; op 1 ok write 2
    op 2 invoke read nil; op 2 ok read 1
    op 2 invoke read nil; op 2 ok read 2
} > base.edn
# A read of nil after both writes completed: stale, not linearizable, but
# sequentially consistent (the read goes first).
{ cat base.edn; op 3 invoke read nil; op 3 ok read nil; } > stale.edn
run 1 "$DMR" check --local --model register stale.edn
says "stale.edn: NOT linearizable"
run 0 "$DMR" check --model sequential --seq-model register stale.edn
says "stale.edn: sequentially consistent"
# Process 2 sees 1 then 2, process 3 sees 2 then 1: no single order.
{
    cat base.edn
    op 3 invoke read nil; op 3 ok read 2
    op 3 invoke read nil; op 3 ok read 1
} > iriw.edn
run 1 "$DMR" check --model sequential iriw.edn
says "iriw.edn: NOT sequentially consistent"
says "line 11: process 3 :read 1"
run 1 "$DMR" check --model sequential --json iriw.edn
says '"valid":false'
# A read of a value nobody wrote is found before any search.
{ cat base.edn; op 3 invoke read nil; op 3 ok read 9; } > never.edn
run 1 "$DMR" check --model sequential never.edn
says "never.edn: NOT sequentially consistent"
run 1 "$DMR" check --model sequential stale.edn iriw.edn
says "2 files: 1 sequentially consistent, 1 NOT, 0 unknown or errors"

# Jepsen's etcd logs, when the shared data is here: every linearizable
# one is sequentially consistent.
E=$DATA/histories/jepsen-etcd
if [ -f "$E/etcd_002.log" ]; then
    run 0 "$DMR" check --model sequential "$E/etcd_002.log" "$E/etcd_007.log"
    says "2 files: 2 sequentially consistent"
fi

# Bad input.
{ op 0 invoke write 1; printf '{:process 0, :type :ok, :f :wri\n'; } > cut.edn
run 2 "$DMR" check --model sequential cut.edn
says "cut.edn:2: "
run 2 "$DMR" check --model sequential --seq-model frob stale.edn
says "frob"
exit 0
