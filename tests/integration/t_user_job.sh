# A job built outside the tree, as the README shows, is shipped by the
# master to workers that have never seen it, and gives the right answer.
. "$(dirname "$0")/lib.sh"
cc -std=c11 -O2 -shared -fPIC -I "$REPO/jobs" -o linelengths.so \
    "$REPO/examples/linelengths.c" || fail "building the example job"
awk 'BEGIN {for (i = 0; i < 5000; i++) {
        n = (i * 37) % 160; s = ""; for (k = 0; k < n; k++) s = s "x"; print s}}' \
    > lines.txt
cluster_up 2
"$DMR" submit ./linelengths.so --input lines.txt --output out -R 2 -q ||
    fail "submit user job"
awk '{ if (length($0) > 80) l++; else s++ } END {print "long\t" l; print "short\t" s}' \
    lines.txt | sort > want
job_output out > got
same got want "linelengths output"
ls .dmr/worker-*/cache/*.so > /dev/null 2>&1 || fail "no worker cached the object"
