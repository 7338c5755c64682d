#!/usr/bin/env python3
"""Write a synthetic image as a docker-archive (the `docker save` layout).

The archive holds:
  manifest.json          [{"Config": "<cfg>.json", "RepoTags": [NAME], "Layers": ["<diffid>.tar", ...]}]
  <cfg>.json             image config; <cfg> is its sha256, i.e. the image ID
  <diffid>.tar           uncompressed layer tars; <diffid> is the sha256 of the tar

By default: 4 layers, 200 MB of file content in total, made of a few thousand
small files (100 B .. 16 KiB) plus larger ones (256 KiB .. 8 MiB), with
pseudo-random, partly compressible content (about half of each file is random
bytes, the rest repeated text), directories, executables, symlinks and
hardlinks.  Everything (content, names, mtimes, the gzip header) comes from a
fixed seed, so two runs with the same arguments write byte-identical files
and therefore the same image ID.

--rootfs DIR and --busybox PATH make a small real image instead (one layer),
which is what the interop checks use.

Python 3 standard library only.

Examples:
  bench/mkarchive.py -o /var/tmp/big.tar --name localhost/bench:200m
  bench/mkarchive.py -o small.tar.gz --gzip --size 20M --layers 2 --name bench:small
  bench/mkarchive.py -o bb.tar --busybox /bin/busybox --name localhost/busybox:mk
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import sys
import tarfile

MTIME = 1700000000  # 2023-11-14T22:13:20Z, fixed for reproducibility
CREATED = "2023-11-14T22:13:20Z"
TEXT = (
    b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod "
    b"tempor incididunt ut labore et dolore magna aliqua. selkie bench data\n"
)


def parse_size(s):
    s = s.strip().upper()
    mult = 1
    for suffix, m in (("KIB", 1 << 10), ("MIB", 1 << 20), ("GIB", 1 << 30),
                      ("K", 1000), ("M", 1000 ** 2), ("G", 1000 ** 3),
                      ("KB", 1000), ("MB", 1000 ** 2), ("GB", 1000 ** 3), ("B", 1)):
        if s.endswith(suffix) and s[: -len(suffix)].replace(".", "", 1).isdigit():
            return int(float(s[: -len(suffix)]) * m)
    if s.isdigit():
        return int(s)
    raise argparse.ArgumentTypeError("bad size %r (use e.g. 200M, 1.5G, 4096)" % s)


def content(rng, n):
    """n bytes, about half random and half repeated text (gzip ratio ~0.5)."""
    out = bytearray()
    while len(out) < n:
        chunk = rng.randint(512, 8192)
        if rng.random() < 0.5:
            out += rng.randbytes(chunk)
        else:
            off = rng.randrange(len(TEXT))
            rep = (TEXT[off:] + TEXT * (chunk // len(TEXT) + 2))[:chunk]
            out += rep
    return bytes(out[:n])


def tarinfo(name, typ=tarfile.REGTYPE, size=0, mode=0o644, linkname=""):
    ti = tarfile.TarInfo(name)
    ti.type = typ
    ti.size = size
    ti.mode = mode
    ti.mtime = MTIME
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    ti.linkname = linkname
    return ti


def synthetic_layer(index, budget, small_count, seed):
    """Return (tar bytes, description) for one synthetic layer."""
    rng = random.Random("%d/%d" % (seed, index))
    buf = io.BytesIO()
    top = "layer%d" % index
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        dirs = []
        tf.addfile(tarinfo(top + "/", tarfile.DIRTYPE, mode=0o755))
        for d in range(max(1, small_count // 50)):
            path = "%s/d%03d" % (top, d)
            if d % 4 == 3:  # some nesting
                path = "%s/d%03d/sub" % (top, d - 1)
            tf.addfile(tarinfo(path + "/", tarfile.DIRTYPE, mode=0o755))
            dirs.append(path)
        # Small files take ~10% of the budget at most.
        small_budget = min(budget // 10, small_count * 8192)
        sizes = [rng.randint(100, 16384) for _ in range(small_count)]
        total_small = sum(sizes) or 1
        if total_small > small_budget:
            sizes = [max(1, s * small_budget // total_small) for s in sizes]
        used = 0
        files = []
        modes = {}
        for i, sz in enumerate(sizes):
            name = "%s/f%05d%s" % (rng.choice(dirs), i, rng.choice([".txt", ".so", ".py", ".json", ""]))
            mode = 0o755 if rng.random() < 0.1 else 0o644
            data = content(rng, sz)
            tf.addfile(tarinfo(name, size=sz, mode=mode), io.BytesIO(data))
            files.append(name)
            modes[name] = mode
            used += sz
        # Larger files fill the rest.
        big = 0
        while used < budget:
            sz = min(rng.randint(256 << 10, 8 << 20), budget - used)
            name = "%s/big%03d.bin" % (rng.choice(dirs), big)
            tf.addfile(tarinfo(name, size=sz), io.BytesIO(content(rng, sz)))
            files.append(name)
            modes[name] = 0o644
            used += sz
            big += 1
        # Symlinks and hardlinks.
        for i in range(min(20, len(files))):
            target = rng.choice(files)
            tf.addfile(tarinfo("%s/link%02d" % (top, i), tarfile.SYMTYPE, mode=0o777,
                               linkname="/" + target))
        # A hardlink entry carries its target's mode, as tar writers emit it (one inode).
        for i in range(min(10, len(files))):
            target = rng.choice(files)
            tf.addfile(tarinfo("%s/hard%02d" % (top, i), tarfile.LNKTYPE, mode=modes[target],
                               linkname=target))
    desc = "%d small + %d large files, %d bytes of content" % (len(sizes), big, used)
    return buf.getvalue(), desc


def rootfs_layer(root):
    """A layer made from a directory tree, normalized (root owner, fixed mtime)."""
    buf = io.BytesIO()

    def norm(ti):
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = "root"
        ti.mtime = MTIME
        return ti

    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel = os.path.relpath(dirpath, root)
            if rel != ".":
                tf.add(dirpath, arcname=rel, recursive=False, filter=norm)
            for fn in sorted(filenames):
                tf.add(os.path.join(dirpath, fn), arcname=os.path.normpath(os.path.join(rel, fn)),
                       recursive=False, filter=norm)
            for dn in dirnames:  # symlinks to dirs are not walked into
                p = os.path.join(dirpath, dn)
                if os.path.islink(p):
                    tf.add(p, arcname=os.path.normpath(os.path.join(rel, dn)), recursive=False, filter=norm)
    return buf.getvalue(), "rootfs of %s" % root


BUSYBOX_APPLETS = ["sh", "ls", "cat", "echo", "true", "false", "env", "id", "sleep", "ps", "mkdir", "rm", "wc"]


def busybox_layer(busybox):
    buf = io.BytesIO()
    with open(busybox, "rb") as f:
        data = f.read()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for d in ("bin/", "etc/", "tmp/", "proc/", "sys/", "dev/", "root/"):
            tf.addfile(tarinfo(d, tarfile.DIRTYPE, mode=0o1777 if d == "tmp/" else 0o755))
        tf.addfile(tarinfo("bin/busybox", size=len(data), mode=0o755), io.BytesIO(data))
        for a in BUSYBOX_APPLETS:
            tf.addfile(tarinfo("bin/" + a, tarfile.SYMTYPE, mode=0o777, linkname="busybox"))
        for name, text in (("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"),
                           ("etc/group", b"root:x:0:\n")):
            tf.addfile(tarinfo(name, size=len(text)), io.BytesIO(text))
    return buf.getvalue(), "busybox from %s" % busybox


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("-o", "--output", required=True, help="archive to write ('-' for stdout)")
    ap.add_argument("-n", "--name", default="localhost/selkie-bench:latest",
                    help="RepoTags entry (default: %(default)s); '' for an untagged image")
    ap.add_argument("-l", "--layers", type=int, default=4, help="number of layers (default: 4)")
    ap.add_argument("-s", "--size", type=parse_size, default=parse_size("200M"),
                    help="total file content over all layers (default: 200M = 200,000,000 bytes)")
    ap.add_argument("--small-files", type=int, default=None,
                    help="small files per layer (default: 1000, fewer for small sizes)")
    ap.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    ap.add_argument("-z", "--gzip", action="store_true", help="gzip the whole archive")
    ap.add_argument("--gzip-level", type=int, default=6, help="gzip level (default: 6)")
    ap.add_argument("--rootfs", metavar="DIR", help="one layer from this directory tree instead")
    ap.add_argument("--busybox", metavar="PATH", help="one layer with this static busybox + applet symlinks")
    ap.add_argument("--cmd", default=None, help="config Cmd, as a shell-split string (default: /bin/sh)")
    args = ap.parse_args()

    if args.rootfs:
        layers = [rootfs_layer(args.rootfs)]
    elif args.busybox:
        layers = [busybox_layer(args.busybox)]
    else:
        if args.layers < 1:
            ap.error("--layers must be >= 1")
        per = args.size // args.layers
        small = args.small_files
        if small is None:
            small = max(1, min(1000, per // 50000))
        layers = []
        for i in range(args.layers):
            budget = per if i < args.layers - 1 else args.size - per * (args.layers - 1)
            layers.append(synthetic_layer(i, budget, small, args.seed))
            print("layer %d: %s" % (i, layers[-1][1]), file=sys.stderr)

    diff_ids = ["sha256:" + hashlib.sha256(t).hexdigest() for t, _ in layers]
    cmd = args.cmd.split() if args.cmd else ["/bin/sh"]
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": CREATED,
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": cmd,
            "Labels": {"org.selkie.bench": "mkarchive"},
        },
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": CREATED, "created_by": "mkarchive.py: " + d} for _, d in layers],
    }
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    config_hex = hashlib.sha256(config_bytes).hexdigest()
    manifest = [{
        "Config": config_hex + ".json",
        "RepoTags": [args.name] if args.name else [],
        "Layers": [d.split(":", 1)[1] + ".tar" for d in diff_ids],
    }]
    manifest_bytes = json.dumps(manifest, separators=(",", ":")).encode()

    out = sys.stdout.buffer if args.output == "-" else open(args.output, "wb")
    gz = None
    if args.gzip:
        # mtime=0 and no file name in the header: reproducible output.
        gz = gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=args.gzip_level, mtime=0)
        target = gz
    else:
        target = out
    with tarfile.open(fileobj=target, mode="w|", format=tarfile.PAX_FORMAT) as tf:
        seen = set()
        for (data, _), d in zip(layers, diff_ids):
            name = d.split(":", 1)[1] + ".tar"
            if name in seen:  # identical layers are stored once, as docker save does
                continue
            seen.add(name)
            tf.addfile(tarinfo(name, size=len(data)), io.BytesIO(data))
        tf.addfile(tarinfo(config_hex + ".json", size=len(config_bytes)), io.BytesIO(config_bytes))
        tf.addfile(tarinfo("manifest.json", size=len(manifest_bytes)), io.BytesIO(manifest_bytes))
    if gz:
        gz.close()
    if out is not sys.stdout.buffer:
        out.close()
    print("image ID sha256:%s  name %s  %d layer(s)" % (config_hex, args.name or "<none>", len(layers)),
          file=sys.stderr)


if __name__ == "__main__":
    main()
