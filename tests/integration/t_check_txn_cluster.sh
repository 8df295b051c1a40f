# dmr check on transaction histories as a job on the cluster (the txncheck
# job's four stages): for Elle's histories and for histories of every
# simulated isolation, the verdict, the anomaly types and their counts, and
# the size of the graph (transactions, edges, components) are those of the
# check in one process (--local), which is the reference; so are the error
# messages for bad input. A history in the chunk store is checked there; a
# worker killed with -9 in the middle of the job changes nothing.
. "$(dirname "$0")/lib.sh"

GENTXN=$DMR_BIN/dmr-gentxn

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
# summary: what must agree, from a --json line: validity, types, counts,
# models, and the graph's size.
summary() {
    sed -e 's/.*"valid":\([a-z]*\),"checked":\(\[[^]]*\]\),"anomaly_types":\(\[[^]]*\]\).*"counts":\({[^}]*}\),"not":\(\[[^]]*\]\),"also_not":\(\[[^]]*\]\),"txns":\([0-9]*\),"edges":\([0-9]*\),"sccs":\([0-9]*\),"largest_scc":\([0-9]*\).*/\1 \2 \3 \4 \5 \6 \7 \8 \9/' "$1"
}
# agree WHAT STATUS ARGS...: the cluster and --local agree on ARGS.
agree() {
    what=$1 st=$2; shift 2
    run "$st" "$DMR" check --local --json "$@"
    summary out.txt > local.sum
    run "$st" "$DMR" check --json "$@"
    summary out.txt > cluster.sum
    grep -q '^[a-z]* \[' local.sum || fail "$what: no summary in the output"
    same local.sum cluster.sum "$what: the cluster's result"
}

cluster_up 3

# --- Elle's histories
E=$DATA/histories/elle
if [ -d "$E" ]; then
    for f in si-without-g-single paper-example huge-scc; do
        agree "$f" 1 --model list-append "$E/$f.edn"
        agree "$f serializable" "$([ $f = huge-scc ] && echo 0 || echo 1)" \
            --model list-append --consistency-models serializable "$E/$f.edn"
    done
    agree "si-without-g-single si,rr" 1 --model list-append \
        --consistency-models snapshot-isolation,repeatable-read \
        "$E/si-without-g-single.edn"
    grep -q '\["G2-item"\]' cluster.sum || fail "si-without-g-single: not G2-item alone"
    run 1 "$DMR" check --model list-append --consistency-models serializable \
        "$E/paper-example.edn"
    says "anomalies: G-single (1)"
    says "because T3 did not observe T1's append of 8 to key 255"
else
    echo "note: $E absent, Elle's histories not checked" >&2
fi

# --- generated histories of each isolation, both workloads and formats
for w in list-append rw-register; do
    for fmt in edn json; do
        [ $w-$fmt = rw-register-json ] && continue
        j=; [ $fmt = json ] && j=--json
        for iso in strict-serializable snapshot-isolation read-committed broken; do
            f=$iso-$w.$fmt
            "$GENTXN" --workload $w --txns 2000 --seed 5 --isolation $iso $j > $f
            st=1; [ $iso = strict-serializable ] && st=0
            agree "$f" $st --model $w --process --realtime $f
            st=0; [ $iso = broken ] && st=1
            agree "$f read-committed" $st --model $w \
                --consistency-models read-committed $f
        done
    done
done

# --- the text and the page, with the witnesses' own op maps
"$GENTXN" --workload list-append --txns 5000 --seed 3 \
    --isolation snapshot-isolation > skew.edn
run 1 "$DMR" check --model list-append --max-witnesses 2 --html pages skew.edn
says "skew.edn: NOT repeatable-read"
says "G2-item #1: a cycle of"
says "did not observe"
grep -q "T1 = line [0-9]*, process [0-9]*, ok: \[\[:" out.txt ||
    fail "a witness is shown without its op map"
[ -f pages/skew.edn.html ] || fail "no page for skew.edn"
grep -q "<svg " pages/skew.edn.html || fail "the page has no witness graph"

# --- a history in the chunk store
"$DMR" fs put skew.edn dmr:/h/skew.edn > /dev/null
run 1 "$DMR" check --json --model list-append dmr:/h/skew.edn
summary out.txt > store.sum
run 1 "$DMR" check --local --json --model list-append skew.edn
summary out.txt > local.sum
same local.sum store.sum "the store history's result"
run 2 "$DMR" check --local --model list-append dmr:/h/skew.edn
says "--local reads local files only"

# --- a worker killed with -9 while the job runs
"$GENTXN" --workload list-append --txns 150000 --seed 9 \
    --isolation snapshot-isolation > big.edn
run 1 "$DMR" check --local --json --model list-append big.edn
summary out.txt > local.sum
set +e
"$DMR" check --json --model list-append big.edn > killed.out 2> killed.err &
chk=$!
set -e
wait_until 60 sh -c '"$0" jobs 2>/dev/null | grep -q " txncheck-infer "' "$DMR" ||
    fail "the job never reached its second stage"
victim=$(pid_of worker-2)
vwid=$(wid_of "$victim")
kill -9 "$victim"
set +e; wait $chk; rc=$?; set -e
[ $rc -eq 1 ] || { cat killed.err >&2; fail "the check exited $rc after a worker was killed, not 1"; }
summary killed.out > killed.sum
same local.sum killed.sum "the result with a worker killed"
grep -q "worker $vwid lost" "$T/.dmr/master.log" || fail "the master never saw $vwid lost"
"$DMR" jobs | grep -q "txncheck-cycles *succeeded" || fail "the last stage did not succeed"

# --- bad input: the messages of the local check
printf '%s\n' \
    '{:type :invoke, :f :txn, :value [[:append 1 1]], :process 0}' \
    '{:type :ok, :f :txn, :value [[:append 1 1]], :process 0}' \
    '{:type :invoke, :f :txn, :value [[:frob 1 1]], :process 0}' > mop.edn
printf '%s\n' \
    '{"process":0,"type":"invoke","f":"txn","value":[["append",1,1]]}' \
    '{"process":0,"type":"ok","f":"txn","value":[["append",1,1]]}' \
    '{"process":1,"type":"invoke","f":"txn","value":[["append",1,1]]}' \
    '{"process":1,"type":"ok","f":"txn","value":[["append",1,1]]}' > dup.jsonl
printf '%s\n' \
    '{"process":0,"type":"invoke","f":"txn","value":[["append",1,1]]}' \
    '{"process":0,"type":"ok","f":"txn","value":[["append",1,' > cut.jsonl
printf '%s\n' \
    '{:type :invoke, :f :txn, :value [[:append 1 1]], :process 0}' \
    '{:type :invoke, :f :txn, :value [[:append 1 2]], :process 0}' > twice.edn
for f in mop.edn dup.jsonl cut.jsonl twice.edn; do
    run 2 "$DMR" check --local --model list-append $f
    grep "^dmr check: " err.txt > local.err
    run 2 "$DMR" check --model list-append $f
    grep "^dmr check: " err.txt > cluster.err
    same local.err cluster.err "the error for $f"
done
grep -q "mop.edn:3: unknown micro-op :frob" local.err 2>/dev/null ||
    grep -q "twice.edn:2: process 0 invokes" local.err ||
    fail "the last error is not named"
# A history given as one vector on one line is for --local.
printf '%s\n' '[{:type :invoke, :f :txn, :value [[:append 1 1]], :process 0} {:type :ok, :f :txn, :value [[:append 1 1]], :process 0}]' > vec.edn
run 2 "$DMR" check --model list-append vec.edn
says "vec.edn:1: more than one op on this line"
# One bad file does not hide the others' verdicts.
run 2 "$DMR" check --model list-append strict-serializable-list-append.edn mop.edn
says "strict-serializable-list-append.edn: valid"
says "2 files: 1 valid, 0 NOT valid, 1 error"
exit 0
