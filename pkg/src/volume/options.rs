//! `volume create --opt KEY=VALUE` for the `local` driver, checked as Podman checks them and recorded
//! as Podman records them.
//!
//! Podman's local driver can also mount a filesystem as the volume (`type`, `device`, mount flags in
//! `o`); selkie's volumes are plain directories, so those are refused with a message saying so rather
//! than accepted and ignored. What a plain directory can honour is kept: `o=uid=N,gid=N` (the owner of
//! `_data`, recorded also as `UID`/`GID`), `o=noquota` (recorded as `NOQUOTA`), `o=timeout=N`
//! (dropped), `copy` and `nocopy` (whether the first mount copies the container's content up).

use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// Options checked and ready to record.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// What `inspect` shows under `Options`.
    pub recorded: BTreeMap<String, String>,
    /// Owner of `_data` from `o=uid=N,gid=N` (the other one 0, as Podman).
    pub owner: Option<(u32, u32)>,
}

fn invalid(msg: String) -> Error {
    Error::InvalidInput(msg)
}

fn unsupported(what: &str) -> Error {
    invalid(format!(
        "volume option {what} is not supported: local volumes are plain directories here (mounting a \
         filesystem as a volume is not implemented)"
    ))
}

/// Checks `--opt` values for the local driver.
pub fn parse(opts: &BTreeMap<String, String>) -> Result<Parsed> {
    let mut out = Parsed::default();
    let (mut uid, mut gid) = (None, None);
    for (key, value) in opts {
        match key.to_ascii_lowercase().as_str() {
            "o" => {
                let mut kept = vec![];
                for o in value.split(',').filter(|o| !o.is_empty()) {
                    let (name, arg) = match o.split_once('=') {
                        Some((n, a)) => (n, Some(a)),
                        None => (o, None),
                    };
                    match name.to_ascii_lowercase().as_str() {
                        "uid" => {
                            uid = Some(id_value("uid", "UID", arg)?);
                            out.recorded.insert("UID".into(), arg.unwrap_or_default().into());
                            kept.push(o);
                        }
                        "gid" => {
                            gid = Some(id_value("gid", "GID", arg)?);
                            out.recorded.insert("GID".into(), arg.unwrap_or_default().into());
                            kept.push(o);
                        }
                        "noquota" => {
                            out.recorded.insert("NOQUOTA".into(), "true".into());
                        }
                        "timeout" => {
                            let ok = arg.and_then(|a| a.parse::<u32>().ok()).is_some();
                            if !ok {
                                return Err(invalid(format!(
                                    "timeout option must provide a valid timeout in seconds, not {o:?}: invalid argument"
                                )));
                            }
                        }
                        "size" | "inodes" => {
                            return Err(invalid(
                                "volume options size and inodes not supported. Filesystem does not support Project Quota"
                                    .into(),
                            ))
                        }
                        _ => return Err(unsupported(&format!("o={o}"))),
                    }
                }
                if !kept.is_empty() {
                    out.recorded.insert(key.clone(), kept.join(","));
                }
            }
            "copy" | "nocopy" => {
                out.recorded.insert(key.clone(), value.clone());
            }
            "device" | "type" | "uid" | "gid" | "size" | "inodes" | "noquota" => {
                return Err(unsupported(key));
            }
            _ => {
                return Err(invalid(format!(
                    "invalid mount option {key} for driver 'local': invalid argument"
                )))
            }
        }
    }
    if uid.is_some() || gid.is_some() {
        out.owner = Some((uid.unwrap_or(0), gid.unwrap_or(0)));
    }
    Ok(out)
}

fn id_value(name: &str, upper: &str, arg: Option<&str>) -> Result<u32> {
    let arg =
        arg.ok_or_else(|| invalid(format!("{name} option must provide a {upper}: invalid argument")))?;
    arg.parse().map_err(|_| {
        invalid(format!(
            "cannot convert {upper} {arg} to integer: invalid argument"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn err(pairs: &[(&str, &str)]) -> String {
        parse(&opts(pairs)).unwrap_err().to_string()
    }

    #[test]
    fn owner_from_o_is_applied_and_recorded_as_podman() {
        let p = parse(&opts(&[("o", "uid=1000,gid=100,noquota,timeout=5")])).unwrap();
        assert_eq!(p.owner, Some((1000, 100)));
        assert_eq!(
            p.recorded,
            opts(&[
                ("o", "uid=1000,gid=100"),
                ("UID", "1000"),
                ("GID", "100"),
                ("NOQUOTA", "true")
            ])
        );
        assert_eq!(parse(&opts(&[("o", "gid=5")])).unwrap().owner, Some((0, 5)));
    }

    #[test]
    fn copy_flags_are_kept_and_nothing_means_no_owner() {
        let p = parse(&opts(&[("nocopy", "")])).unwrap();
        assert_eq!(p.recorded, opts(&[("nocopy", "")]));
        assert_eq!(p.owner, None);
        assert_eq!(parse(&BTreeMap::new()).unwrap(), Parsed::default());
    }

    #[test]
    fn bad_and_unsupported_options_say_why() {
        assert_eq!(
            err(&[("foo", "bar")]),
            "invalid mount option foo for driver 'local': invalid argument"
        );
        assert!(err(&[("type", "tmpfs")]).contains("volume option type is not supported"));
        assert!(err(&[("o", "nodev")]).contains("o=nodev is not supported"));
        assert!(err(&[("o", "size=1g")]).contains("Project Quota"));
        assert_eq!(
            err(&[("o", "uid")]),
            "uid option must provide a UID: invalid argument"
        );
        assert_eq!(
            err(&[("o", "uid=x")]),
            "cannot convert UID x to integer: invalid argument"
        );
        assert!(err(&[("o", "timeout=-1")]).contains("timeout"));
    }
}
