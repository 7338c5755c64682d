//! The volume store against a real temporary graph root.

use super::*;
use crate::config::storage::Overrides;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

struct Fixture {
    _dir: tempfile::TempDir,
    engine: Engine,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(&Overrides {
        root: Some(dir.path().join("root")),
        runroot: Some(dir.path().join("run")),
        driver: Some("overlay".into()),
        ..Default::default()
    })
    .unwrap();
    Fixture { _dir: dir, engine }
}

fn named(name: &str) -> CreateOptions {
    CreateOptions {
        name: Some(name.into()),
        ..Default::default()
    }
}

fn names(engine: &Engine) -> Vec<String> {
    list(engine).unwrap().into_iter().map(|v| v.name).collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Adds a container record that uses `volumes` (named) and `anonymous` volumes.
fn add_container(engine: &Engine, id: &str, volumes: &[&str], anonymous: &[&str]) {
    let rec: container::store::ContainerRecord = serde_json::from_value(serde_json::json!({
        "id": id,
        "name": format!("c-{id}"),
        "image_id": image_store::Digest::of_bytes(b"image"),
        "image_name": "img",
        "command": [],
        "created": Utc::now(),
        "volumes": volumes,
        "anonymous_volumes": anonymous,
    }))
    .unwrap();
    container::store::update(&engine.store, |db| {
        db.containers.push(rec);
        Ok(())
    })
    .unwrap();
}

#[test]
fn create_records_the_volume_and_makes_its_directories() {
    let f = fixture();
    let mut opts = named("data");
    opts.labels.insert("app".into(), "web".into());
    opts.options.insert("nocopy".into(), "".into());
    let rec = create(&f.engine, &opts).unwrap();
    assert_eq!(rec.name, "data");
    assert_eq!(rec.driver, "local");
    assert_eq!(rec.labels.get("app").map(String::as_str), Some("web"));
    assert!(rec.no_copy());
    assert!(!rec.anonymous && rec.needs_copy_up && rec.needs_chown);
    let data = data_path(&f.engine, "data");
    assert_eq!(data, f.engine.store.root().join("volumes/data/_data"));
    assert_eq!(fs::metadata(&data).unwrap().mode() & 0o7777, 0o755);
    assert_eq!(
        fs::metadata(data.parent().unwrap()).unwrap().mode() & 0o7777,
        0o700
    );
    assert_eq!(list(&f.engine).unwrap(), vec![rec.clone()]);
    assert_eq!(lookup(&f.engine, "data").unwrap(), rec);
    assert!(exists(&f.engine, "data").unwrap());
    assert!(!exists(&f.engine, "dat").unwrap(), "exists wants the full name");
}

#[test]
fn a_second_create_of_a_name_fails_unless_ignored() {
    let f = fixture();
    let first = create(&f.engine, &named("data")).unwrap();
    let err = create(&f.engine, &named("data")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "volume with name data already exists: volume already exists"
    );
    let mut again = named("data");
    again.ignore_existing = true;
    again.labels.insert("new".into(), "label".into());
    assert_eq!(
        create(&f.engine, &again).unwrap(),
        first,
        "--ignore keeps the existing volume as it is"
    );
}

#[test]
fn names_are_checked_and_generated() {
    let f = fixture();
    for bad in ["", "-x", ".x", "a b", "a/b", "a:b"] {
        let err = create(&f.engine, &named(bad)).unwrap_err().to_string();
        assert!(
            err.contains("names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*"),
            "{bad:?}: {err}"
        );
    }
    assert!(names(&f.engine).is_empty());
    let rec = create(&f.engine, &CreateOptions::default()).unwrap();
    assert_eq!(rec.name.len(), 64);
    assert!(rec.name.bytes().all(|b| b.is_ascii_hexdigit()));
}

#[test]
fn other_drivers_and_bad_options_are_refused() {
    let f = fixture();
    let mut opts = named("x");
    opts.driver = Some("nfs".into());
    assert!(create(&f.engine, &opts).unwrap_err().to_string().contains("nfs"));
    let mut opts = named("x");
    opts.options.insert("bogus".into(), "1".into());
    assert!(create(&f.engine, &opts).is_err());
    assert!(names(&f.engine).is_empty());
    assert!(!f.engine.store.root().join("volumes/x").exists());
}

#[test]
fn o_uid_gid_owns_the_data_and_skips_the_chown_on_mount() {
    let f = fixture();
    let mut opts = named("owned");
    opts.options.insert("o".into(), "uid=1000,gid=1001".into());
    if nix::unistd::getuid().as_raw() != 0 {
        return;
    }
    let rec = create(&f.engine, &opts).unwrap();
    assert_eq!((rec.uid, rec.gid, rec.needs_chown), (1000, 1001, false));
    let meta = fs::metadata(data_path(&f.engine, "owned")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (1000, 1001));
}

#[test]
fn ensure_creates_once_and_anonymous_volumes_are_flagged() {
    let f = fixture();
    let path = ensure(&f.engine, "cache").unwrap();
    assert!(path.is_dir());
    let created = lookup(&f.engine, "cache").unwrap().created;
    assert_eq!(ensure(&f.engine, "cache").unwrap(), path);
    assert_eq!(lookup(&f.engine, "cache").unwrap().created, created);
    assert!(ensure(&f.engine, "bad name").is_err());
    let (name, anon_path) = create_anonymous(&f.engine).unwrap();
    assert_eq!(name.len(), 64);
    assert_eq!(anon_path, data_path(&f.engine, &name));
    assert!(lookup(&f.engine, &name).unwrap().anonymous);
}

#[test]
fn locked_variants_work_under_a_held_lock() {
    let f = fixture();
    let held = f.engine.store.lock().unwrap();
    let path = ensure_locked(&f.engine, &held, "v").unwrap();
    let (anon, _) = create_anonymous_locked(&f.engine, &held).unwrap();
    let report = remove_many_locked(&f.engine, &held, &strings(&["v", &anon])).unwrap();
    assert_eq!(report.removed, strings(&["v", &anon]));
    drop(held);
    assert!(!path.exists());
}

#[test]
fn find_takes_a_unique_prefix() {
    let f = fixture();
    for n in ["alpha", "alpine", "beta"] {
        create(&f.engine, &named(n)).unwrap();
    }
    assert_eq!(lookup(&f.engine, "b").unwrap().name, "beta");
    assert_eq!(lookup(&f.engine, "alph").unwrap().name, "alpha");
    assert!(lookup(&f.engine, "al")
        .unwrap_err()
        .to_string()
        .contains("more than one result"));
    assert_eq!(
        lookup(&f.engine, "gamma").unwrap_err().to_string(),
        "no volume with name \"gamma\" found: no such volume"
    );
}

#[test]
fn users_are_the_containers_listing_the_volume() {
    let f = fixture();
    add_container(&f.engine, "c1", &["data"], &[]);
    add_container(&f.engine, "c2", &["other"], &["data"]);
    add_container(&f.engine, "c3", &["other"], &[]);
    assert_eq!(users(&f.engine, "data"), strings(&["c1", "c2"]));
    assert!(users(&f.engine, "none").is_empty());
}

#[test]
fn remove_refuses_volumes_in_use_and_reports_unknown_ones() {
    let f = fixture();
    for n in ["used", "free"] {
        create(&f.engine, &named(n)).unwrap();
    }
    add_container(&f.engine, "c1", &["used"], &[]);
    let report = remove_many(&f.engine, &strings(&["used", "free", "missing"]), false).unwrap();
    assert_eq!(report.removed, strings(&["free"]));
    assert_eq!(report.not_removed.len(), 2);
    match &report.not_removed[0] {
        NotRemoved::InUse(e) => assert_eq!(
            e.to_string(),
            "volume used is being used by the following container(s): c1: volume is being used"
        ),
        other => panic!("{other:?}"),
    }
    assert!(matches!(&report.not_removed[1], NotRemoved::Unknown(_)));
    assert_eq!(names(&f.engine), strings(&["used"]));
    assert!(!f.engine.store.root().join("volumes/free").exists());
    assert!(data_path(&f.engine, "used").is_dir());
}

#[test]
fn forced_remove_removes_the_containers_first() {
    let f = fixture();
    create(&f.engine, &named("used")).unwrap();
    add_container(&f.engine, "c1", &["used"], &[]);
    add_container(&f.engine, "c2", &[], &["used"]);
    add_container(&f.engine, "c3", &["other"], &[]);
    let report = remove_many(&f.engine, &strings(&["use"]), true).unwrap();
    assert_eq!(report.removed, strings(&["used"]));
    assert!(report.not_removed.is_empty());
    let left: Vec<String> = container::store::read(&f.engine.store)
        .unwrap()
        .containers
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(left, strings(&["c3"]));
}

#[test]
fn prune_removes_only_unused_selected_volumes() {
    let f = fixture();
    for n in ["a", "b", "keep"] {
        create(&f.engine, &named(n)).unwrap();
    }
    add_container(&f.engine, "c1", &["a"], &[]);
    let report = prune(&f.engine, &|v| v.name != "keep").unwrap();
    assert_eq!(report.removed, strings(&["b"]));
    assert_eq!(names(&f.engine), strings(&["a", "keep"]));
}

#[test]
fn interrupted_removals_are_finished_or_undone() {
    let f = fixture();
    create(&f.engine, &named("kept")).unwrap();
    fs::write(data_path(&f.engine, "kept").join("file"), b"x").unwrap();
    let volumes = f.engine.store.root().join("volumes");
    // Killed after moving the directory aside, before dropping the record: the directory comes back.
    fs::rename(volumes.join("kept"), volumes.join(".removing-1-kept")).unwrap();
    // Killed after dropping the record, before emptying the trash: the trash goes.
    fs::create_dir_all(volumes.join(".removing-2-gone/_data")).unwrap();
    create(&f.engine, &named("other")).unwrap();
    assert_eq!(fs::read(data_path(&f.engine, "kept").join("file")).unwrap(), b"x");
    let mut entries: Vec<String> = fs::read_dir(&volumes)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, strings(&["kept", "other"]));
}

#[test]
fn a_directory_left_without_a_record_is_adopted() {
    let f = fixture();
    let orphan = f.engine.store.root().join("volumes/data/_data");
    fs::create_dir_all(&orphan).unwrap();
    fs::write(orphan.join("f"), b"kept").unwrap();
    assert_eq!(ensure(&f.engine, "data").unwrap(), orphan);
    assert_eq!(fs::read(orphan.join("f")).unwrap(), b"kept");
}

#[test]
fn copy_up_happens_once_into_an_empty_volume() {
    let f = fixture();
    let rootfs = f.engine.store.root().join("rootfs");
    fs::create_dir_all(rootfs.join("srv/sub")).unwrap();
    fs::write(rootfs.join("srv/sub/file"), b"image content").unwrap();
    fs::set_permissions(rootfs.join("srv"), fs::Permissions::from_mode(0o751)).unwrap();
    let data = ensure(&f.engine, "vol").unwrap();
    assert!(copy_up_if_needed(&f.engine, "vol", &rootfs.join("srv")).unwrap());
    assert_eq!(fs::read(data.join("sub/file")).unwrap(), b"image content");
    assert_eq!(fs::metadata(&data).unwrap().mode() & 0o7777, 0o751);
    assert!(!lookup(&f.engine, "vol").unwrap().needs_copy_up);
    fs::remove_dir_all(data.join("sub")).unwrap();
    assert!(
        !copy_up_if_needed(&f.engine, "vol", &rootfs.join("srv")).unwrap(),
        "only the first mount"
    );
    assert!(fs::read_dir(&data).unwrap().next().is_none());
}

#[test]
fn copy_up_skips_missing_sources_filled_volumes_and_nocopy() {
    let f = fixture();
    let rootfs = f.engine.store.root().join("rootfs");
    fs::create_dir_all(rootfs.join("srv")).unwrap();
    fs::write(rootfs.join("srv/file"), b"x").unwrap();
    fs::write(rootfs.join("plain"), b"x").unwrap();
    let data = ensure(&f.engine, "vol").unwrap();
    assert!(!copy_up_if_needed(&f.engine, "vol", &rootfs.join("missing")).unwrap());
    assert!(!copy_up_if_needed(&f.engine, "vol", &rootfs.join("plain")).unwrap());
    assert!(
        lookup(&f.engine, "vol").unwrap().needs_copy_up,
        "nothing was copied yet"
    );
    fs::write(data.join("mine"), b"user data").unwrap();
    assert!(!copy_up_if_needed(&f.engine, "vol", &rootfs.join("srv")).unwrap());
    assert!(!data.join("file").exists());
    let mut opts = named("nocopy");
    opts.options.insert("nocopy".into(), "".into());
    create(&f.engine, &opts).unwrap();
    assert!(!copy_up_if_needed(&f.engine, "nocopy", &rootfs.join("srv")).unwrap());
    assert!(copy_up_if_needed(&f.engine, "missing", &rootfs.join("srv")).is_err());
}

#[test]
fn first_mount_chown_takes_the_mount_points_owner_and_mode() {
    let f = fixture();
    if nix::unistd::getuid().as_raw() != 0 {
        return;
    }
    let rootfs = f.engine.store.root().join("rootfs");
    fs::create_dir_all(rootfs.join("srv")).unwrap();
    std::os::unix::fs::lchown(rootfs.join("srv"), Some(70), Some(71)).unwrap();
    fs::set_permissions(rootfs.join("srv"), fs::Permissions::from_mode(0o1777)).unwrap();
    let data = ensure(&f.engine, "vol").unwrap();
    assert!(chown_if_needed(&f.engine, "vol", (1000, 1000), Some(&rootfs.join("srv"))).unwrap());
    let meta = fs::metadata(&data).unwrap();
    assert_eq!((meta.uid(), meta.gid(), meta.mode() & 0o7777), (70, 71, 0o1777));
    assert!(
        !chown_if_needed(&f.engine, "vol", (1, 1), None).unwrap(),
        "only the first mount"
    );
    ensure(&f.engine, "other").unwrap();
    assert!(chown_if_needed(&f.engine, "other", (1000, 1001), Some(&rootfs.join("missing"))).unwrap());
    let meta = fs::metadata(data_path(&f.engine, "other")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (1000, 1001));
}
