//! Layer compression: media types, magic-byte sniffing and streaming decompression.
//!
//! Registries and tools mislabel layers often enough (a `diff.tar` media type on a gzip blob, a
//! `+gzip` label on zstd data) that the magic bytes always win over the media type; the media type
//! is only a fallback for streams too short to sniff.

use std::fmt;
use std::io::{self, BufRead, Read};
use std::str::FromStr;

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const XZ_MAGIC: [u8; 6] = [0xfd, b'7', b'z', b'X', b'Z', 0x00];
/// "BZh" + block size digit + the bzip2 block magic (pi).
const BZIP2_BLOCK_MAGIC: [u8; 6] = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];
/// Bytes looked at by [`sniff`] (and the unsupported-format check).
const SNIFF_LEN: usize = 10;

impl Compression {
    /// Maps an OCI or Docker layer media type to its compression; `None` for anything that is not a
    /// (plain, gzip or zstd) tar layer, e.g. encrypted layers or configs. Parameters (`; ...`) are
    /// ignored.
    pub fn from_media_type(media_type: &str) -> Option<Compression> {
        let mt = media_type.split(';').next().unwrap_or("").trim();
        match mt {
            "application/vnd.oci.image.layer.v1.tar"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar"
            | "application/vnd.docker.image.rootfs.diff.tar"
            | "application/vnd.docker.image.rootfs.foreign.diff.tar" => Some(Compression::None),
            "application/vnd.oci.image.layer.v1.tar+gzip"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
            | "application/vnd.docker.image.rootfs.diff.tar.gzip"
            | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => Some(Compression::Gzip),
            "application/vnd.oci.image.layer.v1.tar+zstd"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
            | "application/vnd.docker.image.rootfs.diff.tar.zstd" => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// Recognises gzip (`1f 8b`) and zstd (`28 b5 2f fd`, or a skippable frame) by their magic bytes;
    /// anything else is taken to be an uncompressed tar.
    pub fn sniff(first_bytes: &[u8]) -> Compression {
        if first_bytes.starts_with(&GZIP_MAGIC) {
            Compression::Gzip
        } else if first_bytes.starts_with(&ZSTD_MAGIC) || is_zstd_skippable(first_bytes) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// The suffix of the OCI layer media type: `""`, `"+gzip"` or `"+zstd"`.
    pub fn media_type_suffix(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip => "+gzip",
            Compression::Zstd => "+zstd",
        }
    }

    /// The OCI layer media type (`application/vnd.oci.image.layer.v1.tar[+gzip|+zstd]`).
    pub fn oci_media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }

    /// The Docker schema 2 layer media type.
    pub fn docker_media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.docker.image.rootfs.diff.tar",
            Compression::Gzip => "application/vnd.docker.image.rootfs.diff.tar.gzip",
            Compression::Zstd => "application/vnd.docker.image.rootfs.diff.tar.zstd",
        }
    }

    /// The short name used on command lines and in messages: `uncompressed`, `gzip`, `zstd`.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The value of an unknown `--compression-format`-style name.
#[derive(Debug, thiserror::Error)]
#[error("unknown compression format {0:?}: expected gzip, zstd or uncompressed")]
pub struct UnknownCompression(pub String);

impl FromStr for Compression {
    type Err = UnknownCompression;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "gzip" => Ok(Compression::Gzip),
            "zstd" => Ok(Compression::Zstd),
            "uncompressed" | "none" => Ok(Compression::None),
            _ => Err(UnknownCompression(s.to_string())),
        }
    }
}

fn is_zstd_skippable(b: &[u8]) -> bool {
    b.len() >= 4 && (b[0] & 0xf0) == 0x50 && b[1..4] == [0x2a, 0x4d, 0x18]
}

/// Formats we recognise but do not decompress, so that they fail with a clear message instead of
/// a tar checksum error.
fn unsupported_format(b: &[u8]) -> Option<&'static str> {
    if b.starts_with(&XZ_MAGIC) {
        Some("xz")
    } else if b.len() >= 10
        && b.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&b[3])
        && b[4..10] == BZIP2_BLOCK_MAGIC
    {
        Some("bzip2")
    } else {
        None
    }
}

/// Wraps `r` in the decompressor its magic bytes call for.
///
/// The stream is sniffed without consuming anything (when the reader's buffer is too short to
/// sniff, the few bytes read are put back in front of it). The magic bytes win over `hint`, which
/// only decides when the stream is too short to tell. Gzip streams may consist of several
/// concatenated members; all of them are decoded. Returns the compression that was used.
pub fn decompress<'a, R: BufRead + 'a>(
    mut r: R,
    hint: Option<Compression>,
) -> io::Result<(Compression, Box<dyn Read + 'a>)> {
    let buf = r.fill_buf()?;
    if buf.len() >= SNIFF_LEN {
        let c = detect(buf, hint)?;
        return Ok((c, wrap(r, c)?));
    }
    // The buffer holds too little to sniff: take the first bytes out and chain them back.
    let mut prefix = [0u8; SNIFF_LEN];
    let mut n = 0;
    while n < SNIFF_LEN {
        let got = match r.read(&mut prefix[n..]) {
            Ok(0) => break,
            Ok(got) => got,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        n += got;
    }
    let c = if n == 0 {
        Compression::None
    } else {
        detect(&prefix[..n], hint)?
    };
    let chained = io::Cursor::new(prefix).take(n as u64).chain(r);
    // `Take<Cursor>` is BufRead, and so is the chain.
    Ok((c, wrap(chained, c)?))
}

fn detect(first: &[u8], hint: Option<Compression>) -> io::Result<Compression> {
    if let Some(name) = unsupported_format(first) {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("{name}-compressed layers are not supported"),
        ));
    }
    let sniffed = Compression::sniff(first);
    // Plain tar starts with a file name; only when there are too few bytes for the magic to be
    // conclusive does the media type decide.
    match (sniffed, hint) {
        (Compression::None, Some(h)) if first.len() < ZSTD_MAGIC.len() && h != Compression::None => {
            let could_be = match h {
                Compression::Gzip => GZIP_MAGIC.starts_with(&first[..first.len().min(2)]),
                Compression::Zstd => ZSTD_MAGIC.starts_with(first),
                Compression::None => false,
            };
            Ok(if could_be { h } else { Compression::None })
        }
        _ => Ok(sniffed),
    }
}

fn wrap<'a, R: BufRead + 'a>(r: R, c: Compression) -> io::Result<Box<dyn Read + 'a>> {
    Ok(match c {
        Compression::None => Box::new(r),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(r)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Write};

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn read_all(r: &mut dyn Read) -> Vec<u8> {
        let mut v = Vec::new();
        r.read_to_end(&mut v).unwrap();
        v
    }

    #[test]
    fn media_types() {
        use Compression::*;
        let cases = [
            ("application/vnd.oci.image.layer.v1.tar", Some(None)),
            ("application/vnd.oci.image.layer.v1.tar+gzip", Some(Gzip)),
            ("application/vnd.oci.image.layer.v1.tar+zstd", Some(Zstd)),
            (
                "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                Some(Gzip),
            ),
            (
                "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
                Some(Zstd),
            ),
            ("application/vnd.docker.image.rootfs.diff.tar.gzip", Some(Gzip)),
            (
                "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                Some(Gzip),
            ),
            ("application/vnd.docker.image.rootfs.diff.tar", Some(None)),
            ("application/vnd.oci.image.layer.v1.tar+gzip; foo=bar", Some(Gzip)),
            (
                "application/vnd.oci.image.layer.v1.tar+gzip+encrypted",
                Option::None,
            ),
            ("application/vnd.oci.image.config.v1+json", Option::None),
        ];
        for (mt, want) in cases {
            assert_eq!(Compression::from_media_type(mt), want, "{mt}");
        }
        for c in [None, Gzip, Zstd] {
            assert_eq!(Compression::from_media_type(c.oci_media_type()), Some(c));
            assert_eq!(Compression::from_media_type(c.docker_media_type()), Some(c));
            assert_eq!(c.to_string().parse::<Compression>().unwrap(), c);
            assert!(c.oci_media_type().ends_with(c.media_type_suffix()));
        }
    }

    #[test]
    fn sniffing() {
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(
            Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Compression::Zstd
        );
        assert_eq!(Compression::sniff(&[0x50, 0x2a, 0x4d, 0x18]), Compression::Zstd);
        assert_eq!(Compression::sniff(b"etc/passwd"), Compression::None);
        assert_eq!(Compression::sniff(b""), Compression::None);
    }

    #[test]
    fn magic_beats_hint() {
        let data = b"hello world, this is a test payload".repeat(100);
        let gz = gzip(&data);
        let zs = zstd::encode_all(&data[..], 3).unwrap();
        for hint in [
            None,
            Some(Compression::None),
            Some(Compression::Gzip),
            Some(Compression::Zstd),
        ] {
            let (c, mut r) = decompress(&gz[..], hint).unwrap();
            assert_eq!(c, Compression::Gzip);
            assert_eq!(read_all(&mut r), data);
            let (c, mut r) = decompress(&zs[..], hint).unwrap();
            assert_eq!(c, Compression::Zstd);
            assert_eq!(read_all(&mut r), data);
            let (c, mut r) = decompress(&data[..], hint).unwrap();
            assert_eq!(c, Compression::None);
            assert_eq!(read_all(&mut r), data);
        }
    }

    #[test]
    fn concatenated_gzip_members() {
        let mut gz = gzip(b"first ");
        gz.extend(gzip(b"second"));
        let (_, mut r) = decompress(&gz[..], Some(Compression::Gzip)).unwrap();
        assert_eq!(read_all(&mut r), b"first second");
    }

    #[test]
    fn tiny_buffers_do_not_lose_bytes() {
        let data = b"0123456789abcdef".repeat(50);
        let gz = gzip(&data);
        // A 1-byte BufReader makes fill_buf return too little to sniff.
        let (c, mut r) = decompress(BufReader::with_capacity(1, &gz[..]), None).unwrap();
        assert_eq!(c, Compression::Gzip);
        assert_eq!(read_all(&mut r), data);
        let (c, mut r) = decompress(BufReader::with_capacity(3, &data[..]), None).unwrap();
        assert_eq!(c, Compression::None);
        assert_eq!(read_all(&mut r), data);
        let (c, mut r) = decompress(&b"ab"[..], Some(Compression::Gzip)).unwrap();
        assert_eq!(c, Compression::None);
        assert_eq!(read_all(&mut r), b"ab");
        let (c, mut r) = decompress(&b""[..], Some(Compression::Gzip)).unwrap();
        assert_eq!(c, Compression::None);
        assert!(read_all(&mut r).is_empty());
    }

    #[test]
    fn unsupported_formats_are_named() {
        let xz = [0xfd, b'7', b'z', b'X', b'Z', 0, 0, 4, 0xe6, 0xd6, 0xb4, 0x46];
        let err = decompress(&xz[..], None).err().unwrap();
        assert!(err.to_string().contains("xz"), "{err}");
        let bz = b"BZh91AY&SY\x00\x00\x00";
        let err = decompress(&bz[..], None).err().unwrap();
        assert!(err.to_string().contains("bzip2"), "{err}");
    }
}
