//! Exit codes as Podman uses them, and an error that carries one.

/// The engine itself failed (bad input, store error): Podman's 125.
pub const ENGINE_ERROR: i32 = 125;

/// An error with a specific exit code; `message` is printed as `Error: ...` when present.
#[derive(Debug)]
pub struct Exit {
    pub code: i32,
    pub message: Option<String>,
    /// Output to print before exiting (what a partly successful command did).
    pub stdout: Option<String>,
}

impl Exit {
    pub fn silent(code: i32) -> Exit {
        Exit {
            code,
            message: None,
            stdout: None,
        }
    }

    pub fn with(code: i32, message: impl Into<String>) -> Exit {
        Exit {
            code,
            message: Some(message.into()),
            stdout: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Exit {
        Exit::with(ENGINE_ERROR, message)
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message.as_deref().unwrap_or(""))
    }
}

impl std::error::Error for Exit {}
