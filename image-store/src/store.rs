//! The on-disk store and its transactions.
//!
//! Layout under the root:
//! - `blobs/sha256/<hex>`: verified content (manifests, configs, layer blobs as distributed);
//! - `layers/<chain-id hex>/diff/` and `layer.json`: extracted layers, shared by every image using them;
//! - `images.json`: the image records;
//! - `tmp/`: staging directories of transactions in progress, each flock'ed by its owner;
//! - `store.lock`: the store-wide lock taken for every change.
//!
//! A change is staged in its own directory (blobs written and verified, layers extracted) without the
//! lock, then committed under the lock by renames and one atomic rewrite of `images.json`. A crash
//! before commit leaves only a staging directory, which the next changing command removes; a crash
//! during commit leaves content no image references, which garbage collection removes.

use crate::atomic::{sync_parent, write_atomic};
use crate::digest::{Digest, HashingWriter};
use crate::error::{IoContext, Result, StoreError};
use crate::images::ImageDb;
use crate::lock::{self, Lock};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Metadata kept beside each extracted layer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LayerInfo {
    pub chain_id: Digest,
    pub diff_id: Digest,
    pub parent: Option<Digest>,
    /// Size of the uncompressed tar stream.
    pub size: u64,
    pub created: DateTime<Utc>,
}

/// Computes the chain ID of a layer from its parent's chain ID and its own diff ID (OCI image spec).
pub fn chain_id(parent: Option<&Digest>, diff_id: &Digest) -> Digest {
    match parent {
        None => diff_id.clone(),
        Some(p) => Digest::of_bytes(format!("{p} {diff_id}").as_bytes()),
    }
}

/// Chain IDs for a whole list of diff IDs, bottom layer first.
pub fn chain_ids(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut out: Vec<Digest> = Vec::with_capacity(diff_ids.len());
    for d in diff_ids {
        let next = chain_id(out.last(), d);
        out.push(next);
    }
    out
}

#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens the store at `root`, creating its directories when missing.
    pub fn open(root: &Path) -> Result<Store> {
        let store = Store {
            root: root.to_path_buf(),
        };
        for dir in [store.blob_dir(), store.layer_dir(), store.tmp_dir()] {
            if !dir.is_dir() {
                fs::create_dir_all(&dir).ctx(|| format!("creating {}", dir.display()))?;
            }
        }
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn blob_dir(&self) -> PathBuf {
        self.root.join("blobs/sha256")
    }

    fn layer_dir(&self) -> PathBuf {
        self.root.join("layers")
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    fn images_file(&self) -> PathBuf {
        self.root.join("images.json")
    }

    /// Takes the store-wide lock; every change to committed state happens while it is held.
    pub fn lock(&self) -> Result<Lock> {
        let p = self.root.join("store.lock");
        lock::exclusive(&p).ctx(|| format!("locking {}", p.display()))
    }

    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        self.blob_dir().join(d.hex())
    }

    pub fn has_blob(&self, d: &Digest) -> bool {
        self.blob_path(d).exists()
    }

    pub fn open_blob(&self, d: &Digest) -> Result<File> {
        File::open(self.blob_path(d)).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => StoreError::BlobUnknown(d.clone()),
            _ => StoreError::Io {
                context: format!("opening blob {d}"),
                source: e,
            },
        })
    }

    pub fn read_blob(&self, d: &Digest) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        self.open_blob(d)?
            .read_to_end(&mut buf)
            .ctx(|| format!("reading blob {d}"))?;
        Ok(buf)
    }

    /// The directory holding an extracted layer's files (an overlay lowerdir).
    pub fn layer_diff_path(&self, chain: &Digest) -> PathBuf {
        self.layer_dir().join(chain.hex()).join("diff")
    }

    pub fn has_layer(&self, chain: &Digest) -> bool {
        self.layer_dir().join(chain.hex()).join("layer.json").exists()
    }

    pub fn layer_info(&self, chain: &Digest) -> Result<LayerInfo> {
        let p = self.layer_dir().join(chain.hex()).join("layer.json");
        let data = fs::read(&p).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => StoreError::LayerUnknown(chain.clone()),
            _ => StoreError::Io {
                context: format!("reading {}", p.display()),
                source: e,
            },
        })?;
        serde_json::from_slice(&data).map_err(|e| StoreError::Corrupt {
            path: p.display().to_string(),
            reason: e.to_string(),
        })
    }

    /// Reads the committed image records. No lock is needed: the file is only ever replaced whole.
    pub fn images(&self) -> Result<ImageDb> {
        let p = self.images_file();
        match fs::read(&p) {
            Ok(data) => serde_json::from_slice(&data).map_err(|e| StoreError::Corrupt {
                path: p.display().to_string(),
                reason: e.to_string(),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(ImageDb::default()),
            Err(e) => Err(StoreError::Io {
                context: format!("reading {}", p.display()),
                source: e,
            }),
        }
    }

    /// Replaces the image records; the caller proves it holds the store lock.
    pub fn write_images_locked(&self, _held: &Lock, db: &ImageDb) -> Result<()> {
        self.write_images(db)
    }

    fn write_images(&self, db: &ImageDb) -> Result<()> {
        let p = self.images_file();
        let data = serde_json::to_vec(db).expect("image records serialise");
        write_atomic(&p, &data).ctx(|| format!("writing {}", p.display()))
    }

    /// Changes image records under the store lock. `f`'s error aborts without writing.
    pub fn update_images<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut ImageDb) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let _lock = self.lock()?;
        self.cleanup_locked()?;
        let mut db = self.images()?;
        let out = f(&mut db)?;
        self.write_images(&db)?;
        Ok(out)
    }

    /// Starts a transaction: a private staging directory for blobs and layers.
    pub fn begin(&self) -> Result<Transaction<'_>> {
        let _lock = self.lock()?;
        self.cleanup_locked()?;
        let dir = self
            .tmp_dir()
            .join(format!("stage-{}-{}", std::process::id(), nanos()));
        fs::create_dir_all(dir.join("blobs")).ctx(|| format!("creating {}", dir.display()))?;
        fs::create_dir_all(dir.join("layers")).ctx(|| format!("creating {}", dir.display()))?;
        let handle = File::open(&dir).ctx(|| format!("opening {}", dir.display()))?;
        let held = lock::try_exclusive(handle)
            .ctx(|| format!("locking {}", dir.display()))?
            .expect("a new staging directory is unlocked");
        Ok(Transaction {
            store: self,
            dir,
            _held: held,
        })
    }

    /// Removes leftovers of killed commands: unlocked staging directories and half-deleted layers.
    /// Must be called with the store lock held (so no new staging directory is between creation and flock).
    fn cleanup_locked(&self) -> Result<()> {
        let tmp = self.tmp_dir();
        let entries = match fs::read_dir(&tmp) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(StoreError::Io {
                    context: format!("reading {}", tmp.display()),
                    source: e,
                })
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(handle) = File::open(&path) else { continue };
            if let Ok(Some(_abandoned)) = lock::try_exclusive(handle) {
                remove_any(&path).ctx(|| format!("removing leftover {}", path.display()))?;
            }
        }
        Ok(())
    }

    /// Deletes every blob and layer that no image references. Call with the lock held and `db` current.
    pub fn collect_garbage(&self, db: &ImageDb) -> Result<()> {
        let mut blobs: HashSet<&str> = HashSet::new();
        let mut layers: HashSet<&str> = HashSet::new();
        for img in &db.images {
            blobs.extend(img.blobs().map(|d| d.hex()));
            layers.extend(img.layers.iter().map(|l| l.chain_id.hex()));
        }
        for entry in fs::read_dir(self.layer_dir())
            .ctx(|| "reading layers".into())?
            .flatten()
        {
            let name = entry.file_name();
            if !layers.contains(name.to_string_lossy().as_ref()) {
                // Rename first, so a crash mid-delete never leaves a half-removed layer that looks whole.
                let doomed = self
                    .tmp_dir()
                    .join(format!("gc-{}-{}", name.to_string_lossy(), nanos()));
                fs::rename(entry.path(), &doomed)
                    .ctx(|| format!("removing layer {}", name.to_string_lossy()))?;
                remove_any(&doomed).ctx(|| format!("removing {}", doomed.display()))?;
            }
        }
        for entry in fs::read_dir(self.blob_dir())
            .ctx(|| "reading blobs".into())?
            .flatten()
        {
            let name = entry.file_name();
            if !blobs.contains(name.to_string_lossy().as_ref()) {
                fs::remove_file(entry.path()).ctx(|| format!("removing blob {}", name.to_string_lossy()))?;
            }
        }
        Ok(())
    }

    /// Counts of what the store holds, for `info`.
    pub fn layer_count(&self) -> usize {
        fs::read_dir(self.layer_dir()).map(|d| d.count()).unwrap_or(0)
    }
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn remove_any(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Staged blobs and layers, invisible to every other command until [`Transaction::commit`].
/// Dropping a transaction without committing removes its staging directory.
pub struct Transaction<'s> {
    store: &'s Store,
    dir: PathBuf,
    _held: Lock,
}

impl Transaction<'_> {
    pub fn store(&self) -> &Store {
        self.store
    }

    fn staged_blob(&self, d: &Digest) -> PathBuf {
        self.dir.join("blobs").join(d.hex())
    }

    /// Writes a blob, hashing it as it streams; a digest mismatch leaves nothing behind.
    /// Returns the digest and size. A blob the store already has is verified and dropped.
    pub fn put_blob(&self, mut r: impl Read, expected: Option<&Digest>) -> Result<(Digest, u64)> {
        let tmp = self.dir.join("blobs").join(format!(".incoming-{}", nanos()));
        let result = (|| {
            let f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
                .ctx(|| format!("creating {}", tmp.display()))?;
            let mut w = HashingWriter::new(io::BufWriter::with_capacity(256 * 1024, f));
            io::copy(&mut r, &mut w).ctx(|| "writing blob".to_string())?;
            let (buf, digest, size) = w.finish();
            let f = buf
                .into_inner()
                .map_err(|e| e.into_error())
                .ctx(|| "writing blob".to_string())?;
            if let Some(exp) = expected {
                if *exp != digest {
                    return Err(StoreError::DigestMismatch {
                        what: format!("blob {exp}"),
                        expected: exp.clone(),
                        actual: digest,
                    });
                }
            }
            f.sync_all().ctx(|| "syncing blob".to_string())?;
            fs::rename(&tmp, self.staged_blob(&digest)).ctx(|| format!("staging blob {digest}"))?;
            Ok((digest, size))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    /// A writer for a blob that arrives in pieces (a download); [`BlobWriter::finish`] verifies it.
    pub fn blob_writer(&self, expected: Digest) -> Result<BlobWriter> {
        let tmp = self.dir.join("blobs").join(format!(".incoming-{}", nanos()));
        let f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .ctx(|| format!("creating {}", tmp.display()))?;
        Ok(BlobWriter {
            inner: Some(HashingWriter::new(io::BufWriter::with_capacity(256 * 1024, f))),
            tmp,
            target: self.staged_blob(&expected),
            expected,
        })
    }

    pub fn put_blob_bytes(&self, data: &[u8]) -> Result<Digest> {
        self.put_blob(data, None).map(|(d, _)| d)
    }

    /// Path of a blob staged here or already committed.
    pub fn blob_path(&self, d: &Digest) -> Result<PathBuf> {
        let staged = self.staged_blob(d);
        if staged.exists() {
            return Ok(staged);
        }
        let committed = self.store.blob_path(d);
        if committed.exists() {
            return Ok(committed);
        }
        Err(StoreError::BlobUnknown(d.clone()))
    }

    pub fn read_blob(&self, d: &Digest) -> Result<Vec<u8>> {
        let p = self.blob_path(d)?;
        fs::read(&p).ctx(|| format!("reading blob {d}"))
    }

    /// Extracts a layer blob into the staging area under its chain ID and checks its diff ID.
    /// `media_type` picks the decompressor; the magic bytes overrule a wrong one.
    pub fn extract_layer(
        &self,
        blob: &Digest,
        media_type: Option<&str>,
        parent: Option<&Digest>,
        expected_diff_id: &Digest,
        opts: &crate::extract::ExtractOptions,
    ) -> Result<LayerInfo> {
        let chain = chain_id(parent, expected_diff_id);
        let layer_dir = self.dir.join("layers").join(chain.hex());
        let result = (|| {
            let diff = layer_dir.join("diff");
            fs::create_dir_all(&diff).ctx(|| format!("creating {}", diff.display()))?;
            let file = File::open(self.blob_path(blob)?).ctx(|| format!("opening blob {blob}"))?;
            let hint = media_type.and_then(crate::compression::Compression::from_media_type);
            let (_, reader) =
                crate::compression::decompress(io::BufReader::with_capacity(256 * 1024, file), hint)
                    .ctx(|| format!("reading layer {blob}"))?;
            let stats =
                crate::extract::extract_tar(reader, &diff, opts).map_err(|source| StoreError::Extract {
                    layer: blob.clone(),
                    source,
                })?;
            if &stats.diff_id != expected_diff_id {
                return Err(StoreError::DigestMismatch {
                    what: format!("uncompressed layer {blob}"),
                    expected: expected_diff_id.clone(),
                    actual: stats.diff_id,
                });
            }
            let info = LayerInfo {
                chain_id: chain.clone(),
                diff_id: stats.diff_id,
                parent: parent.cloned(),
                size: stats.size,
                created: Utc::now(),
            };
            let meta = layer_dir.join("layer.json");
            write_atomic(&meta, &serde_json::to_vec(&info).expect("layer info serialises"))
                .ctx(|| format!("writing {}", meta.display()))?;
            Ok(info)
        })();
        if result.is_err() {
            let _ = remove_any(&layer_dir);
        }
        result
    }

    /// Moves everything staged into the store and applies `f` to the image records, all under the
    /// store lock. Content the store already has is kept and the staged copy dropped.
    pub fn commit<T, E: From<StoreError>>(
        self,
        f: impl FnOnce(&mut ImageDb) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let store = self.store;
        let _lock = store.lock()?;
        for (staged_dir, target_dir) in [
            (self.dir.join("blobs"), store.blob_dir()),
            (self.dir.join("layers"), store.layer_dir()),
        ] {
            let entries = fs::read_dir(&staged_dir).ctx(|| format!("reading {}", staged_dir.display()))?;
            for entry in entries.flatten() {
                let name = entry.file_name();
                if name.to_string_lossy().starts_with('.') {
                    continue;
                }
                let target = target_dir.join(&name);
                if !target.exists() {
                    fs::rename(entry.path(), &target).ctx(|| format!("committing {}", target.display()))?;
                }
            }
            sync_parent(&target_dir.join("x")).ctx(|| format!("syncing {}", target_dir.display()))?;
        }
        let mut db = store.images()?;
        let out = f(&mut db)?;
        store.write_images(&db)?;
        Ok(out)
    }
}

/// A blob being written into a transaction's staging area; dropped without [`finish`](Self::finish), it
/// leaves nothing behind.
pub struct BlobWriter {
    inner: Option<HashingWriter<io::BufWriter<File>>>,
    tmp: PathBuf,
    target: PathBuf,
    expected: Digest,
}

impl BlobWriter {
    /// Checks the digest and makes the blob part of the transaction; returns its size.
    pub fn finish(mut self) -> Result<u64> {
        let (buf, digest, size) = self.inner.take().expect("finish once").finish();
        let f = buf
            .into_inner()
            .map_err(|e| e.into_error())
            .ctx(|| "writing blob".to_string())?;
        if digest != self.expected {
            return Err(StoreError::DigestMismatch {
                what: format!("blob {}", self.expected),
                expected: self.expected.clone(),
                actual: digest,
            });
        }
        f.sync_all().ctx(|| "syncing blob".to_string())?;
        fs::rename(&self.tmp, &self.target).ctx(|| format!("staging blob {digest}"))?;
        Ok(size)
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.as_mut().expect("not finished").write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.as_mut().expect("not finished").flush()
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.tmp);
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        let _ = remove_any(&self.dir);
    }
}

/// Writes `data` into `w` and flushes; a helper for archive writers that stream blobs.
pub fn copy_blob(store: &Store, d: &Digest, w: &mut impl Write) -> Result<u64> {
    let mut f = store.open_blob(d)?;
    io::copy(&mut f, w).ctx(|| format!("copying blob {d}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_writer_verifies_and_leaves_nothing_on_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let good = Digest::of_bytes(b"hello world");
        let tx = store.begin().unwrap();
        let mut w = tx.blob_writer(good.clone()).unwrap();
        w.write_all(b"hello ").unwrap();
        w.write_all(b"world").unwrap();
        assert_eq!(w.finish().unwrap(), 11);
        let mut bad = tx.blob_writer(Digest::of_bytes(b"other")).unwrap();
        bad.write_all(b"hello world").unwrap();
        assert!(matches!(bad.finish(), Err(StoreError::DigestMismatch { .. })));
        let staged: Vec<_> = fs::read_dir(tx.dir.join("blobs"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(
            staged,
            vec![std::ffi::OsString::from(good.hex())],
            "only the verified blob remains"
        );
        tx.commit(|_| Ok::<_, StoreError>(())).unwrap();
        assert!(store.has_blob(&good));
    }
}
