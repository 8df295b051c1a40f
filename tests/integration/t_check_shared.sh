# dmr check on the shared recorded histories, whose verdicts are known
# (../shared/data/README.md): every file's verdict line and the exit status,
# here (--local) and on a cluster, from local files and from the chunk store;
# --json and --html.
. "$(dirname "$0")/lib.sh"
H=$DATA/histories
[ -d "$H" ] || skip "no shared histories in $H"
KN=$H/knossos
ETCD=$H/jepsen-etcd
KV=$H/porcupine-kv

# verdicts VERDICT FILE...: the lines dmr check should print for FILEs.
verdicts() {
    _v=$1; shift
    for _f in "$@"; do
        [ -f "$_f" ] || fail "shared data: $_f is missing"
        echo "$_f: $_v"
    done
}

# check_run STATUS WANT [dmr check args...]: runs dmr check; its verdict
# lines (not indented, not the summary) must be exactly those of file WANT,
# its summary must count them, and it must exit STATUS.
check_run() {
    st=$1; want=$2; shift 2
    set +e; "$DMR" check "$@" > out.txt 2> err.txt; rc=$?; set -e
    [ -s out.txt ] || { cat err.txt >&2; fail "dmr check $* printed nothing"; }
    sed '$d' out.txt | grep -v '^ ' | sort > got.txt
    sort "$want" > want.txt
    if ! cmp -s got.txt want.txt; then
        cat err.txt >&2
        echo "--- verdicts differ (< got, > expected):" >&2
        diff got.txt want.txt | head -n 20 >&2
        fail "verdicts of dmr check $*"
    fi
    n=$(wc -l < want.txt | tr -d ' ')
    a=$(grep -c ': linearizable$' want.txt || true)
    b=$(grep -c ': NOT linearizable$' want.txt || true)
    w="files"; [ "$n" -ne 1 ] || w="file"
    summary="$n $w: $a linearizable, $b NOT linearizable, 0 unknown, 0 errors ("
    case $(tail -n 1 out.txt) in
    "$summary"*) ;;
    *) fail "dmr check $*: summary '$(tail -n 1 out.txt)', expected '$summary...'" ;;
    esac
    [ "$rc" -eq "$st" ] || { cat err.txt >&2; fail "dmr check $* exited $rc, not $st"; }
}

# The expected verdicts, from the directory layout.
verdicts linearizable "$KN"/cas-register/good/*.edn > cas-good.want
verdicts "NOT linearizable" "$KN"/cas-register/bad/*.edn > cas-bad.want
[ "$(wc -l < cas-good.want)" -eq 113 ] || fail "expected 113 good cas-register histories"
[ "$(wc -l < cas-bad.want)" -eq 7 ] || fail "expected 7 bad cas-register histories"
cat cas-good.want cas-bad.want > cas-all.want
MULTI=$KN/multi-register/good/multi-register.edn
verdicts linearizable "$MULTI" > multi.want
MUTEX=$KN/mutex/bad/etcd.edn
verdicts "NOT linearizable" "$MUTEX" > mutex.want
{
    verdicts "NOT linearizable" "$ETCD/etcd_000.log" "$ETCD/etcd_057.log"
    verdicts linearizable "$ETCD/etcd_002.log" "$ETCD/etcd_007.log"
} > etcd-all.want
verdicts linearizable "$ETCD/etcd_002.log" "$ETCD/etcd_007.log" > etcd-good.want
verdicts linearizable "$KV"/*-ok.txt > kv-good.want
verdicts "NOT linearizable" "$KV"/*-bad.txt > kv-bad.want
[ "$(wc -l < kv-good.want)" -eq 3 ] || fail "expected 3 -ok porcupine kv histories"
[ "$(wc -l < kv-bad.want)" -eq 3 ] ||
    fail "expected 3 -bad porcupine kv histories"
cat kv-good.want kv-bad.want > kv-all.want

# all_checks [--local]: every shared history, with the exit status each
# group should give. $KVOPT (split into words): options for the kv runs.
all_checks() {
    check_run 0 cas-good.want "$@" --model cas-register "$KN"/cas-register/good/*.edn
    check_run 1 cas-bad.want "$@" --model cas-register "$KN"/cas-register/bad/*.edn
    check_run 1 cas-all.want "$@" --model cas-register \
        "$KN"/cas-register/good/*.edn "$KN"/cas-register/bad/*.edn
    # Its header comment: registers start at 0.
    check_run 0 multi.want "$@" --model multi-register --init '{:x 0 :y 0}' "$MULTI"
    check_run 1 mutex.want "$@" --model mutex "$MUTEX"
    check_run 1 etcd-all.want "$@" --model cas-register "$ETCD"/etcd_000.log \
        "$ETCD"/etcd_002.log "$ETCD"/etcd_007.log "$ETCD"/etcd_057.log
    check_run 0 etcd-good.want "$@" --model cas-register "$ETCD"/etcd_002.log \
        "$ETCD"/etcd_007.log
    check_run 0 kv-good.want "$@" $KVOPT --model kv "$KV"/*-ok.txt
    check_run 1 kv-all.want "$@" $KVOPT --model kv "$KV"/*-ok.txt "$KV"/*-bad.txt
}

# json_check [--local]: --json on etcd_000, one object naming the file.
json_check() {
    "$DMR" check "$@" --json --model cas-register "$ETCD/etcd_000.log" \
        > j.txt 2> err.txt && { cat err.txt >&2; fail "--json etcd_000 exited 0"; }
    [ "$(wc -l < j.txt)" -eq 1 ] || fail "--json: not one line for one file"
    grep -q '"verdict":"not linearizable"' j.txt ||
        fail "--json etcd_000: no \"verdict\":\"not linearizable\""
    grep -q "^{\"file\":\"$ETCD/etcd_000.log\"" j.txt ||
        fail "--json etcd_000: does not name the file"
}

# ---- here, in this process
KVOPT=
all_checks --local
json_check --local

# An unknown part must not hide a violation: with little memory some of
# c50-bad's parts give up (unknown), others are violations; the file is
# NOT linearizable and the unknown parts show in --json.
set +e
"$DMR" check --local --all-parts --max-mb 2 --json --model kv "$KV/c50-bad.txt" > j.txt
rc=$?; set -e
[ "$rc" -eq 1 ] || fail "c50-bad with --max-mb 2 exited $rc, not 1"
grep -q '^{"file":"[^"]*","verdict":"not linearizable"' j.txt ||
    fail "c50-bad with --max-mb 2 is not NOT linearizable"
grep -q '"verdict":"unknown"' j.txt || fail "c50-bad with --max-mb 2: no unknown part"
grep -q '"verdict":"violation"' j.txt || fail "c50-bad with --max-mb 2: no violation"

# --html: one self-contained page per violating history.
"$DMR" check --local --model cas-register --html html "$KN"/cas-register/bad \
    > out.txt 2> err.txt && fail "--html on the bad histories exited 0"
ls html > pages.txt
for f in "$KN"/cas-register/bad/*.edn; do echo "$(basename "$f").html"; done |
    sort > want-pages.txt
same pages.txt want-pages.txt "the --html pages"
for p in html/*.html; do
    grep -q process "$p" || fail "$p does not mention a process"
    [ "$(grep -c 'src="http' "$p" || true)" -eq 0 ] || fail "$p loads from the web"
    ! grep -qi -e 'href="https\{0,1\}:' -e '<link' -e '@import' -e '<script src' "$p" ||
        fail "$p is not self-contained"
done
# Two violating files of one name in different directories: two pages.
mkdir -p da db
cp "$ETCD/etcd_000.log" da/x.log
cp "$ETCD/etcd_057.log" db/x.log
"$DMR" check --local --model cas-register --html html-two da/x.log db/x.log \
    > out.txt 2> err.txt && fail "--html on two bad files exited 0"
[ "$(ls html-two | tr '\n' ' ')" = "x.log-2.html x.log.html " ] ||
    fail "pages for two files named x.log: $(ls html-two)"
check_run 0 cas-good.want --local --model cas-register --html html-good \
    "$KN"/cas-register/good/*.edn
[ -z "$(ls html-good 2>/dev/null)" ] || fail "--html drew a linearizable history"

# ---- on a cluster
cluster_up 2
# The exhaustive search of some of c50-bad's parts takes minutes: they give
# up after 3 s (unknown) but the others are violations.
KVOPT="--timeout 3"
all_checks
json_check

# From the chunk store: the files are named dmr:/h/...
"$DMR" fs put "$ETCD/etcd_000.log" dmr:/h/etcd_000.log > /dev/null || fail "fs put etcd_000"
"$DMR" fs put "$ETCD/etcd_007.log" dmr:/h/etcd_007.log > /dev/null || fail "fs put etcd_007"
printf '%s\n' "dmr:/h/etcd_000.log: NOT linearizable" \
    "dmr:/h/etcd_007.log: linearizable" > store.want
check_run 1 store.want --model cas-register dmr:/h
grep -q '^dmr:/h/etcd_000.log: NOT linearizable$' out.txt || fail "dmr:/h names"
tail -n 1 store.want > store-good.want
check_run 0 store-good.want --model cas-register dmr:/h/etcd_007.log
