//! Who the container process is: user, groups and the five capability sets.
//!
//! The parent turns `process.user` and `process.capabilities` into numbers and bit masks; the child
//! applies them in runc's order: drop the bounding set while still privileged, keep capabilities across
//! the uid change (`PR_SET_KEEPCAPS`), `setgroups`/`setresgid`/`setresuid`, then `capset` the effective,
//! permitted and inheritable sets and raise the ambient ones (which is how a non-root user keeps
//! capabilities across `execve`).

use std::sync::OnceLock;

use oci_spec::runtime::{Capabilities, LinuxCapabilities, User};

use super::error::RuntimeError;
use super::step::{Failure, Step};
use super::syscall::{CapabilitySets, Syscall};

/// The highest capability number this kernel knows, from `/proc/sys/kernel/cap_last_cap`.
pub(crate) fn last_cap() -> u32 {
    static LAST: OnceLock<u32> = OnceLock::new();
    *LAST.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(40)
    })
}

/// The capability sets of `process.capabilities` as masks. A missing section means no capabilities.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CapabilityPlan {
    pub bounding: u64,
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
    pub ambient: u64,
    pub last_cap: u32,
}

/// `CAP_SYS_ADMIN` -> 21, through the caps crate's table.
pub(crate) fn capability_number(name: &str) -> Option<u32> {
    let full = if name.starts_with("CAP_") {
        name.to_string()
    } else {
        format!("CAP_{name}")
    };
    full.parse::<caps::Capability>()
        .ok()
        .map(|c| u32::from(c.index()))
}

/// 21 -> `CAP_SYS_ADMIN`.
pub(crate) fn capability_name(number: u32) -> String {
    caps::all()
        .into_iter()
        .find(|c| u32::from(c.index()) == number)
        .map_or_else(|| format!("capability {number}"), |c| c.to_string())
}

impl CapabilityPlan {
    pub(crate) fn from_spec(
        capabilities: Option<&LinuxCapabilities>,
        last_cap: u32,
    ) -> Result<Self, RuntimeError> {
        let mask = |set: &Option<Capabilities>| -> Result<u64, RuntimeError> {
            let mut mask = 0u64;
            for cap in set.iter().flatten() {
                let name = cap.to_string();
                let number = capability_number(&name)
                    .ok_or_else(|| RuntimeError::invalid(format!("unknown capability CAP_{name}")))?;
                // Capabilities newer than this kernel are skipped, as runc does.
                if number <= last_cap && number < 64 {
                    mask |= 1 << number;
                }
            }
            Ok(mask)
        };
        let Some(c) = capabilities else {
            return Ok(CapabilityPlan {
                last_cap,
                ..Default::default()
            });
        };
        Ok(CapabilityPlan {
            bounding: mask(c.bounding())?,
            effective: mask(c.effective())?,
            permitted: mask(c.permitted())?,
            inheritable: mask(c.inheritable())?,
            ambient: mask(c.ambient())?,
            last_cap,
        })
    }

    /// Drop from the bounding set every capability not in it.
    pub(crate) fn apply_bounding(&self, sys: &dyn Syscall) -> Result<(), Failure> {
        for cap in 0..=self.last_cap.min(63) {
            if self.bounding & (1 << cap) == 0 {
                sys.drop_bounding_cap(cap)
                    .map_err(Failure::at_index(Step::BoundingSet, cap as usize))?;
            }
        }
        Ok(())
    }

    /// Set effective, permitted and inheritable, then the ambient set.
    pub(crate) fn apply_sets(&self, sys: &dyn Syscall) -> Result<(), Failure> {
        let sets = CapabilitySets {
            effective: self.effective,
            permitted: self.permitted,
            inheritable: self.inheritable,
        };
        sys.set_capabilities(sets).map_err(Failure::at(Step::Capset))?;
        sys.clear_ambient_caps()
            .map_err(Failure::at_index(Step::Ambient, 64))?;
        for cap in 0..=self.last_cap.min(63) {
            if self.ambient & (1 << cap) != 0 {
                sys.raise_ambient_cap(cap)
                    .map_err(Failure::at_index(Step::Ambient, cap as usize))?;
            }
        }
        Ok(())
    }
}

/// `process.user` as numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct UserPlan {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups; empty clears the caller's.
    pub groups: Vec<u32>,
    /// The umask the process starts with (0022 unless the spec says otherwise).
    pub umask: u32,
    /// `setgroups` is denied in the caller's user namespace (a rootless one mapped without
    /// `newgidmap`): the groups cannot change, so it is skipped, as crun does.
    pub setgroups_denied: bool,
}

impl UserPlan {
    pub(crate) fn from_spec(user: &User) -> Self {
        UserPlan {
            uid: user.uid(),
            gid: user.gid(),
            groups: user.additional_gids().clone().unwrap_or_default(),
            umask: user.umask().unwrap_or(0o022),
            setgroups_denied: std::fs::read_to_string("/proc/self/setgroups")
                .is_ok_and(|s| s.trim() == "deny"),
        }
    }

    /// `setgroups`, `setresgid`, `setresuid`.
    pub(crate) fn apply(&self, sys: &dyn Syscall) -> Result<(), Failure> {
        if !self.setgroups_denied {
            sys.setgroups(&self.groups).map_err(Failure::at(Step::Groups))?;
        }
        sys.setresgid(self.gid).map_err(Failure::at(Step::Gid))?;
        sys.setresuid(self.uid).map_err(Failure::at(Step::Uid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::syscall::recording::RecordingSyscall;
    use oci_spec::runtime::{Capability, LinuxCapabilitiesBuilder};

    #[test]
    fn capability_names_map_to_kernel_numbers() {
        assert_eq!(capability_number("CHOWN"), Some(0));
        assert_eq!(capability_number("CAP_SYS_ADMIN"), Some(21));
        assert_eq!(capability_number("NOPE"), None);
        assert_eq!(capability_name(21), "CAP_SYS_ADMIN");
    }

    #[test]
    fn sets_become_masks_and_unknown_new_caps_are_skipped() {
        let set: Capabilities = [
            Capability::Kill,
            Capability::NetBindService,
            Capability::CheckpointRestore,
        ]
        .into();
        let caps = LinuxCapabilitiesBuilder::default()
            .bounding(set.clone())
            .effective(set.clone())
            .permitted(set)
            .inheritable(Capabilities::new())
            .ambient(Capabilities::new())
            .build()
            .unwrap();
        // A kernel whose last capability is 39 does not know CAP_CHECKPOINT_RESTORE (40).
        let plan = CapabilityPlan::from_spec(Some(&caps), 39).unwrap();
        assert_eq!(plan.bounding, (1 << 5) | (1 << 10));
        assert_eq!(plan.effective, plan.bounding);
        assert_eq!(plan.inheritable, 0);
        assert_eq!(CapabilityPlan::from_spec(None, 40).unwrap().bounding, 0);
    }

    #[test]
    fn bounding_drops_everything_else_and_ambient_is_cleared_then_raised() {
        let plan = CapabilityPlan {
            bounding: 0b101,
            effective: 1,
            permitted: 1,
            inheritable: 1,
            ambient: 1,
            last_cap: 3,
        };
        let sys = RecordingSyscall::new();
        plan.apply_bounding(&sys).unwrap();
        plan.apply_sets(&sys).unwrap();
        assert_eq!(
            sys.calls(),
            vec![
                "drop_bounding 1",
                "drop_bounding 3",
                "capset e=0x1 p=0x1 i=0x1",
                "ambient_clear",
                "ambient_raise 0"
            ]
        );
    }
}
