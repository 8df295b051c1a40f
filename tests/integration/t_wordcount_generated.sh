# wordcount over a generated corpus cut into many 1 MiB splits, with
# R = 1, 4 and 10, against the reference; every task runs exactly once.
. "$(dirname "$0")/lib.sh"
mkdir corpus
"$GENTEXT" --bytes 6000000 --seed 7 --files 5 --dir corpus ||
    fail "gentext"
ref_wordcount corpus/* > want
cluster_up 3
job=0
for r in 1 4 10; do
    "$DMR" submit wordcount --input corpus --output "out$r" -R "$r" \
        -D split_mb=1 -q || fail "submit R=$r"
    job=$((job + 1))
    check_parts "out$r" "$r"
    job_output "out$r" > "got$r"
    same "got$r" want "wordcount output with R=$r"
    attempts_exactly_once "$job"
done
# Maps ran in parallel on different workers.
"$DMR" status 3 | awk '$1 == "map" {print $4}' | sort -u > map_workers
[ "$(wc -l < map_workers)" -ge 2 ] || fail "maps all ran on one worker"
