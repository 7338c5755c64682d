//! `login` and `logout`: credentials in auth.json, checked against the registry first.

use crate::cli::Context;
use crate::exit::Exit;
use clap::{ArgAction, Args};
use pkg::registry::{auth, login, TransportOptions};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie login quay.io\n  selkie login --username user --password-stdin quay.io < password.txt\n  selkie login --tls-verify=false -u user -p pass localhost:5000"
)]
pub struct LoginArgs {
    /// Path of the authentication file
    #[arg(long, value_name = "FILE")]
    pub authfile: Option<PathBuf>,
    /// Use certificates at the specified path to access the registry
    #[arg(long, value_name = "PATH")]
    pub cert_dir: Option<PathBuf>,
    /// Return the current login user for the registry
    #[arg(long)]
    pub get_login: bool,
    /// Password for registry
    #[arg(short, long)]
    pub password: Option<String>,
    /// Take the password from stdin
    #[arg(long)]
    pub password_stdin: bool,
    /// Require HTTPS and verify certificates when contacting registries
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set)]
    pub tls_verify: Option<bool>,
    /// Username for registry
    #[arg(short, long)]
    pub username: Option<String>,
    /// The registry (host[:port])
    pub registry: String,
}

impl LoginArgs {
    pub fn run(self, _ctx: &Context) -> anyhow::Result<()> {
        let (key, registry) = auth::key_from_argument(&self.registry)?;
        let authfile = self.authfile.as_deref();
        if self.get_login {
            return match auth::get_login(authfile, &key)? {
                Some(user) => {
                    println!("{user}");
                    Ok(())
                }
                None => Err(Exit::usage(format!("not logged into {key}")).into()),
            };
        }
        if self.password.is_some() && self.password_stdin {
            return Err(Exit::usage("--password and --password-stdin are mutually exclusive").into());
        }
        let opts = TransportOptions {
            tls_verify: self.tls_verify,
            cert_dir: self.cert_dir.clone(),
            creds: None,
            authfile: self.authfile.clone(),
        };
        if self.username.is_none() && self.password.is_none() && !self.password_stdin {
            if let Some((user, password)) = auth::credentials_for(authfile, &registry, "")? {
                println!("Authenticating with existing credentials for {key}");
                login::verify(&registry, &user, &password, &opts)?;
                println!("Existing credentials are valid. Already logged in to {key}");
                return Ok(());
            }
        }
        let user = match self.username {
            Some(u) => u,
            None => prompt("Username: ", true)?,
        };
        let password = if self.password_stdin {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\n', '\r']).to_string()
        } else {
            match self.password {
                Some(p) => p,
                None => prompt("Password: ", false)?,
            }
        };
        if user.is_empty() || password.is_empty() {
            return Err(Exit::usage("username and password are required").into());
        }
        login::verify(&registry, &user, &password, &opts)?;
        auth::store(authfile, &key, &user, &password)?;
        println!("Login Succeeded!");
        Ok(())
    }
}

/// Asks on the terminal; without one, there is nobody to ask.
fn prompt(question: &str, echo: bool) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        anyhow::bail!(
            "cannot prompt for {} without a terminal",
            question.trim_end_matches(": ").to_lowercase()
        );
    }
    eprint!("{question}");
    std::io::stderr().flush()?;
    let saved = nix::sys::termios::tcgetattr(&stdin)?;
    if !echo {
        let mut quiet = saved.clone();
        quiet.local_flags.remove(nix::sys::termios::LocalFlags::ECHO);
        nix::sys::termios::tcsetattr(&stdin, nix::sys::termios::SetArg::TCSANOW, &quiet)?;
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if !echo {
        let _ = nix::sys::termios::tcsetattr(&stdin, nix::sys::termios::SetArg::TCSANOW, &saved);
        eprintln!();
    }
    read?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie logout quay.io\n  selkie logout --authfile authdir/myauths.json quay.io\n  selkie logout --all"
)]
pub struct LogoutArgs {
    /// Remove the cached credentials for all registries in the auth file
    #[arg(short, long)]
    pub all: bool,
    /// Path of the authentication file
    #[arg(long, value_name = "FILE")]
    pub authfile: Option<PathBuf>,
    /// The registry (host[:port])
    pub registry: Option<String>,
}

impl LogoutArgs {
    pub fn run(self, _ctx: &Context) -> anyhow::Result<()> {
        let authfile = self.authfile.as_deref();
        if self.all {
            auth::remove_all(authfile)?;
            println!("Removed login credentials for all registries");
            return Ok(());
        }
        let Some(arg) = &self.registry else {
            return Err(Exit::usage("registry must be given").into());
        };
        let (key, _) = auth::key_from_argument(arg)?;
        if auth::remove(authfile, &key)? {
            println!("Removed login credentials for {key}");
            Ok(())
        } else {
            Err(Exit::usage(format!("not logged into {key}")).into())
        }
    }
}
