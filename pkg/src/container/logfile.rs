//! The container log, `<container dir>/ctr.log`, in Podman's `k8s-file` format (conmon's `ctr_logging.c`,
//! the CRI log format).
//!
//! One record a line: `<time> <stream> <tag> <content>\n`. `time` is RFC 3339 with nine fractional digits
//! and the local offset (`2026-11-29T12:00:00.123456789+01:00`), `stream` is `stdout` or `stderr`, and
//! `tag` is `F` when the record ends a line of the container's output or `P` when the line goes on in the
//! stream's next record (the chunk read from the pipe ended mid-line; the `\n` after a `P` record is the
//! format's, not the container's). Content is stored as received, without escaping.
//!
//! The monitor writes through [`LogWriter`]; `logs` reads through [`read`] and [`follow`], which join the
//! partial records of a stream back into lines. This module owns the file's name and format and nothing
//! else: it never decides whether a container runs (callers say so) and never prints.

use super::paths::ContainerPaths;
use chrono::{DateTime, FixedOffset, Local, NaiveDate, NaiveDateTime, SecondsFormat, TimeDelta, Utc};
use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How often [`follow`] looks for appended records.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// The log of container `id` in the store rooted at `store_root`; the monitor and `logs` both ask here.
pub fn log_path(store_root: &Path, id: &str) -> PathBuf {
    ContainerPaths::new(store_root, id).dir.join("ctr.log")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    /// The name the log uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }

    fn parse(name: &[u8]) -> Option<Stream> {
        match name {
            b"stdout" => Some(Stream::Stdout),
            b"stderr" => Some(Stream::Stderr),
            _ => None,
        }
    }
}

/// Appends records to a log. Each [`LogWriter::write`] is one `write(2)` of whole records on an
/// `O_APPEND` descriptor, so readers see records in order and never two writes mixed within a record.
pub struct LogWriter {
    file: File,
    records: Vec<u8>,
}

impl LogWriter {
    /// Opens (creating it `0600`) the log for appending.
    pub fn open(path: &Path) -> io::Result<LogWriter> {
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)?;
        Ok(LogWriter {
            file,
            records: Vec::new(),
        })
    }

    /// Records `data`, read from the container's `stream`: a record for each line, and a `P` record for a
    /// last fragment without its newline. All records of one call share a timestamp, as conmon's do.
    pub fn write(&mut self, stream: Stream, data: &[u8]) -> io::Result<()> {
        self.write_at(Local::now().fixed_offset(), stream, data)
    }

    fn write_at(&mut self, time: DateTime<FixedOffset>, stream: Stream, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let stamp = time.to_rfc3339_opts(SecondsFormat::Nanos, false);
        self.records.clear();
        for chunk in data.split_inclusive(|&b| b == b'\n') {
            let partial = !chunk.ends_with(b"\n");
            self.records.extend_from_slice(stamp.as_bytes());
            self.records.push(b' ');
            self.records.extend_from_slice(stream.as_str().as_bytes());
            self.records
                .extend_from_slice(if partial { b" P " } else { b" F " });
            self.records.extend_from_slice(chunk);
            if partial {
                self.records.push(b'\n');
            }
        }
        self.file.write_all(&self.records)
    }

    /// Syncs the log to disk (conmon does when the container exits). Readers see records as soon as
    /// [`LogWriter::write`] returns; this is for durability only.
    pub fn flush(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }
}

/// One record of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    pub time: DateTime<FixedOffset>,
    pub stream: Stream,
    /// The line goes on in the stream's next record.
    pub partial: bool,
    /// As the container wrote it, without the newline that ends the record.
    pub content: Vec<u8>,
}

impl LogRecord {
    /// Parses one line of the log (without its newline); `None` when it is not a record.
    pub fn parse(line: &[u8]) -> Option<LogRecord> {
        let mut fields = line.splitn(4, |&b| b == b' ');
        let time = DateTime::parse_from_rfc3339(std::str::from_utf8(fields.next()?).ok()?).ok()?;
        let stream = Stream::parse(fields.next()?)?;
        let partial = match fields.next()? {
            b"P" => true,
            b"F" => false,
            _ => return None,
        };
        Some(LogRecord {
            time,
            stream,
            partial,
            content: fields.next().unwrap_or_default().to_vec(),
        })
    }
}

/// What to print of a log, as `podman logs` takes it.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// Only the last N lines (counted before `since`/`until` apply, as Podman does); `None` for all.
    pub tail: Option<usize>,
    /// Only lines stamped strictly after this.
    pub since: Option<DateTime<Utc>>,
    /// Only lines stamped strictly before this; [`follow`] also stops once it has passed.
    pub until: Option<DateTime<Utc>>,
    /// Prefix each line with its timestamp and a space, as `podman logs -t`.
    pub timestamps: bool,
}

impl ReadOptions {
    fn wants(&self, line: &Line) -> bool {
        let time = line.time.with_timezone(&Utc);
        self.since.is_none_or(|since| time > since) && self.until.is_none_or(|until| time < until)
    }
}

/// Receives the text of each line to print, with its newline, and the stream it was written to.
pub type Output<'a> = dyn FnMut(Stream, &[u8]) -> io::Result<()> + 'a;

/// Prints the log at `path` as `podman logs` does: each stream's partial records joined into its lines,
/// a line stamped with its first record's time. A line still open at the end (the container stopped
/// mid-line) is printed without a newline. A log that does not exist prints nothing.
///
/// Returns the offset just past the last whole record read, where [`follow`] can pick up; lines open at
/// that point have been printed already, so to read and then follow without a seam in them, call
/// [`follow`] from 0 with the same options instead.
pub fn read(path: &Path, opts: &ReadOptions, out: &mut Output) -> io::Result<u64> {
    let Some(mut reader) = LogReader::open(path, 0)? else {
        return Ok(0);
    };
    let mut tail = Tail::new(opts);
    reader.read_appended(&mut |line| tail.push(line, out))?;
    for line in reader.joiner.take_open() {
        tail.push(line, out)?;
    }
    tail.finish(out)?;
    Ok(reader.offset)
}

/// Prints the log at `path` from offset `from` (`tail` applies to the records already there), then the
/// records appended to it, until `still_running()` says the container has stopped (it must say so only
/// once nothing more will be written) and the log is drained, or until `opts.until` has passed. Waits for
/// a log that does not exist yet while the container runs.
pub fn follow(
    path: &Path,
    from: u64,
    opts: &ReadOptions,
    out: &mut Output,
    still_running: &dyn Fn() -> bool,
) -> io::Result<()> {
    let mut reader = loop {
        let running = still_running();
        if let Some(reader) = LogReader::open(path, from)? {
            break reader;
        }
        if !running {
            return Ok(());
        }
        std::thread::sleep(POLL_INTERVAL);
    };
    let mut tail = Tail::new(opts);
    reader.read_appended(&mut |line| tail.push(line, out))?;
    tail.finish(out)?;
    loop {
        // Sampled before reading, so that the read after the container is seen stopped drains the log.
        let running = still_running();
        let now = Utc::now();
        let grew = reader.read_appended(&mut |line| emit(&line, opts, out))?;
        if !running || opts.until.is_some_and(|until| now >= until) {
            break;
        }
        if !grew {
            std::thread::sleep(POLL_INTERVAL);
        }
    }
    for line in reader.joiner.take_open() {
        emit(&line, opts, out)?;
    }
    Ok(())
}

/// A line of the container's output, joined from its records.
#[derive(Debug)]
struct Line {
    /// The time of its first record.
    time: DateTime<FixedOffset>,
    stream: Stream,
    content: Vec<u8>,
    /// Ended by an `F` record; false for a line the stream left open.
    complete: bool,
}

/// Joins each stream's `P` records with the record that ends the line; the streams interleave freely.
#[derive(Default)]
struct Joiner {
    open: [Option<Line>; 2],
}

impl Joiner {
    /// Takes a record; returns the line it completes.
    fn push(&mut self, record: LogRecord) -> Option<Line> {
        let slot = &mut self.open[record.stream as usize];
        let mut line = match slot.take() {
            Some(mut line) => {
                line.content.extend_from_slice(&record.content);
                line
            }
            None => Line {
                time: record.time,
                stream: record.stream,
                content: record.content,
                complete: false,
            },
        };
        if record.partial {
            *slot = Some(line);
            return None;
        }
        line.complete = true;
        Some(line)
    }

    /// The lines still open, oldest first.
    fn take_open(&mut self) -> Vec<Line> {
        let mut lines: Vec<Line> = self.open.iter_mut().filter_map(Option::take).collect();
        lines.sort_by_key(|line| line.time);
        lines
    }
}

/// Prints the lines `opts` wants, keeping back the last `opts.tail` until [`Tail::finish`].
struct Tail<'o> {
    opts: &'o ReadOptions,
    kept: VecDeque<Line>,
}

impl<'o> Tail<'o> {
    fn new(opts: &'o ReadOptions) -> Tail<'o> {
        Tail {
            opts,
            kept: VecDeque::new(),
        }
    }

    fn push(&mut self, line: Line, out: &mut Output) -> io::Result<()> {
        match self.opts.tail {
            None => emit(&line, self.opts, out),
            Some(0) => Ok(()),
            Some(n) => {
                if self.kept.len() == n {
                    self.kept.pop_front();
                }
                self.kept.push_back(line);
                Ok(())
            }
        }
    }

    fn finish(self, out: &mut Output) -> io::Result<()> {
        self.kept.iter().try_for_each(|line| emit(line, self.opts, out))
    }
}

fn emit(line: &Line, opts: &ReadOptions, out: &mut Output) -> io::Result<()> {
    if !opts.wants(line) {
        return Ok(());
    }
    let mut text = Vec::with_capacity(line.content.len() + 40);
    if opts.timestamps {
        text.extend_from_slice(podman_time(&line.time).as_bytes());
        text.push(b' ');
    }
    text.extend_from_slice(&line.content);
    if line.complete {
        text.push(b'\n');
    }
    out(line.stream, &text)
}

/// Podman's `LogTimeFormat` (`2006-01-02T15:04:05.000000000Z07:00`): nine digits always, the record's own
/// offset, `Z` for UTC.
fn podman_time(time: &DateTime<FixedOffset>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// Reads the records appended to a log since the last call, from an offset; a record still being
/// written (no newline yet) waits for the next call.
struct LogReader {
    file: File,
    /// Just past the last whole record taken.
    offset: u64,
    /// Bytes read after `offset`: the start of a record not yet whole.
    torn: Vec<u8>,
    joiner: Joiner,
}

impl LogReader {
    fn open(path: &Path, from: u64) -> io::Result<Option<LogReader>> {
        let mut file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        file.seek(SeekFrom::Start(from))?;
        Ok(Some(LogReader {
            file,
            offset: from,
            torn: Vec::new(),
            joiner: Joiner::default(),
        }))
    }

    /// Passes each line completed by the appended records to `f`; returns whether the log grew.
    fn read_appended(&mut self, f: &mut dyn FnMut(Line) -> io::Result<()>) -> io::Result<bool> {
        if self.file.metadata()?.len() < self.offset + self.torn.len() as u64 {
            // Cut short behind our back: start over.
            self.file.seek(SeekFrom::Start(0))?;
            self.offset = 0;
            self.torn.clear();
            self.joiner = Joiner::default();
        }
        let mut grew = false;
        let mut chunk = vec![0; 64 * 1024];
        loop {
            let n = match self.file.read(&mut chunk) {
                Ok(0) => return Ok(grew),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            grew = true;
            self.torn.extend_from_slice(&chunk[..n]);
            let Some(end) = self.torn.iter().rposition(|&b| b == b'\n') else {
                continue;
            };
            // Lines that are not records (damage, a foreign file) are skipped, as Podman does.
            for record in self.torn[..end]
                .split(|&b| b == b'\n')
                .filter_map(LogRecord::parse)
            {
                if let Some(line) = self.joiner.push(record) {
                    f(line)?;
                }
            }
            self.offset += end as u64 + 1;
            self.torn.drain(..=end);
        }
    }
}

/// Parses `--since`/`--until` as Podman does (`util.ParseInputTime`): an RFC 3339 time, a date and time
/// without offset (UTC), a date with or without offset, a Unix timestamp (fractions allowed), or a Go
/// duration (`10m`, `1h30m`) counted from now: back for `since`, forward for `until` (Podman's code, and
/// its tests; its man page reads `--until 30m` as "until 30 minutes ago").
pub fn parse_time(input: &str, since: bool) -> Result<DateTime<Utc>, String> {
    if let Some(time) = parse_absolute(input) {
        return Ok(time);
    }
    let unable = || "unable to interpret time value".to_string();
    if let Ok(seconds) = input.parse::<f64>() {
        let whole = seconds.trunc();
        let nanos = ((seconds - whole) * 1e9) as i64;
        return DateTime::from_timestamp(whole as i64, 0)
            .filter(|_| seconds.is_finite())
            .and_then(|t| t.checked_add_signed(TimeDelta::nanoseconds(nanos)))
            .ok_or_else(unable);
    }
    let delta = parse_go_duration(input).ok_or_else(unable)?;
    let now = Utc::now();
    if since {
        now.checked_sub_signed(delta)
    } else {
        now.checked_add_signed(delta)
    }
    .ok_or_else(unable)
}

fn parse_absolute(input: &str) -> Option<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(input) {
        return Some(time.to_utc());
    }
    if let Ok(time) = NaiveDateTime::parse_from_str(input, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(time.and_utc());
    }
    if let Ok(date) = NaiveDate::parse_from_str(input, "%Y-%m-%d") {
        return Some(date.and_time(Default::default()).and_utc());
    }
    // A date with an offset: `2006-01-02Z07:00`.
    let (date, offset) = (input.get(..10)?, input.get(10..)?);
    DateTime::parse_from_rfc3339(&format!("{date}T00:00:00{offset}"))
        .ok()
        .map(|time| time.to_utc())
}

/// Go's `time.ParseDuration`: an optional sign, then decimal numbers (fractions allowed) each with a unit
/// (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`), as `1h30m` or `1.5h`; a bare `0` needs none.
fn parse_go_duration(input: &str) -> Option<TimeDelta> {
    let (negative, mut rest) = match input.as_bytes().first() {
        Some(b'-') => (true, &input[1..]),
        Some(b'+') => (false, &input[1..]),
        _ => (false, input),
    };
    if rest == "0" {
        return Some(TimeDelta::zero());
    }
    if rest.is_empty() {
        return None;
    }
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let (whole, after) = rest.split_at(digits(rest));
        let (fraction, after) = match after.strip_prefix('.') {
            Some(after) => after.split_at(digits(after)),
            None => ("", after),
        };
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        let unit_len = after
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let unit_nanos: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let whole: i128 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
        let mut nanos = whole.checked_mul(unit_nanos)?;
        if !fraction.is_empty() {
            let fraction = &fraction[..fraction.len().min(18)];
            nanos += fraction.parse::<i128>().ok()? * unit_nanos / 10i128.pow(fraction.len() as u32);
        }
        total = total.checked_add(nanos).filter(|&t| t <= i64::MAX as i128)?;
        rest = after;
    }
    let total = total as i64;
    Some(TimeDelta::nanoseconds(if negative { -total } else { total }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    /// Reads the log at `path`, returning what went to stdout and to stderr.
    fn read_all(path: &Path, opts: &ReadOptions) -> (String, String, u64) {
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let offset = read(path, opts, &mut |stream, text| {
            match stream {
                Stream::Stdout => stdout.extend_from_slice(text),
                Stream::Stderr => stderr.extend_from_slice(text),
            }
            Ok(())
        })
        .unwrap();
        (
            String::from_utf8(stdout).unwrap(),
            String::from_utf8(stderr).unwrap(),
            offset,
        )
    }

    fn log(dir: &tempfile::TempDir) -> (PathBuf, LogWriter) {
        let path = dir.path().join("ctr.log");
        let writer = LogWriter::open(&path).unwrap();
        (path, writer)
    }

    #[test]
    fn log_path_is_ctr_log_in_the_container_directory() {
        assert_eq!(
            log_path(Path::new("/var/lib/selkie"), "abc"),
            Path::new("/var/lib/selkie/containers/abc/ctr.log")
        );
    }

    #[test]
    fn writer_writes_a_record_per_line_with_one_timestamp() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut w) = log(&dir);
        let t = at("2026-11-29T12:00:00.000000001+01:00");
        w.write_at(t, Stream::Stdout, b"one\ntwo  spaced\t\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "2026-11-29T12:00:00.000000001+01:00 stdout F one\n\
             2026-11-29T12:00:00.000000001+01:00 stdout F two  spaced\t\n"
        );
    }

    #[test]
    fn writer_marks_a_fragment_without_newline_partial() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut w) = log(&dir);
        let t = at("2026-11-29T12:00:00Z");
        w.write_at(t, Stream::Stderr, b"a\nhal").unwrap();
        w.write_at(t, Stream::Stderr, b"f\n\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "2026-11-29T12:00:00.000000000+00:00 stderr F a\n\
             2026-11-29T12:00:00.000000000+00:00 stderr P hal\n\
             2026-11-29T12:00:00.000000000+00:00 stderr F f\n\
             2026-11-29T12:00:00.000000000+00:00 stderr F \n"
        );
    }

    #[test]
    fn writer_ignores_empty_writes_creates_0600_and_appends() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut w) = log(&dir);
        w.write(Stream::Stdout, b"").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        w.write(Stream::Stdout, b"first\n").unwrap();
        w.flush().unwrap();
        drop(w);
        let mut w = LogWriter::open(&path).unwrap();
        w.write(Stream::Stderr, b"second\n").unwrap();
        let (stdout, stderr, _) = read_all(&path, &ReadOptions::default());
        assert_eq!((stdout.as_str(), stderr.as_str()), ("first\n", "second\n"));
    }

    #[test]
    fn writer_stamps_local_time_in_conmons_format() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut w) = log(&dir);
        let before = Utc::now();
        w.write(Stream::Stdout, b"x\n").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let (stamp, rest) = text.split_once(' ').unwrap();
        assert_eq!(rest, "stdout F x\n");
        // 2026-11-29T12:00:00.123456789+01:00
        assert_eq!(stamp.len(), 35, "{stamp}");
        assert!(matches!(&stamp[29..30], "+" | "-"), "{stamp}");
        assert!(DateTime::parse_from_rfc3339(stamp).unwrap() >= before);
    }

    #[test]
    fn record_parse_keeps_content_as_written_and_rejects_other_lines() {
        let r = LogRecord::parse(b"2026-11-29T12:00:00.5+00:00 stderr P  a b ").unwrap();
        assert_eq!(r.stream, Stream::Stderr);
        assert!(r.partial);
        assert_eq!(r.content, b" a b ");
        assert_eq!(r.time, at("2026-11-29T12:00:00.5Z"));
        assert_eq!(
            LogRecord::parse(b"2026-11-29T12:00:00Z stdout F")
                .unwrap()
                .content,
            b""
        );
        for bad in [
            &b""[..],
            b"garbage",
            b"2026-11-29T12:00:00Z stdin F x",
            b"2026-11-29T12:00:00Z stdout X x",
        ] {
            assert_eq!(LogRecord::parse(bad), None);
        }
    }

    #[test]
    fn reader_joins_partials_per_stream_and_sends_each_stream_its_lines() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut w) = log(&dir);
        w.write(Stream::Stdout, b"hel").unwrap();
        w.write(Stream::Stderr, b"oops\n").unwrap();
        w.write(Stream::Stdout, b"lo").unwrap();
        w.write(Stream::Stdout, b" world\nbye\n").unwrap();
        let (stdout, stderr, offset) = read_all(&path, &ReadOptions::default());
        assert_eq!(stdout, "hello world\nbye\n");
        assert_eq!(stderr, "oops\n");
        assert_eq!(offset, std::fs::metadata(&path).unwrap().len());
    }

    #[test]
    fn reader_prints_an_unfinished_line_without_newline_and_skips_a_torn_record() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut w) = log(&dir);
        w.write(Stream::Stdout, b"done\nno newline").unwrap();
        let whole = std::fs::metadata(&path).unwrap().len();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"2026-11-29T12:00:00Z stdout F being writ")
            .unwrap();
        let (stdout, _, offset) = read_all(&path, &ReadOptions::default());
        assert_eq!(stdout, "done\nno newline");
        assert_eq!(offset, whole);
    }

    #[test]
    fn reader_of_a_missing_log_prints_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (stdout, stderr, offset) = read_all(&dir.path().join("ctr.log"), &ReadOptions::default());
        assert_eq!((stdout.as_str(), stderr.as_str(), offset), ("", "", 0));
    }

    #[test]
    fn tail_counts_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut w) = log(&dir);
        w.write(Stream::Stdout, b"1\n2\n").unwrap();
        w.write(Stream::Stdout, b"thr").unwrap();
        w.write(Stream::Stdout, b"ee\n").unwrap();
        w.write(Stream::Stderr, b"4\n").unwrap();
        w.write(Stream::Stdout, b"5").unwrap();
        let tail = |n| {
            let (stdout, stderr, _) = read_all(
                &path,
                &ReadOptions {
                    tail: Some(n),
                    ..Default::default()
                },
            );
            format!("{stdout}|{stderr}")
        };
        assert_eq!(tail(0), "|");
        assert_eq!(tail(1), "5|");
        assert_eq!(tail(3), "three\n5|4\n");
        assert_eq!(tail(99), "1\n2\nthree\n5|4\n");
    }

    #[test]
    fn since_and_until_are_exclusive_and_apply_after_tail() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut w) = log(&dir);
        for (i, t) in ["10:00:00Z", "10:00:01+00:00", "12:00:02+02:00", "10:00:03Z"]
            .iter()
            .enumerate()
        {
            w.write_at(
                at(&format!("2026-11-29T{t}")),
                Stream::Stdout,
                format!("{i}\n").as_bytes(),
            )
            .unwrap();
        }
        let utc = |t: &str| Some(at(&format!("2026-11-29T{t}Z")).to_utc());
        let show = |opts: ReadOptions| read_all(&path, &opts).0;
        assert_eq!(
            show(ReadOptions {
                since: utc("10:00:01"),
                ..Default::default()
            }),
            "2\n3\n"
        );
        assert_eq!(
            show(ReadOptions {
                until: utc("10:00:02"),
                ..Default::default()
            }),
            "0\n1\n"
        );
        let both = ReadOptions {
            since: utc("10:00:00"),
            until: utc("10:00:03"),
            ..Default::default()
        };
        assert_eq!(show(both), "1\n2\n");
        let tail_first = ReadOptions {
            tail: Some(2),
            until: utc("10:00:03"),
            ..Default::default()
        };
        assert_eq!(show(tail_first), "2\n");
    }

    #[test]
    fn timestamps_prefix_lines_in_podmans_format() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut w) = log(&dir);
        w.write_at(at("2026-11-29T12:00:00.1+00:00"), Stream::Stdout, b"a")
            .unwrap();
        w.write_at(at("2026-11-29T12:00:09+00:00"), Stream::Stdout, b"b\n")
            .unwrap();
        w.write_at(at("2026-11-29T13:00:00.000000042+01:00"), Stream::Stderr, b"c\n")
            .unwrap();
        let (stdout, stderr, _) = read_all(
            &path,
            &ReadOptions {
                timestamps: true,
                ..Default::default()
            },
        );
        assert_eq!(stdout, "2026-11-29T12:00:00.100000000Z ab\n");
        assert_eq!(stderr, "2026-11-29T13:00:00.000000042+01:00 c\n");
    }

    #[test]
    fn follow_prints_what_a_writer_appends_until_it_stops() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctr.log");
        LogWriter::open(&path)
            .unwrap()
            .write(Stream::Stdout, b"old\nolder\n")
            .unwrap();
        let running = Arc::new(AtomicBool::new(true));
        // `follow` asks a second time once it has printed what was there (the tail).
        let asked = Arc::new(AtomicUsize::new(0));
        let writer = {
            let (path, running, asked) = (path.clone(), running.clone(), asked.clone());
            std::thread::spawn(move || {
                while asked.load(Ordering::SeqCst) < 2 {
                    std::thread::sleep(Duration::from_millis(5));
                }
                let mut w = LogWriter::open(&path).unwrap();
                for i in 0..5 {
                    std::thread::sleep(Duration::from_millis(30));
                    w.write(Stream::Stdout, format!("line {i}").as_bytes()).unwrap();
                    std::thread::sleep(Duration::from_millis(30));
                    w.write(Stream::Stdout, b"\n").unwrap();
                    w.write(Stream::Stderr, format!("err {i}\n").as_bytes()).unwrap();
                }
                w.write(Stream::Stdout, b"last, unfinished").unwrap();
                running.store(false, Ordering::SeqCst);
            })
        };
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let opts = ReadOptions {
            tail: Some(1),
            ..Default::default()
        };
        follow(
            &path,
            0,
            &opts,
            &mut |stream, text| {
                match stream {
                    Stream::Stdout => stdout.extend_from_slice(text),
                    Stream::Stderr => stderr.extend_from_slice(text),
                }
                Ok(())
            },
            &|| {
                asked.fetch_add(1, Ordering::SeqCst);
                running.load(Ordering::SeqCst)
            },
        )
        .unwrap();
        writer.join().unwrap();
        let expected: String = (0..5).map(|i| format!("line {i}\n")).collect();
        assert_eq!(
            String::from_utf8(stdout).unwrap(),
            format!("older\n{expected}last, unfinished")
        );
        let expected: String = (0..5).map(|i| format!("err {i}\n")).collect();
        assert_eq!(String::from_utf8(stderr).unwrap(), expected);
    }

    #[test]
    fn follow_picks_up_from_an_offset_and_returns_for_a_stopped_container() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut w) = log(&dir);
        let mut printed = Vec::new();
        let mut out = |_: Stream, text: &[u8]| -> io::Result<()> {
            printed.extend_from_slice(text);
            Ok(())
        };
        follow(
            &path.with_extension("missing"),
            0,
            &ReadOptions::default(),
            &mut out,
            &|| false,
        )
        .unwrap();
        w.write(Stream::Stdout, b"seen\n").unwrap();
        let offset = read(&path, &ReadOptions::default(), &mut |_, _| Ok(())).unwrap();
        w.write(Stream::Stdout, b"new\n").unwrap();
        follow(&path, offset, &ReadOptions::default(), &mut out, &|| false).unwrap();
        assert_eq!(printed, b"new\n");
    }

    #[test]
    fn follow_stops_once_until_has_passed() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut w) = log(&dir);
        w.write(Stream::Stdout, b"before\n").unwrap();
        let opts = ReadOptions {
            until: Some(Utc::now() + TimeDelta::milliseconds(200)),
            ..Default::default()
        };
        let mut printed = Vec::new();
        let out = &mut |_: Stream, text: &[u8]| -> io::Result<()> {
            printed.extend_from_slice(text);
            Ok(())
        };
        follow(&path, 0, &opts, out, &|| true).unwrap();
        assert_eq!(printed, b"before\n");
    }

    #[test]
    fn parse_time_takes_podmans_absolute_forms() {
        let utc = |s: &str| at(s).to_utc();
        let cases = [
            (
                "2017-08-07T10:10:09.056611202-04:00",
                utc("2017-08-07T14:10:09.056611202Z"),
            ),
            ("2017-08-07T10:10:09Z", utc("2017-08-07T10:10:09Z")),
            ("2017-08-07T10:10:09", utc("2017-08-07T10:10:09Z")),
            ("2017-08-07T10:10:09.5", utc("2017-08-07T10:10:09.5Z")),
            ("2017-08-07", utc("2017-08-07T00:00:00Z")),
            ("2017-08-07+02:00", utc("2017-08-06T22:00:00Z")),
            ("2017-08-07Z", utc("2017-08-07T00:00:00Z")),
            ("0", utc("1970-01-01T00:00:00Z")),
            ("1700000000", utc("2023-11-14T22:13:20Z")),
            ("1700000000.25", utc("2023-11-14T22:13:20.25Z")),
        ];
        for (input, want) in cases {
            assert_eq!(parse_time(input, true), Ok(want), "{input}");
            assert_eq!(parse_time(input, false), Ok(want), "{input}");
        }
    }

    #[test]
    fn parse_time_counts_durations_back_for_since_and_forward_for_until() {
        let near = |got: DateTime<Utc>, want: DateTime<Utc>| (got - want).abs() < TimeDelta::seconds(5);
        let now = Utc::now();
        assert!(near(
            parse_time("10m", true).unwrap(),
            now - TimeDelta::minutes(10)
        ));
        assert!(near(
            parse_time("10m", false).unwrap(),
            now + TimeDelta::minutes(10)
        ));
        assert!(near(
            parse_time("1h30m", true).unwrap(),
            now - TimeDelta::minutes(90)
        ));
        assert!(near(
            parse_time("-5s", true).unwrap(),
            now + TimeDelta::seconds(5)
        ));
    }

    #[test]
    fn go_durations_parse_as_go_does() {
        let ms = |n| Some(TimeDelta::milliseconds(n));
        assert_eq!(parse_go_duration("0"), ms(0));
        assert_eq!(parse_go_duration("1h30m"), ms(90 * 60_000));
        assert_eq!(parse_go_duration("1.5h"), ms(90 * 60_000));
        assert_eq!(
            parse_go_duration("2h45m10.5s"),
            ms((2 * 3600 + 45 * 60) * 1000 + 10_500)
        );
        assert_eq!(parse_go_duration("300ms"), ms(300));
        assert_eq!(parse_go_duration(".5s"), ms(500));
        assert_eq!(parse_go_duration("-1.5s"), ms(-1500));
        assert_eq!(parse_go_duration("1µs1us1ns"), Some(TimeDelta::nanoseconds(2001)));
        for bad in [
            "",
            "-",
            "10",
            "m",
            "1h30",
            "1x",
            ".s",
            "1.5.5s",
            "9999999999999999999h",
        ] {
            assert_eq!(parse_go_duration(bad), None, "{bad}");
        }
        assert_eq!(
            parse_time("yesterday", true),
            Err("unable to interpret time value".into())
        );
        assert_eq!(
            parse_time("inf", true),
            Err("unable to interpret time value".into())
        );
    }
}
