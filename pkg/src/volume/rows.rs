//! Volumes as Podman shows them: `define.InspectVolumeData`, the object of both `volume inspect` and
//! `volume ls --format json`, and the same fields for Go templates.
//!
//! JSON drops the fields Go marks `omitempty` when they are zero (`UID`, `GID`, `Anonymous`,
//! `NeedsCopyUp`, `NeedsChown`, `Timeout`, `StorageID`, `Status`) and writes `CreatedAt` as Go's
//! RFC 3339 with nanoseconds; a template sees every field, and `CreatedAt` as Go's `time.Time` prints.

use super::{store, VolumeRecord};
use crate::engine::Engine;
use crate::image::list::go_time;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

/// Go's `time.RFC3339Nano` in UTC: trailing zeros of the fraction dropped.
fn rfc3339_nano(t: DateTime<Utc>) -> String {
    let nanos = t.timestamp_subsec_nanos();
    let fraction = if nanos == 0 {
        String::new()
    } else {
        format!(".{nanos:09}").trim_end_matches('0').to_string()
    };
    format!("{}{fraction}Z", t.format("%Y-%m-%dT%H:%M:%S"))
}

fn common(engine: &Engine, v: &VolumeRecord) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("Name".into(), json!(v.name));
    m.insert("Driver".into(), json!(v.driver));
    m.insert(
        "Mountpoint".into(),
        json!(store::data_path(&engine.store, &v.name).display().to_string()),
    );
    m.insert("Labels".into(), json!(v.labels));
    m.insert("Scope".into(), json!("local"));
    m.insert("Options".into(), json!(v.options));
    m.insert("MountCount".into(), json!(0));
    m
}

/// The JSON object of one volume (`volume inspect`, `volume ls --format json`).
pub fn json_row(engine: &Engine, v: &VolumeRecord) -> Value {
    let mut m = common(engine, v);
    m.insert("CreatedAt".into(), json!(rfc3339_nano(v.created)));
    let optional = [
        ("UID", v.uid != 0, json!(v.uid)),
        ("GID", v.gid != 0, json!(v.gid)),
        ("Anonymous", v.anonymous, json!(true)),
        ("NeedsCopyUp", v.needs_copy_up, json!(true)),
        ("NeedsChown", v.needs_chown, json!(true)),
    ];
    for (key, present, value) in optional {
        if present {
            m.insert(key.into(), value);
        }
    }
    Value::Object(m)
}

/// The fields a Go template sees for one volume.
pub fn template_row(engine: &Engine, v: &VolumeRecord) -> Value {
    let mut m = common(engine, v);
    m.insert("CreatedAt".into(), json!(go_time(v.created)));
    m.insert("Status".into(), json!({}));
    m.insert("UID".into(), json!(v.uid));
    m.insert("GID".into(), json!(v.gid));
    m.insert("Anonymous".into(), json!(v.anonymous));
    m.insert("NeedsCopyUp".into(), json!(v.needs_copy_up));
    m.insert("NeedsChown".into(), json!(v.needs_chown));
    m.insert("Timeout".into(), json!(0));
    m.insert("StorageID".into(), json!(""));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_at_is_gos_rfc3339_nano() {
        let t = DateTime::parse_from_rfc3339("2024-03-04T05:06:07.120000000Z")
            .unwrap()
            .to_utc();
        assert_eq!(rfc3339_nano(t), "2024-03-04T05:06:07.12Z");
        let whole = DateTime::parse_from_rfc3339("2024-03-04T05:06:07Z")
            .unwrap()
            .to_utc();
        assert_eq!(rfc3339_nano(whole), "2024-03-04T05:06:07Z");
    }
}
