//! The user's ID mappings: `/etc/subuid` and `/etc/subgid` ranges, and the mapping selkie's user
//! namespace gets from them (container root = the user's own ID, 1..N = the subordinate ranges).
//!
//! This module only computes; [`super::enter`] applies the mappings with `newuidmap`/`newgidmap`.

use std::fmt;

/// One line of `uid_map`/`gid_map`: `size` IDs from `inside` map to `outside` in the parent namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdMap {
    pub inside: u32,
    pub outside: u32,
    pub size: u32,
}

impl IdMap {
    /// The initial namespace's map: every ID is itself.
    pub fn identity() -> IdMap {
        IdMap {
            inside: 0,
            outside: 0,
            size: u32::MAX,
        }
    }
}

impl fmt::Display for IdMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.inside, self.outside, self.size)
    }
}

/// A subordinate range of `/etc/subuid` or `/etc/subgid`: `count` IDs starting at `start`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubRange {
    pub start: u32,
    pub count: u32,
}

/// The ranges of `text` (the contents of `/etc/subuid` or `/etc/subgid`) that belong to the user
/// `name` or numeric `id`, in file order. Malformed lines are skipped, as shadow's tools do.
pub fn parse_subordinate(text: &str, name: &str, id: u32) -> Vec<SubRange> {
    let id = id.to_string();
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let mut fields = line.split(':');
            let owner = fields.next()?;
            let start = fields.next()?.trim().parse().ok()?;
            let count: u32 = fields.next()?.trim().parse().ok()?;
            ((owner == name || owner == id) && count > 0).then_some(SubRange { start, count })
        })
        .collect()
}

/// Reads the user's ranges from `path`; a missing file is no ranges.
pub fn read_subordinate(path: &str, name: &str, id: u32) -> Vec<SubRange> {
    std::fs::read_to_string(path)
        .map(|text| parse_subordinate(&text, name, id))
        .unwrap_or_default()
}

/// Podman's rootless mapping: 0 is the user's own `id`, then 1, 2, ... run through the ranges in order.
pub fn rootless_mappings(id: u32, ranges: &[SubRange]) -> Vec<IdMap> {
    let mut maps = vec![IdMap {
        inside: 0,
        outside: id,
        size: 1,
    }];
    let mut next = 1u32;
    for r in ranges {
        maps.push(IdMap {
            inside: next,
            outside: r.start,
            size: r.count,
        });
        next = next.saturating_add(r.count);
    }
    maps
}

/// The mappings currently in force, from `/proc/PID/uid_map`-style text.
pub fn parse_map(text: &str) -> Vec<IdMap> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace().map(|n| n.parse::<u32>());
            match (f.next()?, f.next()?, f.next()?) {
                (Ok(inside), Ok(outside), Ok(size)) => Some(IdMap {
                    inside,
                    outside,
                    size,
                }),
                _ => None,
            }
        })
        .collect()
}

/// Translates `id` of the namespace described by `maps` to the parent's ID.
pub fn to_outside(maps: &[IdMap], id: u32) -> Option<u32> {
    maps.iter()
        .find(|m| id >= m.inside && id - m.inside < m.size)
        .map(|m| m.outside + (id - m.inside))
}

/// Translates a parent's `id` to the namespace described by `maps`.
pub fn to_inside(maps: &[IdMap], id: u32) -> Option<u32> {
    maps.iter()
        .find(|m| id >= m.outside && id - m.outside < m.size)
        .map(|m| m.inside + (id - m.outside))
}

/// The total number of IDs `maps` covers.
pub fn mapped_count(maps: &[IdMap]) -> u64 {
    maps.iter().map(|m| u64::from(m.size)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_by_name_or_id_and_malformed_lines_skipped() {
        let text = "alice:100000:65536\nbob:200000:1000\n# c\n1001:300000:10\nbad\nalice:x:1\nalice:5:0\n";
        assert_eq!(
            parse_subordinate(text, "alice", 1000),
            vec![SubRange {
                start: 100000,
                count: 65536
            }]
        );
        assert_eq!(
            parse_subordinate(text, "bob", 1001),
            vec![
                SubRange {
                    start: 200000,
                    count: 1000
                },
                SubRange {
                    start: 300000,
                    count: 10
                }
            ]
        );
        assert!(parse_subordinate(text, "carol", 7).is_empty());
    }

    #[test]
    fn container_root_is_the_user_and_ranges_follow() {
        let maps = rootless_mappings(
            1000,
            &[
                SubRange {
                    start: 200000,
                    count: 65536,
                },
                SubRange { start: 5, count: 2 },
            ],
        );
        let lines: Vec<String> = maps.iter().map(|m| m.to_string()).collect();
        assert_eq!(lines, ["0 1000 1", "1 200000 65536", "65537 5 2"]);
        assert_eq!(to_outside(&maps, 0), Some(1000));
        assert_eq!(to_outside(&maps, 1000), Some(200999));
        assert_eq!(to_outside(&maps, 65538), Some(6));
        assert_eq!(to_outside(&maps, 65539), None);
        assert_eq!(to_inside(&maps, 200999), Some(1000));
        assert_eq!(mapped_count(&maps), 65539);
        assert_eq!(
            parse_map("         0       1000          1\n 1 200000 65536\n"),
            maps[..2]
        );
    }
}
