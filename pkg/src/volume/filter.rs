//! `volume ls --filter` and `volume prune --filter`, as Podman 4.3 reads them: `KEY=VALUE` with the keys
//! `name` (a regular expression matched anywhere in the name), `label` (`KEY` or `KEY=VALUE`), `driver`,
//! `scope`, `opt` (`KEY` or `KEY=VALUE`), `dangling` (`true`/`1` or `false`/`0`: no container uses it)
//! and `until` (created before a Unix time, an RFC 3339 time, or a Go duration ago).
//!
//! Combining them follows Podman 4.6 and later (its man page): filters with the same key work
//! inclusive (any may match), except `label`, which is exclusive (all must), and filters with different
//! keys are exclusive. Podman 4.3 ORed every filter, `name=a,label=b` included; that was a bug.

use super::pattern::Pattern;
use super::VolumeRecord;
use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
enum Filter {
    Name(Pattern),
    Label(String, Option<String>),
    Driver(String),
    Scope(String),
    Opt(String, Option<String>),
    Dangling(bool),
    Until(DateTime<Utc>),
}

/// Parsed filters by key; an empty set matches everything.
#[derive(Debug, Clone, Default)]
pub struct Filters(BTreeMap<String, Vec<Filter>>);

fn key_value(s: &str) -> (String, Option<String>) {
    match s.split_once('=') {
        Some((k, v)) if !v.is_empty() => (k.to_string(), Some(v.to_string())),
        Some((k, _)) => (k.to_string(), None),
        None => (s.to_string(), None),
    }
}

impl Filters {
    /// Parses `KEY=VALUE` filters, with Podman's messages for bad ones.
    pub fn parse(specs: &[String]) -> Result<Filters> {
        Self::parse_at(specs, Utc::now())
    }

    fn parse_at(specs: &[String], now: DateTime<Utc>) -> Result<Filters> {
        let mut out: BTreeMap<String, Vec<Filter>> = BTreeMap::new();
        for spec in specs {
            let (key, value) = spec.split_once('=').ok_or_else(|| {
                Error::InvalidInput(format!(
                    "filter input must be in the form of filter=value: {spec} is invalid"
                ))
            })?;
            let filter = match key {
                "name" => Filter::Name(Pattern::new(value)?),
                "label" => {
                    let (k, v) = key_value(value);
                    Filter::Label(k, v)
                }
                "driver" => Filter::Driver(value.to_string()),
                "scope" => Filter::Scope(value.to_string()),
                "opt" => {
                    let (k, v) = key_value(value);
                    Filter::Opt(k, v)
                }
                "dangling" => Filter::Dangling(match value.to_ascii_lowercase().as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => {
                        return Err(Error::InvalidInput(format!(
                        "{value:?} is not a valid value for the \"dangling\" filter - must be true or false"
                    )))
                    }
                }),
                "until" => Filter::Until(until(value, now)?),
                other => {
                    return Err(Error::InvalidInput(format!(
                        "{other:?} is an invalid volume filter"
                    )))
                }
            };
            out.entry(key.to_string()).or_default().push(filter);
        }
        Ok(Filters(out))
    }

    /// Whether `in_use` is read by [`Filters::matches`] (so callers can skip computing it).
    pub fn needs_users(&self) -> bool {
        self.0.contains_key("dangling")
    }

    /// Whether volume `v` passes: for each key, one of its filters (every one for `label`); `in_use`
    /// says whether a container uses the volume.
    pub fn matches(&self, v: &VolumeRecord, in_use: bool) -> bool {
        self.0.iter().all(|(key, filters)| {
            let one = |f: &Filter| Self::matches_one(f, v, in_use);
            if key == "label" {
                filters.iter().all(one)
            } else {
                filters.iter().any(one)
            }
        })
    }

    fn matches_one(f: &Filter, v: &VolumeRecord, in_use: bool) -> bool {
        match f {
            Filter::Name(p) => p.is_match(&v.name),
            Filter::Label(k, want) => v
                .labels
                .get(k)
                .is_some_and(|have| want.as_ref().is_none_or(|w| w == have)),
            Filter::Driver(d) => &v.driver == d,
            Filter::Scope(s) => s == "local",
            Filter::Opt(k, want) => v
                .options
                .get(k)
                .is_some_and(|have| want.as_ref().is_none_or(|w| w == have)),
            Filter::Dangling(d) => in_use != *d,
            Filter::Until(t) => v.created < *t,
        }
    }
}

/// Podman's `until`: Unix seconds (fractions allowed), an RFC 3339 time or date, or a Go duration
/// (`10m`, `1h30m`) before `now`.
fn until(value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    if let Ok(secs) = value.parse::<f64>() {
        if secs.is_finite() {
            let whole = secs.trunc() as i64;
            let nanos = ((secs - secs.trunc()) * 1e9) as u32;
            if let Some(t) = DateTime::from_timestamp(whole, nanos) {
                return Ok(t);
            }
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    go_duration(value)
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .map(|d| now - d)
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "invalid until filter {value:?}: use a Unix time, an RFC 3339 time or a duration such as 24h"
            ))
        })
}

/// A Go duration (`300ms`, `1.5h`, `2h45m`), without sign.
fn go_duration(s: &str) -> Option<std::time::Duration> {
    let mut rest = s;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += n * scale;
    }
    std::time::Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vol(name: &str, labels: &[(&str, &str)], created: DateTime<Utc>) -> VolumeRecord {
        VolumeRecord {
            name: name.into(),
            driver: "local".into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            options: BTreeMap::from([("nocopy".to_string(), "".to_string())]),
            created,
            anonymous: false,
            uid: 0,
            gid: 0,
            needs_copy_up: true,
            needs_chown: true,
        }
    }

    fn f(specs: &[&str]) -> Filters {
        Filters::parse(&specs.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn err(spec: &str) -> String {
        Filters::parse(&[spec.to_string()]).unwrap_err().to_string()
    }

    #[test]
    fn each_key_matches_as_podman() {
        let now = Utc::now();
        let v = vol("data-1", &[("app", "web"), ("tier", "")], now);
        assert!(f(&[]).matches(&v, true));
        assert!(f(&["name=ta-"]).matches(&v, false));
        assert!(!f(&["name=^ta"]).matches(&v, false));
        assert!(f(&["label=app"]).matches(&v, false));
        assert!(f(&["label=app=web"]).matches(&v, false));
        assert!(!f(&["label=app=db"]).matches(&v, false));
        assert!(f(&["label=tier"]).matches(&v, false));
        assert!(f(&["driver=local", "scope=local"]).matches(&v, false));
        assert!(!f(&["driver=nfs"]).matches(&v, false));
        assert!(f(&["opt=nocopy"]).matches(&v, false));
        assert!(!f(&["opt=o"]).matches(&v, false));
        assert!(f(&["dangling=true"]).matches(&v, false));
        assert!(!f(&["dangling=1"]).matches(&v, true));
        assert!(f(&["dangling=false"]).matches(&v, true));
        assert!(f(&["dangling=true"]).needs_users());
        assert!(!f(&["name=x"]).needs_users());
    }

    #[test]
    fn same_keys_are_ored_except_labels_and_different_keys_anded() {
        let v = vol("data", &[("a", "1")], Utc::now());
        assert!(f(&["name=data", "name=other"]).matches(&v, false));
        assert!(!f(&["name=x", "name=other"]).matches(&v, false));
        assert!(!f(&["label=a", "label=b"]).matches(&v, false));
        assert!(f(&["label=a", "label=a=1"]).matches(&v, false));
        assert!(!f(&["name=data", "label=b"]).matches(&v, false));
        assert!(f(&["name=data", "label=a", "dangling=true"]).matches(&v, false));
    }

    #[test]
    fn until_takes_times_and_durations() {
        let now = DateTime::parse_from_rfc3339("2024-01-02T00:00:00Z")
            .unwrap()
            .to_utc();
        let parse = |s: &str| match &Filters::parse_at(&[format!("until={s}")], now).unwrap().0["until"][0] {
            Filter::Until(t) => *t,
            other => panic!("{other:?}"),
        };
        assert_eq!(parse("24h"), now - chrono::Duration::hours(24));
        assert_eq!(parse("1h30m"), now - chrono::Duration::minutes(90));
        assert_eq!(
            parse("1704067200"),
            DateTime::from_timestamp(1704067200, 0).unwrap()
        );
        assert_eq!(
            parse("2024-01-01T00:00:00Z"),
            DateTime::from_timestamp(1704067200, 0).unwrap()
        );
        assert_eq!(
            parse("2024-01-01"),
            DateTime::from_timestamp(1704067200, 0).unwrap()
        );
        let old = vol("old", &[], now - chrono::Duration::hours(48));
        let new = vol("new", &[], now);
        let filters = Filters::parse_at(&["until=24h".to_string()], now).unwrap();
        assert!(filters.matches(&old, false));
        assert!(!filters.matches(&new, false));
    }

    #[test]
    fn bad_filters_have_podmans_messages() {
        assert_eq!(
            err("name"),
            "filter input must be in the form of filter=value: name is invalid"
        );
        assert_eq!(err("colour=red"), "\"colour\" is an invalid volume filter");
        assert_eq!(
            err("dangling=maybe"),
            "\"maybe\" is not a valid value for the \"dangling\" filter - must be true or false"
        );
        assert!(err("until=soon").contains("invalid until filter"));
        assert!(err("name=(").starts_with("error parsing regexp"));
    }
}
