//! Seccomp for containers, as Podman does it: a default profile with the same rules as Podman's
//! (`containers/common`'s `seccomp.json`), `--security-opt seccomp=unconfined` and
//! `seccomp=PROFILE.json` in the Podman/Docker format, resolved for the container's capabilities and
//! architecture into the spec's `linux.seccomp`, which the runtime compiles to BPF with seccompiler.

pub mod compile;
pub mod profile;
mod syscalls;

pub use compile::{compile, kernel_version, resolve, HostArch};
pub use profile::Profile;
pub use seccompiler::BpfProgram;
