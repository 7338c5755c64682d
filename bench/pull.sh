#!/usr/bin/env bash
# bench/pull.sh: `selkie pull` against `podman pull` from the same local registry, side by side in one run.
#
#   cold: a 200 MB, 4-layer image (bench/mkarchive.py, copied into the registry by skopeo, which gzips the
#         layers as a registry push does) into an empty store, every round;
#   warm: the same pull again with the image already present.
#
# The registry is Debian's docker-registry on a free loopback port, over plain HTTP (--tls-verify=false for
# both engines). Needs root and `apt-get install podman runc skopeo docker-registry hyperfine`.
# Environment: SELKIE (default target/release/selkie), PODMAN (podman), ROUNDS (5), SIZE (200M), KEEP=1.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
SELKIE=${SELKIE:-$REPO/target/release/selkie}
PODMAN=${PODMAN:-podman}
ROUNDS=${ROUNDS:-5}
SIZE=${SIZE:-200M}
[ -x "$SELKIE" ] || { echo "no selkie binary at $SELKIE (cargo build --release -p selkie)" >&2; exit 1; }
for tool in hyperfine skopeo docker-registry "$PODMAN"; do
    command -v "$tool" >/dev/null || { echo "$tool not installed" >&2; exit 1; }
done

T=$(mktemp -d /var/tmp/selkie-bench-pull.XXXXXX)
REG_PID=""
cleanup() {
    [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null || true
    grep -o " $T[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$T/registry.yml" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $T/registry
http:
  addr: 127.0.0.1:$PORT
YML
docker-registry serve "$T/registry.yml" >"$T/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.1; done

python3 "$HERE/mkarchive.py" --size "$SIZE" --layers 4 --name localhost/bench:pull -o "$T/image.tar" >/dev/null
IMAGE=127.0.0.1:$PORT/bench/pull:1
skopeo copy -q --dest-tls-verify=false "docker-archive:$T/image.tar" "docker://$IMAGE"

S="$SELKIE --root $T/root --runroot $T/run"
P="$PODMAN --root $T/proot --runroot $T/prun --tmpdir $T/ptmp"
reset_s="rm -rf $T/root $T/run"
reset_p="$P rmi -af >/dev/null 2>&1 || true; grep -o ' $T/p[^ ]*' /proc/mounts | xargs -r -n1 umount -l 2>/dev/null || true; rm -rf $T/proot $T/prun $T/ptmp"

json_cold="$T/cold.json"
hyperfine --runs "$ROUNDS" --export-json "$json_cold" \
    --prepare "$reset_s; $reset_p; sync" \
    -n "selkie pull (cold)" "$S pull -q --tls-verify=false $IMAGE" \
    -n "podman pull (cold)" "$P pull -q --tls-verify=false $IMAGE" >/dev/null

$S pull -q --tls-verify=false "$IMAGE" >/dev/null
$P pull -q --tls-verify=false "$IMAGE" >/dev/null
json_warm="$T/warm.json"
hyperfine -N --warmup 2 --runs 20 --export-json "$json_warm" \
    -n "selkie pull (warm)" "$S pull -q --tls-verify=false $IMAGE" \
    -n "podman pull (warm)" "$P pull -q --tls-verify=false $IMAGE" >/dev/null

python3 - "$json_cold" "$json_warm" <<'PY'
import json, sys
res = {}
for f in sys.argv[1:]:
    for r in json.load(open(f))["results"]:
        res[r["command"]] = r["median"]
print("medians; ratio = selkie / podman")
for kind in ("cold", "warm"):
    s, p = res[f"selkie pull ({kind})"], res[f"podman pull ({kind})"]
    print(f"{kind:5s} selkie {s*1000:9.1f} ms   podman {p*1000:9.1f} ms   ratio {s/p:.3f}")
PY
