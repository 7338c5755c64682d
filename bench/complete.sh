#!/usr/bin/env bash
# bench/complete.sh: latency of dynamic shell completion with 200 containers in the store (issue 7 asks
# for < 100 ms).
#
# Builds a store under $T with the busybox image (bench/mkarchive.py) under a few names, 200 containers
# (RUNNING of them running, the rest created), then times, RUNS times each, the call a TAB makes:
#   SELKIE_COMPLETE=fish selkie -- selkie --root R --runroot RR rm ''      every container name
#   ...                                          stop ''                   running ones (reads 200 state.json)
#   ...                                          run ''                    image names
#   ...                                          r                         subcommands (no store access)
# and the whole round trip through bash: the committed completions/bash/selkie, COMP_WORDS set, the
# completion function called (this includes starting bash's subshell).
# Prints min / median / max in milliseconds. Needs root (containers are created and started).
#
# Environment: SELKIE (default target/release/selkie), RUNS (30), COUNT (200), RUNNING (20), KEEP=1 keeps $T.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SELKIE=${SELKIE:-$REPO/target/release/selkie}
RUNS=${RUNS:-30}
COUNT=${COUNT:-200}
RUNNING=${RUNNING:-20}
[ -x "$SELKIE" ] || { echo "no selkie binary at $SELKIE (cargo build --release -p selkie)" >&2; exit 1; }

T=$(mktemp -d /var/tmp/selkie-bench-complete.XXXXXX)
S="$SELKIE --root $T/root --runroot $T/run"
cleanup() {
    $S rm -af -t 0 >/dev/null 2>&1 || true
    grep -o " $T[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

python3 "$HERE/mkarchive.py" --busybox /bin/busybox --name localhost/bench:latest -o "$T/busybox.tar" >/dev/null
$S load -i "$T/busybox.tar" >/dev/null
for t in docker.io/library/busybox:latest quay.io/example/app:1 localhost/web:v2; do $S tag localhost/bench "$t"; done
echo "creating $COUNT containers ($RUNNING running) ..." >&2
for i in $(seq 1 "$COUNT"); do
    if [ "$i" -le "$RUNNING" ]; then
        $S run -d --name "bench-$i" localhost/bench sleep 1000 >/dev/null
    else
        $S create --name "bench-$i" localhost/bench true >/dev/null
    fi
done

now_ns() { date +%s%N; }

# measure NAME CMD...: runs CMD RUNS times (after 3 warm-ups), prints min/median/max in ms.
measure() {
    local name=$1
    shift
    local i t0 t1 n
    for i in 1 2 3; do "$@" >/dev/null; done
    local times=()
    for i in $(seq 1 "$RUNS"); do
        t0=$(now_ns)
        "$@" >/dev/null
        t1=$(now_ns)
        times+=($(((t1 - t0) / 1000)))
    done
    n=$("$@" | wc -l)
    printf '%s\n' "${times[@]}" | sort -n | awk -v name="$name" -v n="$n" '
        { v[NR] = $1 }
        END { printf "%-34s %3d candidates   min %6.1f ms   median %6.1f ms   max %6.1f ms\n",
              name, n, v[1] / 1000, v[int((NR + 1) / 2)] / 1000, v[NR] / 1000 }'
}

complete_fish() { SELKIE_COMPLETE=fish "$SELKIE" -- selkie --root "$T/root" --runroot "$T/run" "$@"; }

bash_round_trip() {
    local words=$1
    PATH="$(dirname "$SELKIE"):$PATH" bash --norc --noprofile -c "
        source '$REPO/completions/bash/selkie'
        COMP_WORDS=(selkie --root '$T/root' --runroot '$T/run' $words '')
        COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1)); COMP_LINE=\"\${COMP_WORDS[*]}\"; COMP_POINT=\${#COMP_LINE}
        _clap_complete_selkie selkie '' ''
        printf '%s\n' \"\${COMPREPLY[@]}\""
}

echo "selkie: $SELKIE; $COUNT containers, $RUNNING running; $RUNS runs each"
measure "rm ''  (all containers)" complete_fish rm ''
measure "stop ''  (running only)" complete_fish stop ''
measure "start ''  (created/exited only)" complete_fish start ''
measure "run ''  (images)" complete_fish run ''
measure "r  (subcommands)" complete_fish r
measure "bash: selkie rm <TAB>" bash_round_trip rm
