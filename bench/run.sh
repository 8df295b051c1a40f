#!/bin/sh
# run.sh -- what `make bench` runs: every benchmark bench/b_*.sh in turn,
# or only those named (`sh bench/run.sh detect` runs b_detect.sh; `detect`,
# `b_detect` and `b_detect.sh` are the same).
#
# Each benchmark prints its report, ending in a "---- RESULTS: NAME ----"
# block, and also writes it to bench/results/NAME.txt. A benchmark exits 0
# when it met its targets, 1 when it missed one or could not run; this
# script goes on with the next one either way, prints one line per
# benchmark at the end and exits 1 if any failed. Settings pass through the
# environment (BENCH_RUNS, BENCH_MB, ...; see the top of each b_*.sh).
cd "$(dirname "$0")" || exit 1

available() { ls b_*.sh 2>/dev/null | sed 's/^b_\(.*\)\.sh$/\1/'; }

if [ $# -eq 0 ]; then
    set -- $(available)
fi
for name in "$@"; do
    name=${name%.sh}
    name=${name#b_}
    [ -f "b_$name.sh" ] || {
        echo "bench: no benchmark '$name' (there are: $(available | tr '\n' ' '))" >&2
        exit 2
    }
done

summary=""
failed=0
for name in "$@"; do
    name=${name%.sh}
    name=${name#b_}
    echo "==== bench $name (b_$name.sh) ===="
    start=$(date +%s)
    sh "./b_$name.sh"
    rc=$?
    secs=$(($(date +%s) - start))
    case $rc in
    0) line="PASS  $name (${secs}s)" ;;
    *) line="FAIL  $name (${secs}s, exit $rc)"; failed=$((failed + 1)) ;;
    esac
    summary="$summary$line
"
    echo
done
printf '==== bench summary ====\n%s' "$summary"
echo "reports in ${BENCH_RESULTS:-$(pwd)/results}/"
[ "$failed" -eq 0 ]
