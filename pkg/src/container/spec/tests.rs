//! Whole-spec tests: what `generate` produces for a default container and for the flags that change
//! many parts at once. The pieces have their own tests beside them.

use super::*;
use crate::container::config::{MountKind, MountSpec, NamespaceMode, Ulimit};
use crate::container::parse::{parse_tmpfs, parse_volume};
use oci_spec::runtime::{LinuxDeviceType, Mount, PosixRlimitType};
use std::fs;

const ID: &str = "3d0b0f2e4d96123eef25217febbc5705c8446d8a812550197b8253e918900ee5";

struct Fixture {
    _dir: tempfile::TempDir,
    upper: PathBuf,
    lower: PathBuf,
    userdata: PathBuf,
    rootfs: PathBuf,
    image: ImageConfigFile,
    host: HostFacts,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (upper, lower) = (dir.path().join("upper"), dir.path().join("lower"));
    fs::create_dir_all(lower.join("etc")).unwrap();
    fs::create_dir_all(upper.join("etc")).unwrap();
    fs::write(
        lower.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000::/home/tester:/bin/sh\n",
    )
    .unwrap();
    fs::write(
        lower.join("etc/group"),
        "root:x:0:\nusers:x:100:tester\ntester:x:1000:\nwheel:x:10:tester,root\n",
    )
    .unwrap();
    let mut image = ImageConfigFile::default();
    image.config.cmd = Some(vec!["/bin/sh".into()]);
    image.config.env = Some(vec!["FOO=img".into()]);
    Fixture {
        userdata: dir.path().join("userdata"),
        rootfs: dir.path().join("merged"),
        _dir: dir,
        upper,
        lower,
        image,
        host: HostFacts::for_tests(),
    }
}

fn cfg() -> CreateConfig {
    CreateConfig {
        name: "web".into(),
        image: "localhost/probe:1".into(),
        image_id: "8534ec".into(),
        ..Default::default()
    }
}

fn gen(f: &Fixture, cfg: &CreateConfig) -> Result<Spec> {
    gen_with(f, cfg, &[])
}

fn gen_with(f: &Fixture, cfg: &CreateConfig, volumes: &[(String, PathBuf)]) -> Result<Spec> {
    let lower_dirs = [f.upper.clone(), f.lower.clone()];
    let caller_env = vec![
        ("HOME".to_string(), "/home/caller".to_string()),
        ("SECRET".into(), "s".into()),
    ];
    let inputs = SpecInputs {
        cfg,
        image: Some(&f.image),
        rootfs: &f.rootfs,
        lower_dirs: &lower_dirs,
        userdata: &f.userdata,
        volume_paths: volumes,
        container_id: ID,
        caller_env: &caller_env,
    };
    generate_with(&inputs, &f.host, None)
}

fn process(s: &Spec) -> &oci_spec::runtime::Process {
    s.process().as_ref().unwrap()
}

fn linux(s: &Spec) -> &oci_spec::runtime::Linux {
    s.linux().as_ref().unwrap()
}

fn env(s: &Spec) -> Vec<String> {
    process(s).env().clone().unwrap()
}

fn mounts(s: &Spec) -> &[Mount] {
    s.mounts().as_deref().unwrap()
}

fn dests(s: &Spec) -> Vec<String> {
    mounts(s)
        .iter()
        .map(|m| m.destination().to_string_lossy().into_owned())
        .collect()
}

fn mount<'a>(s: &'a Spec, dest: &str) -> Option<&'a Mount> {
    mounts(s).iter().find(|m| m.destination() == Path::new(dest))
}

fn caps(set: &Option<oci_spec::runtime::Capabilities>) -> Vec<String> {
    let mut v: Vec<String> = set.iter().flatten().map(|c| format!("CAP_{c}")).collect();
    v.sort();
    v
}

/// The default spec, checked against the config.json Podman 4.3.1 wrote for the same image here.
#[test]
fn default_spec_matches_podman() {
    let f = fixture();
    let s = gen(&f, &cfg()).unwrap();
    let p = process(&s);
    assert_eq!(p.args().as_deref(), Some(&["/bin/sh".to_string()][..]));
    assert_eq!(p.cwd(), Path::new("/"));
    assert_eq!(p.terminal(), Some(false));
    assert_eq!((p.user().uid(), p.user().gid()), (0, 0));
    assert_eq!(p.user().additional_gids().as_deref(), Some(&[10u32][..]));
    assert_eq!(p.user().umask(), Some(0o022));
    assert_eq!(
        env(&s),
        vec![
            format!("PATH={DEFAULT_PATH}"),
            "container=podman".into(),
            "FOO=img".into(),
            "HOSTNAME=3d0b0f2e4d96".into(),
            "HOME=/root".into(),
        ]
    );
    let c = p.capabilities().as_ref().unwrap();
    let want: Vec<String> = DEFAULT_CAPABILITIES
        .iter()
        .map(|c| format!("CAP_{c}"))
        .collect::<Vec<_>>();
    let mut want = want;
    want.sort();
    assert_eq!(caps(c.bounding()), want);
    assert_eq!(caps(c.effective()), want);
    assert_eq!(caps(c.permitted()), want);
    assert!(caps(c.inheritable()).is_empty() && caps(c.ambient()).is_empty());
    assert_eq!(p.no_new_privileges(), Some(false));
    assert!(p.oom_score_adj().is_none());
    let limits: Vec<_> = p
        .rlimits()
        .iter()
        .flatten()
        .map(|r| (r.typ(), r.soft(), r.hard()))
        .collect();
    assert_eq!(
        limits,
        vec![
            (PosixRlimitType::RlimitNofile, 20000, 20000),
            (PosixRlimitType::RlimitNproc, 96364, 96364)
        ]
    );

    assert_eq!(s.hostname().as_deref(), Some("3d0b0f2e4d96"));
    assert_eq!(s.root().as_ref().unwrap().path(), &f.rootfs);
    assert_eq!(s.root().as_ref().unwrap().readonly(), Some(false));
    assert_eq!(dests(&s), super::mounts::tests::DEFAULT_ORDER);
    assert_eq!(
        mount(&s, "/etc/hosts").unwrap().source().as_deref(),
        Some(f.userdata.join("hosts").as_path())
    );

    let l = linux(&s);
    let ns: Vec<_> = l
        .namespaces()
        .iter()
        .flatten()
        .map(|n| (n.typ(), n.path().clone()))
        .collect();
    use LinuxNamespaceType::*;
    assert_eq!(
        ns,
        vec![
            (Pid, None),
            (Network, None),
            (Ipc, None),
            (Uts, None),
            (Mount, None)
        ]
    );
    assert_eq!(
        l.masked_paths().as_deref().unwrap(),
        DEFAULT_MASKED_PATHS.map(String::from)
    );
    assert_eq!(
        l.readonly_paths().as_deref().unwrap(),
        DEFAULT_READONLY_PATHS.map(String::from)
    );
    assert_eq!(
        l.cgroups_path().as_deref(),
        Some(Path::new(&format!("/selkie/{ID}")))
    );
    assert!(l.devices().is_none());
    let r = l.resources().as_ref().unwrap();
    assert_eq!(r.pids().unwrap().limit(), 2048);
    let rules: Vec<String> = r.devices().iter().flatten().map(|d| d.to_string()).collect();
    assert_eq!(rules[0], "a *:* rwm");
    assert!(!rules[0].is_empty() && !r.devices().as_ref().unwrap()[0].allow());
    assert!(rules.contains(&"c 1:3 rwm".to_string()) && rules.contains(&"c 136:* rwm".to_string()));
    assert_eq!(
        l.sysctl()
            .as_ref()
            .unwrap()
            .get("net.ipv4.ping_group_range")
            .map(String::as_str),
        Some("0 0")
    );
    let sc = l.seccomp().as_ref().expect("the default seccomp profile");
    assert_eq!(sc.default_errno_ret(), Some(38));

    let a = s.annotations().as_ref().unwrap();
    assert_eq!(a["io.container.manager"], "libpod");
    assert_eq!(a["io.podman.annotations.privileged"], "FALSE");
    assert_eq!(a["org.opencontainers.image.stopSignal"], "15");

    assert_eq!(
        fs::read_to_string(f.userdata.join("hostname")).unwrap(),
        "3d0b0f2e4d96\n"
    );
    assert_eq!(
        fs::read_to_string(f.userdata.join("hosts")).unwrap(),
        "127.0.0.1\tlocalhost\n127.0.0.1\t3d0b0f2e4d96 web\n"
    );
    assert_eq!(
        fs::read_to_string(f.userdata.join("resolv.conf")).unwrap(),
        "nameserver 10.0.0.2\n"
    );
    assert_eq!(fs::read_to_string(f.userdata.join(".containerenv")).unwrap(), "");

    // It serialises as runc expects: no hostname key means none is set.
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(
        json["process"]["capabilities"]["bounding"]
            .as_array()
            .unwrap()
            .len(),
        11
    );
    assert_eq!(json["linux"]["resources"]["devices"][0]["access"], "rwm");
}

#[test]
fn env_overrides_and_entrypoint() {
    let f = fixture();
    let c = CreateConfig {
        env: vec![
            "FOO=flag".into(),
            "HOME".into(),
            "NEW=1".into(),
            "FOO=last".into(),
        ],
        entrypoint: Some(vec!["/bin/echo".into()]),
        command: vec!["hi".into()],
        tty: true,
        workdir: Some("/tmp".into()),
        hostname: Some("box".into()),
        ..cfg()
    };
    let s = gen(&f, &c).unwrap();
    assert_eq!(
        process(&s).args().as_deref(),
        Some(&["/bin/echo".to_string(), "hi".to_string()][..])
    );
    assert_eq!(process(&s).cwd(), Path::new("/tmp"));
    assert_eq!(process(&s).terminal(), Some(true));
    assert_eq!(
        env(&s),
        vec![
            format!("PATH={DEFAULT_PATH}"),
            "TERM=xterm".into(),
            "container=podman".into(),
            "FOO=last".into(),
            "HOME=/home/caller".into(),
            "NEW=1".into(),
            "HOSTNAME=box".into(),
        ]
    );
    assert_eq!(s.hostname().as_deref(), Some("box"));
    let no_cmd = CreateConfig {
        entrypoint: Some(vec!["/bin/echo".into()]),
        ..cfg()
    };
    assert_eq!(
        process(&gen(&f, &no_cmd).unwrap()).args().as_deref(),
        Some(&["/bin/echo".to_string()][..])
    );
}

#[test]
fn user_from_the_layers() {
    let f = fixture();
    let c = CreateConfig {
        user: Some("tester".into()),
        group_add: vec!["wheel".into()],
        ..cfg()
    };
    let s = gen(&f, &c).unwrap();
    let u = process(&s).user();
    assert_eq!((u.uid(), u.gid()), (1000, 1000));
    assert_eq!(u.additional_gids().as_deref(), Some(&[1000u32, 10, 100][..]));
    assert!(env(&s).contains(&"HOME=/home/tester".to_string()));
    let caps_ = process(&s).capabilities().as_ref().unwrap();
    assert_eq!(caps(caps_.bounding()).len(), 11);
    assert!(caps(caps_.effective()).is_empty() && caps(caps_.permitted()).is_empty());

    // The image's User counts when -u is not given.
    let mut f2 = fixture();
    f2.image.config.user = Some("1234:5678".into());
    let s = gen(&f2, &cfg()).unwrap();
    let u = process(&s).user();
    assert_eq!(
        (u.uid(), u.gid(), u.additional_gids().clone()),
        (1234, 5678, Some(vec![5678]))
    );
    assert!(env(&s).contains(&"HOME=/".to_string()));

    // An upper layer replaces /etc/passwd.
    fs::write(
        f.upper.join("etc/passwd"),
        "root:x:0:0::/root:/bin/sh\ntester:x:3000:3000::/t:/bin/sh\n",
    )
    .unwrap();
    assert_eq!(process(&gen(&f, &c).unwrap()).user().uid(), 3000);

    let unknown = CreateConfig {
        user: Some("nobody".into()),
        ..cfg()
    };
    assert!(gen(&f, &unknown)
        .unwrap_err()
        .to_string()
        .contains("unable to find user nobody"));
}

#[test]
fn privileged() {
    let f = fixture();
    let c = CreateConfig {
        privileged: true,
        ..cfg()
    };
    let s = gen(&f, &c).unwrap();
    let cs = process(&s).capabilities().as_ref().unwrap();
    assert_eq!(cs.effective().as_ref().unwrap().len(), f.host.bounding_caps.len());
    let l = linux(&s);
    assert!(l.masked_paths().as_ref().unwrap().is_empty() && l.readonly_paths().as_ref().unwrap().is_empty());
    let devs = l.devices().as_ref().unwrap();
    assert!(devs
        .iter()
        .any(|d| d.path() == Path::new("/dev/null") && d.typ() == LinuxDeviceType::C));
    let rules = l.resources().as_ref().unwrap().devices().as_ref().unwrap();
    assert_eq!(rules.len(), 1);
    assert!(rules[0].allow());
    assert_eq!(
        mount(&s, "/sys")
            .unwrap()
            .options()
            .as_ref()
            .unwrap()
            .last()
            .unwrap(),
        "rw"
    );
    assert_eq!(
        s.annotations().as_ref().unwrap()["io.podman.annotations.privileged"],
        "TRUE"
    );
    let env_file = fs::read_to_string(f.userdata.join(".containerenv")).unwrap();
    assert!(
        env_file.contains(&format!("id=\"{ID}\"")) && env_file.contains("name=\"web\""),
        "{env_file}"
    );
}

#[test]
fn read_only_root() {
    let f = fixture();
    let s = gen(
        &f,
        &CreateConfig {
            read_only: true,
            ..cfg()
        },
    )
    .unwrap();
    assert_eq!(s.root().as_ref().unwrap().readonly(), Some(true));
    for d in ["/tmp", "/var/tmp", "/run"] {
        assert_eq!(mount(&s, d).unwrap().typ().as_deref(), Some("tmpfs"), "{d}");
    }
    assert!(mount(&s, "/run/.containerenv").is_none());
}

#[test]
fn ulimits_and_security_opts() {
    let f = fixture();
    let over = CreateConfig {
        ulimits: vec![Ulimit {
            name: "nofile".into(),
            soft: 1,
            hard: 30000,
        }],
        ..cfg()
    };
    let err = gen(&f, &over).unwrap_err().to_string();
    assert!(err.contains("hard limit 20000"), "{err}");
    let ok = CreateConfig {
        ulimits: vec![Ulimit {
            name: "nofile".into(),
            soft: 100,
            hard: 200,
        }],
        security_opt: vec![
            "no-new-privileges".into(),
            "mask=/a:/b".into(),
            "unmask=/proc/kcore".into(),
            "proc-opts=nosuid".into(),
        ],
        cap_add: vec!["net_admin".into()],
        cap_drop: vec!["CAP_CHOWN".into()],
        ..cfg()
    };
    let s = gen(&f, &ok).unwrap();
    let limits: Vec<_> = process(&s)
        .rlimits()
        .iter()
        .flatten()
        .map(|r| (r.typ(), r.soft(), r.hard()))
        .collect();
    assert_eq!(limits[0], (PosixRlimitType::RlimitNofile, 100, 200));
    assert_eq!(process(&s).no_new_privileges(), Some(true));
    let masked = linux(&s).masked_paths().clone().unwrap();
    assert!(
        !masked.contains(&"/proc/kcore".to_string())
            && masked.ends_with(&["/a".to_string(), "/b".to_string()])
    );
    assert_eq!(
        mount(&s, "/proc").unwrap().options().as_deref(),
        Some(&["nosuid".to_string()][..])
    );
    let bounding = caps(process(&s).capabilities().as_ref().unwrap().bounding());
    assert!(bounding.contains(&"CAP_NET_ADMIN".into()) && !bounding.contains(&"CAP_CHOWN".into()));
    assert!(gen(
        &f,
        &CreateConfig {
            security_opt: vec!["seccomp=/x.json".into()],
            ..cfg()
        }
    )
    .is_err());
}

#[test]
fn namespace_modes() {
    let f = fixture();
    let c = CreateConfig {
        pid: NamespaceMode::Host,
        ipc: NamespaceMode::Host,
        uts: NamespaceMode::Host,
        network: NetworkMode::None,
        ..cfg()
    };
    let s = gen(&f, &c).unwrap();
    let ns: Vec<_> = linux(&s).namespaces().iter().flatten().map(|n| n.typ()).collect();
    assert_eq!(ns, vec![LinuxNamespaceType::Network, LinuxNamespaceType::Mount]);
    assert_eq!(s.hostname(), &None);
    assert!(env(&s).contains(&"HOSTNAME=testhost".to_string()));
    assert!(mount(&s, "/etc/resolv.conf").is_none());
    assert_eq!(mount(&s, "/dev/shm").unwrap().typ().as_deref(), Some("bind"));
    assert!(serde_json::to_value(&s).unwrap().get("hostname").is_none());

    let host_net = CreateConfig {
        network: NetworkMode::Host,
        ..cfg()
    };
    let s = gen(&f, &host_net).unwrap();
    assert!(!linux(&s)
        .namespaces()
        .iter()
        .flatten()
        .any(|n| n.typ() == LinuxNamespaceType::Network));
    assert_eq!(s.hostname().as_deref(), Some("testhost"));
    assert!(linux(&s).sysctl().as_ref().unwrap().is_empty());
    let joined = CreateConfig {
        pid: NamespaceMode::Container("db".into()),
        ..cfg()
    };
    assert!(gen(&f, &joined).is_err());
}

#[test]
fn volumes_and_tmpfs() {
    let f = fixture();
    let c = CreateConfig {
        mounts: vec![
            parse_volume("data:/data").unwrap(),
            parse_tmpfs("/scratch:size=1m").unwrap(),
            MountSpec {
                kind: MountKind::Bind,
                source: "/etc".into(),
                destination: "/host-etc".into(),
                read_only: true,
                options: vec![],
            },
        ],
        ..cfg()
    };
    let vols = vec![("/data".to_string(), PathBuf::from("/vols/data/_data"))];
    let s = gen_with(&f, &c, &vols).unwrap();
    assert_eq!(
        mount(&s, "/data").unwrap().source().as_deref(),
        Some(Path::new("/vols/data/_data"))
    );
    assert_eq!(
        mount(&s, "/scratch").unwrap().options().as_ref().unwrap()[0],
        "size=1m"
    );
    assert_eq!(
        mount(&s, "/host-etc").unwrap().options().as_ref().unwrap()[0],
        "ro"
    );
    assert!(gen(&f, &c)
        .unwrap_err()
        .to_string()
        .contains("volume data on /data"));
}

#[test]
fn rootfs_without_image() {
    let f = fixture();
    fs::create_dir_all(f.rootfs.join("etc")).unwrap();
    fs::write(f.rootfs.join("etc/passwd"), "root:x:0:0::/rootdir:/bin/sh\n").unwrap();
    let c = CreateConfig {
        command: vec!["/bin/true".into()],
        ..cfg()
    };
    let inputs = SpecInputs {
        cfg: &c,
        image: None,
        rootfs: &f.rootfs,
        lower_dirs: &[],
        userdata: &f.userdata,
        volume_paths: &[],
        container_id: ID,
        caller_env: &[],
    };
    let s = generate_with(&inputs, &f.host, None).unwrap();
    assert!(env(&s).contains(&"HOME=/rootdir".to_string()));
    assert_eq!(
        process(&s).args().as_deref(),
        Some(&["/bin/true".to_string()][..])
    );
    assert_eq!(
        stop_signal(
            &CreateConfig {
                stop_signal: Some("SIGKILL".into()),
                ..cfg()
            },
            None
        )
        .unwrap(),
        9
    );
}
