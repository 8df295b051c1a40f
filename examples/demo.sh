#!/bin/sh
# demo.sh -- what `make demo` and `make demo-kill` run.
#
#   sh examples/demo.sh        a local cluster of 3 workers; wordcount over a
#                              corpus generated here; the 10 most frequent
#                              words; then the same job again with a worker
#                              killed halfway through the map phase, and a
#                              comparison of the two outputs
#   sh examples/demo.sh kill   only the second part
set -eu
cd "$(dirname "$0")/.."
DMR=./bin/dmr
STATE=./.dmr-demo
WORK=./build/demo
ACT=${1:-all}
rm -rf "$WORK"
mkdir -p "$WORK/corpus"
echo "== generating a 32 MiB corpus (Zipf-distributed words, 8 files)"
./bin/dmr-gentext --bytes 33554432 --seed 1 --files 8 --dir "$WORK/corpus"
$DMR cluster down --state "$STATE" >/dev/null 2>&1 || true
echo "== starting a local cluster: 1 master, 3 workers"
$DMR cluster up -n 3 --state "$STATE" >/dev/null
trap '$DMR cluster down --state "$STATE" >/dev/null 2>&1 || true' EXIT INT TERM
export DMR_MASTER="$(cat "$STATE/master.endpoint")"
$DMR workers
echo "== dmr submit wordcount --input $WORK/corpus --output $WORK/out -R 4 -D split_mb=2"
$DMR submit wordcount --input "$WORK/corpus" --output "$WORK/out" -R 4 -D split_mb=2
if [ "$ACT" = all ]; then
    echo "== the 10 most frequent words"
    cat "$WORK"/out/part-* | sort -t "$(printf '\t')" -k2,2nr -k1,1 | head -n 10
fi

echo "== the same job again; a worker is killed (SIGKILL) halfway through the maps"
$DMR submit wordcount --input "$WORK/corpus" --output "$WORK/out-kill" -R 4 \
    -D split_mb=2 &
SUBMIT=$!
job=$($DMR jobs | awk 'NR > 1 {j = $1} END {print j}')
while :; do
    set -- $($DMR status "$job" | awk '$1 == "maps" {split($2, a, "/"); print a[1], a[2]}')
    [ "${1:-0}" -ge $(( ${2:-2} / 2 )) ] && break
    sleep 0.05
done
victim=$($DMR cluster kill --state "$STATE" 2>/dev/null)
echo "== killed $victim with $1 of $2 maps done"
wait $SUBMIT
echo "== comparing the two outputs"
cat "$WORK"/out/part-* | LC_ALL=C sort > "$WORK/a.txt"
cat "$WORK"/out-kill/part-* | LC_ALL=C sort > "$WORK/b.txt"
if cmp -s "$WORK/a.txt" "$WORK/b.txt"; then
    echo "identical: $(wc -l < "$WORK/a.txt") words, $(wc -c < "$WORK/a.txt") bytes, with and without the kill"
else
    echo "the outputs differ" >&2
    exit 1
fi
echo "== what the master recorded (dmr status $job, events)"
$DMR status "$job" | sed -n '/^events/,/^attempts/p' | sed '$d'
echo "== stopping the cluster"
