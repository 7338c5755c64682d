//! The cgroup v2 device filter: the OCI spec's `linux.resources.devices` rules compiled into an eBPF
//! program of type `BPF_PROG_TYPE_CGROUP_DEVICE`, loaded with bpf(2) and attached to a cgroup2
//! directory. cgroup v2 has no `devices.allow`/`devices.deny` files; the kernel runs this program on
//! every device open and mknod of a process in the cgroup, and refuses the access when it returns 0.
//!
//! Semantics are those of the v1 `devices` controller as OCI runtimes apply it: the rules are read in
//! order and the *last* matching rule decides; nothing matching is a denial. The program tests the rules
//! in reverse order and returns at the first match, as runc's does. An allow rule matches when every
//! requested access is in its `access`; a deny rule matches when any requested access is in its
//! `access` (so `deny c 1:5 w` refuses `rw` but lets `r` fall through to the rules before it).
//!
//! The instructions are encoded by hand (a handful of opcodes, below): there is no small, well-kept
//! crate for eBPF assembly (aya and libbpf-rs bring a loader framework with them), and runc generates
//! this program the same way. This module owns program generation and the two bpf(2) calls; it never
//! creates, removes or joins cgroups.

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};
use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

/// One eBPF instruction, as the kernel's `struct bpf_insn` lays it out.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    pub code: u8,
    /// `dst_reg` in the low nibble, `src_reg` in the high nibble (little-endian bitfields).
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

// Opcode parts (linux/bpf_common.h, linux/bpf.h).
const BPF_LDX: u8 = 0x01;
const BPF_ALU: u8 = 0x04;
const BPF_JMP: u8 = 0x05;
const BPF_W: u8 = 0x00;
const BPF_MEM: u8 = 0x60;
const BPF_K: u8 = 0x00;
const BPF_X: u8 = 0x08;
const BPF_AND: u8 = 0x50;
const BPF_RSH: u8 = 0x70;
const BPF_MOV: u8 = 0xb0;
const BPF_JEQ: u8 = 0x10;
const BPF_JNE: u8 = 0x50;
const BPF_EXIT: u8 = 0x90;

// Registers: r0 the return value, r1 the context on entry; r2..r5 hold its unpacked fields.
const R0: u8 = 0;
const R1: u8 = 1;
const R_TYPE: u8 = 2;
const R_ACCESS: u8 = 3;
const R_MAJOR: u8 = 4;
const R_MINOR: u8 = 5;

// struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; } and its values.
const CTX_ACCESS_TYPE: i16 = 0;
const CTX_MAJOR: i16 = 4;
const CTX_MINOR: i16 = 8;
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;
const ACC_MKNOD: i32 = 1;
const ACC_READ: i32 = 2;
const ACC_WRITE: i32 = 4;
const ACC_ALL: i32 = ACC_MKNOD | ACC_READ | ACC_WRITE;

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | (dst & 0x0f),
        off,
        imm,
    }
}

/// `dst = *(u32 *)(src + off)`
fn load_word(dst: u8, src: u8, off: i16) -> Insn {
    insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
}
/// `(u32) dst = imm`
fn mov_imm(dst: u8, imm: i32) -> Insn {
    insn(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, imm)
}
/// `(u32) dst = src`
fn mov_reg(dst: u8, src: u8) -> Insn {
    insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
}
/// `(u32) dst &= imm`
fn and_imm(dst: u8, imm: i32) -> Insn {
    insn(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm)
}
/// `(u32) dst >>= imm`
fn rsh_imm(dst: u8, imm: i32) -> Insn {
    insn(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm)
}
/// `if dst != imm goto +off`
fn jne_imm(dst: u8, imm: i32, off: i16) -> Insn {
    insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
}
/// `if dst != src goto +off`
fn jne_reg(dst: u8, src: u8, off: i16) -> Insn {
    insn(BPF_JMP | BPF_JNE | BPF_X, dst, src, off, 0)
}
/// `if dst == imm goto +off`
fn jeq_imm(dst: u8, imm: i32, off: i16) -> Insn {
    insn(BPF_JMP | BPF_JEQ | BPF_K, dst, 0, off, imm)
}
fn exit() -> Insn {
    insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
}

/// Why a rule cannot become part of the program.
fn invalid(rule: &LinuxDeviceCgroup, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("device rule {:?}: {why}", rule.to_string()),
    )
}

/// A device number as an instruction immediate: the kernel's are 12-bit majors and 20-bit minors,
/// so anything negative or above `i32::MAX` is a mistake, not a device.
fn device_number(rule: &LinuxDeviceCgroup, n: Option<i64>) -> io::Result<Option<i32>> {
    match n {
        None | Some(-1) => Ok(None),
        Some(n) => i32::try_from(n)
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| invalid(rule, "device number out of range")),
    }
}

/// The rule's access as `BPF_DEVCG_ACC_*` bits; omitted or empty is all of `rwm`.
fn access_bits(rule: &LinuxDeviceCgroup) -> io::Result<i32> {
    let access = rule.access().as_deref().unwrap_or("");
    if access.is_empty() {
        return Ok(ACC_ALL);
    }
    access.chars().try_fold(0, |bits, c| match c {
        'r' => Ok(bits | ACC_READ),
        'w' => Ok(bits | ACC_WRITE),
        'm' => Ok(bits | ACC_MKNOD),
        _ => Err(invalid(rule, "access must be a subset of \"rwm\"")),
    })
}

/// The instructions that return the rule's verdict when it matches, and fall through past themselves
/// when it does not. `None` for a rule that can never match a device (a FIFO rule).
fn rule_block(rule: &LinuxDeviceCgroup) -> io::Result<Option<Vec<Insn>>> {
    let dev_type = match rule.typ().unwrap_or_default() {
        LinuxDeviceType::A => None,
        LinuxDeviceType::B => Some(DEV_BLOCK),
        LinuxDeviceType::C | LinuxDeviceType::U => Some(DEV_CHAR),
        // FIFOs are not devices: the device controller never sees them.
        LinuxDeviceType::P => return Ok(None),
    };
    let major = device_number(rule, rule.major())?;
    let minor = device_number(rule, rule.minor())?;
    let access = access_bits(rule)?;

    // Each test is a jump to the end of the block; the offsets are filled in once its length is known.
    let mut tests: Vec<Insn> = Vec::new();
    if let Some(t) = dev_type {
        tests.push(jne_imm(R_TYPE, t, 0));
    }
    if access != ACC_ALL {
        tests.push(mov_reg(R1, R_ACCESS));
        tests.push(and_imm(R1, access));
        tests.push(if rule.allow() {
            // Allow only when every requested access is allowed: (req & access) == req.
            jne_reg(R1, R_ACCESS, 0)
        } else {
            // Deny when any requested access is denied: (req & access) != 0.
            jeq_imm(R1, 0, 0)
        });
    }
    if let Some(m) = major {
        tests.push(jne_imm(R_MAJOR, m, 0));
    }
    if let Some(m) = minor {
        tests.push(jne_imm(R_MINOR, m, 0));
    }
    tests.push(mov_imm(R0, i32::from(rule.allow())));
    tests.push(exit());
    let len = tests.len();
    for (i, ins) in tests.iter_mut().enumerate() {
        if ins.code & 0x07 == BPF_JMP && ins.code != BPF_JMP | BPF_EXIT {
            // A jump's offset counts from the instruction after it.
            ins.off = (len - i - 1) as i16;
        }
    }
    Ok(Some(tests))
}

/// Whether a block matches every device and access (it is then the last one that can run).
fn matches_everything(block: &[Insn]) -> bool {
    block.len() == 2
}

/// The device filter for `rules`: the last matching rule decides, and no match is a denial.
pub fn program(rules: &[LinuxDeviceCgroup]) -> io::Result<Vec<Insn>> {
    let mut prog = vec![
        load_word(R_TYPE, R1, CTX_ACCESS_TYPE),
        and_imm(R_TYPE, 0xffff),
        load_word(R_ACCESS, R1, CTX_ACCESS_TYPE),
        rsh_imm(R_ACCESS, 16),
        load_word(R_MAJOR, R1, CTX_MAJOR),
        load_word(R_MINOR, R1, CTX_MINOR),
    ];
    for rule in rules.iter().rev() {
        let Some(block) = rule_block(rule)? else {
            continue;
        };
        let last = matches_everything(&block);
        prog.extend(block);
        if last {
            // The rules before an `a *:* rwm` rule can never decide anything.
            return Ok(prog);
        }
    }
    prog.push(mov_imm(R0, 0));
    prog.push(exit());
    Ok(prog)
}

// bpf(2) commands and constants (linux/bpf.h).
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

/// The head of `union bpf_attr` for `BPF_PROG_LOAD`; the kernel treats the fields not passed as zero.
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
}

/// `union bpf_attr` for `BPF_PROG_ATTACH`.
#[repr(C)]
#[derive(Default)]
struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
}

fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> io::Result<libc::c_long> {
    // SAFETY: `attr` is a live, initialised #[repr(C)] prefix of `union bpf_attr` and its size is passed.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut T as *mut libc::c_void,
            std::mem::size_of::<T>() as libc::c_uint,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn prog_load(insns: &[Insn], log: Option<&mut [u8]>) -> io::Result<OwnedFd> {
    let license = CString::new("Apache").expect("no NUL");
    let mut attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        ..Default::default()
    };
    if let Some(log) = log {
        attr.log_level = 1;
        attr.log_size = log.len() as u32;
        attr.log_buf = log.as_mut_ptr() as u64;
    }
    let fd = bpf(BPF_PROG_LOAD, &mut attr)?;
    // SAFETY: a successful BPF_PROG_LOAD returns a new file descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Loads `insns` as a device filter; a verifier rejection carries the verifier's log.
pub fn load(insns: &[Insn]) -> io::Result<OwnedFd> {
    match prog_load(insns, None) {
        Ok(fd) => Ok(fd),
        Err(first) => {
            // Load again with a log buffer, only to say why.
            let mut log = vec![0u8; 64 * 1024];
            let _ = prog_load(insns, Some(&mut log));
            let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
            let text = String::from_utf8_lossy(&log[..end]);
            let text = text.trim();
            Err(io::Error::new(
                first.kind(),
                if text.is_empty() {
                    format!("loading the cgroup device filter: {first}")
                } else {
                    format!("loading the cgroup device filter: {first}: verifier: {text}")
                },
            ))
        }
    }
}

/// Attaches the loaded program `prog` to the cgroup2 directory `dir`.
pub fn attach(prog: &OwnedFd, dir: &Path) -> io::Result<()> {
    let cgroup = File::open(dir).map_err(|e| super::io_context(e, format!("opening {}", dir.display())))?;
    let mut attr = ProgAttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
    };
    bpf(BPF_PROG_ATTACH, &mut attr)
        .map_err(|e| super::io_context(e, format!("attaching the device filter to {}", dir.display())))?;
    Ok(())
}

/// Compiles `rules`, loads the program and attaches it to `dir`. The program's descriptor is closed
/// on return: the attachment keeps the program alive for as long as the cgroup exists.
pub fn apply(dir: &Path, rules: &[LinuxDeviceCgroup]) -> io::Result<()> {
    let prog = load(&program(rules)?)?;
    attach(&prog, dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::spec::device_rule as rule;

    #[test]
    fn no_rules_deny_everything() {
        let p = program(&[]).unwrap();
        assert_eq!(p.len(), 8);
        assert_eq!(p[6], mov_imm(R0, 0));
        assert_eq!(p[7], exit());
    }

    #[test]
    fn rules_are_tested_last_first_and_a_wildcard_ends_the_program() {
        let rules = [
            rule(false, LinuxDeviceType::A, None, None, "rwm"),
            rule(true, LinuxDeviceType::C, Some(1), Some(3), "rwm"),
            rule(true, LinuxDeviceType::C, Some(1), Some(5), "r"),
        ];
        let p = program(&rules).unwrap();
        // prologue 6; c 1:5 r: type, 3 access, major, minor, mov, exit = 8; c 1:3 rwm: 5;
        // a *:* rwm deny: mov, exit = 2, which ends the program without a default.
        assert_eq!(p.len(), 6 + 8 + 5 + 2);
        assert_eq!(p[6], jne_imm(R_TYPE, DEV_CHAR, 7));
        assert_eq!(p[7], mov_reg(R1, R_ACCESS));
        assert_eq!(p[8], and_imm(R1, ACC_READ));
        assert_eq!(p[9], jne_reg(R1, R_ACCESS, 4));
        assert_eq!(p[10], jne_imm(R_MAJOR, 1, 3));
        assert_eq!(p[11], jne_imm(R_MINOR, 5, 2));
        assert_eq!(p[12], mov_imm(R0, 1));
        assert_eq!(p[19], mov_imm(R0, 0));
        assert_eq!(p[20], exit());
        // The register nibbles: dst low, src high.
        assert_eq!(p[9].regs, (R_ACCESS << 4) | R1);
    }

    #[test]
    fn deny_rules_match_any_requested_access() {
        let p = program(&[rule(false, LinuxDeviceType::B, Some(8), None, "w")]).unwrap();
        assert_eq!(p[8], and_imm(R1, ACC_WRITE));
        assert_eq!(p[9], jeq_imm(R1, 0, 3));
        assert_eq!(p[10], jne_imm(R_MAJOR, 8, 2));
        assert_eq!(p[11], mov_imm(R0, 0));
        assert_eq!(p.len(), 6 + 7 + 2);
    }

    #[test]
    fn bad_rules_are_errors() {
        let bad = rule(true, LinuxDeviceType::C, Some(1), Some(3), "rx");
        assert!(program(&[bad]).is_err());
        let bad = rule(true, LinuxDeviceType::C, Some(1 << 40), Some(3), "r");
        assert!(program(&[bad]).is_err());
        // FIFO rules have nothing to match.
        let fifo = rule(true, LinuxDeviceType::P, None, None, "rwm");
        assert_eq!(program(&[fifo]).unwrap().len(), 8);
    }
}
