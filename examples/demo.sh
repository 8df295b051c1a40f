#!/bin/sh
# demo.sh -- what `make demo` runs: a local cluster of 3 workers, wordcount
# over a corpus generated here, the 10 most frequent words, and shutdown.
set -eu
cd "$(dirname "$0")/.."
DMR=./bin/dmr
STATE=./.dmr-demo
WORK=./build/demo
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
echo "== dmr submit wordcount --input $WORK/corpus --output $WORK/out -R 4 -D split_mb=4"
$DMR submit wordcount --input "$WORK/corpus" --output "$WORK/out" -R 4 -D split_mb=4
echo "== the 10 most frequent words"
cat "$WORK"/out/part-* | sort -t "$(printf '\t')" -k2,2nr -k1,1 | head -n 10
echo "== stopping the cluster"
