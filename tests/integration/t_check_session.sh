# dmr check --model session and --model staleness: session guarantees hold
# on stores that keep them and are named when broken; staleness figures on
# a hand-computed history; bad input is an error with file and line.
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

# --- list-append histories from dmr-gentxn's stores
for iso in strict-serializable snapshot-isolation read-committed; do
    "$GENTXN" --txns 4000 --seed 5 --isolation $iso > $iso.edn
    run 0 "$DMR" check --model session $iso.edn
    says "$iso.edn: session guarantees hold"
done
"$GENTXN" --txns 4000 --seed 5 --isolation broken > broken.edn
run 1 "$DMR" check --model session broken.edn
says "broken.edn: NOT read-your-writes"
run 1 "$DMR" check --model session --json broken.edn
says '"valid":false'
says '"read-your-writes"'

# --- a register: p1 reads 1, 2, then 1 again, after both writes completed
cat > reg.edn <<'EOR'
{:process 0, :type :invoke, :f :write, :value 1, :time 10}
{:process 0, :type :ok, :f :write, :value 1, :time 20}
{:process 0, :type :invoke, :f :write, :value 2, :time 30}
{:process 0, :type :ok, :f :write, :value 2, :time 40}
{:process 1, :type :invoke, :f :read, :value nil, :time 100}
{:process 1, :type :ok, :f :read, :value 1, :time 110}
{:process 1, :type :invoke, :f :read, :value nil, :time 120}
{:process 1, :type :ok, :f :read, :value 2, :time 130}
{:process 1, :type :invoke, :f :read, :value nil, :time 140}
{:process 1, :type :ok, :f :read, :value 1, :time 150}
EOR
run 1 "$DMR" check --model session reg.edn
says "reg.edn: NOT monotonic-reads"
says "read 1 at line 6, then read 2 at line 8, then read 1 at line 10"
# Each read of 1 is one version behind write 2, completed at 40: 60 and
# 100 time units stale; the read of 2 is fresh.
run 0 "$DMR" check --model staleness reg.edn
says "staleness of 3 reads"
says "fresh: 1 (33.3%)"
says "k-staleness (versions behind): max 1, p50 1"
says "t-staleness (time units): max 100, p50 60"
# --html plots the histograms.
run 0 "$DMR" check --model staleness --html pages reg.edn
grep -q "<svg " pages/reg.edn.html || fail "no staleness plot"
grep -q "versions behind 1-1: 2 reads" pages/reg.edn.html || fail "the plot lacks k=1: 2 reads"
# Without the third read, session guarantees hold.
head -n 8 reg.edn > reg8.edn
run 0 "$DMR" check --model session reg8.edn

# --- Porcupine's kv logs, when the shared data is here
P=$DATA/histories/porcupine-kv
if [ -f "$P/c01-bad.txt" ]; then
    run 1 "$DMR" check --model session "$P/c01-bad.txt"
    says "NOT read-your-writes"
    run 0 "$DMR" check --model session "$P/c01-ok.txt" "$P/c10-ok.txt"
    says "2 files: 2 hold, 0 NOT, 0 errors"
    run 0 "$DMR" check --model staleness --json "$P/c50-ok.txt"
    says '"reads":'
fi

# --- bad input
printf '%s\n' '{:process 0, :type :invoke, :f :write, :value 1}' \
    '{:process 0, :type :ok, :f :wri' > cut.edn
run 2 "$DMR" check --model session cut.edn
says "cut.edn:2: "
run 2 "$DMR" check --model staleness cut.edn
says "cut.edn:2: "
run 2 "$DMR" check --model session reg.edn cut.edn
says "2 files: 0 hold, 1 NOT, 1 error"
exit 0
