# dmr sort (TeraSort): records from dmr-gensort sorted into a total order
# over 4 parts by a sampled range partitioner, byte-identical to GNU sort's
# order of the lines; --validate accepts it and rejects a damaged part; the
# job without cut points (even cuts), the store (dmr:/) and a bad record.
. "$(dirname "$0")/lib.sh"
GENSORT=$DMR_BIN/dmr-gensort
"$GENSORT" --records 300000 --seed 3 --files 3 --dir in || fail "gensort"
cat in/* | LC_ALL=C sort > want
cluster_up 2
"$DMR" sort --input in --output out -R 4 --validate -q -D split_mb=8 \
    > validate.txt || { cat validate.txt >&2; fail "dmr sort --validate"; }
grep -q ': valid$' validate.txt || fail "not valid: $(cat validate.txt)"
[ "$(ls out | grep -c '^part-')" -eq 4 ] || fail "$(ls out)"
cat out/part-* > got
same got want "sorted records"
# The sampled cut points balance the parts: none under a tenth of the data.
for p in out/part-*; do
    [ "$(wc -c < "$p")" -gt 3000000 ] || fail "$p holds $(wc -c < "$p") bytes"
done
# A file named twice is one input, as for dmr submit.
"$DMR" sort --input in in/part-00001.txt --output out --validate-only \
    > v1.txt || fail "an input named twice: $(cat v1.txt)"
# A damaged part: out of order, and not the input's records.
printf 'x' | dd of=out/part-00002 bs=1 seek=700 conv=notrunc 2> /dev/null
"$DMR" sort --input in --output out --validate-only > v2.txt &&
    fail "a damaged output validated"
grep -q "NOT valid" v2.txt || fail "$(cat v2.txt)"
grep -q "part-00002: the record at byte 800" v2.txt || fail "$(cat v2.txt)"
# Without cut points the job cuts evenly: still a total order.
"$DMR" submit sort --input in --output even -R 3 -q || fail "submit sort"
cat even/part-* > got-even
same got-even want "sorted with even cuts"
# Through the chunk store.
"$DMR" fs put in/part-00000.txt dmr:/s/in.txt > /dev/null || fail "fs put"
"$DMR" sort --input dmr:/s/in.txt --output dmr:/s/out -R 2 --validate -q \
    > v3.txt || fail "dmr sort in the store: $(cat v3.txt)"
grep -q ': valid$' v3.txt || fail "$(cat v3.txt)"
# A record of the wrong length fails the job, naming the problem.
{ head -n 5 in/part-00000.txt; echo short; } > bad.txt
"$DMR" sort --input bad.txt --output bad -R 2 -q 2> err.txt &&
    fail "a short record was sorted"
grep -q "not 100 bytes" err.txt || fail "$(cat err.txt)"
