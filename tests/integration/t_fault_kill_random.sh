# Killing one of three workers with SIGKILL at any moment -- before the job
# starts, during the map phase, right after it, during the shuffle and
# reduce, and at seeded random times -- gives output identical to the
# reference. The killed worker is started again between runs.
. "$(dirname "$0")/lib.sh"
"$GENTEXT" --bytes 12m --seed 5 --files 4 --dir in > /dev/null
ref_wordcount in/* > want
cluster_up 3 --heartbeat-ms 100 --dead-after-ms 800
EP=$(cat .dmr/master.endpoint)
RUNS=${DMR_FAULT_RUNS:-8}

# maps_done JOB / reduces_done JOB / state JOB, from dmr status.
field() { "$DMR" status "$2" --master "$EP" 2>/dev/null |
          awk -v f="$1" '$1 == f {split($2, a, "/"); print a[1]; exit}'; }
jstate() { "$DMR" status "$1" --master "$EP" 2>/dev/null | awk 'NR == 1 {print $4}'; }

# wait_for JOB WHAT: returns when the job reached WHAT (or ended).
wait_for() {
    i=0
    while [ $i -lt 600 ]; do
        s=$(jstate "$1"); [ "$s" = running ] || [ -z "$s" ] || return 0
        case $2 in
        map) [ "$(field maps "$1")" -ge 1 ] 2>/dev/null && return 0 ;;
        mapsdone) m=$(field maps "$1")
                  n=$("$DMR" status "$1" --master "$EP" | awk '$1=="maps" {split($2,a,"/"); print a[2]}')
                  [ "$m" = "$n" ] && return 0 ;;
        reduce) "$DMR" status "$1" --master "$EP" |
                    awk '$1 == "reduce" && $7 == "running" {f=1} END {exit !f}' && return 0 ;;
        esac
        sleep 0.05; i=$((i + 1))
    done
}

job=0
run() { # run WHEN: submit, kill a random worker at WHEN, check the output
    job=$((job + 1))
    rm -rf out
    if [ "$1" = before ]; then
        victim=$("$DMR" cluster kill --state .dmr 2>/dev/null)
    fi
    "$DMR" submit wordcount --input in --output out -R 3 -D split_mb=1 \
        --master "$EP" -q > submit.log 2>&1 &
    sp=$!
    case $1 in
    before) ;;
    map|mapsdone|reduce) wait_for "$job" "$1"
                         victim=$("$DMR" cluster kill --state .dmr 2>/dev/null) ;;
    *) sleep "$1"; victim=$("$DMR" cluster kill --state .dmr 2>/dev/null) ;;
    esac
    wait $sp || { cat submit.log >&2; fail "job $job (kill at $1) failed"; }
    job_output out > got
    same got want "output with $victim killed at $1"
    check_parts out 3
    echo "kill at $1 ($victim): output identical"
    "$DMR" cluster start "$victim" --state .dmr > /dev/null 2>&1 ||
        fail "cannot restart $victim"
    i=0
    until [ "$("$DMR" workers --master "$EP" | grep -c ' alive ')" -ge 3 ]; do
        i=$((i + 1)); [ $i -lt 100 ] || fail "$victim did not re-register"
        sleep 0.1
    done
}

run before
run map
run mapsdone
run reduce
seed=1
while [ $seed -le "$RUNS" ]; do
    at=$(awk -v s="$seed" 'BEGIN {srand(s); printf "%.2f", rand() * 2.5}')
    run "$at"
    seed=$((seed + 1))
done
