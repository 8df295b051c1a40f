# wordcount over the shared Gutenberg corpus on a 3-worker cluster, R = 4,
# against the tr|sort|uniq reference; every task runs exactly once.
. "$(dirname "$0")/lib.sh"
[ -d "$DATA/gutenberg" ] || skip "no shared data at $DATA/gutenberg"
cluster_up 3
"$DMR" submit wordcount --input "$DATA/gutenberg" --output out -R 4 -q ||
    fail "submit wordcount"
check_parts out 4
job_output out > got
ref_wordcount "$DATA"/gutenberg/pg-*.txt > want
same got want "wordcount output"
[ "$(wc -l < got)" -eq 22107 ] || fail "expected 22107 distinct words"
[ "$(awk -F'\t' '{s += $2} END {print s}' got)" -eq 623948 ] ||
    fail "expected 623948 words in total"
attempts_exactly_once 1
