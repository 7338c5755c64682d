//! Who the container process runs as: `-u user[:group]` and `--group-add` resolved against the
//! container's own `/etc/passwd` and `/etc/group`, with runc's rules (which Podman uses):
//!
//! - a name must exist in the container's files; a number is accepted even when absent (then the
//!   primary group is 0 unless one is given, and there is no home);
//! - without an explicit group, the user's supplementary groups are the groups whose member list
//!   names the user; with `user:group` there are none;
//! - Podman then puts the primary gid first in the additional gids when a user was given (`-u` or
//!   the image's `User`), followed by `--group-add` groups and the supplementary groups.

use super::rootview::RootView;
use crate::error::{Error, Result};

/// The highest id runc accepts.
const MAX_ID: u64 = i32::MAX as u64;

/// The resolved identity of the container process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecUser {
    pub uid: u32,
    pub gid: u32,
    /// In Podman's order, without duplicates.
    pub additional_gids: Vec<u32>,
    /// The passwd home, or `/root` for uid 0 and `/` for anyone else when there is no passwd entry.
    pub home: String,
}

#[derive(Debug)]
struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

#[derive(Debug)]
struct GroupEntry {
    name: String,
    gid: u32,
    members: Vec<String>,
}

fn parse_id(s: &str) -> Option<u32> {
    s.parse::<u64>().ok().filter(|n| *n <= MAX_ID).map(|n| n as u32)
}

fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with(['#', '+', '-']))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            Some(PasswdEntry {
                name: f.first()?.to_string(),
                uid: parse_id(f.get(2)?)?,
                gid: parse_id(f.get(3)?)?,
                home: f.get(5).unwrap_or(&"").to_string(),
            })
        })
        .collect()
}

fn parse_group(text: &str) -> Vec<GroupEntry> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with(['#', '+', '-']))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            Some(GroupEntry {
                name: f.first()?.to_string(),
                gid: parse_id(f.get(2)?)?,
                members: f
                    .get(3)
                    .map(|m| m.split(',').filter(|s| !s.is_empty()).map(String::from).collect())?,
            })
        })
        .collect()
}

fn read(root: &RootView, path: &str) -> Result<Option<String>> {
    root.read_to_string(path)
        .map_err(|e| Error::InvalidInput(format!("reading the container's {path}: {e}")))
}

/// Resolves `user` (`name`, `uid`, `name:group`, `uid:gid`; empty means root) and the `--group-add`
/// groups against the container's `/etc/passwd` and `/etc/group`.
pub fn resolve_user(root: &RootView, user: &str, group_add: &[String]) -> Result<ExecUser> {
    resolve(root, user, group_add, true)
}

/// `exec -u USER`: as [`resolve_user`], but the additional gids are only the groups that list the
/// user, without its primary gid (Podman 4.3.1's `exec --user tester` has `Groups: 10 100`, and
/// `exec --user 1000:1000` none).
pub fn resolve_exec_user(root: &RootView, user: &str) -> Result<ExecUser> {
    resolve(root, user, &[], false)
}

fn resolve(root: &RootView, user: &str, group_add: &[String], primary_first: bool) -> Result<ExecUser> {
    let passwd = parse_passwd(&read(root, "/etc/passwd")?.unwrap_or_default());
    let groups_text = read(root, "/etc/group")?;
    let groups = parse_group(groups_text.as_deref().unwrap_or_default());
    let (user_arg, group_arg) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g).filter(|g| !g.is_empty())),
        None => (user, None),
    };

    let numeric_uid = parse_id(user_arg);
    if !user_arg.is_empty() && numeric_uid.is_none() && user_arg.parse::<i64>().is_ok() {
        return Err(Error::InvalidInput(format!("user {user_arg:?} is out of range")));
    }
    let entry = passwd.iter().find(|p| match (user_arg, numeric_uid) {
        ("", _) => p.uid == 0,
        (_, Some(uid)) => p.uid == uid,
        (name, None) => p.name == name,
    });
    let (uid, mut gid, name, home) = match (entry, numeric_uid) {
        (Some(p), _) => (p.uid, p.gid, Some(p.name.as_str()), Some(p.home.clone())),
        (None, Some(uid)) => (uid, 0, None, None),
        (None, None) if user_arg.is_empty() => (0, 0, None, None),
        (None, None) => {
            return Err(Error::UserNotFound(format!(
                "unable to find user {user_arg}: no matching entries in passwd file"
            )))
        }
    };

    let mut supplementary = Vec::new();
    match group_arg {
        Some(g) => gid = lookup_group(&groups, g)?,
        None => {
            if let Some(name) = name {
                supplementary = groups
                    .iter()
                    .filter(|g| g.members.iter().any(|m| m == name))
                    .map(|g| g.gid)
                    .collect();
            }
        }
    }

    let mut additional = Vec::new();
    let mut add = |g: u32| {
        if !additional.contains(&g) {
            additional.push(g);
        }
    };
    if primary_first && !user.is_empty() {
        add(gid);
    }
    for g in group_add {
        if g == "keep-groups" {
            return Err(Error::InvalidInput(
                "--group-add keep-groups is not supported yet".into(),
            ));
        }
        add(lookup_group(&groups, g)?);
    }
    for g in supplementary {
        add(g);
    }
    let home = home
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| if uid == 0 { "/root" } else { "/" }.to_string());
    Ok(ExecUser {
        uid,
        gid,
        additional_gids: additional,
        home,
    })
}

/// A group by name (which must exist) or number (which need not).
fn lookup_group(groups: &[GroupEntry], group: &str) -> Result<u32> {
    if let Some(gid) = parse_id(group) {
        return Ok(gid);
    }
    if group.parse::<i64>().is_ok() {
        return Err(Error::InvalidInput(format!("group {group:?} is out of range")));
    }
    groups
        .iter()
        .find(|g| g.name == group)
        .map(|g| g.gid)
        .ok_or_else(|| {
            // Podman's runtime fails to start the process: 126, like an unknown user.
            Error::UserNotFound(format!(
                "unable to find group {group}: no matching entries in the container's /etc/group"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::super::rootview::tests::whiteout;
    use super::*;
    use std::fs;
    use std::path::{Path, PathBuf};

    const PASSWD: &str =
        "root:x:0:0:root:/root:/bin/sh\n# comment\ntester:x:1000:1000::/home/tester:/bin/sh\n\
                          nohome:x:1001:1001::::\n";
    const GROUP: &str =
        "root:x:0:\nwheel:x:10:tester,root\nusers:x:100:tester\ntester:x:1000:\nstaff:x:50:\n";

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn two_layers() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let (upper, lower) = (t.path().join("upper"), t.path().join("lower"));
        write(&lower.join("etc/passwd"), PASSWD);
        write(&lower.join("etc/group"), GROUP);
        fs::create_dir_all(upper.join("etc")).unwrap();
        (t, upper, lower)
    }

    fn user(uid: u32, gid: u32, gids: &[u32], home: &str) -> ExecUser {
        ExecUser {
            uid,
            gid,
            additional_gids: gids.to_vec(),
            home: home.into(),
        }
    }

    #[test]
    fn names_numbers_and_groups() {
        let (_t, upper, lower) = two_layers();
        let root = RootView::layers(&[upper, lower]);
        // As Podman 4.3.1: root gets the groups that list root; a named user its primary gid first, then
        // the groups that list it, in file order.
        assert_eq!(resolve_user(&root, "", &[]).unwrap(), user(0, 0, &[10], "/root"));
        assert_eq!(
            resolve_user(&root, "tester", &[]).unwrap(),
            user(1000, 1000, &[1000, 10, 100], "/home/tester")
        );
        assert_eq!(
            resolve_user(&root, "1000", &[]).unwrap(),
            user(1000, 1000, &[1000, 10, 100], "/home/tester")
        );
        assert_eq!(
            resolve_user(&root, "tester:staff", &[]).unwrap(),
            user(1000, 50, &[50], "/home/tester")
        );
        assert_eq!(
            resolve_user(&root, "1234:5678", &[]).unwrap(),
            user(1234, 5678, &[5678], "/")
        );
        assert_eq!(
            resolve_user(&root, "1234", &[]).unwrap(),
            user(1234, 0, &[0], "/")
        );
        assert_eq!(
            resolve_user(&root, "nohome", &[]).unwrap(),
            user(1001, 1001, &[1001], "/")
        );
        assert_eq!(
            resolve_exec_user(&root, "tester").unwrap(),
            user(1000, 1000, &[10, 100], "/home/tester")
        );
        assert_eq!(
            resolve_exec_user(&root, "1000:1000").unwrap(),
            user(1000, 1000, &[], "/home/tester")
        );
        let added = resolve_user(&root, "tester", &["staff".into(), "4242".into(), "users".into()]).unwrap();
        assert_eq!(added.additional_gids, vec![1000, 50, 4242, 100, 10]);
        assert!(resolve_user(&root, "nobody", &[])
            .unwrap_err()
            .to_string()
            .contains("unable to find user nobody"));
        assert!(resolve_user(&root, "tester:nogroup", &[])
            .unwrap_err()
            .to_string()
            .contains("find group nogroup"));
        assert!(resolve_user(&root, "", &["nogroup".into()])
            .unwrap_err()
            .to_string()
            .contains("nogroup"));
        assert!(resolve_user(&root, "99999999999", &[])
            .unwrap_err()
            .to_string()
            .contains("out of range"));
    }

    #[test]
    fn upper_layer_replaces_passwd() {
        let (_t, upper, lower) = two_layers();
        write(
            &upper.join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\ntester:x:2000:2000::/srv:/bin/sh\n",
        );
        let root = RootView::layers(&[upper, lower]);
        assert_eq!(resolve_user(&root, "tester", &[]).unwrap().uid, 2000);
        assert_eq!(resolve_user(&root, "tester", &[]).unwrap().home, "/srv");
    }

    #[test]
    fn whiteout_hides_lower_passwd() {
        let (_t, upper, lower) = two_layers();
        if !whiteout(&upper.join("etc/passwd")) {
            eprintln!("skipping: creating a whiteout needs CAP_MKNOD");
            return;
        }
        let root = RootView::layers(&[upper, lower]);
        assert!(resolve_user(&root, "tester", &[])
            .unwrap_err()
            .to_string()
            .contains("unable to find user tester"));
        // Numeric ids still work without a passwd file.
        assert_eq!(
            resolve_user(&root, "1000:1000", &[]).unwrap(),
            user(1000, 1000, &[1000], "/")
        );
        assert_eq!(resolve_user(&root, "", &[]).unwrap(), user(0, 0, &[], "/root"));
    }

    #[test]
    fn plain_rootfs_without_etc() {
        let t = tempfile::tempdir().unwrap();
        let root = RootView::dir(t.path());
        assert_eq!(resolve_user(&root, "", &[]).unwrap(), user(0, 0, &[], "/root"));
        assert!(resolve_user(&root, "tester", &[]).is_err());
    }
}
