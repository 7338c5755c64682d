//! The image store: content-addressed blobs, extracted layers keyed by chain ID, and image records.
//!
//! It knows blobs, layers, images and rootfs mounts, and nothing about containers or registries.

pub mod digest;

pub use digest::Digest;
pub mod compression;
pub mod extract;
