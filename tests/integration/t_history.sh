# dmr history: what it reports about a history, and --json, whose output is
# a fixed point of the conversion and keeps dmr check's verdict; histories
# from dmr-genhist, with and without faults.
. "$(dirname "$0")/lib.sh"
GENHIST=$DMR_BIN/dmr-genhist

# verdict FILE MODEL [options]: dmr check --local's verdict for FILE alone
# ("linearizable", "NOT linearizable", ...), the file name taken off.
verdict() {
    _f=$1; _m=$2; shift 2
    set +e
    "$DMR" check --local --model "$_m" "$@" "$_f" > v.txt 2> v.err
    set -e
    _v=$(grep -v '^ ' v.txt | head -n 1)
    case $_v in
    "$_f: "*) echo "${_v#"$_f: "}" ;;
    *) cat v.txt v.err >&2; fail "no verdict line for $_f" ;;
    esac
}
# ops FILE: dmr history --ops's operations without their line numbers.
ops() { "$DMR" history --ops "$1" | sed '1,/^operations/d' | awk '{$1 = ""; print}'; }

# roundtrip FILE NAME MODEL [options]: dmr history --json FILE > NAME.jsonl;
# converting that again gives the same bytes, the same operations in the
# same order, and dmr check the same verdict (which must be WANT_VERDICT).
roundtrip() {
    f=$1; n=$2; m=$3; shift 3
    "$DMR" history --json "$f" > "$n.jsonl" || fail "history --json $f"
    [ -s "$n.jsonl" ] || fail "history --json $f printed nothing"
    "$DMR" history --json "$n.jsonl" > "$n.2.jsonl" || fail "history --json $n.jsonl"
    same "$n.jsonl" "$n.2.jsonl" "the round trip of $f through JSON-lines"
    # the same summary: events, operations by outcome, processes, keys
    "$DMR" history "$f" | sed -n '1s/^.* history, //p; 2,3p' > "$n.sum"
    "$DMR" history "$n.jsonl" | sed -n '1s/^.* history, //p; 2,3p' > "$n.jsonl.sum"
    same "$n.sum" "$n.jsonl.sum" "dmr history of $f and of its JSON-lines"
    if [ "$m" != multi-register ]; then # (JSON has no keywords: :x is "x")
        ops "$f" > "$n.ops"; ops "$n.jsonl" > "$n.jsonl.ops"
        same "$n.ops" "$n.jsonl.ops" "the operations of $f and of its JSON-lines"
    fi
    v1=$(verdict "$f" "$m" "$@")
    v2=$(verdict "$n.jsonl" "$m" "$@")
    [ "$v1" = "$WANT_VERDICT" ] || fail "$f: $v1, expected $WANT_VERDICT"
    [ "$v2" = "$v1" ] || fail "$f is $v1 but its JSON-lines $v2"
}

# ---- histories from dmr-genhist (deterministic for a seed)
"$GENHIST" --model cas-register --ops 300 --procs 5 --seed 1 > g1.jsonl ||
    fail "dmr-genhist"
"$GENHIST" --model cas-register --ops 300 --procs 5 --seed 1 > g1-again.jsonl
same g1.jsonl g1-again.jsonl "dmr-genhist twice with one seed"
"$DMR" history g1.jsonl > h.txt || fail "dmr history g1.jsonl"
grep -q '^g1.jsonl: json history, 600 events, 300 operations (' h.txt ||
    { cat h.txt >&2; fail "dmr history g1.jsonl: $(head -n 1 h.txt)"; }
grep -q '^processes: 5 (0 1 2 3 4)$' h.txt || fail "g1.jsonl: not 5 processes"
WANT_VERDICT=linearizable
for s in 1 2 3; do
    "$GENHIST" --model cas-register --ops 300 --procs 5 --seed $s > g$s.jsonl
    [ "$(verdict g$s.jsonl cas-register)" = linearizable ] ||
        fail "genhist seed $s is not linearizable"
    # genhist's output is dmr JSON-lines already: a fixed point
    roundtrip g$s.jsonl gen$s cas-register
    same g$s.jsonl gen$s.jsonl "genhist seed $s through dmr history --json"
    # with faults injected: NOT linearizable (every seed tried, 1-10, is)
    "$GENHIST" --model cas-register --ops 300 --procs 5 --seed $s --faulty 0.2 > f$s.jsonl
    cmp -s g$s.jsonl f$s.jsonl && fail "--faulty 0.2 changed nothing (seed $s)"
    [ "$(verdict f$s.jsonl cas-register)" = "NOT linearizable" ] ||
        fail "genhist --faulty 0.2 seed $s is linearizable"
done
for m in register kv; do
    "$GENHIST" --model $m --ops 300 --procs 5 --seed 1 > m.jsonl
    [ "$(verdict m.jsonl $m)" = linearizable ] || fail "genhist --model $m: $(cat v.txt)"
    "$GENHIST" --model $m --ops 300 --procs 5 --seed 1 --faulty 0.2 > m.jsonl
    [ "$(verdict m.jsonl $m)" = "NOT linearizable" ] ||
        fail "genhist --model $m --faulty 0.2: $(cat v.txt)"
done

# ---- Porcupine's etcd semantics survive the conversion: a :fail :cas
# executed and found the compare false (here it was true: a violation);
# a :fail :read :timed-out and an :info write stay open.
tab=$(printf '\t')
sed "s/ *| */$tab/g" > failcas.log <<'EOF'
INFO  jepsen.util - 0 | :invoke | :write | 2
INFO  jepsen.util - 0 | :ok | :write | 2
INFO  jepsen.util - 1 | :invoke | :cas | [2 3]
INFO  jepsen.util - 1 | :fail | :cas | [2 3]
EOF
WANT_VERDICT="NOT linearizable"
roundtrip failcas.log failcas cas-register
sed "s/ *| */$tab/g" > timeout.log <<'EOF'
INFO  jepsen.util - 0 | :invoke | :write | 2
INFO  jepsen.util - 0 | :ok | :write | 2
INFO  jepsen.util - 1 | :invoke | :read | nil
INFO  jepsen.util - 1 | :fail | :read | :timed-out
INFO  jepsen.util - 2 | :invoke | :write | 3
INFO  jepsen.util - 2 | :info | :write | :timed-out
INFO  jepsen.util - 3 | :invoke | :read | nil
INFO  jepsen.util - 3 | :ok | :read | 3
EOF
"$DMR" history timeout.log > h.txt || fail "dmr history timeout.log"
grep -q '^timeout.log: etcd history, 8 events, 4 operations (2 ok, 0 failed, 2 info)$' h.txt ||
    { cat h.txt >&2; fail "dmr history timeout.log"; }
grep -q '^open operations (info): 2$' h.txt || fail "timeout.log: not 2 open operations"
WANT_VERDICT=linearizable
roundtrip timeout.log timeout cas-register

# ---- the shared recorded histories
H=$DATA/histories
if [ ! -d "$H" ]; then
    echo "note: no shared histories in $H; their part is skipped" >&2
    exit 0
fi
ETCD=$H/jepsen-etcd
"$DMR" history "$ETCD/etcd_002.log" > h.txt || fail "dmr history etcd_002"
grep -q "^$ETCD/etcd_002.log: etcd history, 154 events, 77 operations (58 ok, 0 failed, 19 info)\$" h.txt ||
    { cat h.txt >&2; fail "dmr history etcd_002: $(head -n 1 h.txt)"; }
grep -q '^open operations (info): 19$' h.txt ||
    { cat h.txt >&2; fail "etcd_002: not 19 open operations"; }
n=$(sed '1,/^open operations/d' h.txt | grep -c ' info  *:')
[ "$n" -eq 19 ] || fail "etcd_002: $n open operations listed, not 19"

WANT_VERDICT="NOT linearizable"
roundtrip "$ETCD/etcd_000.log" etcd_000 cas-register
roundtrip "$ETCD/etcd_057.log" etcd_057 cas-register
WANT_VERDICT=linearizable
roundtrip "$ETCD/etcd_002.log" etcd_002 cas-register
roundtrip "$ETCD/etcd_007.log" etcd_007 cas-register
# etcd logs have one event a line, as JSON-lines: even the lines agree
"$DMR" history --ops "$ETCD/etcd_002.log" | sed 1d > a.ops
"$DMR" history --ops etcd_002.jsonl | sed 1d > b.ops
same a.ops b.ops "dmr history --ops of etcd_002 and of its JSON-lines"

KN=$H/knossos
WANT_VERDICT="NOT linearizable"
roundtrip "$KN/cas-register/bad/rethink-fail-smaller.edn" rethink cas-register
roundtrip "$KN/mutex/bad/etcd.edn" mutex mutex
WANT_VERDICT=linearizable
roundtrip "$KN/cas-register/good/memstress3-0.edn" memstress cas-register
roundtrip "$KN/cas-register/good/cas-register-bug.edn" casbug cas-register
roundtrip "$KN/multi-register/good/multi-register.edn" multi multi-register \
    --init '{:x 0 :y 0}'

KV=$H/porcupine-kv
WANT_VERDICT=linearizable
roundtrip "$KV/c10-ok.txt" c10-ok kv
roundtrip "$KV/c01-ok.txt" c01-ok kv
WANT_VERDICT="NOT linearizable"
roundtrip "$KV/c10-bad.txt" c10-bad kv
roundtrip "$KV/c01-bad.txt" c01-bad kv
