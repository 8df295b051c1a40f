# Garbage on the master's and a worker's sockets is logged and dropped;
# both keep serving, and a job afterwards still gives the right answer.
. "$(dirname "$0")/lib.sh"
cluster_up 2
ep=$(cat .dmr/master.endpoint)
"$DMR_TESTTOOLS/badpeer" "$ep" || fail "badpeer against the master"
wep=$("$DMR" workers | awk 'NR == 2 {print $2}')
"$DMR_TESTTOOLS/badpeer" "$wep" || fail "badpeer against a worker"
grep -q "dropped a bad message" .dmr/master.log || fail "master did not log"
"$DMR" workers | grep -c alive | grep -q 2 || fail "workers not alive"
printf 'b a b\nc b\n' > in.txt
"$DMR" submit wordcount --input in.txt --output out -q || fail "job after garbage"
printf 'a\t1\nb\t3\nc\t1\n' > want
job_output out > got
same got want "output after garbage"
