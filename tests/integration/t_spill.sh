# Map-side spills, reduce-side merge passes and parallel fetches. With
# -D sort_mb=1 every map task's buffer fills many
# times, each fill is sorted (and combined) into a spill run, and the spills
# are merged into the one map output; the job's output is the same as
# without spills and as the reference, for a job with a combiner
# (wordcount), one whose combiner removes duplicates (invertedindex) and
# one without (grep).
. "$(dirname "$0")/lib.sh"
mkdir corpus
"$GENTEXT" --bytes 12000000 --seed 11 --files 3 --dir corpus --vocab 50000 ||
    fail "gentext"
ref_wordcount corpus/* > want
cluster_up 2
# counter NAME JOB: the value of a counter in dmr status.
counter() { "$DMR" status "$2" | awk -v n="$1" '$1 == n {print $2}'; }
"$DMR" submit wordcount --input corpus --output wc -R 3 -D split_mb=4 \
    -D sort_mb=1 -q || fail "wordcount with sort_mb=1"
check_parts wc 3
job_output wc > got
same got want "wordcount with spills"
maps=$("$DMR" status 1 | awk '/^maps/ {split($2, a, "/"); print a[2]}')
spills=$(counter map_spills 1)
[ "${spills:-0}" -ge $((3 * maps)) ] ||
    fail "$spills spills for $maps maps: the buffer did not fill"
# The combiner ran on every spill and again on their merge.
[ "$(counter combine_input_records 1)" -gt "$(counter map_output_records 1)" ] ||
    fail "the combiner did not run again over merged spills"
attempts_exactly_once 1
# Without spills: the same output.
"$DMR" submit wordcount --input corpus --output wc0 -R 3 -D split_mb=4 -q ||
    fail "wordcount"
n=$(counter map_spills 2)
[ "${n:-0}" -eq 0 ] || fail "$n spills with the default sort_mb"
job_output wc0 > got0
same got0 want "wordcount without spills"
for job in invertedindex grep; do
    set -- -D split_mb=4
    [ "$job" = grep ] && set -- "$@" -D 'pattern=[Tt]h[aeiou]'
    "$DMR" submit "$job" --input corpus --output "$job-1" -R 2 "$@" \
        -D sort_mb=1 -q || fail "$job with sort_mb=1"
    "$DMR" submit "$job" --input corpus --output "$job-100" -R 2 "$@" -q ||
        fail "$job"
    job_output "$job-1" > a
    job_output "$job-100" > b
    [ -s b ] || fail "$job wrote nothing"
    same a b "$job with and without spills"
done
# Reduce side: with -D reduce_mb=1 a reducer reads at most 4 map outputs
# at once, so 12 maps are merged in passes through intermediate runs.
"$DMR" submit wordcount --input corpus --output wc-r -R 1 -D split_mb=1 \
    -D reduce_mb=1 -q || fail "wordcount with reduce_mb=1"
job_output wc-r > got-r
same got-r want "wordcount merged in passes"
runs=$(counter reduce_merge_runs 7)
[ "${runs:-0}" -ge 2 ] || fail "$runs intermediate merge runs with reduce_mb=1"

# One fetch at a time per worker, or many: the same output.
for f in 1 16; do
    "$DMR" submit wordcount --input corpus --output "wc-f$f" -R 2 \
        -D split_mb=1 -D fetchers=$f -q || fail "wordcount with fetchers=$f"
    job_output "wc-f$f" > "got-f$f"
    same "got-f$f" want "wordcount with fetchers=$f"
done
"$DMR" submit wordcount --input corpus --output bad -D fetchers=0 -q \
    2> err.txt && fail "fetchers=0 accepted"

# A bad sort_mb is refused at submit.
"$DMR" submit wordcount --input corpus --output bad -D sort_mb=0 -q \
    2> err.txt && fail "sort_mb=0 accepted"
grep -q "sort_mb=0" err.txt || fail "no message for sort_mb=0: $(cat err.txt)"
