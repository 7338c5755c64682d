#!/usr/bin/env bash
# bench/network.sh: `run --rm IMAGE true` on the default bridge network (`podman`, 10.88.0.0/16, set up
# and torn down by netavark on both sides), selkie against Podman 4.3.1, and both with --network none
# to show what the bridge costs each engine. Also `run -d -p` + `rm -f` (a DNAT rule added and removed).
#
# Needs root, `apt-get install podman runc hyperfine netavark`. Environment: SELKIE (default
# target/release/selkie), PODMAN (podman), RUNS (20), KEEP=1 keeps $T.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SELKIE=${SELKIE:-$REPO/target/release/selkie}
PODMAN=${PODMAN:-podman}
RUNS=${RUNS:-20}
[ -x "$SELKIE" ] || { echo "no selkie binary at $SELKIE (cargo build --release -p selkie)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "hyperfine not installed (apt-get install -y hyperfine)" >&2; exit 1; }

CONF=/etc/containers/containers.conf
if [ ! -e "$CONF" ]; then
    mkdir -p /etc/containers
    printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nruntime = "runc"\n' >"$CONF"
fi

T=$(mktemp -d /var/tmp/selkie-bench-net.XXXXXX)
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
    -n "selkie run --rm (bridge podman)" "$S run --rm localhost/bench true" \
    -n "podman run --rm (bridge podman)" "$P run --rm localhost/bench true" \
    -n "selkie run --rm --network none" "$S run --rm --network none localhost/bench true" \
    -n "podman run --rm --network none" "$P run --rm --network none localhost/bench true" \
    -n "selkie run -d -p + rm -f" "sh -c '$S rm -f \$($S run -d -p 127.0.0.1:18787:80 localhost/bench sleep 1000) >/dev/null'" \
    -n "podman run -d -p + rm -f" "sh -c '$P rm -f -t 0 \$($P run -d -p 127.0.0.1:18787:80 localhost/bench sleep 1000) >/dev/null'" \
    >/dev/null

python3 - "$json" <<'PY'
import json, sys
res = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
def line(a, b):
    print(f"{a:34s} {res[a]*1000:9.1f} ms   {b:34s} {res[b]*1000:9.1f} ms   ratio {res[a]/res[b]:.3f}")
print("medians (ms); ratio = selkie / podman")
line("selkie run --rm (bridge podman)", "podman run --rm (bridge podman)")
line("selkie run --rm --network none", "podman run --rm --network none")
line("selkie run -d -p + rm -f", "podman run -d -p + rm -f")
PY
