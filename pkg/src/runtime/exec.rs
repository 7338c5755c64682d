//! The last step: `execve` of `process.args` with `process.env`, looking a bare command name up in the
//! container's `$PATH` the way `execvp` does, inside the container (after `pivot_root`, as its user).
//!
//! The parent builds the candidate paths, argv and envp; the child tries the candidates in order. A
//! missing candidate (`ENOENT`, `ENOTDIR`) moves on; one that exists but cannot be executed (`EACCES`)
//! is remembered and the search goes on; any other error stops. Nothing found is Podman's 127, found but
//! not executable is 126.

use std::ffi::{c_char, CString};
use std::ptr;

use nix::errno::Errno;

use super::error::RuntimeError;
use super::syscall::Syscall;

/// The `PATH` used when the container's environment has none.
pub(crate) const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What to execute, prepared.
#[derive(Debug)]
pub(crate) struct ExecPlan {
    /// `args[0]` as given, for messages.
    command: String,
    /// Whether `$PATH` is searched.
    searched_path: bool,
    candidates: Vec<CString>,
    // The pointer arrays point into these; they live as long as the plan and never change.
    _argv: Vec<CString>,
    _envp: Vec<CString>,
    argv_ptrs: Vec<*const c_char>,
    envp_ptrs: Vec<*const c_char>,
}

fn cstrings(list: &[String], what: &str) -> Result<Vec<CString>, RuntimeError> {
    list.iter()
        .map(|s| {
            CString::new(s.as_str())
                .map_err(|_| RuntimeError::invalid(format!("{what} {s:?} contains a NUL byte")))
        })
        .collect()
}

fn pointers(list: &[CString]) -> Vec<*const c_char> {
    list.iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(ptr::null()))
        .collect()
}

impl ExecPlan {
    pub(crate) fn new(args: &[String], env: &[String]) -> Result<Self, RuntimeError> {
        let command = args
            .first()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| RuntimeError::invalid("process.args is empty"))?;
        let searched_path = !command.contains('/');
        let candidates = if searched_path {
            let path = env
                .iter()
                .rev()
                .find_map(|e| e.strip_prefix("PATH="))
                .unwrap_or(DEFAULT_PATH);
            let dirs: Vec<String> = path
                .split(':')
                .map(|dir| {
                    if dir.is_empty() {
                        format!("./{command}")
                    } else {
                        format!("{}/{command}", dir.trim_end_matches('/'))
                    }
                })
                .collect();
            cstrings(&dirs, "PATH entry")?
        } else {
            cstrings(std::slice::from_ref(command), "process.args[0]")?
        };
        let argv = cstrings(args, "process.args entry")?;
        let envp = cstrings(env, "process.env entry")?;
        Ok(ExecPlan {
            command: command.clone(),
            searched_path,
            candidates,
            argv_ptrs: pointers(&argv),
            envp_ptrs: pointers(&envp),
            _argv: argv,
            _envp: envp,
        })
    }

    /// Try every candidate; returns only on failure: the candidate index and the errno to report.
    pub(crate) fn exec(&self, sys: &dyn Syscall) -> (usize, Errno) {
        let mut denied = None;
        for (index, path) in self.candidates.iter().enumerate() {
            match sys.execve(path, &self.argv_ptrs, &self.envp_ptrs) {
                Errno::ENOENT | Errno::ENOTDIR | Errno::ENAMETOOLONG if self.searched_path => continue,
                Errno::EACCES if self.searched_path => {
                    denied.get_or_insert(index);
                }
                errno => return (index, errno),
            }
        }
        match denied {
            Some(index) => (index, Errno::EACCES),
            None => (0, Errno::ENOENT),
        }
    }

    /// The error for an `execve` failure reported by the child.
    pub(crate) fn error(&self, errno: Errno) -> RuntimeError {
        let command = self.command.clone();
        match errno {
            Errno::ENOENT | Errno::ENOTDIR => RuntimeError::CommandNotFound {
                command,
                searched_path: self.searched_path,
            },
            Errno::EACCES | Errno::EPERM | Errno::EISDIR | Errno::ENOEXEC => {
                RuntimeError::PermissionDenied { command, errno }
            }
            errno => RuntimeError::Exec { command, errno },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::syscall::recording::RecordingSyscall;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn bare_names_are_searched_in_the_container_path() {
        let plan = ExecPlan::new(&strings(&["ls", "-l"]), &strings(&["A=1", "PATH=/x:/y/:"])).unwrap();
        let sys = RecordingSyscall::new();
        sys.fail("execve /y/ls", Errno::EACCES);
        let (index, errno) = plan.exec(&sys);
        assert_eq!(sys.calls(), vec!["execve /x/ls", "execve /y/ls", "execve ./ls"]);
        assert_eq!((index, errno), (1, Errno::EACCES));
        assert!(matches!(plan.error(errno), RuntimeError::PermissionDenied { .. }));
        assert_eq!(plan.error(errno).exit_code(), Some(126));
    }

    #[test]
    fn nothing_found_is_command_not_found() {
        let plan = ExecPlan::new(&strings(&["nope"]), &[]).unwrap();
        let sys = RecordingSyscall::new();
        let (_, errno) = plan.exec(&sys);
        assert_eq!(sys.calls().len(), DEFAULT_PATH.split(':').count());
        assert_eq!(errno, Errno::ENOENT);
        assert_eq!(
            plan.error(errno).to_string(),
            "executable file `nope` not found in $PATH: No such file or directory"
        );
        assert_eq!(plan.error(errno).exit_code(), Some(127));
    }

    #[test]
    fn paths_are_executed_as_given() {
        let plan = ExecPlan::new(&strings(&["/bin/x"]), &strings(&["PATH=/a"])).unwrap();
        let sys = RecordingSyscall::new();
        sys.fail("execve /bin/x", Errno::ENOEXEC);
        assert_eq!(plan.exec(&sys), (0, Errno::ENOEXEC));
        assert_eq!(sys.calls(), vec!["execve /bin/x"]);
        assert!(ExecPlan::new(&[], &[]).is_err());
    }
}
