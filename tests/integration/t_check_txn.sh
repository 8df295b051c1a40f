# dmr check on transaction histories (list-append, rw-register): Elle's own
# histories give Elle's verdicts; histories from dmr-gentxn's simulated
# stores get the anomalies their isolation allows and no others; bad input
# is an error naming the file and line, exit 2.
. "$(dirname "$0")/lib.sh"

GENTXN=$DMR_BIN/dmr-gentxn

# run STATUS command...: stdout in out.txt, stderr in err.txt; must exit STATUS.
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
never() {
    ! grep -q -E -- "$1" out.txt ||
        { head -n 40 out.txt >&2; fail "the output says '$1'"; }
}
# anomaly_types: the anomaly_types of the last --json run, one per line.
anomaly_types() {
    sed -n 's/.*"anomaly_types":\[\([^]]*\)\].*/\1/p' out.txt | tr ',' '\n' |
        tr -d '"' | grep . || true
}

# --- Elle's histories, with Elle's test expectations
E=$DATA/histories/elle
if [ -d "$E" ]; then
    # Elle's si-without-g-single test: G2-item and nothing stronger.
    run 1 "$DMR" check --local --model list-append \
        --consistency-models snapshot-isolation,repeatable-read --json \
        "$E/si-without-g-single.edn"
    [ "$(anomaly_types)" = G2-item ] ||
        fail "si-without-g-single: anomaly types $(anomaly_types | tr '\n' ' '), not G2-item"
    run 1 "$DMR" check --local --model list-append \
        --consistency-models snapshot-isolation,repeatable-read \
        "$E/si-without-g-single.edn"
    says "si-without-g-single.edn: NOT repeatable-read"
    says "1 file: 0 valid, 1 NOT valid, 0 errors"
    # Under snapshot isolation alone a G2-item is allowed.
    run 0 "$DMR" check --local --model list-append \
        --consistency-models snapshot-isolation "$E/si-without-g-single.edn"
    says "1 file: 1 valid, 0 NOT valid, 0 errors"

    # The paper's example is a G-single, with Elle's explanation.
    run 1 "$DMR" check --local --model list-append --consistency-models serializable \
        "$E/paper-example.edn"
    says "NOT consistent-view"
    says "anomalies: G-single (1)"
    says "because T3 did not observe T1's append of 8 to key 255"

    # huge-scc: serializable without real time, not strict-serializable.
    run 0 "$DMR" check --local --model list-append --consistency-models serializable \
        "$E/huge-scc.edn"
    run 1 "$DMR" check --local --model list-append "$E/huge-scc.edn"
    says "realtime"
    anomaly_types > /dev/null
    run 1 "$DMR" check --local --model list-append --json "$E/huge-scc.edn"
    for a in $(anomaly_types); do
        case $a in *-realtime) ;; *) fail "huge-scc: $a is not a realtime anomaly" ;; esac
    done
else
    echo "note: $E absent, Elle's histories not checked" >&2
fi

# --- generated histories: the report matches the store's isolation
for w in list-append rw-register; do
    for fmt in edn json; do
        for seed in 1 2; do
            f=$w-$seed.$fmt
            j=; [ $fmt = json ] && j=--json
            # strict-serializable store: never an anomaly.
            "$GENTXN" --workload $w --txns 3000 --seed $seed $j \
                --isolation strict-serializable > ss-$f
            run 0 "$DMR" check --local --model $w --realtime --process ss-$f
            says "ss-$f: valid"
            # snapshot isolation: never G0, G1 or G-single, so SI holds.
            "$GENTXN" --workload $w --txns 3000 --seed $seed $j \
                --isolation snapshot-isolation > si-$f
            run 0 "$DMR" check --local --model $w \
                --consistency-models snapshot-isolation si-$f
            run 0 "$DMR" check --local --model $w --json \
                --consistency-models snapshot-isolation si-$f
            anomaly_types | grep -E '^(G0|G1[abc]?|G-single)(-|$)' &&
                fail "si-$f: a snapshot-isolation store got G0, G1 or G-single"
            # read committed: holds; stronger models may not.
            "$GENTXN" --workload $w --txns 3000 --seed $seed $j \
                --isolation read-committed > rc-$f
            run 0 "$DMR" check --local --model $w \
                --consistency-models read-committed rc-$f
            # broken store: lost or dirty writes are found.
            "$GENTXN" --workload $w --txns 3000 --seed $seed $j \
                --isolation broken > br-$f
            run 1 "$DMR" check --local --model $w \
                --consistency-models read-committed br-$f
            says "br-$f: NOT read-"
        done
    done
done
# A snapshot-isolation store's write skew is seen under serializable.
"$GENTXN" --workload list-append --txns 5000 --seed 3 \
    --isolation snapshot-isolation > si-skew.edn
run 1 "$DMR" check --local --model list-append si-skew.edn
says "G2-item"
never '^  anomalies:.*(G0|G1|G-single)'
# --html draws each witness cycle; a valid file gets no page.
run 1 "$DMR" check --local --model list-append --max-witnesses 3 --html pages \
    si-skew.edn ss-list-append-1.edn
[ -f pages/si-skew.edn.html ] || fail "no page for si-skew.edn"
[ ! -e pages/ss-list-append-1.edn.html ] || fail "a page for a valid history"
grep -q "<h2>G2-item (" pages/si-skew.edn.html || fail "the page has no G2-item"
n=$(grep -c "<svg " pages/si-skew.edn.html)
[ "$n" -ge 1 ] && [ "$n" -le 15 ] || fail "$n witness graphs, want 1 to 3 a type"
grep -q "rw [0-9]*</text>" pages/si-skew.edn.html || fail "no rw edge labelled with its key"
grep -q "T1 &lt; T2, because" pages/si-skew.edn.html || fail "reasons are not escaped"

# --- bad input: FILE:LINE, exit 2, in both formats
printf '%s\n' \
    '{:type :invoke, :f :txn, :value [[:append 1 1]], :process 0}' \
    '{:type :ok, :f :txn, :value [[:append 1 1]], :process 0}' \
    '{:type :invoke, :f :txn, :value [[:frob 1 1]], :process 0}' > mop.edn
run 2 "$DMR" check --local --model list-append mop.edn
says "mop.edn:3: unknown micro-op :frob"
says "1 file: 0 valid, 0 NOT valid, 1 error"
printf '%s\n' \
    '{"process":0,"type":"invoke","f":"txn","value":[["append",1,1]]}' \
    '{"process":0,"type":"ok","f":"txn","value":[["append",1,1]]}' \
    '{"process":1,"type":"invoke","f":"txn","value":[["append",1,1]]}' \
    '{"process":1,"type":"ok","f":"txn","value":[["append",1,1]]}' > dup.jsonl
run 2 "$DMR" check --local --model list-append dup.jsonl
says "dup.jsonl:4: appends 1 to key 1 again (first on line 2)"
printf '%s\n' \
    '{"process":0,"type":"invoke","f":"txn","value":[["append",1,1]]}' \
    '{"process":0,"type":"ok","f":"txn","value":[["append",1,' > cut.jsonl
run 2 "$DMR" check --local --model list-append cut.jsonl
says "cut.jsonl:2: "
printf '%s\n' \
    '{:type :invoke, :f :txn, :value [[:w 1 1]], :process 0}' \
    '{:type :ok, :f :txn, :value [[:w 1 1]], :process 0}' \
    '{:type :invoke, :f :txn, :value [[:w 1 1]], :process 1}' \
    '{:type :ok, :f :txn, :value [[:w 1 1]], :process 1}' > rw.edn
run 2 "$DMR" check --local --model rw-register rw.edn
says "rw.edn:4: "
# One bad file does not hide the verdicts of the others.
run 2 "$DMR" check --local --model list-append ss-list-append-1.edn mop.edn
says "ss-list-append-1.edn: valid"
says "2 files: 1 valid, 0 NOT valid, 1 error"
# Wrong flags are named.
run 2 "$DMR" check --local --model list-append --consistency-models serialisable ss-list-append-1.edn
says "serialisable"
run 2 "$DMR" check --local --model list-append --anomalies G7 ss-list-append-1.edn
says "G7"
exit 0
