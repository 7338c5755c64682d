//! Advisory file locks (flock) that serialise changes to the store.
//!
//! A lock is released when its file descriptor closes, so a process killed while holding it never
//! leaves the store locked.

use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// A held flock; dropping it unlocks.
pub struct Lock {
    _held: Flock<File>,
}

fn open_lock_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

fn take(file: File, arg: FlockArg) -> io::Result<Lock> {
    Flock::lock(file, arg)
        .map(|held| Lock { _held: held })
        .map_err(|(_, e)| io::Error::from(e))
}

/// Blocks until this process holds the exclusive lock on `path`.
pub fn exclusive(path: &Path) -> io::Result<Lock> {
    take(open_lock_file(path)?, FlockArg::LockExclusive)
}

/// Blocks until this process holds a shared lock on `path`.
pub fn shared(path: &Path) -> io::Result<Lock> {
    take(open_lock_file(path)?, FlockArg::LockShared)
}

/// Takes the exclusive lock on an already open file or directory without waiting; `None` when
/// another process holds it.
pub fn try_exclusive(file: File) -> io::Result<Option<Lock>> {
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(held) => Ok(Some(Lock { _held: held })),
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(None),
        Err((_, e)) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_excludes_other_descriptors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        let held = exclusive(&p).unwrap();
        assert!(try_exclusive(File::open(&p).unwrap()).unwrap().is_none());
        drop(held);
        assert!(try_exclusive(File::open(&p).unwrap()).unwrap().is_some());
    }
}
