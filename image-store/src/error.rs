//! The store's error type: every failure says what it was doing and on which object.

use crate::digest::{Digest, InvalidDigest};
use crate::extract::ExtractError;
use std::io;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{context}: {source}")]
    Io { context: String, source: io::Error },
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: Digest,
        actual: Digest,
    },
    #[error("extracting layer {layer}: {source}")]
    Extract { layer: Digest, source: ExtractError },
    #[error("store metadata {path} is unreadable: {reason}")]
    Corrupt { path: String, reason: String },
    #[error(transparent)]
    Digest(#[from] InvalidDigest),
    #[error("blob {0} is not in the store")]
    BlobUnknown(Digest),
    #[error("layer {0} is not in the store")]
    LayerUnknown(Digest),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Adds a description of the operation to an `io::Error`.
pub trait IoContext<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| StoreError::Io {
            context: context(),
            source,
        })
    }
}
