//! End-to-end tests of root bridge networking through the real binary: the default `podman` network,
//! `-p` reaching a container's server from the host, names between containers on a user-defined network
//! (aardvark-dns, started by selkie), `--network none|host`, the `/etc` files, the `network` commands,
//! and that nothing (veth, DNAT rule, namespace) is left after `rm`, also when the monitor was killed.
//!
//! Traffic goes only to loopback and to the tests' own containers. Each test uses its own network
//! names and subnets (10.89.2xx.0/24), since tests run in parallel with other test binaries' containers.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use harness::container::{poll, ContainerStore, BUSYBOX};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// A busybox httpd on port 80 serving `index.html` with `body`.
fn httpd(body: &str) -> String {
    format!("mkdir -p /www && echo {body} > /www/index.html && exec httpd -f -p 80 -h /www")
}

/// A host port free now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET /` on 127.0.0.1:port; the response, or empty.
fn http_get(port: u16) -> String {
    let Ok(mut s) = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2)) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = s.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn host(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {cmd}: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The host-side ifindex of the container's eth0 peer (its `iflink`).
fn host_peer_index(s: &ContainerStore, name: &str) -> String {
    s.run(&["exec", name, "cat", "/sys/class/net/eth0/iflink"])
        .success()
        .stdout_str()
        .trim()
        .to_string()
}

/// Whether a host interface with this ifindex exists.
fn host_has_ifindex(index: &str) -> bool {
    std::fs::read_dir("/sys/class/net")
        .unwrap()
        .flatten()
        .any(|e| std::fs::read_to_string(e.path().join("ifindex")).is_ok_and(|i| i.trim() == index))
}

#[test]
fn published_port_reaches_httpd_and_is_removed_with_the_container() {
    let s = ContainerStore::new();
    let port = free_port();
    let publish = format!("127.0.0.1:{port}:80");
    s.run_detached(&[
        "--name",
        "web",
        "-p",
        &publish,
        BUSYBOX,
        "sh",
        "-c",
        &httpd("hello-from-web"),
    ]);
    let mut last = String::new();
    assert!(
        poll(Duration::from_secs(10), || {
            last = http_get(port);
            last.contains("hello-from-web")
        }),
        "GET through the published port: {last:?}"
    );
    assert_eq!(
        s.run(&["port", "web"]).success().stdout_str().trim(),
        format!("80/tcp -> 127.0.0.1:{port}")
    );
    assert_eq!(
        s.run(&["port", "web", "80"]).success().stdout_str().trim(),
        format!("127.0.0.1:{port}")
    );
    let peer = host_peer_index(&s, "web");
    assert!(host_has_ifindex(&peer), "the container's veth is on the host");
    assert!(
        host("nft", &["list", "ruleset"]).contains(&format!("dport {port} ")),
        "a DNAT rule for the port"
    );
    s.run(&["rm", "-f", "web"]).success();
    assert!(!host_has_ifindex(&peer), "the veth is gone after rm");
    assert!(
        !host("nft", &["list", "ruleset"]).contains(&format!("dport {port} ")),
        "no DNAT rule after rm"
    );
    assert!(http_get(port).is_empty());
}

#[test]
fn publish_all_uses_random_host_ports_reachable_on_localhost() {
    let s = ContainerStore::new();
    s.run_detached(&[
        "--name",
        "pall",
        "-P",
        "--expose",
        "80",
        BUSYBOX,
        "sh",
        "-c",
        &httpd("published-all"),
    ]);
    let line = s.run(&["port", "pall"]).success().stdout_str();
    let port: u16 = line
        .trim()
        .strip_prefix("80/tcp -> 0.0.0.0:")
        .unwrap_or_else(|| panic!("port lists the random host port: {line:?}"))
        .parse()
        .unwrap();
    let mut last = String::new();
    assert!(
        poll(Duration::from_secs(10), || {
            last = http_get(port);
            last.contains("published-all")
        }),
        "GET 127.0.0.1:{port} (DNAT of localhost): {last:?}"
    );
    let ports = s.inspect_format("pall", "{{json .NetworkSettings.Ports}}");
    assert!(ports.contains(&format!("\"HostPort\":\"{port}\"")), "{ports}");
    assert!(s
        .inspect_format("pall", "{{.NetworkSettings.IPAddress}}")
        .starts_with("10.88."));
    assert_eq!(s.inspect_format("pall", "{{.HostConfig.NetworkMode}}"), "bridge");
}

#[test]
fn default_network_gives_eth0_and_hosts_entries() {
    let s = ContainerStore::new();
    let out = s
        .run(&[
            "run",
            "--rm",
            "--name",
            "c1",
            "--hostname",
            "box",
            "--add-host",
            "extra.example:10.1.2.3",
            "--dns",
            "10.9.9.9",
            "--dns-search",
            "example.org",
            BUSYBOX,
            "sh",
            "-c",
            "ip -o -4 addr show eth0; cat /etc/hosts; echo ==; cat /etc/resolv.conf",
        ])
        .success()
        .stdout_str();
    let addr = out
        .split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)
        .unwrap_or_else(|| panic!("eth0 has an address:\n{out}"))
        .split('/')
        .next()
        .unwrap()
        .to_string();
    assert!(addr.starts_with("10.88."), "{out}");
    assert!(
        out.contains(&format!("{addr}\tbox c1")),
        "/etc/hosts has the container's own address:\n{out}"
    );
    assert!(out.contains("10.1.2.3\textra.example"), "--add-host:\n{out}");
    assert!(out.contains("10.88.0.1\thost.containers.internal"), "{out}");
    let resolv = out.split("==").nth(1).unwrap();
    assert!(
        resolv.contains("nameserver 10.9.9.9") && resolv.contains("search example.org"),
        "{resolv}"
    );
    let none = s
        .run(&[
            "run",
            "--rm",
            "--network",
            "none",
            BUSYBOX,
            "ls",
            "/sys/class/net",
        ])
        .success()
        .stdout_str();
    assert_eq!(none.split_whitespace().collect::<Vec<_>>(), vec!["lo"]);
    let host_net = s
        .run(&[
            "run",
            "--rm",
            "--network",
            "host",
            BUSYBOX,
            "ls",
            "/sys/class/net",
        ])
        .success()
        .stdout_str();
    let mut mine: Vec<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    mine.sort();
    assert!(
        mine.iter()
            .all(|i| !i.starts_with("eth") || host_net.contains(i.as_str())),
        "{host_net}"
    );
    assert!(
        host_net.contains("lo") && host_net.split_whitespace().count() > 1,
        "{host_net}"
    );
    let no_hosts = s
        .run(&["run", "--rm", "--no-hosts", BUSYBOX, "cat", "/etc/hosts"])
        .success()
        .stdout_str();
    assert!(
        !no_hosts.contains("host.containers.internal\n") || !no_hosts.contains("# "),
        "{no_hosts}"
    );
}

#[test]
fn containers_on_a_user_network_reach_each_other_by_name() {
    let s = ContainerStore::new();
    let net = format!("selkie-test-dns-{}", std::process::id());
    s.run(&["network", "create", "--subnet", "10.89.231.0/24", &net])
        .success();
    s.run_detached(&[
        "--name",
        "web",
        "--network",
        &net,
        "--network-alias",
        "www",
        "--ip",
        "10.89.231.50",
        "--mac-address",
        "02:42:ac:11:00:99",
        BUSYBOX,
        "sh",
        "-c",
        &httpd("by-name"),
    ]);
    let link = s
        .run(&["exec", "web", "ip", "addr", "show", "eth0"])
        .success()
        .stdout_str();
    assert!(
        link.contains("inet 10.89.231.50/24") && link.contains("02:42:ac:11:00:99"),
        "--ip, --mac-address: {link}"
    );
    let mut last = String::new();
    let ok = poll(Duration::from_secs(10), || {
        let o = s.run(&[
            "run",
            "--rm",
            "--network",
            &net,
            BUSYBOX,
            "wget",
            "-qO-",
            "http://web/",
        ]);
        last = format!("{}{}", o.stdout_str(), o.stderr_str());
        last.contains("by-name")
    });
    assert!(ok, "wget http://web/ from a second container: {last}");
    let o = s.run(&[
        "run",
        "--rm",
        "--network",
        &net,
        BUSYBOX,
        "wget",
        "-qO-",
        "http://www/",
    ]);
    assert!(
        o.stdout_str().contains("by-name"),
        "the --network-alias resolves: {}",
        o.stderr_str()
    );
    let resolv = s
        .run(&[
            "run",
            "--rm",
            "--network",
            &net,
            BUSYBOX,
            "cat",
            "/etc/resolv.conf",
        ])
        .success()
        .stdout_str();
    assert!(resolv.contains("nameserver 10.89.231.1"), "{resolv}");
    let inspect = s.run(&["network", "inspect", &net]).success().json();
    assert_eq!(inspect[0]["dns_enabled"], true);
    // In use: rm refuses without -f; with -f the container goes too.
    assert!(!s.run(&["network", "rm", &net]).status.success());
    s.run(&["network", "rm", "-f", &net]).success();
    assert!(s.all_ids().is_empty());
}

#[test]
fn network_create_inspect_ls_rm_round_trip() {
    let s = ContainerStore::new();
    let net = format!("selkie-test-rt-{}", std::process::id());
    assert_eq!(
        s.run(&[
            "network",
            "create",
            "--subnet",
            "10.89.232.0/24",
            "--gateway",
            "10.89.232.254",
            "--internal",
            &net
        ])
        .success()
        .stdout_str()
        .trim(),
        net
    );
    assert!(
        !s.run(&["network", "create", &net]).status.success(),
        "a name is used once"
    );
    s.run(&["network", "exists", &net]).success();
    let v = s.run(&["network", "inspect", &net]).success().json();
    let n = &v[0];
    assert_eq!(n["name"], net.as_str());
    assert_eq!(n["driver"], "bridge");
    assert_eq!(n["subnets"][0]["subnet"], "10.89.232.0/24");
    assert_eq!(n["subnets"][0]["gateway"], "10.89.232.254");
    assert_eq!(n["internal"], true);
    assert_eq!(n["id"].as_str().unwrap().len(), 64);
    let ls = s.run(&["network", "ls"]).success().stdout_str();
    assert!(ls.starts_with("NETWORK ID    NAME"), "{ls}");
    assert!(ls.contains("podman") && ls.contains(&net), "{ls}");
    let q = s.run(&["network", "ls", "-q"]).success().lines();
    assert!(q.contains(&n["id"].as_str().unwrap()[..12].to_string()), "{q:?}");
    let names = s
        .run(&["network", "ls", "--format", "{{.Name}} {{.Driver}}"])
        .success()
        .lines();
    assert!(names.contains(&format!("{net} bridge")), "{names:?}");
    // connect/disconnect a stopped container.
    s.run(&["create", "--name", "idle", BUSYBOX, "true"]).success();
    s.run(&["network", "connect", &net, "idle"]).success();
    s.run(&["network", "disconnect", &net, "idle"]).success();
    assert_eq!(s.run(&["network", "rm", &net]).success().stdout_str().trim(), net);
    assert!(!s.run(&["network", "exists", &net]).status.success());
    assert!(!s.run(&["network", "inspect", &net]).status.success());
    assert!(
        !s.run(&["network", "rm", "podman"]).status.success(),
        "the default network stays"
    );
    s.run(&[
        "network",
        "create",
        "--subnet",
        "10.89.233.0/24",
        &format!("{net}-p"),
    ])
    .success();
    let pruned = s.run(&["network", "prune", "-f"]).success().stdout_str();
    assert!(pruned.contains(&format!("{net}-p")), "{pruned}");
}

#[test]
fn network_of_a_container_whose_monitor_was_killed_is_torn_down_by_rm() {
    let s = ContainerStore::new();
    let port = free_port();
    let publish = format!("127.0.0.1:{port}:80");
    s.run_detached(&[
        "--name",
        "orphan",
        "-p",
        &publish,
        BUSYBOX,
        "sh",
        "-c",
        &httpd("x"),
    ]);
    let peer = host_peer_index(&s, "orphan");
    let id = s.inspect_format("orphan", "{{.Id}}");
    assert!(std::path::Path::new(&format!("/run/selkie-network/netns/selkie-{id}")).exists());
    let monitor: i32 = s
        .inspect_format("orphan", "{{.State.ConmonPid}}")
        .parse()
        .unwrap();
    assert!(monitor > 0);
    kill(Pid::from_raw(monitor), Signal::SIGKILL).unwrap();
    assert!(poll(Duration::from_secs(5), || !std::path::Path::new(&format!(
        "/proc/{monitor}"
    ))
    .exists()
        || std::fs::read_to_string(format!("/proc/{monitor}/stat"))
            .is_ok_and(|st| st.contains(") Z"))));
    assert!(host_has_ifindex(&peer));
    s.run(&["rm", "-f", "orphan"]).success();
    assert!(!host_has_ifindex(&peer), "the veth is gone after rm");
    assert!(
        !host("nft", &["list", "ruleset"]).contains(&format!("dport {port} ")),
        "no DNAT rule after rm"
    );
    let netns = std::path::PathBuf::from(format!("/run/selkie-network/netns/selkie-{id}"));
    assert!(
        !netns.exists(),
        "no network namespace left at {}",
        netns.display()
    );
}

#[test]
fn network_connect_and_disconnect_a_running_container() {
    let s = ContainerStore::new();
    let a = format!("selkie-test-cona-{}", std::process::id());
    let b = format!("selkie-test-conb-{}", std::process::id());
    s.run(&["network", "create", "--subnet", "10.89.234.0/24", &a])
        .success();
    s.run(&["network", "create", "--subnet", "10.89.235.0/24", &b])
        .success();
    s.run_detached(&[
        "--name",
        "hot",
        "--network",
        &a,
        BUSYBOX,
        "sh",
        "-c",
        &httpd("hot-plugged"),
    ]);
    let peer0 = host_peer_index(&s, "hot");
    s.run(&["network", "connect", "--alias", "hotter", &b, "hot"])
        .success();
    let again = s.run(&["network", "connect", &b, "hot"]);
    assert!(!again.status.success(), "connecting twice fails");
    assert!(
        again.stderr_str().contains("already connected"),
        "{}",
        again.stderr_str()
    );
    let addrs = s
        .run(&["exec", "hot", "ip", "-o", "-4", "addr"])
        .success()
        .stdout_str();
    assert!(
        addrs.contains("eth0") && addrs.contains("inet 10.89.234."),
        "{addrs}"
    );
    assert!(
        addrs
            .lines()
            .any(|l| l.contains("eth1") && l.contains("inet 10.89.235.")),
        "a second interface on the new network: {addrs}"
    );
    let peer1 = s
        .run(&["exec", "hot", "cat", "/sys/class/net/eth1/iflink"])
        .success()
        .stdout_str()
        .trim()
        .to_string();
    assert!(host_has_ifindex(&peer1));
    let hosts = s
        .run(&["exec", "hot", "cat", "/etc/hosts"])
        .success()
        .stdout_str();
    assert!(
        hosts.contains("10.89.235."),
        "/etc/hosts has the new address: {hosts}"
    );
    let nets = s.inspect_format("hot", "{{json .NetworkSettings.Networks}}");
    assert!(nets.contains(&a) && nets.contains(&b), "{nets}");
    // A container on B only reaches it by name and by the alias.
    for name in ["hot", "hotter"] {
        let mut last = String::new();
        let ok = poll(Duration::from_secs(10), || {
            let o = s.run(&[
                "run",
                "--rm",
                "--network",
                &b,
                BUSYBOX,
                "wget",
                "-qO-",
                &format!("http://{name}/"),
            ]);
            last = format!("{}{}", o.stdout_str(), o.stderr_str());
            last.contains("hot-plugged")
        });
        assert!(ok, "wget http://{name}/ over the connected network: {last}");
    }
    s.run(&["network", "disconnect", &b, "hot"]).success();
    assert!(
        !s.run(&["network", "disconnect", &b, "hot"]).status.success(),
        "disconnecting twice fails"
    );
    let addrs = s
        .run(&["exec", "hot", "ip", "-o", "-4", "addr"])
        .success()
        .stdout_str();
    assert!(
        !addrs.contains("eth1") && !addrs.contains("10.89.235."),
        "{addrs}"
    );
    assert!(!host_has_ifindex(&peer1), "the second veth is gone");
    let hosts = s
        .run(&["exec", "hot", "cat", "/etc/hosts"])
        .success()
        .stdout_str();
    assert!(!hosts.contains("10.89.235."), "{hosts}");
    let lookup = s.run(&["run", "--rm", "--network", &b, BUSYBOX, "nslookup", "hot"]);
    assert!(
        !lookup.stdout_str().contains("Name:"),
        "the name no longer resolves on the network: {}",
        lookup.stdout_str()
    );
    let nets = s.inspect_format("hot", "{{json .NetworkSettings.Networks}}");
    assert!(nets.contains(&a) && !nets.contains(&b), "{nets}");
    // Connected again, then removed running: every veth goes.
    s.run(&["network", "connect", &b, "hot"]).success();
    let peer1 = s
        .run(&["exec", "hot", "cat", "/sys/class/net/eth1/iflink"])
        .success()
        .stdout_str()
        .trim()
        .to_string();
    assert!(host_has_ifindex(&peer1));
    // The exit tears down every network, the connected one too; a restart keeps it (the config).
    s.run(&["stop", "-t", "0", "hot"]).success();
    // (The monitor tears down after it has reported the exit.)
    assert!(
        poll(Duration::from_secs(5), || !host_has_ifindex(&peer0)
            && !host_has_ifindex(&peer1)),
        "no veth left after the container exited"
    );
    s.run(&["start", "hot"]).success();
    let addrs = s
        .run(&["exec", "hot", "ip", "-o", "-4", "addr"])
        .success()
        .stdout_str();
    assert!(
        addrs.contains("10.89.234.") && addrs.contains("10.89.235."),
        "{addrs}"
    );
    let peer0 = host_peer_index(&s, "hot");
    let peer1 = s
        .run(&["exec", "hot", "cat", "/sys/class/net/eth1/iflink"])
        .success()
        .stdout_str()
        .trim()
        .to_string();
    s.run(&["rm", "-f", "hot"]).success();
    assert!(
        !host_has_ifindex(&peer0) && !host_has_ifindex(&peer1),
        "no veth left after rm"
    );
    s.run(&["network", "rm", &a, &b]).success();
}
