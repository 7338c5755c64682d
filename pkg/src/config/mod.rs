//! Configuration files, parsed once into typed structs at the edge.

pub mod containers;
pub mod registries;
pub mod storage;
