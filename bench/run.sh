#!/usr/bin/env bash
# bench/run.sh: container start latency and `ps`, selkie against Podman 4.3.1, side by side in one run.
#
#   run --rm IMAGE true          (both engines on their default bridge network `podman`, through netavark;
#                                 and both with --network none, loopback only)
#   run -d IMAGE sleep 1000 + rm -f, and the same with -p 127.0.0.1:18787:80 (a DNAT rule added and removed)
#   ps -a with 200 containers in the store
#   exec CONTAINER true, into a running container
#
# Both engines load the same busybox image (made by bench/mkarchive.py) into throw-away stores under $T;
# hyperfine interleaves nothing itself, so each command is measured with warm-up runs and the medians are
# compared as ratios. Needs root and `apt-get install podman runc hyperfine`.
#
# Environment: SELKIE (default target/release/selkie), PODMAN (podman), RUNS (20), KEEP=1 keeps $T.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SELKIE=${SELKIE:-$REPO/target/release/selkie}
PODMAN=${PODMAN:-podman}
RUNS=${RUNS:-20}
[ -x "$SELKIE" ] || { echo "no selkie binary at $SELKIE (cargo build --release -p selkie)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "hyperfine not installed (apt-get install -y hyperfine)" >&2; exit 1; }

# Podman on these machines needs runc and ulimits within the hard limit (see ../shared/ENV.md);
# the file is written only when missing.
CONF=/etc/containers/containers.conf
if [ ! -e "$CONF" ]; then
    mkdir -p /etc/containers
    printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nruntime = "runc"\n' >"$CONF"
fi

T=$(mktemp -d /var/tmp/selkie-bench-run.XXXXXX)
cleanup() {
    "$PODMAN" --root "$T/proot" --runroot "$T/prun" rm -af >/dev/null 2>&1 || true
    "$SELKIE" --root "$T/root" --runroot "$T/run" rm -af >/dev/null 2>&1 || true
    grep -o " $T[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
S="$SELKIE --root $T/root --runroot $T/run"
P="$PODMAN --root $T/proot --runroot $T/prun --tmpdir $T/ptmp"

python3 "$HERE/mkarchive.py" --busybox /bin/busybox --name localhost/bench:latest -o "$T/busybox.tar" >/dev/null
$S load -i "$T/busybox.tar" >/dev/null
$P load -q -i "$T/busybox.tar" >/dev/null

json="$T/results.json"
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$json" \
    -n "selkie run --rm (bridge)" "$S run --rm localhost/bench true" \
    -n "selkie run --rm --network none" "$S run --rm --network none localhost/bench true" \
    -n "podman run --rm (bridge)" "$P run --rm localhost/bench true" \
    -n "podman run --rm --network none" "$P run --rm --network none localhost/bench true" \
    -n "selkie run -d + rm -f" "sh -c '$S rm -f \$($S run -d localhost/bench sleep 1000) >/dev/null'" \
    -n "podman run -d + rm -f" "sh -c '$P rm -f -t 0 \$($P run -d localhost/bench sleep 1000) >/dev/null'" \
    -n "selkie run -d -p + rm -f" "sh -c '$S rm -f \$($S run -d -p 127.0.0.1:18787:80 localhost/bench sleep 1000) >/dev/null'" \
    -n "podman run -d -p + rm -f" "sh -c '$P rm -f -t 0 \$($P run -d -p 127.0.0.1:18787:80 localhost/bench sleep 1000) >/dev/null'" \
    >/dev/null

$S run -d --network none --name ex localhost/bench sleep 1000 >/dev/null
$P run -d --network none --name ex localhost/bench sleep 1000 >/dev/null
json_exec="$T/exec.json"
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$json_exec" \
    -n "selkie exec" "$S exec ex true" \
    -n "podman exec" "$P exec ex true" >/dev/null
$S rm -f ex >/dev/null
$P rm -f -t 0 ex >/dev/null

for i in $(seq 200); do $S create --name "c$i" localhost/bench true >/dev/null; done
for i in $(seq 200); do $P create --name "c$i" localhost/bench true >/dev/null; done
json_ps="$T/ps.json"
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$json_ps" \
    -n "selkie ps -a (200)" "$S ps -a" \
    -n "podman ps -a (200)" "$P ps -a" >/dev/null

python3 - "$json" "$json_ps" "$json_exec" <<'PY'
import json, sys
res = {}
for f in sys.argv[1:]:
    for r in json.load(open(f))["results"]:
        res[r["command"]] = r["median"]
def line(a, b):
    print(f"{a:34s} {res[a]*1000:9.1f} ms   {b:34s} {res[b]*1000:9.1f} ms   ratio {res[a]/res[b]:.3f}")
print("medians (ms); ratio = selkie / podman")
line("selkie run --rm (bridge)", "podman run --rm (bridge)")
line("selkie run --rm --network none", "podman run --rm --network none")
line("selkie run -d + rm -f", "podman run -d + rm -f")
line("selkie run -d -p + rm -f", "podman run -d -p + rm -f")
line("selkie ps -a (200)", "podman ps -a (200)")
line("selkie exec", "podman exec")
PY
