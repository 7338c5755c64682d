//! The Podman/Docker seccomp profile format (`containers/common`'s `seccomp.json`): an OCI
//! `linux.seccomp` section plus per-rule conditions on the architecture, the capabilities and the
//! kernel version, resolved when a container is created.

use serde::{Deserialize, Serialize};

/// What a rule (or the default) does with a matching system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
pub enum Action {
    #[serde(rename = "SCMP_ACT_KILL")]
    Kill,
    #[serde(rename = "SCMP_ACT_KILL_THREAD")]
    KillThread,
    #[serde(rename = "SCMP_ACT_KILL_PROCESS")]
    KillProcess,
    #[serde(rename = "SCMP_ACT_TRAP")]
    Trap,
    #[serde(rename = "SCMP_ACT_ERRNO")]
    Errno,
    #[serde(rename = "SCMP_ACT_TRACE")]
    Trace,
    #[serde(rename = "SCMP_ACT_LOG")]
    Log,
    #[serde(rename = "SCMP_ACT_ALLOW")]
    Allow,
    #[serde(rename = "SCMP_ACT_NOTIFY")]
    Notify,
}

/// A comparison of a system call argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub enum Op {
    #[serde(rename = "SCMP_CMP_NE")]
    Ne,
    #[serde(rename = "SCMP_CMP_LT")]
    Lt,
    #[serde(rename = "SCMP_CMP_LE")]
    Le,
    #[serde(rename = "SCMP_CMP_EQ")]
    Eq,
    #[serde(rename = "SCMP_CMP_GE")]
    Ge,
    #[serde(rename = "SCMP_CMP_GT")]
    Gt,
    /// `(arg & value) == value_two`.
    #[serde(rename = "SCMP_CMP_MASKED_EQ")]
    MaskedEq,
}

/// One argument condition; the conditions of a rule must all hold (conditions on the same argument
/// index are alternatives, as in runc).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Arg {
    pub index: u32,
    pub value: u64,
    #[serde(default)]
    pub value_two: u64,
    pub op: Op,
}

/// When a rule applies (`includes`: all must hold) or does not (`excludes`: any excludes it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    /// Go architecture names (`amd64`, `arm64`, `x86`, ...).
    #[serde(default, deserialize_with = "null_default")]
    pub arches: Vec<String>,
    /// `CAP_*` names, checked against the container's bounding set.
    #[serde(default, deserialize_with = "null_default")]
    pub caps: Vec<String>,
    /// `MAJOR.MINOR`: the rule needs at least this kernel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_kernel: Option<String>,
}

/// One rule.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Syscall {
    #[serde(default, deserialize_with = "null_default")]
    pub names: Vec<String>,
    /// The old single-name form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno_ret: Option<u32>,
    #[serde(default, deserialize_with = "null_default")]
    pub args: Vec<Arg>,
    #[serde(default, deserialize_with = "null_default")]
    pub includes: Filter,
    #[serde(default, deserialize_with = "null_default")]
    pub excludes: Filter,
}

impl Syscall {
    /// The system call names of the rule (`names`, plus the old `name`).
    pub fn all_names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str).chain(self.name.as_deref())
    }
}

/// An architecture and the ones its processes may also use.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchMap {
    pub architecture: String,
    #[serde(default, deserialize_with = "null_default")]
    pub sub_architectures: Vec<String>,
}

/// A whole profile.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub default_action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_errno_ret: Option<u32>,
    /// `SCMP_ARCH_*` names (the older form of `archMap`).
    #[serde(default, deserialize_with = "null_default")]
    pub architectures: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub arch_map: Vec<ArchMap>,
    #[serde(default, deserialize_with = "null_default")]
    pub syscalls: Vec<Syscall>,
    #[serde(default, deserialize_with = "null_default")]
    pub flags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener_path: Option<String>,
}

fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Our default profile: the same rules as Podman's (`containers/common`) default.
pub const DEFAULT_PROFILE_JSON: &str = include_str!("default_profile.json");

impl Profile {
    /// Parses a profile in the Podman/Docker JSON format.
    pub fn parse(json: &str) -> Result<Profile, String> {
        serde_json::from_str(json).map_err(|e| format!("decoding seccomp profile: {e}"))
    }

    /// The built-in default profile.
    pub fn default_profile() -> Profile {
        Profile::parse(DEFAULT_PROFILE_JSON).expect("the built-in seccomp profile is valid")
    }

    /// Reads and parses the profile at `path`.
    pub fn load(path: &std::path::Path) -> Result<Profile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("opening seccomp profile {}: {e}", path.display()))?;
        Profile::parse(&text).map_err(|e| format!("{e} ({})", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_profile_parses() {
        let p = Profile::default_profile();
        assert_eq!(p.default_action, Action::Errno);
        assert_eq!(p.default_errno_ret, Some(38));
        let allowed: Vec<&str> = p
            .syscalls
            .iter()
            .filter(|s| s.action == Action::Allow && s.includes == Filter::default())
            .flat_map(|s| s.all_names())
            .collect();
        for name in ["keyctl", "ptrace", "clone", "unshare", "execve", "read"] {
            assert!(allowed.contains(&name), "{name}");
        }
        assert!(!allowed.contains(&"add_key"));
        assert!(!allowed.contains(&"request_key"));
    }

    #[test]
    fn nulls_old_names_and_conditions_parse() {
        let p = Profile::parse(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":null,"syscalls":[
                {"name":"mount","action":"SCMP_ACT_ERRNO","args":null,"includes":null},
                {"names":["personality"],"action":"SCMP_ACT_ALLOW",
                 "args":[{"index":0,"value":8,"op":"SCMP_CMP_MASKED_EQ","valueTwo":8}],
                 "includes":{"caps":["CAP_SYS_ADMIN"],"minKernel":"4.8"},"excludes":{"arches":["s390x"]}}]}"#,
        )
        .unwrap();
        assert_eq!(p.syscalls[0].all_names().collect::<Vec<_>>(), ["mount"]);
        assert!(p.syscalls[0].args.is_empty());
        assert_eq!(p.syscalls[1].args[0].op, Op::MaskedEq);
        assert_eq!(p.syscalls[1].args[0].value_two, 8);
        assert_eq!(p.syscalls[1].includes.min_kernel.as_deref(), Some("4.8"));
        assert_eq!(p.syscalls[1].excludes.arches, ["s390x"]);
    }

    #[test]
    fn bad_profiles_are_refused() {
        assert!(Profile::parse("{}").is_err());
        assert!(Profile::parse(r#"{"defaultAction":"SCMP_ACT_NOPE"}"#).is_err());
    }
}
