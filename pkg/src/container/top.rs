//! `top`: the processes of a running container, read from the host's `/proc`, in the columns of
//! Podman's format descriptors (psgo's AIX descriptors: `user`, `pid`, `args`, ..., and the host-side
//! `hpid`, `huser`, ...).
//!
//! The processes are those of the container's cgroup (so `exec`'d ones too), or, without a cgroup
//! (`--cgroups=disabled`), those of its PID namespace. PIDs, users and groups are shown as the container
//! sees them: PIDs from the last `NSpid` entry, IDs mapped back through its user namespace and named from
//! its own `/etc/passwd` and `/etc/group`, read through its root with [`super::spec::RootView`] (a symlink
//! in the image cannot make us read a host file).

use super::lifecycle;
use super::state::Status;
use super::store::ContainerRecord;
use crate::engine::Engine;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One format descriptor: its name, its AIX code (`%p`) and its column header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Descriptor {
    pub name: &'static str,
    pub code: &'static str,
    pub header: &'static str,
}

const fn d(name: &'static str, code: &'static str, header: &'static str) -> Descriptor {
    Descriptor { name, code, header }
}

/// Every descriptor, with psgo's headers.
pub const DESCRIPTORS: &[Descriptor] = &[
    d("pcpu", "%C", "%CPU"),
    d("group", "%G", "GROUP"),
    d("groups", "", "GROUPS"),
    d("ppid", "%P", "PPID"),
    d("user", "%U", "USER"),
    d("uid", "", "UID"),
    d("args", "%a", "COMMAND"),
    d("comm", "%c", "COMMAND"),
    d("rgroup", "%g", "RGROUP"),
    d("nice", "%n", "NI"),
    d("pid", "%p", "PID"),
    d("pgid", "%r", "PGID"),
    d("etime", "%t", "ELAPSED"),
    d("ruser", "%u", "RUSER"),
    d("time", "%x", "TIME"),
    d("tty", "%y", "TTY"),
    d("vsz", "%z", "VSZ"),
    d("capamb", "", "AMBIENT CAPS"),
    d("capinh", "", "INHERITED CAPS"),
    d("capprm", "", "PERMITTED CAPS"),
    d("capeff", "", "EFFECTIVE CAPS"),
    d("capbnd", "", "BOUNDING CAPS"),
    d("seccomp", "", "SECCOMP"),
    d("label", "", "LABEL"),
    d("hpid", "", "HPID"),
    d("huser", "", "HUSER"),
    d("huid", "", "HUID"),
    d("hgroup", "", "HGROUP"),
    d("hgroups", "", "HGROUPS"),
    d("rss", "", "RSS"),
    d("state", "", "STATE"),
    d("stime", "", "STIME"),
];

/// Podman's default columns, those of `ps -ef`.
pub const DEFAULT_DESCRIPTORS: &[&str] = &["user", "pid", "ppid", "pcpu", "etime", "tty", "time", "args"];

/// The descriptors named by `args` (each may be a comma-separated list); the default ones when there are
/// none. `Err` carries the first word that is not a descriptor (Podman then runs `ps` with the
/// arguments instead).
pub fn parse_descriptors(args: &[String]) -> std::result::Result<Vec<Descriptor>, String> {
    let words: Vec<&str> = args
        .iter()
        .flat_map(|a| a.split(','))
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect();
    let words = if words.is_empty() {
        DEFAULT_DESCRIPTORS.to_vec()
    } else {
        words
    };
    words
        .iter()
        .map(|w| {
            DESCRIPTORS
                .iter()
                .find(|d| d.name == *w || (!d.code.is_empty() && d.code == *w))
                .copied()
                .ok_or_else(|| w.to_string())
        })
        .collect()
}

/// The table of `top`: a header row, then one row per process of the container, by PID.
pub fn top(engine: &Engine, rec: &ContainerRecord, descriptors: &[Descriptor]) -> Result<Vec<Vec<String>>> {
    let st = lifecycle::state_of(engine, &rec.id);
    if st.status != Status::Running {
        return Err(Error::ContainerState(
            "top can only be used on running containers".into(),
        ));
    }
    let ctx = Context::new(st.pid);
    let mut procs: Vec<Proc> = container_pids(&rec.id, st.pid)
        .into_iter()
        .filter_map(|hpid| Proc::read(hpid, &ctx))
        .collect();
    procs.sort_by_key(|p| (p.pid, p.hpid));
    procs.dedup_by_key(|p| p.hpid);
    let mut rows = vec![descriptors.iter().map(|d| d.header.to_string()).collect()];
    for p in &procs {
        rows.push(descriptors.iter().map(|d| p.column(d.name, &ctx)).collect());
    }
    Ok(rows)
}

/// Host PIDs of the container's processes: its cgroup's, else those in its PID namespace, else its init.
fn container_pids(id: &str, init: i32) -> Vec<i32> {
    if let Ok(pids) = super::pause::cgroup(id).procs() {
        if !pids.is_empty() {
            return pids;
        }
    }
    let ns = pid_ns(init);
    if ns.is_some() && ns != pid_ns(std::process::id() as i32) {
        let mut pids: Vec<i32> = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .filter(|p| pid_ns(*p) == ns)
            .collect();
        if !pids.is_empty() {
            pids.sort();
            return pids;
        }
    }
    vec![init]
}

/// The PID namespace of a process (`pid:[4026531836]`).
fn pid_ns(pid: i32) -> Option<String> {
    std::fs::read_link(format!("/proc/{pid}/ns/pid"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

/// What every row needs: the container's namespaces and names, the host's names, the clock.
struct Context {
    pid_ns: Option<String>,
    uid_map: Vec<(u64, u64, u64)>,
    gid_map: Vec<(u64, u64, u64)>,
    users: HashMap<u64, String>,
    groups: HashMap<u64, String>,
    host_users: HashMap<u64, String>,
    host_groups: HashMap<u64, String>,
    boot_time: u64,
    ticks: u64,
    last_cap: u32,
}

impl Context {
    fn new(init: i32) -> Context {
        // The container's files, resolved inside its root (a symlink cannot point at a host file).
        let root = super::spec::RootView::dir(Path::new(&format!("/proc/{init}/root")));
        let in_container = |file: &str| root.read_to_string(file).ok().flatten().unwrap_or_default();
        let host = |file: &str| std::fs::read_to_string(file).unwrap_or_default();
        let boot_time = std::fs::read_to_string("/proc/stat")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("btime ")?.trim().parse().ok())
            .unwrap_or(0);
        // SAFETY: sysconf has no memory effects.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        Context {
            pid_ns: pid_ns(init),
            uid_map: id_map(&format!("/proc/{init}/uid_map")),
            gid_map: id_map(&format!("/proc/{init}/gid_map")),
            users: names(&in_container("/etc/passwd")),
            groups: names(&in_container("/etc/group")),
            host_users: names(&host("/etc/passwd")),
            host_groups: names(&host("/etc/group")),
            boot_time,
            ticks: if ticks > 0 { ticks as u64 } else { 100 },
            last_cap: std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(40),
        }
    }

    /// A host ID as the container sees it through its user namespace (`65534`, the overflow ID, when
    /// it has none there).
    fn inside(map: &[(u64, u64, u64)], host: u64) -> u64 {
        map.iter()
            .find(|(_, outside, count)| host >= *outside && host < outside + count)
            .map_or(65534, |(inside, outside, _)| inside + (host - outside))
    }

    fn user(&self, host_uid: u64) -> String {
        let uid = Self::inside(&self.uid_map, host_uid);
        self.users.get(&uid).cloned().unwrap_or_else(|| uid.to_string())
    }

    fn group(&self, host_gid: u64) -> String {
        let gid = Self::inside(&self.gid_map, host_gid);
        self.groups.get(&gid).cloned().unwrap_or_else(|| gid.to_string())
    }
}

/// `/proc/PID/uid_map` lines: (inside, outside, count).
fn id_map(path: &str) -> Vec<(u64, u64, u64)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace().map(|n| n.parse::<u64>().ok());
            Some((f.next()??, f.next()??, f.next()??))
        })
        .collect()
}

/// ID → name from a passwd or group file.
fn names(text: &str) -> HashMap<u64, String> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if let (Some(name), Some(Ok(id))) = (f.first(), f.get(2).map(|s| s.parse::<u64>())) {
            out.entry(id).or_insert_with(|| name.to_string());
        }
    }
    out
}

/// One process, read from the host's `/proc`.
struct Proc {
    hpid: i32,
    /// Its PID in the container's PID namespace.
    pid: i32,
    comm: String,
    /// `/proc/PID/stat` from the state (field 3) on.
    stat: Vec<String>,
    status: HashMap<String, String>,
    cmdline: Vec<String>,
}

impl Proc {
    fn read(hpid: i32, ctx: &Context) -> Option<Proc> {
        let stat = std::fs::read_to_string(format!("/proc/{hpid}/stat")).ok()?;
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat.get(open + 1..close)?.to_string();
        let fields = stat
            .get(close + 2..)?
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let status: HashMap<String, String> = std::fs::read_to_string(format!("/proc/{hpid}/status"))
            .ok()?
            .lines()
            .filter_map(|l| {
                let (k, v) = l.split_once(':')?;
                Some((k.to_string(), v.trim().to_string()))
            })
            .collect();
        let cmdline = std::fs::read(format!("/proc/{hpid}/cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline)
            .split('\0')
            .map(str::to_string)
            .collect();
        let mut p = Proc {
            hpid,
            pid: 0,
            comm,
            stat: fields,
            status,
            cmdline,
        };
        p.pid = ns_pid(hpid, p.status.get("NSpid"), ctx).unwrap_or(hpid);
        Some(p)
    }

    /// Field `n` of `/proc/PID/stat` (1-based, as proc(5) numbers them; 3 and up).
    fn stat_field(&self, n: usize) -> &str {
        self.stat.get(n - 3).map_or("", String::as_str)
    }

    fn stat_u64(&self, n: usize) -> u64 {
        self.stat_field(n).parse().unwrap_or(0)
    }

    /// Field `i` (0: real, 1: effective) of the `Uid:` or `Gid:` line.
    fn id(&self, key: &str, i: usize) -> u64 {
        self.status
            .get(key)
            .and_then(|v| v.split_whitespace().nth(i)?.parse().ok())
            .unwrap_or(0)
    }

    fn groups(&self) -> Vec<u64> {
        self.status
            .get("Groups")
            .map(|v| v.split_whitespace().filter_map(|g| g.parse().ok()).collect())
            .unwrap_or_default()
    }

    /// The process's start, as psgo computes it (boot time plus whole seconds).
    fn start(&self, ctx: &Context) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(ctx.boot_time + self.stat_u64(22) / ctx.ticks)
    }

    fn elapsed(&self, ctx: &Context) -> Duration {
        SystemTime::now()
            .duration_since(self.start(ctx))
            .unwrap_or_default()
    }

    /// CPU time (user and system), in whole seconds as psgo counts it.
    fn cpu_time(&self, ctx: &Context) -> Duration {
        Duration::from_secs((self.stat_u64(14) + self.stat_u64(15)) / ctx.ticks)
    }

    /// A host PID related to this process (parent, group leader) as the container sees it; 0 when that
    /// process is outside the container's PID namespace.
    fn related(&self, host: i32, ctx: &Context) -> String {
        if host <= 0 {
            return "0".into();
        }
        let nspid = std::fs::read_to_string(format!("/proc/{host}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| Some(l.strip_prefix("NSpid:")?.trim().to_string()))
            });
        ns_pid(host, nspid.as_ref(), ctx).unwrap_or(0).to_string()
    }

    fn column(&self, name: &str, ctx: &Context) -> String {
        let caps = |key: &str| capabilities(self.status.get(key).map_or("0", String::as_str), ctx.last_cap);
        match name {
            "pcpu" => {
                let elapsed = self.elapsed(ctx).as_secs_f64();
                let pcpu = if elapsed > 0.0 {
                    100.0 * self.cpu_time(ctx).as_secs_f64() / elapsed
                } else {
                    0.0
                };
                format!("{pcpu:.3}")
            }
            "group" => ctx.group(self.id("Gid", 1)),
            "rgroup" => ctx.group(self.id("Gid", 0)),
            "groups" => join(self.groups().into_iter().map(|g| ctx.group(g))),
            "user" => ctx.user(self.id("Uid", 1)),
            "ruser" => ctx.user(self.id("Uid", 0)),
            "uid" => Context::inside(&ctx.uid_map, self.id("Uid", 1)).to_string(),
            "ppid" => self.related(self.stat_field(4).parse().unwrap_or(0), ctx),
            "pgid" => self.related(self.stat_field(5).parse().unwrap_or(0), ctx),
            // ps prints `[name]` for a process without a command line; psgo keeps the trailing NUL's
            // empty word, hence the trailing blank.
            "args" if self.cmdline.first().is_none_or(|a| a.is_empty()) => {
                format!("[{}]", self.status_name())
            }
            "args" => self.cmdline.join(" "),
            "comm" => self.comm.clone(),
            "nice" => self.stat_field(19).to_string(),
            "pid" => self.pid.to_string(),
            "etime" => go_duration(self.elapsed(ctx)),
            "time" => go_duration(self.cpu_time(ctx)),
            "stime" => go_time(self.start(ctx)),
            "tty" => tty_name(self.stat_u64(7)),
            "vsz" => (self.stat_u64(23) / 1024).to_string(),
            "rss" => self
                .status
                .get("VmRSS")
                .and_then(|v| v.split_whitespace().next())
                .unwrap_or("0")
                .to_string(),
            "state" => self
                .status
                .get("State")
                .and_then(|v| v.split_whitespace().next())
                .unwrap_or("?")
                .to_string(),
            "capamb" => caps("CapAmb"),
            "capinh" => caps("CapInh"),
            "capprm" => caps("CapPrm"),
            "capeff" => caps("CapEff"),
            "capbnd" => caps("CapBnd"),
            "seccomp" => match self.status.get("Seccomp").map(String::as_str) {
                Some("0") => "disabled",
                Some("1") => "strict",
                Some("2") => "filter",
                _ => "?",
            }
            .to_string(),
            "label" => std::fs::read_to_string(format!("/proc/{}/attr/current", self.hpid))
                .ok()
                .map(|l| l.trim_end_matches(['\0', '\n']).to_string())
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| "?".into()),
            "hpid" => self.hpid.to_string(),
            "huser" => {
                let uid = self.id("Uid", 1);
                ctx.host_users
                    .get(&uid)
                    .cloned()
                    .unwrap_or_else(|| uid.to_string())
            }
            "huid" => self.id("Uid", 1).to_string(),
            "hgroup" => {
                let gid = self.id("Gid", 1);
                ctx.host_groups
                    .get(&gid)
                    .cloned()
                    .unwrap_or_else(|| gid.to_string())
            }
            "hgroups" => join(self.groups().into_iter().map(|g| g.to_string())),
            _ => "?".into(),
        }
    }

    fn status_name(&self) -> &str {
        self.status.get("Name").map_or(&self.comm, String::as_str)
    }
}

fn join(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(",")
}

/// The PID in the container's namespace from an `NSpid:` value (host first, innermost last), when the
/// process is in that namespace.
fn ns_pid(hpid: i32, nspid: Option<&String>, ctx: &Context) -> Option<i32> {
    if ctx.pid_ns.is_some() && pid_ns(hpid) != ctx.pid_ns {
        return None;
    }
    nspid?.split_whitespace().last()?.parse().ok()
}

/// The capability names (without `CAP_`) of a `/proc/PID/status` mask, `full` for all of them and
/// `none` for none, as psgo prints them.
fn capabilities(mask: &str, last_cap: u32) -> String {
    const NAMES: [&str; 41] = [
        "CHOWN",
        "DAC_OVERRIDE",
        "DAC_READ_SEARCH",
        "FOWNER",
        "FSETID",
        "KILL",
        "SETGID",
        "SETUID",
        "SETPCAP",
        "LINUX_IMMUTABLE",
        "NET_BIND_SERVICE",
        "NET_BROADCAST",
        "NET_ADMIN",
        "NET_RAW",
        "IPC_LOCK",
        "IPC_OWNER",
        "SYS_MODULE",
        "SYS_RAWIO",
        "SYS_CHROOT",
        "SYS_PTRACE",
        "SYS_PACCT",
        "SYS_ADMIN",
        "SYS_BOOT",
        "SYS_NICE",
        "SYS_RESOURCE",
        "SYS_TIME",
        "SYS_TTY_CONFIG",
        "MKNOD",
        "LEASE",
        "AUDIT_WRITE",
        "AUDIT_CONTROL",
        "SETFCAP",
        "MAC_OVERRIDE",
        "MAC_ADMIN",
        "SYSLOG",
        "WAKE_ALARM",
        "BLOCK_SUSPEND",
        "AUDIT_READ",
        "PERFMON",
        "BPF",
        "CHECKPOINT_RESTORE",
    ];
    let mask = u64::from_str_radix(mask, 16).unwrap_or(0);
    let full = if last_cap >= 63 {
        u64::MAX
    } else {
        (1u64 << (last_cap + 1)) - 1
    };
    if mask & full == full {
        return "full".into();
    }
    let mut caps: Vec<String> = (0..64)
        .filter(|bit| mask & (1 << bit) != 0)
        .map(|bit| {
            NAMES
                .get(bit as usize)
                .map_or_else(|| format!("CAP_{bit}"), |n| n.to_string())
        })
        .collect();
    if caps.is_empty() {
        return "none".into();
    }
    caps.sort();
    caps.join(",")
}

/// The terminal of a `tty_nr` (`pts/0`, `tty1`, `ttyS0`), `?` for none.
fn tty_name(tty_nr: u64) -> String {
    let major = (tty_nr >> 8) & 0xfff;
    let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
    match major {
        136..=143 => format!("pts/{}", (major - 136) * 256 + minor),
        4 if minor < 64 => format!("tty{minor}"),
        4 => format!("ttyS{}", minor - 64),
        5 if minor == 0 => "tty".into(),
        5 if minor == 1 => "console".into(),
        _ => "?".into(),
    }
}

/// Go's `time.Time.String()` in the local zone: `2024-01-02 15:04:05 +0000 UTC`.
fn go_time(t: SystemTime) -> String {
    let local: chrono::DateTime<chrono::Local> = t.into();
    let offset = local.format("%z").to_string();
    let zone = if offset == "+0000" {
        "UTC".to_string()
    } else {
        offset.clone()
    };
    format!("{} {offset} {zone}", local.format("%Y-%m-%d %H:%M:%S"))
}

/// Go's `time.Duration.String()`: `0s`, `850ms`, `1.5µs`, `2m3.000000001s`, `1h0m0s`.
pub fn go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    /// `whole.frac` with `digits` fraction digits, trailing zeros dropped.
    fn decimal(value: u128, digits: u32) -> String {
        let unit = 10u128.pow(digits);
        let (whole, frac) = (value / unit, value % unit);
        if frac == 0 {
            return whole.to_string();
        }
        let frac = format!("{frac:0width$}", width = digits as usize);
        format!("{whole}.{}", frac.trim_end_matches('0'))
    }
    if nanos < 1_000 {
        return format!("{nanos}ns");
    }
    if nanos < 1_000_000 {
        return format!("{}µs", decimal(nanos, 3));
    }
    if nanos < 1_000_000_000 {
        return format!("{}ms", decimal(nanos, 6));
    }
    let total_secs = nanos / 1_000_000_000;
    let (hours, minutes) = (total_secs / 3600, total_secs / 60 % 60);
    let seconds = decimal(nanos % 60_000_000_000, 9);
    match (hours, minutes) {
        (0, 0) => format!("{seconds}s"),
        (0, m) => format!("{m}m{seconds}s"),
        (h, m) => format!("{h}h{m}m{seconds}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_print_as_go_does() {
        assert_eq!(go_duration(Duration::ZERO), "0s");
        assert_eq!(go_duration(Duration::from_nanos(999)), "999ns");
        assert_eq!(go_duration(Duration::from_nanos(1_500)), "1.5µs");
        assert_eq!(go_duration(Duration::from_nanos(49_164_399)), "49.164399ms");
        assert_eq!(go_duration(Duration::from_nanos(1_999_690_226)), "1.999690226s");
        assert_eq!(go_duration(Duration::from_secs(1)), "1s");
        assert_eq!(go_duration(Duration::from_secs(60)), "1m0s");
        assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(
            go_duration(Duration::from_nanos(7_538_737_137_571)),
            "2h5m38.737137571s"
        );
    }

    #[test]
    fn descriptors_by_name_code_and_comma_list() {
        let names = |args: &[&str]| {
            parse_descriptors(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .map(|ds| ds.iter().map(|d| d.header).collect::<Vec<_>>())
        };
        assert_eq!(
            names(&[]).unwrap(),
            ["USER", "PID", "PPID", "%CPU", "ELAPSED", "TTY", "TIME", "COMMAND"]
        );
        assert_eq!(names(&["pid,args"]).unwrap(), ["PID", "COMMAND"]);
        assert_eq!(names(&["pid", "%U", "hpid"]).unwrap(), ["PID", "USER", "HPID"]);
        assert_eq!(names(&["pid", "-ef"]), Err("-ef".to_string()));
    }

    #[test]
    fn capability_masks() {
        assert_eq!(capabilities("0000000000000000", 40), "none");
        assert_eq!(capabilities("000001ffffffffff", 40), "full");
        assert_eq!(capabilities("0000000000000021", 40), "CHOWN,KILL");
    }

    #[test]
    fn terminals() {
        assert_eq!(tty_name(0), "?");
        assert_eq!(tty_name((136 << 8) | 3), "pts/3");
        assert_eq!(tty_name((4 << 8) | 1), "tty1");
        assert_eq!(tty_name((4 << 8) | 65), "ttyS1");
    }

    #[test]
    fn names_and_id_maps() {
        let users = names("root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000::/home:/bin/sh\n");
        assert_eq!(users.get(&1000).map(String::as_str), Some("tester"));
        let map = vec![(0, 100000, 65536)];
        assert_eq!(Context::inside(&map, 101000), 1000);
        assert_eq!(Context::inside(&map, 5), 65534);
    }
}
