# Clear errors, and the right exit status, for wrong use.
. "$(dirname "$0")/lib.sh"
expect() { # expect STATUS TEXT -- command...
    st=$1; text=$2; shift 3
    set +e; "$@" > out.txt 2> err.txt; rc=$?; set -e
    [ "$rc" -eq "$st" ] || { cat err.txt >&2; fail "'$*' exited $rc, not $st"; }
    grep -q -- "$text" err.txt || { cat err.txt >&2; fail "'$*' did not say '$text'"; }
}
echo hello > in.txt
# Before any cluster exists.
expect 1 "no master given" -- "$DMR" jobs
expect 1 "no answer from the master" -- "$DMR" jobs --master tcp://127.0.0.1:9
expect 2 "unknown command" -- "$DMR" frobnicate
expect 2 "unknown option --bogus" -- "$DMR" submit wordcount --bogus
cluster_up 2
expect 2 "input path does not exist: nope" -- \
    "$DMR" submit wordcount --input nope --output o
expect 2 "unknown job 'nosuchjob'" -- \
    "$DMR" submit nosuchjob --input in.txt --output o
expect 2 "output DIR is required" -- "$DMR" submit wordcount --input in.txt
expect 2 "takes KEY=VALUE" -- \
    "$DMR" submit wordcount --input in.txt --output o -D novalue
expect 2 "integer from 1 to 100000" -- \
    "$DMR" submit wordcount --input in.txt --output o -R 0
expect 1 "split_mb" -- \
    "$DMR" submit wordcount --input in.txt --output o -D split_mb=x
expect 1 "invalid pattern" -- \
    "$DMR" submit grep --input in.txt --output g -D 'pattern=(' -q
expect 1 "no such job: 99" -- "$DMR" status 99
# A finished job's output is protected, and --overwrite replaces it.
"$DMR" submit wordcount --input in.txt --output done -q || fail "first run"
expect 2 "not empty" -- "$DMR" submit wordcount --input in.txt --output done
"$DMR" submit wordcount --input in.txt --output done --overwrite -q ||
    fail "--overwrite"
mkdir mine; echo precious > mine/notes
expect 2 "not job output" -- \
    "$DMR" submit wordcount --input in.txt --output mine --overwrite
[ "$(cat mine/notes)" = precious ] || fail "a user file was touched"
# help for every command
for c in master worker cluster submit status jobs workers; do
    "$DMR" help "$c" | grep -q "usage: dmr $c" || fail "dmr help $c"
    "$DMR" "$c" --help | grep -q -- "--help" || fail "dmr $c --help"
done
