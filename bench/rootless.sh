#!/usr/bin/env bash
# bench/rootless.sh: `run --rm IMAGE true` as an ordinary user, selkie against rootless Podman 4.3.1.
#
# Run as root: it makes sure the user $BENCH_USER exists with /etc/subuid and /etc/subgid ranges (as the
# rootless tests do), makes /dev/net/tun mode 0666 (both engines' default rootless network, slirp4netns,
# opens it as the user; most distributions ship it so, these machines 0600), then runs both engines as
# that user through setpriv, each with a private store under $T, and compares hyperfine medians:
#
#   run --rm IMAGE true                   (both on their default rootless network: slirp4netns)
#   run --rm --network none IMAGE true
#
# Needs `apt-get install podman runc hyperfine uidmap slirp4netns`. Not part of the tests.
# Environment: SELKIE (default target/release/selkie), PODMAN (podman), RUNS (20), BENCH_USER
# (selkie-rootless-test), KEEP=1 keeps $T.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SELKIE=${SELKIE:-$REPO/target/release/selkie}
PODMAN=${PODMAN:-$(command -v podman || echo podman)}
RUNS=${RUNS:-20}
BENCH_USER=${BENCH_USER:-selkie-rootless-test}
[ "$(id -u)" -eq 0 ] || { echo "run as root: it prepares the user and runs the engines as that user" >&2; exit 1; }
[ -x "$SELKIE" ] || { echo "no selkie binary at $SELKIE (cargo build --release -p selkie)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "hyperfine not installed (apt-get install -y hyperfine)" >&2; exit 1; }

id -u "$BENCH_USER" >/dev/null 2>&1 || useradd -m -s /bin/sh "$BENCH_USER"
for f in /etc/subuid /etc/subgid; do
    grep -q "^$BENCH_USER:" "$f" 2>/dev/null || echo "$BENCH_USER:200000:65536" >>"$f"
done
chmod 0666 /dev/net/tun
# Podman on these machines needs runc and ulimits within the hard limit (see ../shared/ENV.md).
CONF=/etc/containers/containers.conf
if [ ! -e "$CONF" ]; then
    mkdir -p /etc/containers
    printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nruntime = "runc"\n' >"$CONF"
fi
U=$(id -u "$BENCH_USER")
G=$(id -g "$BENCH_USER")

T=$(mktemp -d /tmp/selkie-bench-rootless.XXXXXX)
chmod 0755 "$T"
mkdir -p "$T/home" "$T/run" "$T/data" "$T/config"
chown "$U:$G" "$T/home" "$T/run" "$T/data" "$T/config"
chmod 0700 "$T/run"
install -m 0755 "$SELKIE" "$T/selkie"
AS="setpriv --reuid=$U --regid=$G --init-groups -- env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
HOME=$T/home USER=$BENCH_USER XDG_RUNTIME_DIR=$T/run XDG_DATA_HOME=$T/data XDG_CONFIG_HOME=$T/config"
S="$AS $T/selkie"
P="$AS $PODMAN --root $T/data/podman --runroot $T/run/podman --tmpdir $T/run/libpod"
cleanup() {
    $P rm -af >/dev/null 2>&1 || true
    $S rm -af >/dev/null 2>&1 || true
    # The engines' pause processes hold only their user namespaces.
    for f in "$T/run/selkie/pause.pid" "$T/run/libpod/pause.pid" "$T/run/libpod/tmp/pause.pid"; do
        [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
    done
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

python3 "$HERE/mkarchive.py" --busybox /bin/busybox --name localhost/bench:latest -o "$T/busybox.tar" >/dev/null
chmod 0644 "$T/busybox.tar"
$S load -i "$T/busybox.tar" >/dev/null
$P load -q -i "$T/busybox.tar" >/dev/null
# Both must work before they are timed.
$S run --rm localhost/bench true
$P run --rm localhost/bench true

json="$T/results.json"
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$json" \
    -n "selkie run --rm" "$S run --rm localhost/bench true" \
    -n "podman run --rm" "$P run --rm localhost/bench true" \
    -n "selkie run --rm --network none" "$S run --rm --network none localhost/bench true" \
    -n "podman run --rm --network none" "$P run --rm --network none localhost/bench true" \
    >/dev/null

python3 - "$json" <<'PY'
import json, sys
res = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
def line(a, b):
    print(f"{a:34s} {res[a]*1000:9.1f} ms   {b:34s} {res[b]*1000:9.1f} ms   ratio {res[a]/res[b]:.3f}")
print("rootless, medians (ms); ratio = selkie / podman")
line("selkie run --rm", "podman run --rm")
line("selkie run --rm --network none", "podman run --rm --network none")
PY
