#!/bin/sh
# b_fs.sh -- the chunk store's throughput (put and get against cp) and its
# re-replication time after a worker holding replicas is killed.
#
# Everything runs on this one machine: the master, the workers and the
# client talk over loopback, and the source file, the cp copy, the
# workers' chunk directories and the get output all live on the same
# filesystem (the one holding $TMPDIR, default /tmp; the report names the
# device). So "replication 3" here means three copies on ONE disk: it
# measures the store's software path and the disk's write bandwidth
# shared three ways, not a network.
#
# Data: BENCH_FS_MB MiB (default 1024) of /dev/urandom bytes (incompressible),
# made once and cached in $BENCH_CACHE/fs-random-<MB>m (default
# /tmp/dmr-bench-cache; never in the repository). Before anything starts,
# df must show room for 5 x BENCH_FS_MB in the working directory's
# filesystem (plus the data file itself if it is not cached yet), else the
# benchmark refuses to run.
#
# Page cache. Each timed step starts with `sync; echo 3 >
# /proc/sys/vm/drop_caches` (checked at the start with fincore: a file read
# into the cache must be gone after the drop), so every step reads its
# source from the disk. Each timed step is the command followed by
# `sync`, so every step ends with its output on the disk: cp + sync is the
# baseline; put's chunks are fsynced by the workers anyway; get's output
# is a plain local file like cp's (the report also gives get without the
# sync). When the caches cannot be dropped (not root), every step instead
# runs with its source warm (read once just before), and the report says
# so.
#
# Part 1 -- throughput. A local cluster of 3 workers
# (dmr cluster up -n 3). BENCH_RUNS rounds (default 3), each in the order
#   cp SRC COPY; sync                          (then rm COPY)
#   dmr fs put SRC dmr:/bench/r1 -R 1; sync
#   dmr fs get dmr:/bench/r1 OUT; sync         (then cmp SRC OUT; rm OUT)
#   dmr fs rm dmr:/bench/r1                    (wait until the replica files are gone)
#   the same three with -R 3 and dmr:/bench/r3
# After each put, `dmr fs stat` must show the right size, replication and
# replica count for every chunk and `dmr fs fsck` must say HEALTHY; each
# get is compared with the source byte for byte (outside the timing) and
# any difference fails the benchmark. The figures are medians over the
# rounds; MB/s = 10^6 bytes per second of FILE size (an R3 put writes
# three times that to the disk); ratios are throughput(put or get) /
# throughput(cp). For every step the report also gives the CPU seconds
# used by the client, the workers (with their copy processes) and the
# master, how busy the whole machine's CPUs were (/proc/stat: other
# processes count too; the benchmark stops nothing), and the bytes the
# disk read and wrote (/proc/diskstats; other activity shows up there
# too).
#
# Part 2 -- re-replication. BENCH_RUNS runs, each on a fresh cluster of 4
# workers (so every run starts from the layout of a freshly written file):
# the data is stored with -R 3 (--chunk BENCH_FS_CHUNK, default 64m) and
# checked; then a worker holding replicas (worker-1, -2, ... in turn) is
# killed with `kill -9`, and `dmr fs fsck` is polled every 200 ms until it
# reports HEALTHY again -- counting only answers asked for after the
# master has logged "N chunk replicas lost with wN" (until the master
# notices the death, fsck still says HEALTHY: it only knows what the
# master knows). Reported: kill -> healthy; the failure-detection part
# (kill -> "worker wN lost" in the master log); the copy part ("replicas
# lost" -> healthy) and the copy throughput (bytes of the replicas lost /
# copy part). The clusters run with DMR_LOG=debug so the master log also
# has when copies started and ended, and where they went. After each kill
# every replica of every chunk is compared with the source (cmp of the
# chunk file against its range of the source). Then the killed worker is
# started again, the run waits until the surplus replicas it brought back
# are deleted (every chunk exactly 3 replicas, 3 x chunks replica files on
# disk, fsck HEALTHY), and a second worker is killed and measured the same
# way: the "second failure", on the layout the first repair left.
#
# Both parts also watch the master log for workers declared lost that
# were not killed (a worker whose event loop is stuck cannot heartbeat),
# report each such event with the step it happened in, and wait until
# every worker is alive again before going on.
#
# No throughput target is set: the benchmark passes when every step ran
# and every byte checked out, and fails loudly otherwise.
#
# Environment: BENCH_FS_MB (1024), BENCH_RUNS (3), BENCH_FS_CHUNK (64m),
# BENCH_FS_HEAL_TIMEOUT_S (300), BENCH_FS_PARTS ("1 2": which parts run).
. "$(dirname "$0")/lib.sh"

MB=${BENCH_FS_MB:-1024}
RUNS=${BENCH_RUNS:-3}
CHUNK=${BENCH_FS_CHUNK:-64m}
HEAL_TIMEOUT=${BENCH_FS_HEAL_TIMEOUT_S:-300}
PARTS=${BENCH_FS_PARTS:-1 2}
BYTES=$((MB * 1048576))
CLK=$(getconf CLK_TCK)

report_header "chunk store: put/get throughput against cp, and re-replication after kill -9"
say "params   BENCH_FS_MB=$MB BENCH_RUNS=$RUNS BENCH_FS_CHUNK=$CHUNK BENCH_FS_HEAL_TIMEOUT_S=$HEAL_TIMEOUT BENCH_FS_PARTS=\"$PARTS\""

# ----------------------------------------------------------- the machine

DEV=$(df -P "$W" | awk 'NR == 2 { print $1 }')
FSTYPE=$(df -PT "$W" | awk 'NR == 2 { print $2 }')
DISK=$(basename "$DEV")
grep -q " $DISK " /proc/diskstats 2>/dev/null || DISK=""
say "disk     $W is on $DEV ($FSTYPE); the source, the cp copy, the chunk directories and the get output are all there"
say "         master, workers and client on this machine, over loopback (127.0.0.1): no network, one disk"

# free_mib PATH: MiB available in PATH's filesystem.
free_mib() { df -Pk "$1" | awk 'NR == 2 { printf "%d\n", $4 / 1024 }'; }

KEY=fs-random-${MB}m
SRC=$CACHE/$KEY/data
mkdir -p "$CACHE"
need=$((5 * MB))
have=$(free_mib "$W")
if [ ! -f "$CACHE/$KEY/complete" ]; then
    if [ "$(stat -c %d "$CACHE")" = "$(stat -c %d "$W")" ]; then
        need=$((need + MB))
    elif [ "$(free_mib "$CACHE")" -lt "$MB" ]; then
        fail "not enough free space for the $MB MiB data file in $CACHE: $(free_mib "$CACHE") MiB available (lower BENCH_FS_MB or set BENCH_CACHE)"
    fi
fi
[ "$have" -ge "$need" ] ||
    fail "not enough free space: this benchmark needs ~$need MiB (5 x BENCH_FS_MB = 5 x $MB MiB, plus the data file if not cached yet) in the filesystem of $W ($DEV), which has $have MiB available; lower BENCH_FS_MB or point TMPDIR elsewhere"
say "space    $have MiB available in $W's filesystem; need ~$need MiB"

if [ -f "$CACHE/$KEY/complete" ]; then
    note "using cached data $SRC"
else
    CACHE_TMP=$(mktemp -d "$CACHE/.$KEY.XXXXXX")
    note "generating $MB MiB of random data in $CACHE/$KEY"
    head -c "$BYTES" /dev/urandom > "$CACHE_TMP/data" || fail "cannot write $CACHE_TMP/data"
    sync
    touch "$CACHE_TMP/complete"
    mv -T "$CACHE_TMP" "$CACHE/$KEY" 2>/dev/null || rm -rf "$CACHE_TMP"
    CACHE_TMP=""
    [ -f "$CACHE/$KEY/complete" ] || fail "cannot cache the data in $CACHE/$KEY"
fi
[ "$(stat -c %s "$SRC")" -eq "$BYTES" ] || fail "$SRC is not $BYTES bytes; remove $CACHE/$KEY"
say "data     $SRC: $MB MiB from /dev/urandom (cksum $(cksum < "$SRC" | cut -d' ' -f1))"

# Can we drop the page cache? Read a file into it, drop, and check with
# fincore (when there is one) that it is gone.
DROP=0
probe=$W/drop-probe
head -c 4194304 /dev/zero > "$probe"
sync
cat "$probe" > /dev/null
if (echo 3 > /proc/sys/vm/drop_caches) 2>/dev/null; then
    DROP=1
    if command -v fincore >/dev/null 2>&1; then
        res=$(fincore -b -n -o RES "$probe" 2>/dev/null | tr -d ' ' || true)
        [ "$res" = 0 ] || DROP=0
    fi
fi
rm -f "$probe"
if [ "$DROP" = 1 ]; then
    say "cache    'sync; echo 3 > /proc/sys/vm/drop_caches' works here (checked with fincore): dropped before every timed step"
else
    say "cache    cannot drop the page cache here (not root?): every timed step runs with its SOURCE WARM in the page cache instead"
fi
say "load     other processes on this machine are not stopped by the benchmark; load average now $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- probes
# (cpu_of and self_cpu are in lib.sh)

# disk_sectors: "read written" sectors of the disk so far.
disk_sectors() {
    if [ -n "$DISK" ]; then
        awk -v d="$DISK" '$3 == d { print $6, $10 }' /proc/diskstats
    else
        echo "0 0"
    fi
}

# cpu_jiffies: "busy total" jiffies of the whole machine (all CPUs).
cpu_jiffies() {
    awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}

worker_pids() { awk '$1 ~ /^worker-/ { print $2 }' "$ST/pids"; }

# settle: the state every timed step starts from.
settle() {
    sync
    if [ "$DROP" = 1 ]; then
        echo 3 > /proc/sys/vm/drop_caches
    fi
}

# warm FILE...: reads the files into the page cache (when we cannot drop).
warm() { [ "$DROP" = 1 ] || cat "$@" > /dev/null; }

# step NAME CMD...: one timed step: CMD, then sync. Sets MS (whole step),
# CMD_MS (CMD alone), and appends a line to $W/NAME.ms and the detail to
# $W/NAME.detail; fails on a non-zero exit.
step() {
    name=$1
    shift
    mpid=$(awk '$1 == "master" { print $2 }' "$ST/pids")
    wp=$(worker_pids)
    c0=$(self_cpu)
    w0=$(cpu_of $wp)
    m0=$(cpu_of "$mpid")
    d0=$(disk_sectors)
    j0=$(cpu_jiffies)
    t0=$(now_ms)
    rc=0
    "$@" > "$W/step.out" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        cat "$W/step.out" >&2
        fail "$name: $* exited with $rc"
    fi
    t1=$(now_ms)
    sync
    t2=$(now_ms)
    c1=$(self_cpu)
    w1=$(cpu_of $wp)
    m1=$(cpu_of "$mpid")
    d1=$(disk_sectors)
    j1=$(cpu_jiffies)
    MS=$((t2 - t0))
    CMD_MS=$((t1 - t0))
    echo "$MS" >> "$W/$name.ms"
    echo "$CMD_MS" >> "$W/$name.cmd.ms"
    DETAIL=$(echo "$c0 $c1 $w0 $w1 $m0 $m1 $d0 $d1 $j0 $j1" | awk -v clk="$CLK" -v cm="$CMD_MS" -v ms="$MS" '{
        printf "cmd %d ms + sync %d ms; CPU s: client %.2f, workers %.2f, master %.2f; machine %d%% busy; disk MB read %d, written %d",
            cm, ms - cm, ($2 - $1) / clk, ($4 - $3) / clk, ($6 - $5) / clk,
            (($14 - $12) > 0 ? 100 * ($13 - $11) / ($14 - $12) : 0),
            ($9 - $7) * 512 / 1e6, ($10 - $8) * 512 / 1e6 }')
}

# mbs MS: MB/s (10^6 bytes) of the file size in MS milliseconds.
mbs() { awk -v b="$BYTES" -v ms="$1" 'BEGIN { printf "%.0f", (ms > 0 ? b / ms / 1000 : 0) }'; }

# replica_files: how many replica data files the workers' chunk
# directories hold (temporary files included).
replica_files() {
    n=0
    for d in "$ST"/worker-*/chunks; do
        [ -d "$d" ] || continue
        k=$(find "$d" -name '*.chunk*' | wc -l)
        n=$((n + k))
    done
    echo "$n"
}

# wait_files N TIMEOUT_MS: waits until the chunk directories hold N
# replica files; sets WAITED (ms) or fails.
wait_files() {
    ws=$(now_ms)
    while [ "$(replica_files)" -ne "$1" ]; do
        [ $(($(now_ms) - ws)) -lt "$2" ] ||
            fail "the workers' chunk directories still hold $(replica_files) replica files, not $1, $(($2 / 1000)) s later"
        sleep 0.1
    done
    WAITED=$(($(now_ms) - ws))
}

fs() { "$DMR" fs "$@" --master "$EP"; }

# losses_since MARK: the master log lines after line MARK in which a
# worker was declared lost, as "wN (reason)" words; part 1 kills nobody,
# so every one there is a live worker declared dead.
losses_since() {
    tail -n "+$(($1 + 1))" "$ST/master.log" |
        sed -n 's/.* WARN workers: worker \(w[0-9]*\) lost (\([^)]*\)).*/\1 (\2)/p' |
        tr '\n' ';' | sed 's/;$//; s/;/; /g'
}

# check_losses MARK WHAT: reports (and counts in $W/false.n) workers the
# master declared lost since MARK, then waits until NWORKERS are alive
# again, so that the next step starts with a whole cluster.
check_losses() {
    l=$(losses_since "$1")
    if [ -n "$l" ]; then
        n=$(printf '%s\n' "$l" | tr ';' '\n' | wc -l)
        echo "$n $2" >> "$W/false.n"
        say "     !! during $2 the master declared $n live (not killed) workers lost: $l"
    fi
    wait_alive "$2"
}

# wait_alive WHAT: waits until the master lists NWORKERS live workers.
wait_alive() {
    ws=$(now_ms)
    while [ "$(workers | awk '$3 == "alive"' | wc -l)" -ne "$NWORKERS" ]; do
        [ $(($(now_ms) - ws)) -lt 20000 ] ||
            fail "$(workers | awk '$3 == "alive"' | wc -l) of $NWORKERS workers alive 20 s after $1"
        sleep 0.1
    done
}

# check_stored PATH R: dmr fs stat PATH shows BYTES bytes, replication R,
# and min(R, live workers) replicas for every chunk; fsck is HEALTHY.
# Sets NCHUNKS.
check_stored() {
    fs stat "dmr:$1" > "$W/stat.out" || fail "dmr fs stat dmr:$1"
    hline="$(sed -n 2p "$W/stat.out")"
    case $hline in
    *"size $BYTES bytes, replication $2, "*) ;;
    *) cat "$W/stat.out" >&2; fail "dmr fs stat dmr:$1 says '$hline' (expected $BYTES bytes, replication $2)" ;;
    esac
    NCHUNKS=$(awk '$1 == "chunk"' "$W/stat.out" | wc -l)
    want=$(($2 < NWORKERS ? $2 : NWORKERS))
    bad=$(awk -v r="$want" '$1 == "chunk" && NF - 7 != r' "$W/stat.out" | wc -l)
    [ "$bad" -eq 0 ] || { cat "$W/stat.out" >&2; fail "dmr:$1: $bad chunks do not have $want replicas"; }
    fs fsck > "$W/fsck.out" 2>&1 || { cat "$W/fsck.out" >&2; fail "dmr fs fsck after storing dmr:$1 is not HEALTHY"; }
}

# --------------------------------------------------------- part 1: cp/put/get

part1() {
    say ""
    say "-- part 1: throughput, 3 workers"
    say "   \$ dmr cluster up -n 3 --state \$W/tput          (DMR_LOG=debug)"
    export DMR_LOG=debug
    cluster_up tput 3
    unset DMR_LOG
    NWORKERS=3
    say "   each step starts with: sync; $([ "$DROP" = 1 ] && echo 'echo 3 > /proc/sys/vm/drop_caches' || echo 'cat SOURCE > /dev/null   (caches cannot be dropped)')"
    say "   \$ cp $SRC \$W/cp.out && sync"
    say "   \$ dmr fs put $SRC dmr:/bench/rR -R R --chunk $CHUNK && sync"
    say "   \$ dmr fs get dmr:/bench/rR \$W/get.out && sync          then: cmp $SRC \$W/get.out; dmr fs rm dmr:/bench/rR"
    for s in cp put1 get1 put3 get3; do : > "$W/$s.ms"; : > "$W/$s.cmd.ms"; done
    : > "$W/false.n"
    : > "$W/rm.ms"
    r=1
    while [ "$r" -le "$RUNS" ]; do
        say ""
        say "   round $r (load average $(cut -d' ' -f1-3 /proc/loadavg))"
        settle
        warm "$SRC"
        step cp cp "$SRC" "$W/cp.out"
        say "$(printf '     %-6s %6d ms %5s MB/s   %s' cp "$MS" "$(mbs "$MS")" "$DETAIL")"
        rm -f "$W/cp.out"
        for R in 1 3; do
            p=/bench/r$R
            mark=$(log_lines)
            settle
            warm "$SRC"
            step "put$R" "$DMR" fs put "$SRC" "dmr:$p" -R "$R" --chunk "$CHUNK" --master "$EP"
            say "$(printf '     %-6s %6d ms %5s MB/s   %s' "put R$R" "$MS" "$(mbs "$MS")" "$DETAIL")"
            check_stored "$p" "$R"
            settle
            warm "$ST"/worker-*/chunks/*.chunk
            step "get$R" "$DMR" fs get "dmr:$p" "$W/get.out" --master "$EP"
            say "$(printf '     %-6s %6d ms %5s MB/s   %s' "get R$R" "$MS" "$(mbs "$MS")" "$DETAIL")"
            if ! cmp "$SRC" "$W/get.out" > "$W/cmp.out" 2>&1; then
                cat "$W/cmp.out" >&2
                ls -l "$SRC" "$W/get.out" >&2
                fail "BYTES DIFFER: dmr fs get dmr:$p (round $r) is not the file that was put: $(cat "$W/cmp.out")"
            fi
            rm -f "$W/get.out"
            fs rm "dmr:$p" || fail "dmr fs rm dmr:$p"
            wait_files 0 60000
            echo "$WAITED" >> "$W/rm.ms"
            sleep_ms 2500 # a lost heartbeat shows up within dead-after + 1 interval
            check_losses "$mark" "round $r: put/get/rm of dmr:$p (rm: replica files gone after $WAITED ms)"
        done
        r=$((r + 1))
    done
    cluster_down
}

# ------------------------------------------------------ part 2: re-replication

# holds WID: "replicas bytes" of the chunks WID holds, from $W/stat.out.
holds() {
    awk -v w="$1" '$1 == "chunk" { for (i = 8; i <= NF; i++) if ($i == w) { n++; b += $4 } }
        END { print n + 0, b + 0 }' "$W/stat.out"
}

# verify_replicas PATH: every replica of every chunk of PATH is a file of
# the chunk's length equal to its range of the source.
verify_replicas() {
    fs stat "dmr:$1" > "$W/stat.out" || fail "dmr fs stat dmr:$1"
    workers > "$W/workers.out"
    awk 'NR == FNR { name[$2] = $1; next } $3 == "alive" { print $1, name[$2] }' \
        "$ST/pids" "$W/workers.out" > "$W/wid-names"
    off=0
    nrep=0
    awk '$1 == "chunk" { $1 = $2 = ""; print }' "$W/stat.out" > "$W/chunks.out"
    while read -r id len _bytes _v _state reps; do
        for wid in $reps; do
            name=$(awk -v w="$wid" '$1 == w { print $2 }' "$W/wid-names")
            [ -n "$name" ] || fail "dmr:$1: chunk $id has a replica on $wid, which is not a live local worker"
            f=$ST/$name/chunks/$id.chunk
            [ "$(stat -c %s "$f" 2>/dev/null || echo -1)" -eq "$len" ] ||
                fail "replica $f (on $wid) is not $len bytes"
            cmp -n "$len" -i "0:$off" "$f" "$SRC" > "$W/cmp.out" 2>&1 ||
                fail "BYTES DIFFER: replica $f of chunk $id (on $wid) differs from bytes $off.. of the source: $(cat "$W/cmp.out")"
            nrep=$((nrep + 1))
        done
        off=$((off + len))
    done < "$W/chunks.out"
    [ "$off" -eq "$BYTES" ] || fail "dmr:$1: chunks add up to $off bytes, not $BYTES"
    VERIFIED=$nrep
}

# chunks_ok N: every chunk of $W/stat.out has exactly N replicas.
chunks_ok() { [ "$(awk -v r="$1" '$1 == "chunk" && NF - 7 != r' "$W/stat.out" | wc -l)" -eq 0 ]; }

# layout: "w1 12, w2 12, ..." -- replicas per worker in $W/stat.out.
layout() {
    awk '$1 == "chunk" { for (i = 8; i <= NF; i++) n[$i]++ }
        END { for (w in n) print w, n[w] }' "$W/stat.out" | sort -V |
        awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 } END { print "" }'
}

# kill_and_heal KIND FIRST: kill -9 the first worker, from worker-FIRST on
# in turn, that holds replicas of dmr:$P; poll fsck every 200 ms until it
# is HEALTHY again; report, append the figures to $W/KIND.*, check every
# replica. Sets VICTIM.
kill_and_heal() {
    kind=$1
    fs stat "dmr:$P" > "$W/stat.out" || fail "dmr fs stat dmr:$P"
    before=$(layout)
    VICTIM="" wid="" lostn=0 lostb=0
    k=0
    while [ "$k" -lt 4 ] && [ -z "$VICTIM" ]; do
        name=worker-$((($2 - 1 + k) % 4 + 1))
        w=$(wid_of "$(pid_of "$name")")
        set -- "$1" "$2" $(holds "$w")
        if [ -n "$w" ] && [ "$3" -gt 0 ]; then
            VICTIM=$name wid=$w lostn=$3 lostb=$4
        fi
        k=$((k + 1))
    done
    [ -n "$VICTIM" ] || fail "no live worker holds a replica of dmr:$P"
    pid=$(pid_of "$VICTIM")
    mark=$(log_lines)
    tk=$(now_ms)
    kill -9 "$pid"
    polls=0 healthy="" i=0 first_under=""
    while :; do
        sleep_ms $((tk + i * 200 - $(now_ms)))
        i=$((i + 1))
        lost=0
        tail -n "+$((mark + 1))" "$ST/master.log" |
            grep -q "chunk replicas lost with $wid;" && lost=1
        rc=0
        fs fsck > "$W/fsck.out" 2>&1 || rc=$?
        te=$(now_ms)
        polls=$((polls + 1))
        grep -q '^status: ' "$W/fsck.out" || {
            cat "$W/fsck.out" >&2
            fail "$kind: dmr fs fsck failed (exit $rc) without a status"
        }
        summary=$(grep ' chunks: ' "$W/fsck.out")
        missing=$(printf '%s\n' "$summary" | sed -n 's/.* \([0-9]*\) missing.*/\1/p')
        [ "${missing:-0}" -eq 0 ] || {
            cat "$W/fsck.out" >&2
            fail "$kind: after kill -9 of $VICTIM ($wid) fsck reports $missing MISSING chunks"
        }
        if [ "$rc" -ne 0 ] && [ -z "$first_under" ]; then
            first_under=$((te - tk))
        fi
        if [ "$rc" -eq 0 ] && [ "$lost" = 1 ]; then
            healthy=$te
            break
        fi
        [ $((te - tk)) -lt $((HEAL_TIMEOUT * 1000)) ] || {
            cat "$W/fsck.out" >&2
            fail "$kind: dmr:$P not HEALTHY $HEAL_TIMEOUT s after kill -9 of $VICTIM ($wid): $summary"
        }
    done
    log=$W/$kind-$RUN.log
    tail -n "+$((mark + 1))" "$ST/master.log" > "$log"
    lline=$(grep -m 1 " WARN workers: worker $wid lost (" "$log" || true)
    rline=$(grep -m 1 "chunk replicas lost with $wid;" "$log" || true)
    [ -n "$lline" ] && [ -n "$rline" ] || fail "$kind: no 'lost' lines for $wid in the master log"
    tl=$(log_ms "$lline")
    trl=$(log_ms "$rline")
    nl=$(printf '%s\n' "$rline" | sed -n 's/.* fs: \([0-9]*\) chunk replicas lost .*/\1/p')
    [ "$nl" = "$lostn" ] || note "$kind: the master says $nl replicas lost with $wid, stat said $lostn"
    total=$((healthy - tk))
    detect=$((tl - tk))
    copy=$((healthy - trl))
    copy_mbs=$(awk -v b="$lostb" -v ms="$copy" 'BEGIN { printf "%.0f", b / ms / 1000 }')
    echo "$total" >> "$W/$kind.total"
    echo "$detect" >> "$W/$kind.detect"
    echo "$copy" >> "$W/$kind.copy"
    echo "$copy_mbs" >> "$W/$kind.mbs"
    # The copies as the master logged them (DMR_LOG=debug).
    ncopied=$(grep -c " DEBUG fs: chunk [0-9a-f]* copied to " "$log" || true)
    nfail=$(grep -c "copy of chunk .* failed" "$log" || true)
    last=$(grep " DEBUG fs: chunk [0-9a-f]* copied to " "$log" | tail -n 1)
    lastc=-
    [ -z "$last" ] || lastc=+$(($(log_ms "$last") - trl))
    starts=$(grep " DEBUG fs: [0-9]* chunk copies started" "$log" |
        while read -r l; do
            printf '+%d:%s ' $(($(log_ms "$l") - trl)) "$(printf '%s\n' "$l" | sed 's/.* fs: \([0-9]*\) chunk.*/\1/')"
        done)
    dests=$(grep " DEBUG fs: chunk [0-9a-f]* copied to " "$log" |
        sed 's/.* copied to \(w[0-9]*\) .*/\1/' | sort | uniq -c |
        awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1 }')
    say "     replicas per worker before: $before"
    say "     kill -9 $pid ($VICTIM = $wid, holding $lostn replicas = $((lostb / 1048576)) MiB) at $(clock "$tk")"
    say "     master: '$wid lost' +$detect ms, '$nl chunk replicas lost' +$((trl - tk)) ms; fsck: first NOT HEALTHY +${first_under:--} ms, HEALTHY again +$total ms ($polls polls)"
    say "     copies: $ncopied done (to: $dests), $nfail failed; started (ms after the loss:count) $starts; last one registered ${lastc} ms after the loss"
    say "     -> kill to healthy $total ms = detection $detect ms + copy $copy ms; copy throughput $copy_mbs MB/s ($lostb bytes)"
    others=$(losses_since "$mark" | tr ';' '\n' | sed 's/^ //' | grep -v "^$wid " | tr '\n' ';' | sed 's/;$//' || true)
    if [ -n "$others" ]; then
        echo "$others" >> "$W/false2"
        say "     !! the master also declared live (not killed) workers lost: $others"
    fi
    verify_replicas "$P"
    say "     all $VERIFIED replica files equal the source"
}

# restart_victim: starts $VICTIM again and waits until its surplus
# replicas are deleted (exactly 3 per chunk, 3 per chunk on disk) and
# fsck says HEALTHY.
restart_victim() {
    rmark=$(log_lines)
    tr=$(now_ms)
    nwid=$(restart_worker "$VICTIM")
    while :; do
        fs stat "dmr:$P" > "$W/stat.out"
        if chunks_ok 3 && [ "$(replica_files)" -eq "$TOTAL" ] &&
            fs fsck > "$W/fsck.out" 2>&1; then
            break
        fi
        [ $(($(now_ms) - tr)) -lt 60000 ] ||
            fail "surplus replicas not removed 60 s after $VICTIM restarted ($(replica_files) replica files, want $TOTAL)"
        sleep 0.2
    done
    sp=$(($(now_ms) - tr))
    echo "$sp" >> "$W/surplus.ms"
    say "     restarted $VICTIM (now $nwid): surplus deleted, fsck HEALTHY $sp ms later; replicas per worker now: $(layout)"
    sleep_ms 2500
    l=$(losses_since "$rmark")
    if [ -n "$l" ]; then
        echo "$l" >> "$W/false2"
        say "     !! while the surplus was deleted the master declared live workers lost: $l"
    fi
    wait_alive "the surplus deletion"
}

part2() {
    say ""
    say "-- part 2: re-replication, 4 workers; a fresh cluster for each run"
    say "   \$ dmr cluster up -n 4 --state \$W/rerepN          (DMR_LOG=debug; heartbeat 250 ms, dead-after 2000 ms)"
    say "   \$ dmr fs put $SRC dmr:/rerep/data -R 3 --chunk $CHUNK"
    say "   then: kill -9 WORKER_PID, and every 200 ms: dmr fs fsck (until HEALTHY, asked after the master logged the loss)"
    say "   then: dmr cluster start WORKER, wait until the surplus is gone, and kill -9 another worker the same way"
    NWORKERS=4
    P=/rerep/data
    for kind in first second; do
        for f in total detect copy mbs; do : > "$W/$kind.$f"; done
    done
    : > "$W/surplus.ms"
    : > "$W/false2"
    RUN=1
    while [ "$RUN" -le "$RUNS" ]; do
        say ""
        say "   run $RUN"
        export DMR_LOG=debug
        cluster_up "rerep$RUN" 4
        unset DMR_LOG
        t=$(now_ms)
        fs put "$SRC" "dmr:$P" -R 3 --chunk "$CHUNK" || fail "dmr fs put dmr:$P"
        put_ms=$(($(now_ms) - t))
        check_stored "$P" 3
        TOTAL=$((NCHUNKS * 3))
        wait_files "$TOTAL" 10000
        verify_replicas "$P"
        say "     stored in $put_ms ms (untimed step, caches not dropped): $NCHUNKS chunks x 3 replicas; all $VERIFIED replica files equal the source"
        say "   run $RUN, first failure"
        first=$(((RUN - 1) % 4 + 1))
        kill_and_heal first "$first"
        restart_victim
        say "   run $RUN, second failure (after the first worker came back)"
        kill_and_heal second $((first % 4 + 1))
        cluster_down
        rm -rf "$ST"
        RUN=$((RUN + 1))
    done
}

for part in $PARTS; do
    case $part in
    1) part1 ;;
    2) part2 ;;
    *) fail "BENCH_FS_PARTS: no part '$part' (1, 2)" ;;
    esac
done

# ---------------------------------------------------------------- results

results_begin
say "one machine: master, workers and client on loopback; every file on $DEV ($FSTYPE)"
say "$MB MiB of random data; MB/s = 10^6 bytes of the file per second; medians of $RUNS rounds"
say "page cache: $([ "$DROP" = 1 ] && echo 'dropped (sync; echo 3 > /proc/sys/vm/drop_caches) before every timed step' || echo 'NOT dropped (not permitted): every source warm')"
case " $PARTS " in *" 1 "*)
    cpm=$(median "$W/cp.ms")
    say ""
    say "$(printf '%-22s %-24s %9s %7s %9s' 'step (then sync)' 'ms (in round order)' median_ms MB/s 'vs cp')"
    for s in cp put1 get1 put3 get3; do
        case $s in
        cp) label="cp" ;;
        put*) label="dmr fs put -R ${s#put}" ;;
        get*) label="dmr fs get (R ${s#get})" ;;
        esac
        m=$(median "$W/$s.ms")
        ratio=$(awk -v c="$cpm" -v m="$m" 'BEGIN { printf "%.2f", c / m }')
        say "$(printf '%-22s %-24s %9s %7s %9s' "$label" "$(tr '\n' ' ' < "$W/$s.ms")" "$m" "$(mbs "$m")" "$ratio")"
    done
    g1=$(median "$W/get1.cmd.ms")
    g3=$(median "$W/get3.cmd.ms")
    say "(vs cp = throughput / cp's throughput = cp_ms / step_ms; get without the final sync: R1 $g1 ms = $(mbs "$g1") MB/s, R3 $g3 ms = $(mbs "$g3") MB/s)"
    say "every get equal to the source (cmp); after dmr fs rm the replica files were gone in $(tr '\n' ' ' < "$W/rm.ms")ms"
    say "live workers the master declared lost (no kill in part 1): $(awk '{ n += $1 } END { print n + 0 }' "$W/false.n")$([ -s "$W/false.n" ] && echo " -- in: $(cut -d' ' -f2- "$W/false.n" | sed 's/ (rm:.*//' | tr '\n' ';' | sed 's/;$//; s/;/; /g')")"
    ;;
esac
case " $PARTS " in *" 2 "*)
    say ""
    say "re-replication, 4 workers, $NCHUNKS chunks of $CHUNK x 3 replicas, a fresh cluster per run; kill -9 of a worker holding replicas"
    say "$(printf '%-36s %-22s %-8s %s' '' 'in run order' median '2nd failure (after a restart): in run order, median')"
    for f in total detect copy mbs; do
        case $f in
        total) label='kill -> fsck HEALTHY (ms)' ;;
        detect) label='  detection: kill -> lost (ms)' ;;
        copy) label='  copy: lost -> HEALTHY (ms)' ;;
        mbs) label='copy throughput (MB/s)' ;;
        esac
        say "$(printf '%-36s %-22s %-8s %s' "$label" "$(tr '\n' ' ' < "$W/first.$f")" "$(median "$W/first.$f")" "$(tr '\n' ' ' < "$W/second.$f")  median $(median "$W/second.$f")")"
    done
    say "$(printf '%-36s %-22s %-8s' 'restart -> surplus gone (ms)' "$(tr '\n' ' ' < "$W/surplus.ms")" "$(median "$W/surplus.ms")")"
    say "live workers the master declared lost besides the killed ones: $(tr ';' '\n' < "$W/false2" | grep -c . || true)"
    say "(copy throughput = bytes of the replicas lost / copy part; fsck polled every 200 ms, so HEALTHY is late by up to 200 ms; every replica compared with the source after every kill)"
    ;;
esac
say "target: none for throughput (informational); all bytes verified: PASS"
results_end
