# grep: the matching lines with file and line number, against grep -nE.
. "$(dirname "$0")/lib.sh"
mkdir corpus
"$GENTEXT" --bytes 3000000 --seed 11 --files 3 --dir corpus || fail "gentext"
cluster_up 2
check() {
    pattern=$1; shift
    "$DMR" submit grep -D "pattern=$pattern" --output "out" --overwrite -R 3 \
        -D split_mb=1 -q --input "$@" || fail "submit grep '$pattern'"
    check_parts out 3 custom
    # Ours: FILE:LINE<TAB>TEXT. grep -n with several files: FILE:LINE:TEXT.
    cat out/part-* | sed 's/\t/:/' | sort > got
    grep -nE -H "$pattern" "$@" | sort > want
    [ -s want ] || fail "pattern '$pattern' matches nothing; a useless test"
    same got want "grep '$pattern'"
}
check '^Sla sla|[a-z]+ouck it|DOS [a-z]{6}\.$' corpus/*
if [ -d "$DATA/gutenberg" ]; then
    check 'Sherlock [A-Z][a-z]+|whale' "$DATA"/gutenberg/pg-*.txt
fi
# Within one part, lines of a file come in line-number order.
for p in out/part-*; do
    awk -F'\t' '{split($1, a, ":"); f = a[1]; n = a[2] + 0
                 if (f == pf && n <= pn) exit 1; pf = f; pn = n}' "$p" ||
        fail "$p is not in file and line order"
done
