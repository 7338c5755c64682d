//! systemd integration: service units for existing containers (`generate systemd`, [`units`]) and the
//! Quadlet generator that turns `.container` files into services ([`quadlet`]), over one reader and
//! writer of the unit-file syntax ([`unitfile`]).
//!
//! Text in, text out: nothing here talks to systemd, and only [`quadlet::Service::write_to`] writes files.

pub mod quadlet;
pub mod unitfile;
pub mod units;
