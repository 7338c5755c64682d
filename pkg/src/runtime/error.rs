//! What can go wrong when starting a container process, as the caller sees it.
//!
//! Failures inside the new process are reported to the parent as a step number, an index and an errno
//! (the child cannot format text); the parent turns them into [`RuntimeError::Setup`] with a sentence
//! naming the step and the path, or into one of the exec variants, which carry Podman's exit codes.

use nix::errno::Errno;

/// The error type of the built-in runtime.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The configuration asks for something invalid or contradictory.
    #[error("invalid container configuration: {0}")]
    InvalidSpec(String),
    /// The configuration asks for something this runtime does not do yet.
    #[error("{0} is not supported yet")]
    Unsupported(String),
    /// A system call selkie made itself, before or while creating the process, failed.
    #[error("{context}: {errno}")]
    Host { context: String, errno: Errno },
    /// A setup step inside the new process failed, e.g. `mounting proc at /proc: EPERM: ...`.
    #[error("{step}: {errno}")]
    Setup { step: String, errno: Errno },
    /// The command does not exist in the container (Podman exits 127).
    #[error("{}", not_found_message(.command, *.searched_path))]
    CommandNotFound {
        /// `process.args[0]` as given.
        command: String,
        /// Whether `$PATH` was searched (the command had no `/`).
        searched_path: bool,
    },
    /// The command exists but cannot be executed: not executable, a directory, not a binary the kernel
    /// can load (Podman exits 126).
    #[error("exec `{command}`: {}", .errno.desc().to_lowercase())]
    PermissionDenied { command: String, errno: Errno },
    /// `execve` failed for another reason.
    #[error("exec `{command}`: {errno}")]
    Exec { command: String, errno: Errno },
    /// The caller's `before_exec` callback failed; the process was killed.
    #[error("preparing the container process: {0}")]
    BeforeExec(Box<dyn std::error::Error + Send + Sync>),
    /// The process ended before it could report success or failure (e.g. it was killed).
    #[error("the container process ended during setup: {0}")]
    DiedDuringSetup(String),
}

fn not_found_message(command: &str, searched_path: bool) -> String {
    if searched_path {
        format!("executable file `{command}` not found in $PATH: No such file or directory")
    } else {
        format!("executable file `{command}` not found: No such file or directory")
    }
}

impl RuntimeError {
    /// The exit code Podman uses for this failure, when it has a specific one: 127 when the command
    /// was not found, 126 when it exists but could not be executed (`PermissionDenied`, and any other
    /// `execve` failure such as `ETXTBSY`). Setup and engine failures are the engine's to map.
    pub fn exit_code(&self) -> Option<i32> {
        match self {
            RuntimeError::CommandNotFound { .. } => Some(127),
            RuntimeError::PermissionDenied { .. } | RuntimeError::Exec { .. } => Some(126),
            _ => None,
        }
    }

    pub(crate) fn host(context: impl Into<String>, errno: Errno) -> Self {
        RuntimeError::Host {
            context: context.into(),
            errno,
        }
    }

    pub(crate) fn io(context: impl Into<String>, error: std::io::Error) -> Self {
        let errno = Errno::from_raw(error.raw_os_error().unwrap_or(libc::EIO));
        RuntimeError::Host {
            context: context.into(),
            errno,
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        RuntimeError::InvalidSpec(message.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_errors_read_like_podman_and_carry_exit_codes() {
        let e = RuntimeError::CommandNotFound {
            command: "foo".into(),
            searched_path: true,
        };
        assert_eq!(
            e.to_string(),
            "executable file `foo` not found in $PATH: No such file or directory"
        );
        assert_eq!(e.exit_code(), Some(127));
        let e = RuntimeError::CommandNotFound {
            command: "/bin/foo".into(),
            searched_path: false,
        };
        assert_eq!(
            e.to_string(),
            "executable file `/bin/foo` not found: No such file or directory"
        );
        let e = RuntimeError::PermissionDenied {
            command: "/etc".into(),
            errno: Errno::EACCES,
        };
        assert_eq!(e.to_string(), "exec `/etc`: permission denied");
        assert_eq!(e.exit_code(), Some(126));
        let e = RuntimeError::Setup {
            step: "mounting proc at /proc".into(),
            errno: Errno::EPERM,
        };
        assert_eq!(
            e.to_string(),
            "mounting proc at /proc: EPERM: Operation not permitted"
        );
        assert_eq!(e.exit_code(), None);
    }
}
