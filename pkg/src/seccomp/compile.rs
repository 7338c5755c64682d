//! From a profile to BPF, in two steps as in Podman + runc:
//!
//! 1. [`resolve`]: the profile's conditions (architecture, capabilities, kernel version) are decided
//!    for one container, giving the OCI `linux.seccomp` section written into its spec;
//! 2. [`compile`]: the runtime turns that section into BPF programs for the host architecture.
//!
//! seccompiler builds filters with one action on match and one on mismatch, so a section with
//! several actions becomes a stack of filters: first one returning the default action for every
//! call no `SCMP_ACT_ALLOW` rule matches, then one per other action, returning it on match and
//! allowing the rest. The kernel runs every filter and keeps the most restrictive result; between
//! equal actions (`ERRNO(EPERM)` against the default `ERRNO(ENOSYS)`) the filter installed last wins,
//! so a call an explicit rule refuses gets that rule's errno, as with libseccomp's single filter.

use std::collections::{BTreeMap, HashSet};

use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompArgBuilder, LinuxSeccompBuilder,
    LinuxSeccompOperator, LinuxSyscall, LinuxSyscallBuilder,
};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
    TargetArch,
};

use super::profile::{Action, Arg, Op, Profile, Syscall};
use super::syscalls;

/// The host architecture, as profiles name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostArch {
    /// Go's name (`includes.arches`): `amd64`, `arm64`, `riscv64`.
    pub go: &'static str,
    /// libseccomp's name (`archMap`, `architectures`).
    pub scmp: &'static str,
    target: TargetArch,
}

impl HostArch {
    /// The architecture this binary runs on; `None` where seccompiler has no support.
    pub fn native() -> Option<HostArch> {
        match std::env::consts::ARCH {
            "x86_64" => Some(HostArch {
                go: "amd64",
                scmp: "SCMP_ARCH_X86_64",
                target: TargetArch::x86_64,
            }),
            "aarch64" => Some(HostArch {
                go: "arm64",
                scmp: "SCMP_ARCH_AARCH64",
                target: TargetArch::aarch64,
            }),
            _ => None,
        }
    }

    fn syscall_number(&self, name: &str) -> Option<i64> {
        let table = match self.target {
            TargetArch::aarch64 => syscalls::AARCH64,
            _ => syscalls::X86_64,
        };
        table
            .binary_search_by(|(n, _)| (*n).cmp(name))
            .ok()
            .map(|i| table[i].1)
    }
}

/// The running kernel's `(major, minor)`, for `minKernel`.
pub fn kernel_version() -> Option<(u32, u32)> {
    let release = nix::sys::utsname::uname()
        .ok()?
        .release()
        .to_string_lossy()
        .into_owned();
    parse_version(&release)
}

fn parse_version(s: &str) -> Option<(u32, u32)> {
    let mut parts = s.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

fn applies(rule: &Syscall, arch: &HostArch, caps: &HashSet<String>, kernel: Option<(u32, u32)>) -> bool {
    let inc = &rule.includes;
    if !inc.arches.is_empty() && !inc.arches.iter().any(|a| a == arch.go) {
        return false;
    }
    if !inc.caps.iter().all(|c| caps.contains(c)) {
        return false;
    }
    if let Some(min) = inc.min_kernel.as_deref().and_then(parse_version) {
        if kernel.is_some_and(|k| k < min) {
            return false;
        }
    }
    let exc = &rule.excludes;
    if exc.arches.iter().any(|a| a == arch.go) || exc.caps.iter().any(|c| caps.contains(c)) {
        return false;
    }
    true
}

fn to_oci<T: serde::de::DeserializeOwned>(value: &impl serde::Serialize) -> Result<T, String> {
    serde_json::to_value(value)
        .and_then(serde_json::from_value)
        .map_err(|e| e.to_string())
}

fn oci_arg(a: &Arg) -> Result<LinuxSeccompArg, String> {
    let op: LinuxSeccompOperator = to_oci(&a.op)?;
    let mut b = LinuxSeccompArgBuilder::default()
        .index(a.index as usize)
        .value(a.value)
        .op(op);
    if a.value_two != 0 || a.op == Op::MaskedEq {
        b = b.value_two(a.value_two);
    }
    b.build().map_err(|e| e.to_string())
}

/// The OCI `linux.seccomp` section of `profile` for a container whose bounding set is `caps`
/// (`CAP_*` names) on `arch`, with the rules that do not apply to it left out (what Podman writes
/// into the spec it gives the OCI runtime).
pub fn resolve(
    profile: &Profile,
    caps: &HashSet<String>,
    arch: &HostArch,
    kernel: Option<(u32, u32)>,
) -> Result<LinuxSeccomp, String> {
    if profile.default_action == Action::Notify || profile.listener_path.is_some() {
        return Err("seccomp notification (SCMP_ACT_NOTIFY, listenerPath) is not supported".into());
    }
    let mut arches: Vec<String> = Vec::new();
    if let Some(m) = profile.arch_map.iter().find(|m| m.architecture == arch.scmp) {
        arches.push(m.architecture.clone());
        arches.extend(m.sub_architectures.iter().cloned());
    } else if !profile.arch_map.is_empty() || !profile.architectures.is_empty() {
        arches = profile.architectures.clone();
    }
    let architectures: Vec<Arch> = arches.iter().filter_map(|a| to_oci(a).ok()).collect();

    let mut syscalls: Vec<LinuxSyscall> = Vec::new();
    for rule in profile.syscalls.iter().filter(|r| applies(r, arch, caps, kernel)) {
        if rule.action == Action::Notify {
            return Err("seccomp notification (SCMP_ACT_NOTIFY) is not supported".into());
        }
        let names: Vec<String> = rule.all_names().map(str::to_string).collect();
        if names.is_empty() {
            continue;
        }
        let action: LinuxSeccompAction = to_oci(&rule.action)?;
        let mut b = LinuxSyscallBuilder::default().names(names).action(action);
        if let Some(e) = rule.errno_ret {
            b = b.errno_ret(e);
        }
        if !rule.args.is_empty() {
            b = b.args(rule.args.iter().map(oci_arg).collect::<Result<Vec<_>, _>>()?);
        }
        syscalls.push(b.build().map_err(|e| e.to_string())?);
    }

    let default_action: LinuxSeccompAction = to_oci(&profile.default_action)?;
    let mut b = LinuxSeccompBuilder::default()
        .default_action(default_action)
        .syscalls(syscalls);
    if let Some(e) = profile.default_errno_ret {
        b = b.default_errno_ret(e);
    }
    if !architectures.is_empty() {
        b = b.architectures(architectures);
    }
    b.build().map_err(|e| e.to_string())
}

/// The seccompiler action of an OCI action (`ERRNO` without an errno is `EPERM`, as in runc).
fn action(a: LinuxSeccompAction, errno: Option<u32>) -> Result<SeccompAction, String> {
    Ok(match a {
        LinuxSeccompAction::ScmpActAllow => SeccompAction::Allow,
        LinuxSeccompAction::ScmpActErrno => SeccompAction::Errno(errno.unwrap_or(libc::EPERM as u32)),
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => SeccompAction::KillThread,
        LinuxSeccompAction::ScmpActKillProcess => SeccompAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => SeccompAction::Trap,
        LinuxSeccompAction::ScmpActLog => SeccompAction::Log,
        LinuxSeccompAction::ScmpActTrace => SeccompAction::Trace(errno.unwrap_or(0)),
        LinuxSeccompAction::ScmpActNotify => {
            return Err("seccomp notification (SCMP_ACT_NOTIFY) is not supported".into())
        }
    })
}

fn condition(a: &LinuxSeccompArg) -> Result<SeccompCondition, String> {
    let index = u8::try_from(a.index())
        .ok()
        .filter(|i| *i < 6)
        .ok_or_else(|| format!("seccomp argument index {} is out of range", a.index()))?;
    let op = match a.op() {
        LinuxSeccompOperator::ScmpCmpNe => SeccompCmpOp::Ne,
        LinuxSeccompOperator::ScmpCmpLt => SeccompCmpOp::Lt,
        LinuxSeccompOperator::ScmpCmpLe => SeccompCmpOp::Le,
        LinuxSeccompOperator::ScmpCmpEq => SeccompCmpOp::Eq,
        LinuxSeccompOperator::ScmpCmpGe => SeccompCmpOp::Ge,
        LinuxSeccompOperator::ScmpCmpGt => SeccompCmpOp::Gt,
        LinuxSeccompOperator::ScmpCmpMaskedEq => SeccompCmpOp::MaskedEq(a.value()),
    };
    let value = match a.op() {
        LinuxSeccompOperator::ScmpCmpMaskedEq => a.value_two().unwrap_or(0),
        _ => a.value(),
    };
    SeccompCondition::new(index, SeccompCmpArgLen::Qword, op, value).map_err(|e| e.to_string())
}

/// The rules of one syscall entry: all conditions together, or, when an argument index repeats,
/// each condition on its own (runc's reading).
fn rules(args: &[LinuxSeccompArg]) -> Result<Vec<SeccompRule>, String> {
    let mut seen = HashSet::new();
    let repeats = args.iter().any(|a| !seen.insert(a.index()));
    let conditions = args.iter().map(condition).collect::<Result<Vec<_>, _>>()?;
    let groups: Vec<Vec<SeccompCondition>> = if repeats {
        conditions.into_iter().map(|c| vec![c]).collect()
    } else {
        vec![conditions]
    };
    groups
        .into_iter()
        .map(|g| SeccompRule::new(g).map_err(|e| e.to_string()))
        .collect()
}

/// The syscalls matched with one action: unconditional ones, or the rules that must match.
#[derive(Default)]
struct Matches(BTreeMap<i64, Option<Vec<SeccompRule>>>);

impl Matches {
    fn add(&mut self, nr: i64, rules: Option<Vec<SeccompRule>>) {
        let entry = self.0.entry(nr).or_insert_with(|| Some(Vec::new()));
        match (entry.as_mut(), rules) {
            (Some(have), Some(more)) => have.extend(more),
            _ => *entry = None,
        }
    }

    fn into_rules(self) -> BTreeMap<i64, Vec<SeccompRule>> {
        // seccompiler: an empty rule list matches the call unconditionally.
        self.0
            .into_iter()
            .map(|(nr, r)| (nr, r.unwrap_or_default()))
            .collect()
    }
}

/// The action key of a group (seccompiler's actions are not `Ord`).
fn key(a: &SeccompAction) -> (u32, u32) {
    match a {
        SeccompAction::Allow => (0, 0),
        SeccompAction::Errno(e) => (1, *e),
        SeccompAction::KillThread => (2, 0),
        SeccompAction::KillProcess => (3, 0),
        SeccompAction::Log => (4, 0),
        SeccompAction::Trace(t) => (5, *t),
        SeccompAction::Trap => (6, 0),
    }
}

/// The BPF programs of `seccomp` for `arch`, to be installed in order. Names this architecture does
/// not have are skipped, as libseccomp does.
pub fn compile(seccomp: &LinuxSeccomp, arch: &HostArch) -> Result<Vec<BpfProgram>, String> {
    if seccomp.listener_path().is_some() {
        return Err("seccomp notification (listenerPath) is not supported".into());
    }
    let default = action(seccomp.default_action(), seccomp.default_errno_ret())?;
    // In the order of their first rule.
    let mut groups: Vec<(SeccompAction, Matches)> = Vec::new();
    for sc in seccomp.syscalls().iter().flatten() {
        let act = action(sc.action(), sc.errno_ret())?;
        if act == default {
            continue;
        }
        let args = sc.args().as_deref().unwrap_or_default();
        let r = if args.is_empty() { None } else { Some(rules(args)?) };
        let i = match groups.iter().position(|(a, _)| key(a) == key(&act)) {
            Some(i) => i,
            None => {
                groups.push((act.clone(), Matches::default()));
                groups.len() - 1
            }
        };
        for nr in sc.names().iter().filter_map(|n| arch.syscall_number(n)) {
            groups[i].1.add(nr, r.clone());
        }
    }
    let build = |rules: Matches, mismatch: SeccompAction, on_match: SeccompAction| {
        SeccompFilter::new(rules.into_rules(), mismatch, on_match, arch.target)
            .and_then(BpfProgram::try_from)
            .map_err(|e| format!("compiling the seccomp filter: {e}"))
    };
    let mut programs = Vec::new();
    let allow = groups.iter().position(|(a, _)| *a == SeccompAction::Allow);
    if default != SeccompAction::Allow {
        let allowed = allow.map(|i| groups.remove(i).1).unwrap_or_default();
        programs.push(build(allowed, default, SeccompAction::Allow)?);
    }
    // The first rules of the profile are installed last, so they win ties.
    for (act, matches) in groups.into_iter().rev() {
        if act == SeccompAction::Allow || matches.0.is_empty() {
            continue;
        }
        programs.push(build(matches, SeccompAction::Allow, act)?);
    }
    Ok(programs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x86() -> HostArch {
        HostArch {
            go: "amd64",
            scmp: "SCMP_ARCH_X86_64",
            target: TargetArch::x86_64,
        }
    }

    fn caps(names: &[&str]) -> HashSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn rule<'a>(s: &'a LinuxSeccomp, name: &str) -> Vec<&'a LinuxSyscall> {
        s.syscalls()
            .iter()
            .flatten()
            .filter(|r| r.names().iter().any(|n| n == name))
            .collect()
    }

    #[test]
    fn resolving_decides_capabilities_and_architectures() {
        let p = Profile::default_profile();
        let s = resolve(&p, &caps(&["CAP_CHOWN"]), &x86(), Some((6, 1))).unwrap();
        assert_eq!(s.default_action(), LinuxSeccompAction::ScmpActErrno);
        assert_eq!(s.default_errno_ret(), Some(38));
        assert_eq!(
            s.architectures().as_deref().unwrap(),
            [Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32]
        );
        let bpf = rule(&s, "bpf");
        assert_eq!(bpf.len(), 1);
        assert_eq!(bpf[0].action(), LinuxSeccompAction::ScmpActErrno);
        assert_eq!(bpf[0].errno_ret(), Some(1));
        assert_eq!(rule(&s, "arch_prctl").len(), 1);
        assert!(rule(&s, "s390_runtime_instr").is_empty());
        assert!(rule(&s, "add_key").is_empty());

        let s = resolve(&p, &caps(&["CAP_SYS_ADMIN"]), &x86(), None).unwrap();
        let bpf = rule(&s, "bpf");
        assert_eq!(bpf.len(), 1);
        assert_eq!(bpf[0].action(), LinuxSeccompAction::ScmpActAllow);
    }

    #[test]
    fn min_kernel_leaves_rules_out_on_older_kernels() {
        let p = Profile::parse(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
              {"names":["ptrace"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"4.8"}}]}"#,
        )
        .unwrap();
        assert!(rule(&resolve(&p, &caps(&[]), &x86(), Some((4, 4))).unwrap(), "ptrace").is_empty());
        assert_eq!(
            rule(&resolve(&p, &caps(&[]), &x86(), Some((5, 10))).unwrap(), "ptrace").len(),
            1
        );
        assert_eq!(parse_version("6.1.0-18-amd64"), Some((6, 1)));
    }

    #[test]
    fn the_default_profile_compiles_to_a_stack_of_filters() {
        let p = Profile::default_profile();
        let s = resolve(&p, &caps(&["CAP_CHOWN"]), &x86(), kernel_version()).unwrap();
        let progs = compile(&s, &x86()).unwrap();
        // Allow-or-ENOSYS, then EPERM, then EINVAL (socket(AF_NETLINK, _, NETLINK_AUDIT)).
        assert_eq!(progs.len(), 3);
        assert!(progs.iter().all(|p| !p.is_empty() && p.len() < 4096));
    }

    #[test]
    fn an_allow_by_default_profile_has_no_base_filter() {
        let p = Profile::parse(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
              {"names":["mount","no_such_call"],"action":"SCMP_ACT_ERRNO"},
              {"names":["read"],"action":"SCMP_ACT_ALLOW"},
              {"names":["personality"],"action":"SCMP_ACT_KILL_PROCESS",
               "args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"},{"index":0,"value":9,"op":"SCMP_CMP_EQ"}]}]}"#,
        )
        .unwrap();
        let s = resolve(&p, &caps(&[]), &x86(), None).unwrap();
        assert_eq!(compile(&s, &x86()).unwrap().len(), 2);
    }

    #[test]
    fn bad_sections_are_refused() {
        let p = Profile::parse(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
              {"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":7,"value":0,"op":"SCMP_CMP_EQ"}]}]}"#,
        )
        .unwrap();
        let s = resolve(&p, &caps(&[]), &x86(), None).unwrap();
        assert!(compile(&s, &x86()).unwrap_err().contains("index 7"));
        let p = Profile::parse(r#"{"defaultAction":"SCMP_ACT_NOTIFY"}"#).unwrap();
        assert!(resolve(&p, &caps(&[]), &x86(), None).is_err());
    }

    #[test]
    fn syscall_names_resolve_per_architecture() {
        assert_eq!(x86().syscall_number("read"), Some(0));
        assert_eq!(x86().syscall_number("add_key"), Some(248));
        assert_eq!(x86().syscall_number("_llseek"), None);
    }
}
