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

# A job that declares DMR_JOB_COMBINE_SUM is counted by dmr itself on the
# map side: counts of more than one digit add up, and a value that is not a
# count fails the job with an error naming the key.
cat > sumjob.c <<'JOB'
#include <string.h>
#include "dmr_job.h"
/* Each line "KEY N" counts N for KEY. */
static int s_map(dmr_ctx *ctx, const dmr_record *in)
{
    const char *sp = memchr(in->value.ptr, ' ', in->value.len);
    if (!sp)
        return 0;
    dmr_slice k = {in->value.ptr, (size_t)(sp - in->value.ptr)};
    dmr_slice v = {sp + 1, in->value.len - (size_t)(sp + 1 - in->value.ptr)};
    return dmr_emit(ctx, k, v);
}
static int s_sum(dmr_ctx *ctx, dmr_slice key, dmr_values *vals)
{
    unsigned long long t = 0;
    dmr_slice v;
    while (dmr_next(ctx, vals, &v)) {
        unsigned long long n = 0;
        for (size_t i = 0; i < v.len; i++) {
            if (v.ptr[i] < '0' || v.ptr[i] > '9') {
                dmr_fail(ctx, "not a count");
                return -1;
            }
            n = n * 10 + (unsigned)(v.ptr[i] - '0');
        }
        t += n;
    }
    char d[24];
    size_t i = sizeof d;
    do
        d[--i] = (char)('0' + t % 10);
    while ((t /= 10) > 0);
    return dmr_emit(ctx, key, (dmr_slice){d + i, sizeof d - i});
}
#ifdef BADPART /* keys from 'z' on go to a partition that does not exist */
static uint32_t s_part(dmr_slice key, uint32_t n)
{
    return key.len && key.ptr[0] >= 'z' ? n : 0;
}
#define PART .partition = s_part,
#else
#define PART
#endif
DMR_JOB_DEFINE(.name = "sumjob", .flags = FLAGS, .map = s_map,
               .combine = s_sum, .reduce = s_sum, PART);
JOB
cc -std=c11 -O2 -shared -fPIC -I "$REPO/jobs" -DFLAGS=DMR_JOB_COMBINE_SUM \
    -o sumjob.so sumjob.c || fail "building the summing job"
awk 'BEGIN {for (i = 0; i < 20000; i++) print "k" (i * 7919) % 301, (i % 13) * 97}' \
    > counts.txt
"$DMR" submit ./sumjob.so --input counts.txt --output sums -R 3 -q ||
    fail "submit the summing job"
awk '{ s[$1] += $2 } END { for (k in s) print k "\t" s[k] }' counts.txt |
    sort > want
job_output sums > got
same got want "summing job output"
printf 'a 1\nb 2\nbad x7\n' > badcount.txt
if "$DMR" submit ./sumjob.so --input badcount.txt --output badsums -q \
    > submit.out 2>&1; then
    fail "a job that emits a non-count under DMR_JOB_COMBINE_SUM succeeded"
fi
grep -q 'map emitted "x7" for key "bad"' submit.out ||
    fail "the error does not name the value and key: $(cat submit.out)"
# A partition function that answers out of range fails the task with what
# it answered, whether dmr sums the counts or the job's combiner does.
printf 'a 1\nzz 2\nb 3\n' > zz.txt
for flags in DMR_JOB_COMBINE_SUM 0; do
    cc -std=c11 -O2 -shared -fPIC -I "$REPO/jobs" -DFLAGS=$flags -DBADPART \
        -o badpart.so sumjob.c || fail "building the bad partitioner"
    rm -rf badpart
    if "$DMR" submit ./badpart.so --input zz.txt --output badpart -R 3 -q \
        > submit.out 2>&1; then
        fail "flags $flags: a partition out of range went unnoticed"
    fi
    grep -q 'partition function returned 3 for 3 reduce tasks' submit.out ||
        fail "flags $flags: the error does not say what: $(cat submit.out)"
done
