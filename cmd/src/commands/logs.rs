//! `logs`: print the logs of one or more containers.

use crate::cli::Context;
use crate::exit::Exit;
use anyhow::Context as _;
use clap::Args;
use pkg::container::lifecycle;
use pkg::container::logfile::{self, ReadOptions, Stream};
use pkg::container::store::{self, ContainerRecord};
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Mutex;

/// Podman's `--color` palette, one color a container in turn; every colored line ends with `RESET`.
const COLORS: [&str; 7] = [
    "\x1b[37m", "\x1b[31m", "\x1b[33m", "\x1b[34m", "\x1b[35m", "\x1b[36m", "\x1b[32m",
];
const RESET: &str = "\x1b[0m";

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  selkie logs ctrID\n  selkie logs --names ctrID1 ctrID2\n  selkie logs --tail 2 mywebserver\n  selkie logs --follow --since 10m ctrID\n  selkie logs mywebserver mydbserver"
)]
pub struct LogsArgs {
    /// Output the containers with different colors in the log.
    #[arg(long)]
    pub color: bool,
    /// Show extra details provided to the logs
    #[arg(long, hide = true)]
    pub details: bool,
    /// Follow log output.  The default is false
    #[arg(short, long)]
    pub follow: bool,
    /// Act on the latest container selkie is aware of
    #[arg(short, long)]
    pub latest: bool,
    /// Output the container name in the log
    #[arg(short, long)]
    pub names: bool,
    /// Show logs since TIMESTAMP
    #[arg(long, value_name = "TIMESTAMP")]
    pub since: Option<String>,
    /// Output the specified number of LINES at the end of the logs.  Defaults to -1, which prints all lines
    #[arg(long, value_name = "LINES", default_value_t = -1, allow_negative_numbers = true)]
    pub tail: i64,
    /// Output the timestamps in the log
    #[arg(short, long)]
    pub timestamps: bool,
    /// Show logs until TIMESTAMP
    #[arg(long, value_name = "TIMESTAMP")]
    pub until: Option<String>,
    /// Containers whose logs to print
    #[arg(value_name = "CONTAINER", add = crate::complete::containers(crate::complete::State::Any))]
    pub containers: Vec<String>,
}

/// One container to print: where its log is and how its lines are marked.
struct Source {
    record: ContainerRecord,
    log: PathBuf,
    /// The container's name or short ID and a space, when several containers are printed.
    prefix: String,
    color: Option<&'static str>,
}

impl LogsArgs {
    pub fn run(self, ctx: &Context) -> anyhow::Result<()> {
        if self.latest && !self.containers.is_empty() {
            return Err(Exit::usage("--latest and containers cannot be used together").into());
        }
        if !self.latest && self.containers.is_empty() {
            return Err(Exit::usage("specify at least one container name or ID to log").into());
        }
        let time_flag = |flag: &str, value: &Option<String>, since: bool| {
            let parse = |v: &String| {
                logfile::parse_time(v, since).map_err(|e| Exit::usage(format!("parsing --{flag} {v:?}: {e}")))
            };
            value.as_ref().map(parse).transpose()
        };
        let opts = ReadOptions {
            tail: usize::try_from(self.tail).ok(),
            since: time_flag("since", &self.since, true)?,
            until: time_flag("until", &self.until, false)?,
            timestamps: self.timestamps,
        };
        let engine = ctx.engine()?;
        let records: Vec<ContainerRecord> = if self.latest {
            let db = store::read(&engine.store)?;
            let latest = db.containers.into_iter().max_by_key(|c| c.created);
            vec![latest.ok_or_else(|| Exit::usage("no such container"))?]
        } else {
            // Every name is looked up before anything prints, as Podman does.
            let find = |name: &String| lifecycle::find(&engine, name);
            self.containers.iter().map(find).collect::<Result<_, _>>()?
        };
        let several = records.len() > 1;
        let sources: Vec<Source> = records
            .into_iter()
            .enumerate()
            .map(|(i, record)| Source {
                log: logfile::log_path(engine.store.root(), &record.id),
                prefix: match (several, self.names) {
                    (false, _) => String::new(),
                    (true, true) => format!("{} ", record.name),
                    (true, false) => format!("{} ", &record.id[..12.min(record.id.len())]),
                },
                color: self.color.then_some(COLORS[i % COLORS.len()]),
                record,
            })
            .collect();

        let printer = Mutex::new(Printer::new(self.follow));
        let print = |source: &Source| -> anyhow::Result<()> {
            let out = &mut |stream: Stream, text: &[u8]| {
                let mut printer = printer.lock().unwrap_or_else(|e| e.into_inner());
                printer.line(stream, source.prefix.as_bytes(), source.color, text)
            };
            let done = if self.follow {
                // The monitor records the exit only after its last write to the log.
                let running = || lifecycle::state_of(&engine, &source.record.id).is_running();
                logfile::follow(&source.log, 0, &opts, out, &running)
            } else {
                logfile::read(&source.log, &opts, out).map(drop)
            };
            match done {
                // The reader went away (`| head`): nothing more to do.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                done => done.with_context(|| format!("reading the log of container {}", source.record.name)),
            }
        };
        if self.follow && sources.len() > 1 {
            // Podman follows every container at once; their lines interleave as they come.
            std::thread::scope(|scope| {
                let followers: Vec<_> = sources.iter().map(|s| scope.spawn(|| print(s))).collect();
                followers
                    .into_iter()
                    .try_for_each(|f| f.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            })?;
        } else {
            sources.iter().try_for_each(print)?;
        }
        let mut printer = printer.into_inner().unwrap_or_else(|e| e.into_inner());
        match printer.stdout.flush() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            done => Ok(done?),
        }
    }
}

/// Writes the lines of every container: stdout buffered (flushed at each line when following), stderr
/// direct, stdout flushed before anything goes to stderr so that the two keep their order on a terminal.
struct Printer {
    stdout: io::BufWriter<io::Stdout>,
    follow: bool,
    line: Vec<u8>,
}

impl Printer {
    fn new(follow: bool) -> Printer {
        Printer {
            stdout: io::BufWriter::new(io::stdout()),
            follow,
            line: Vec::new(),
        }
    }

    /// Prints `text` (a line of the log, as `logfile` gives it) marked with the container's prefix and color.
    fn line(&mut self, stream: Stream, prefix: &[u8], color: Option<&str>, text: &[u8]) -> io::Result<()> {
        let (body, newline) = match text.strip_suffix(b"\n") {
            Some(body) => (body, true),
            None => (text, false),
        };
        self.line.clear();
        self.line.extend_from_slice(color.unwrap_or_default().as_bytes());
        self.line.extend_from_slice(prefix);
        self.line.extend_from_slice(body);
        if color.is_some() {
            self.line.extend_from_slice(RESET.as_bytes());
        }
        if newline {
            self.line.push(b'\n');
        }
        match stream {
            Stream::Stdout => {
                self.stdout.write_all(&self.line)?;
                if self.follow {
                    self.stdout.flush()?;
                }
                Ok(())
            }
            Stream::Stderr => {
                self.stdout.flush()?;
                io::stderr().write_all(&self.line)
            }
        }
    }
}
