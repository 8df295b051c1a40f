# invertedindex: word -> sorted list of the files it appears in.
. "$(dirname "$0")/lib.sh"
mkdir corpus
"$GENTEXT" --bytes 2000000 --seed 5 --files 6 --dir corpus --vocab 20000 ||
    fail "gentext"
cluster_up 3
"$DMR" submit invertedindex --input corpus --output out -R 4 -D split_mb=1 -q ||
    fail "submit invertedindex"
check_parts out 4
job_output out > got
for f in corpus/*; do
    tr -cs 'A-Za-z' '\n' < "$f" | grep . | sort -u | sed "s|\$|	$f|"
done | sort -t '	' -k1,1 -k2,2 |
    awk -F'\t' '$1 == w {l = l "," $2; next}
                {if (NR > 1) print w "\t" l; w = $1; l = $2}
                END {if (NR > 0) print w "\t" l}' | sort > want
same got want "inverted index"
