//! The engine's error type. The CLI prints it as one `Error: ...` line and picks the exit code.

use crate::reference::ReferenceError;
use image_store::StoreError;
use std::io;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error(transparent)]
    Format(#[from] crate::format::FormatError),
    #[error("no container with name or ID {0:?} found: no such container")]
    ContainerNotKnown(String),
    #[error("the container name {0:?} is already in use by {1}: choose another name or use --replace")]
    NameInUse(String, String),
    #[error("no volume with name {0:?} found: no such volume")]
    VolumeNotKnown(String),
    #[error(
        "volume {volume} is being used by the following container(s): {containers}: volume is being used"
    )]
    VolumeInUse { volume: String, containers: String },
    #[error("{0}: image not known")]
    ImageNotKnown(String),
    #[error("short-name {name:?} matches several images: {candidates}")]
    AmbiguousName { name: String, candidates: String },
    #[error("image {image} is in use by container(s) {containers}: use --force to remove them too")]
    ImageInUse { image: String, containers: String },
    #[error("{context}: {source}")]
    Io { context: String, source: io::Error },
    #[error("{0}")]
    InvalidArchive(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    Config(String),
    /// A registry refused or failed: `reference` is what was asked for, `cause` Podman's wording of why.
    #[error("initializing source docker://{reference}: {cause}")]
    Registry {
        reference: String,
        cause: String,
        not_found: bool,
    },
    /// The container could not be started; the runtime's message.
    #[error("{0}")]
    Runtime(String),
    #[error("{0}")]
    ContainerState(String),
    /// `-u NAME` that the container's /etc/passwd does not have: Podman's exit code for it is 126.
    #[error("{0}")]
    UserNotFound(String),
    #[error("cannot remove container {0} as it is running - running or paused containers cannot be removed without force: container state improper")]
    ContainerRunning(String),
    /// The monitor could not start the container: `code` is Podman's exit code for it (125, 126, 127).
    #[error("{message}")]
    StartFailed { code: i32, message: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub trait IoContext<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Io {
            context: context(),
            source,
        })
    }
}
