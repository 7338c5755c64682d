#!/usr/bin/env bash
# bench/load.sh: time `selkie load` against Podman 4.3.1's `podman load` on the
# same 200 MB docker-archive (4 layers, ~4000 small + ~40 large files, made by
# bench/mkarchive.py from a fixed seed).
#
# Each engine gets its own throw-away store under $T (never /var/lib/containers):
#   selkie --root $T/root  --runroot $T/run  load -i ARCHIVE
#   podman --root $T/proot --runroot $T/prun --tmpdir $T/ptmp load -i ARCHIVE
# Rounds are interleaved (selkie, podman, podman, selkie, ... the order flips
# every round), N rounds each (default 5).  Before every timed run, untimed:
# the store is unmounted/removed (fresh empty store), `sync` flushes the
# previous round's writes, and the archive is read once so both engines read a
# warm file from the page cache.  Timing uses hyperfine (one hyperfine call per
# round, --runs 1, --prepare for the reset) when it is installed, else a bash
# loop with `date +%s%N`.
#
# Environment:
#   SELKIE   selkie binary        (default: target/release/selkie of this checkout)
#   PODMAN   podman binary        (default: podman)
#   ROUNDS   rounds per engine    (default: 5)
#   SIZE     archive content size (default: 200M, passed to mkarchive.py --size)
#   LAYERS   layer count          (default: 4)
#   GZIP=1   gzip the archive     (default: uncompressed)
#   BENCH_TMPDIR  parent of the temp dir (default: /var/tmp, same disk for both)
#   KEEP=1   keep the temp dir at the end
#   NO_HYPERFINE=1  force the bash loop
#
# Needs root (podman with a custom --root, overlay mounts).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SELKIE=${SELKIE:-$REPO/target/release/selkie}
PODMAN=${PODMAN:-podman}
ROUNDS=${ROUNDS:-5}
SIZE=${SIZE:-200M}
LAYERS=${LAYERS:-4}
NAME=localhost/selkie-bench:load

[ -x "$SELKIE" ] || { echo "no selkie binary at $SELKIE (cargo build --release -p selkie)" >&2; exit 1; }
command -v "$PODMAN" >/dev/null || { echo "podman not found (apt-get install -y podman runc skopeo)" >&2; exit 1; }

# Podman 4.3.1 on these machines needs two settings (see /work/shared/ENV.md):
# default ulimits within the 20000 hard RLIMIT_NOFILE and runc (crun refuses
# the hybrid cgroup layout).  `load` itself does not run a container, but the
# file is written here, only if it is missing, so that podman behaves as it does
# everywhere else in the project.  An existing file is never touched.
CONF=/etc/containers/containers.conf
if [ ! -e "$CONF" ]; then
    mkdir -p /etc/containers
    cat >"$CONF" <<'EOF'
# written by selkie bench/load.sh (it was missing); see /work/shared/ENV.md
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
EOF
    echo "wrote $CONF (it was missing)"
fi

T=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/selkie-bench-load.XXXXXX")
cleanup() {
    # Unmount anything either engine left under $T, deepest first, then remove.
    grep -o " $T/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

ARCHIVE=$T/bench.tar
MKARGS=(--size "$SIZE" --layers "$LAYERS" --name "$NAME")
if [ "${GZIP:-0}" = 1 ]; then ARCHIVE=$T/bench.tar.gz; MKARGS+=(--gzip); fi
echo "generating $ARCHIVE ($SIZE, $LAYERS layers) ..."
python3 "$HERE/mkarchive.py" -o "$ARCHIVE" "${MKARGS[@]}"
ls -l "$ARCHIVE"

SEL_CMD="$SELKIE --root $T/root --runroot $T/run load -i $ARCHIVE"
POD_CMD="$PODMAN --root $T/proot --runroot $T/prun --tmpdir $T/ptmp --storage-driver overlay load -i $ARCHIVE"
# The untimed reset before every run: unmount and remove both stores, flush
# dirty pages, warm the archive.
RESET="grep -o ' $T/[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l; rm -rf $T/root $T/run $T/proot $T/prun $T/ptmp; sync; cat $ARCHIVE >/dev/null"

# Sanity: both load the archive and agree on the image ID.
bash -c "$RESET"
echo "+ $SEL_CMD"; $SEL_CMD
echo "+ $POD_CMD"; $POD_CMD
SEL_ID=$("$SELKIE" --root "$T/root" --runroot "$T/run" images -q --no-trunc "$NAME")
POD_ID=$($PODMAN --root "$T/proot" --runroot "$T/prun" --tmpdir "$T/ptmp" --storage-driver overlay images -q --no-trunc "$NAME")
echo "image ID  selkie: $SEL_ID"
echo "image ID  podman: $POD_ID"
[ "$SEL_ID" = "$POD_ID" ] || echo "WARNING: image IDs differ"

SEL_TIMES=(); POD_TIMES=(); SEL_CPU=(); POD_CPU=()
if command -v hyperfine >/dev/null && [ "${NO_HYPERFINE:-0}" != 1 ]; then
    echo "timing with $(hyperfine --version), $ROUNDS interleaved rounds"
    for r in $(seq 1 "$ROUNDS"); do
        if [ $((r % 2)) = 1 ]; then order=("$SEL_CMD" "$POD_CMD"); else order=("$POD_CMD" "$SEL_CMD"); fi
        hyperfine --runs 1 --style basic --prepare "$RESET" --export-json "$T/round$r.json" \
            "${order[0]}" "${order[1]}" >"$T/round$r.log" 2>&1 \
            || { cat "$T/round$r.log"; exit 1; }
        read -r s p sc pc < <(python3 - "$T/round$r.json" "$SEL_CMD" <<'EOF'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
sel = [r for r in res if r["command"] == sys.argv[2]][0]
pod = [r for r in res if r["command"] != sys.argv[2]][0]
print("%.4f %.4f %.4f %.4f" % (sel["times"][0], pod["times"][0],
                               sel["user"] + sel["system"], pod["user"] + pod["system"]))
EOF
)
        echo "round $r: selkie ${s}s (cpu ${sc}s)  podman ${p}s (cpu ${pc}s)"
        SEL_TIMES+=("$s"); POD_TIMES+=("$p"); SEL_CPU+=("$sc"); POD_CPU+=("$pc")
    done
else
    echo "timing with a bash loop (date +%s%N), $ROUNDS interleaved rounds"
    run_once() { # prints "wall cpu" in seconds; wall from date +%s%N, cpu (user+sys) from bash's time
        bash -c "$RESET"
        local t0 t1 cpu
        local TIMEFORMAT='%3U %3S'
        t0=$(date +%s%N)
        cpu=$( { time $1 >/dev/null 2>"$T/err"; } 2>&1 ) || { cat "$T/err" >&2; return 1; }
        t1=$(date +%s%N)
        awk -v a="$t0" -v b="$t1" -v c="$cpu" 'BEGIN { split(c, u, " "); printf "%.4f %.4f\n", (b - a) / 1e9, u[1] + u[2] }'
    }
    for r in $(seq 1 "$ROUNDS"); do
        if [ $((r % 2)) = 1 ]; then
            read -r s sc < <(run_once "$SEL_CMD"); read -r p pc < <(run_once "$POD_CMD")
        else
            read -r p pc < <(run_once "$POD_CMD"); read -r s sc < <(run_once "$SEL_CMD")
        fi
        [ -n "$s" ] && [ -n "$p" ] || { echo "a run failed" >&2; exit 1; }
        echo "round $r: selkie ${s}s (cpu ${sc}s)  podman ${p}s (cpu ${pc}s)"
        SEL_TIMES+=("$s"); POD_TIMES+=("$p"); SEL_CPU+=("$sc"); POD_CPU+=("$pc")
    done
fi

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine makes wall times noisy; cpu = user+sys of the engine)"
python3 - "${SEL_TIMES[*]}" "${POD_TIMES[*]}" "${SEL_CPU[*]}" "${POD_CPU[*]}" <<'EOF'
import statistics, sys
sel, pod, selc, podc = ([float(x) for x in a.split()] for a in sys.argv[1:5])
ms, mp = statistics.median(sel), statistics.median(pod)
print("selkie load: median %.3f s wall  (min %.3f, max %.3f, n=%d), median cpu %.3f s"
      % (ms, min(sel), max(sel), len(sel), statistics.median(selc)))
print("podman load: median %.3f s wall  (min %.3f, max %.3f, n=%d), median cpu %.3f s"
      % (mp, min(pod), max(pod), len(pod), statistics.median(podc)))
print("ratio selkie/podman: %.2f wall, %.2f cpu  (%s)"
      % (ms / mp, statistics.median(selc) / statistics.median(podc),
         "selkie no slower: target met" if ms <= mp else "selkie SLOWER: target missed"))
EOF
