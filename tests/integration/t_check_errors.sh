# dmr check and dmr history on bad input: a clear error naming the file and
# the line, exit status 2, no crash; here and on a cluster.
. "$(dirname "$0")/lib.sh"

# run STATUS command...: runs command (stdout out.txt, stderr err.txt);
# it must exit STATUS (a crash exits 128 + signal).
run() {
    st=$1; shift
    set +e; "$@" > out.txt 2> err.txt; rc=$?; set -e
    if [ "$rc" -ne "$st" ]; then
        cat out.txt err.txt >&2
        fail "'$*' exited $rc, not $st"
    fi
}
# says TEXT: the last run printed TEXT (fixed string), on stdout or stderr.
says() {
    grep -q -F -- "$1" out.txt err.txt ||
        { cat out.txt err.txt >&2; fail "'$*' did not say '$1'"; }
}
# names FILE LINE: the last run's message names FILE and line LINE, as
# "FILE:LINE: ..." (syntax and model errors alike).
names() {
    grep -q -F -e "$1:$2: " out.txt err.txt ||
        { cat out.txt err.txt >&2; fail "the error does not name $1 line $2"; }
}
# check_bad FILE LINE [MODEL]: dmr check --local reports FILE as an error at
# LINE: "FILE: error: ...", counted in the summary, exit 2.
check_bad() {
    run 2 "$DMR" check --local --model "${3:-cas-register}" "$1"
    names "$1" "$2"
    grep -q -F "$1: error: " out.txt || { cat out.txt >&2; fail "no '$1: error:' line"; }
    tail -n 1 out.txt | grep -q '^1 file: 0 linearizable, 0 NOT linearizable, 0 unknown, 1 error (' ||
        { cat out.txt >&2; fail "summary for $1"; }
}
# history_bad FILE LINE: dmr history FILE fails naming LINE.
history_bad() {
    run 2 "$DMR" history "$1"
    names "$1" "$2"
}

cat > good.edn <<'EOF'
[{:type :invoke, :f :write, :value 1, :process 0}
 {:type :ok, :f :write, :value 1, :process 0}
 {:type :invoke, :f :read, :value nil, :process 1}
 {:type :ok, :f :read, :value 1, :process 1}]
EOF
# Cut in the middle of the map on line 3.
printf '%s\n%s\n%s' '[{:type :invoke, :f :write, :value 1, :process 0}' \
    ' {:type :ok, :f :write, :value 1, :process 0}' \
    ' {:type :invoke, :f :read, :val' > truncated.edn
# The map on line 3 closed with ']'.
cat > unbalanced.edn <<'EOF'
[{:type :invoke, :f :write, :value 1, :process 0}
 {:type :ok, :f :write, :value 1, :process 0}
 {:type :invoke, :f :read, :value nil, :process 1]
 {:type :ok, :f :read, :value 1, :process 1}]
EOF
# Process 1 completes on line 3 what it never invoked.
cat > orphan.edn <<'EOF'
[{:type :invoke, :f :write, :value 1, :process 0}
 {:type :ok, :f :write, :value 1, :process 0}
 {:type :ok, :f :read, :value 1, :process 1}]
EOF
# An operation a cas-register does not have, invoked on line 3.
cat > unknown-f.edn <<'EOF'
[{:type :invoke, :f :write, :value 1, :process 0}
 {:type :ok, :f :write, :value 1, :process 0}
 {:type :invoke, :f :frobnicate, :value 1, :process 1}
 {:type :ok, :f :frobnicate, :value 1, :process 1}]
EOF
# :cas 5 instead of [old new], invoked on line 3 and never known to complete.
cat > cas-type.edn <<'EOF'
[{:type :invoke, :f :write, :value 1, :process 0}
 {:type :ok, :f :write, :value 1, :process 0}
 {:type :invoke, :f :cas, :value 5, :process 1}
 {:type :info, :f :cas, :value nil, :process 1}]
EOF
# ... and in the :ok on line 4 (an :ok's value is the one checked).
cat > cas-type-ok.edn <<'EOF'
[{:type :invoke, :f :write, :value 1, :process 0}
 {:type :ok, :f :write, :value 1, :process 0}
 {:type :invoke, :f :cas, :value [1 2], :process 1}
 {:type :ok, :f :cas, :value 5, :process 1}]
EOF
# kv: a number appended on line 3 (key "b"; key "a" is fine).
cat > kv-type.txt <<'EOF'
{:process 0, :type :invoke, :f :put, :key "a", :value "x"}
{:process 0, :type :ok, :f :put, :key "a", :value "x"}
{:process 1, :type :invoke, :f :append, :key "b", :value 7}
{:process 1, :type :info, :f :append, :key "b", :value nil}
EOF
# JSON-lines: a comma missing on line 3.
cat > comma.json <<'EOF'
{"process":0,"type":"invoke","f":"write","value":1}
{"process":0,"type":"ok","f":"write","value":1}
{"process":1,"type":"invoke" "f":"read","value":null}
{"process":1,"type":"ok","f":"read","value":1}
EOF
# JSON-lines: the object on line 3 never closed; found out on line 4.
cat > unclosed.json <<'EOF'
{"process":0,"type":"invoke","f":"write","value":1}
{"process":0,"type":"ok","f":"write","value":1}
{"process":1,"type":"invoke","f":"read","value":null
{"process":1,"type":"ok","f":"read","value":1}
EOF
: > empty.edn

# ---- dmr check, here
check_bad truncated.edn 3
says "found end of input"
check_bad unbalanced.edn 3
check_bad orphan.edn 3
says "no open invocation"
check_bad unknown-f.edn 3
says ":frobnicate"
check_bad cas-type.edn 3
says "[old new]"
check_bad cas-type-ok.edn 4
says "[old new]"
check_bad kv-type.txt 3 kv
check_bad comma.json 3
check_bad unclosed.json 4
says "opened on line 3"
# A file given in a format it is not in: line 1.
run 2 "$DMR" check --local --model cas-register --format json good.edn
names good.edn 1
run 2 "$DMR" check --local --model cas-register --format etcd good.edn
names good.edn 1

# An empty file is an empty history: trivially linearizable.
run 0 "$DMR" check --local --model cas-register empty.edn
grep -qx 'empty.edn: linearizable' out.txt || fail "empty.edn: $(cat out.txt)"
run 0 "$DMR" history empty.edn
says "0 events, 0 operations"

# A missing file: nothing is checked.
run 2 "$DMR" check --local --model cas-register nope.edn good.edn
says "input path does not exist: nope.edn"
run 2 "$DMR" history nope.edn
says "nope.edn: cannot read"

# Bad options.
run 2 "$DMR" check --local --model frobnicate good.edn
says "unknown --model"
says "cas-register"
run 2 "$DMR" check --local good.edn
says "--model MODEL is required"
run 2 "$DMR" check --local --model cas-register --format yaml good.edn
says "unknown --format yaml"
run 2 "$DMR" history --format yaml good.edn
says '"yaml"'
run 2 "$DMR" check --local --model cas-register --init '{:x' good.edn
says "--init: line 1: expected '}'"
run 2 "$DMR" check --local --model cas-register --init '[1 2' good.edn
says "--init: line 1:"
run 2 "$DMR" check --local --model multi-register --init 5 good.edn
says "--init 5 does not suit model multi-register"
run 2 "$DMR" check --local --model cas-register --init '' good.edn
says "--init: no value in ''"
run 2 "$DMR" check --local --model cas-register --init '1 ]' good.edn
says "--init: '1 ]' is more than one value"
mkdir emptydir
run 2 "$DMR" check --local --model cas-register emptydir
says "no history files"
run 2 "$DMR" check --local --model cas-register --timeout abc good.edn
says "--timeout"
run 2 "$DMR" check --local --model cas-register --bogus good.edn
says "unknown option --bogus"
run 2 "$DMR" check --local --model cas-register
says "missing argument"

# kv: an operation with no :key (on line 2) is an error, not a part.
cat > nokey.json <<'EOF'
{"process":0,"type":"invoke","f":"put","key":"a","value":"1"}
{"process":1,"type":"invoke","f":"put","value":"2"}
{"process":0,"type":"ok","f":"put","key":"a","value":"1"}
{"process":1,"type":"ok","f":"put","value":"2"}
EOF
check_bad nokey.json 2 kv
says "has no :key"

# A comment-only EDN file is an empty history, like an empty file.
printf '; nothing recorded\n' > comment.edn
run 0 "$DMR" check --local --model cas-register comment.edn
grep -qx 'comment.edn: linearizable' out.txt || fail "comment.edn: $(cat out.txt)"

# A good file and a bad one: the good one still gets its verdict.
run 2 "$DMR" check --local --model cas-register good.edn truncated.edn unknown-f.edn
grep -qx 'good.edn: linearizable' out.txt || { cat out.txt >&2; fail "good.edn's verdict"; }
names truncated.edn 3
names unknown-f.edn 3
tail -n 1 out.txt | grep -q '^3 files: 1 linearizable, 0 NOT linearizable, 0 unknown, 2 errors (' ||
    { cat out.txt >&2; fail "summary of a good and two bad files"; }
# --json: an "error" verdict with the reason.
run 2 "$DMR" check --local --json --model cas-register good.edn truncated.edn
grep -q '^{"file":"truncated.edn","verdict":"error",.*"why":"truncated.edn:3: ' out.txt ||
    { cat out.txt >&2; fail "--json error for truncated.edn"; }
grep -q '^{"file":"good.edn","verdict":"linearizable"' out.txt ||
    { cat out.txt >&2; fail "--json verdict for good.edn"; }

# ---- dmr history (no model: only the history itself can be wrong)
history_bad truncated.edn 3
history_bad unbalanced.edn 3
history_bad orphan.edn 3
history_bad comma.json 3
history_bad unclosed.json 4
run 2 "$DMR" history --json truncated.edn
names truncated.edn 3
run 2 "$DMR" history --ops orphan.edn
names orphan.edn 3
run 2 "$DMR" history - < truncated.edn
names "<stdin>" 3
run 0 "$DMR" history good.edn
says "4 events, 2 operations (2 ok, 0 failed, 0 info)"

# ---- on a cluster: the same errors, and the job ends.
cluster_up 1
run 2 timeout 60 "$DMR" check --model cas-register good.edn truncated.edn unknown-f.edn
grep -qx 'good.edn: linearizable' out.txt || { cat out.txt >&2; fail "good.edn on the cluster"; }
names truncated.edn 3
names unknown-f.edn 3
grep -q -F "truncated.edn: error: " out.txt || fail "no 'truncated.edn: error:' line on the cluster"
tail -n 1 out.txt | grep -q '^3 files: 1 linearizable, 0 NOT linearizable, 0 unknown, 2 errors (' ||
    { cat out.txt >&2; fail "summary on the cluster"; }
run 2 timeout 60 "$DMR" check --model kv kv-type.txt
names kv-type.txt 3
# From the chunk store: named by its dmr:/ path.
"$DMR" fs put orphan.edn dmr:/bad/orphan.edn > /dev/null || fail "fs put"
run 2 timeout 60 "$DMR" check --model cas-register dmr:/bad
names dmr:/bad/orphan.edn 3
run 2 timeout 60 "$DMR" check --model cas-register dmr:/bad/nope.edn
says "dmr:/bad/nope.edn"
# The cluster is still fine.
run 0 timeout 60 "$DMR" check --model cas-register good.edn
