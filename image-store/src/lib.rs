//! The image store: content-addressed blobs, extracted layers keyed by chain ID, and image records.
//!
//! It knows blobs, layers, images and rootfs mounts, and nothing about containers or registries.
//! Every change goes through a [`store::Transaction`] or [`store::Store::update_images`], under the
//! store lock, with atomic file replacement, so a SIGKILL at any point leaves a readable store.

pub mod atomic;
pub mod compression;
pub mod digest;
pub mod error;
pub mod extract;
pub mod images;
pub mod lock;
pub mod store;

pub use digest::Digest;
pub use error::{Result, StoreError};
pub use images::{ImageDb, ImageLayer, ImageRecord};
pub use store::{BlobWriter, LayerInfo, Store, Transaction};
