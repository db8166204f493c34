//! Health tracking, notify scripts and sync groups, end to end: real vrrpd processes in private
//! network namespaces (named "vk…", one set per test) joined by veth pairs, addresses in
//! 10.99.0.0/16. Each test cleans up after itself (daemons it started, by pid; its namespaces;
//! its directory). Without root they print "skipped" (and fail under CI=true).

use std::fs;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_vrrpd");

fn root_or_skip() -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("needs root: these tests create network namespaces");
    }
    eprintln!("skipped: needs root");
    false
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Retries `check` every 50 ms until it holds or `limit` passes.
fn eventually(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "timed out after {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

const WAIT: Duration = Duration::from_secs(20);

struct Daemon {
    child: Child,
    log: PathBuf,
}

/// One test's namespaces, directory and daemons.
struct Lab {
    prefix: String,
    namespaces: Vec<String>,
    dir: PathBuf,
    daemons: Vec<Daemon>,
}

impl Lab {
    fn new(tag: &str) -> Lab {
        let prefix = format!("vk{tag}{}", std::process::id() % 100_000);
        let dir = std::env::temp_dir().join(format!("vrrpd-{prefix}"));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        // Root-owned and not writable by others, so script security accepts scripts in it.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        Lab {
            prefix,
            namespaces: Vec::new(),
            dir,
            daemons: Vec::new(),
        }
    }

    /// Creates namespace `<prefix><name>` with lo up; returns its full name.
    fn ns(&mut self, name: &str) -> String {
        let full = format!("{}{name}", self.prefix);
        let _ = Command::new("ip")
            .args(["netns", "del", &full])
            .stderr(Stdio::null())
            .status();
        run("ip", &["netns", "add", &full]);
        self.namespaces.push(full.clone());
        run("ip", &["-n", &full, "link", "set", "lo", "up"]);
        full
    }

    fn ip(&self, ns: &str, args: &[&str]) -> String {
        let mut all = vec!["-n", ns];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    /// A veth pair `ifname` in `a` (address `a_addr`) ↔ `ifname` in `b` (`b_addr`), both up.
    fn veth(&self, a: &str, b: &str, ifname: &str, a_addr: &str, b_addr: &str) {
        self.ip(
            a,
            &[
                "link", "add", ifname, "type", "veth", "peer", "name", ifname, "netns", b,
            ],
        );
        for (ns, addr) in [(a, a_addr), (b, b_addr)] {
            self.ip(ns, &["addr", "add", addr, "dev", ifname]);
            self.ip(ns, &["link", "set", ifname, "up"]);
        }
        // Carrier comes a moment after "up"; daemons started before it would log a FAULT first.
        for ns in [a, b] {
            self.wait_carrier(ns, ifname);
        }
    }

    fn wait_carrier(&self, ns: &str, ifname: &str) {
        eventually(&format!("{ifname} in {ns} has carrier"), WAIT, || {
            self.ip(ns, &["link", "show", ifname]).contains("LOWER_UP")
        });
    }

    /// Writes an executable file under the lab directory.
    fn script(&self, rel: &str, body: &str) -> PathBuf {
        let p = self.dir.join(rel);
        if let Some(d) = p.parent() {
            fs::create_dir_all(d).unwrap();
        }
        fs::write(&p, body).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    /// Starts vrrpd inside `ns` with `conf`; returns its index.
    fn start(&mut self, ns: &str, name: &str, conf: &str) -> usize {
        let conf_path = self.dir.join(format!("{name}.conf"));
        fs::write(&conf_path, conf).unwrap();
        let check = Command::new(BIN)
            .args(["-t", "-f"])
            .arg(&conf_path)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "config {name} rejected:\n{}",
            String::from_utf8_lossy(&check.stderr)
        );
        let log = self.dir.join(format!("{name}.log"));
        let netns = fs::File::open(format!("/run/netns/{ns}")).unwrap();
        let fd = netns.as_raw_fd();
        let mut cmd = Command::new(BIN);
        cmd.args(["-n", "-l", "-D", "-f"])
            .arg(&conf_path)
            .arg("-p")
            .arg(self.dir.join(format!("{name}.pid")))
            .stdin(Stdio::null())
            .stdout(fs::File::create(&log).unwrap())
            .stderr(fs::File::options().append(true).open(&log).unwrap());
        // SAFETY: setns is async-signal-safe and `fd` stays open until spawn returns.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setns(fd, libc::CLONE_NEWNET) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        drop(netns);
        self.daemons.push(Daemon { child, log });
        self.daemons.len() - 1
    }

    fn log(&self, d: usize) -> String {
        fs::read_to_string(&self.daemons[d].log).unwrap_or_default()
    }

    fn pid(&self, d: usize) -> i32 {
        self.daemons[d].child.id() as i32
    }

    /// SIGTERM and wait (bounded) for a clean exit.
    fn stop(&mut self, d: usize) {
        let c = &mut self.daemons[d].child;
        if c.try_wait().unwrap().is_some() {
            return;
        }
        // SAFETY: a pid we started and have not reaped.
        unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
        let start = Instant::now();
        while c.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(5) {
                let _ = c.kill();
                let _ = c.wait();
                panic!("vrrpd did not stop on SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn has_addr(&self, ns: &str, dev: &str, addr: &str) -> bool {
        self.ip(ns, &["-4", "-o", "addr", "show", "dev", dev])
            .split_whitespace()
            .any(|w| w.split('/').next() == Some(addr))
    }

    /// Waits until `addr` is on `dev` in `yes` and not in `no`.
    fn vip_on(&self, yes: &str, no: &str, dev: &str, addr: &str) {
        eventually(&format!("{addr} on {yes} only"), WAIT, || {
            self.has_addr(yes, dev, addr) && !self.has_addr(no, dev, addr)
        });
    }

    fn wait_log(&self, d: usize, needle: &str) {
        eventually(&format!("log {d} contains {needle:?}"), WAIT, || {
            self.log(d).contains(needle)
        });
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for d in &mut self.daemons {
            if d.child.try_wait().ok().flatten().is_none() {
                // SAFETY: a pid we started and have not reaped.
                unsafe { libc::kill(d.child.id() as i32, libc::SIGTERM) };
                let start = Instant::now();
                while d.child.try_wait().ok().flatten().is_none() {
                    if start.elapsed() > Duration::from_secs(5) {
                        let _ = d.child.kill();
                        let _ = d.child.wait();
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
        if std::thread::panicking() || std::env::var_os("VRRPD_TEST_LOGS").is_some() {
            for d in &self.daemons {
                eprintln!(
                    "---- {} ----\n{}",
                    d.log.display(),
                    fs::read_to_string(&d.log).unwrap_or_default()
                );
            }
        }
        for ns in &self.namespaces {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// One VRRPv3 instance block.
fn instance(name: &str, dev: &str, vrid: u8, prio: u8, vip: &str, extra: &str) -> String {
    format!(
        "vrrp_instance {name} {{
    state BACKUP
    interface {dev}
    virtual_router_id {vrid}
    priority {prio}
    advert_int 0.5
    virtual_ipaddress {{
        {vip}/24 dev {dev}
    }}
{extra}
}}
"
    )
}

const GLOBAL: &str = "global_defs {\n    vrrp_version 3\n}\n";

#[test]
fn failing_health_script_moves_vip_and_recovery_takes_it_back() {
    if !root_or_skip() {
        return;
    }
    let mut lab = Lab::new("hs");
    let (a, b) = (lab.ns("a"), lab.ns("b"));
    lab.veth(&a, &b, "eth0", "10.99.1.1/24", "10.99.1.2/24");
    let flag = lab.dir.join("fail");
    let check = lab.script(
        "scripts/check.sh",
        &format!("#!/bin/sh\n[ ! -e {} ]\n", flag.display()),
    );
    let conf_a = format!(
        "{GLOBAL}vrrp_script chk {{
    script \"{}\"
    interval 1
    timeout 2
    weight -100
    rise 2
    fall 1
}}
{}",
        check.display(),
        instance(
            "VI_1",
            "eth0",
            51,
            150,
            "10.99.1.100",
            "    track_script {\n        chk\n    }"
        )
    );
    let conf_b = format!(
        "{GLOBAL}{}",
        instance("VI_1", "eth0", 51, 100, "10.99.1.100", "")
    );
    let da = lab.start(&a, "a", &conf_a);
    let db = lab.start(&b, "b", &conf_b);
    lab.vip_on(&a, &b, "eth0", "10.99.1.100");
    lab.wait_log(db, "(VI_1) Entering BACKUP STATE");

    // The check fails: A drops to 50 and B (100) preempts it.
    fs::write(&flag, "").unwrap();
    lab.wait_log(da, "VRRP_Script(chk) failed (exited with status 1)");
    lab.wait_log(da, "(VI_1) Changing effective priority from 150 to 50");
    lab.vip_on(&b, &a, "eth0", "10.99.1.100");
    lab.wait_log(db, "(VI_1) Entering MASTER STATE");
    lab.wait_log(
        da,
        "(VI_1) Received advert from 10.99.1.2 with higher priority 100, ours 50",
    );

    // It recovers (after two good runs): A is back at 150 and takes the address back.
    fs::remove_file(&flag).unwrap();
    lab.wait_log(da, "VRRP_Script(chk) succeeded");
    lab.wait_log(da, "(VI_1) Changing effective priority from 50 to 150");
    lab.vip_on(&a, &b, "eth0", "10.99.1.100");
    lab.wait_log(
        db,
        "(VI_1) Received advert from 10.99.1.1 with higher priority 150, ours 100",
    );
    lab.stop(da);
    lab.stop(db);
}

#[test]
fn reload_keeps_the_health_of_unchanged_scripts() {
    if !root_or_skip() {
        return;
    }
    let mut lab = Lab::new("rl");
    let (a, b) = (lab.ns("a"), lab.ns("b"));
    lab.veth(&a, &b, "eth0", "10.99.8.1/24", "10.99.8.2/24");
    let check = lab.script("scripts/check.sh", "#!/bin/sh\nexit 1\n");
    let script = format!(
        "vrrp_script chk {{
    script \"{}\"
    interval 1
    weight -100
}}
",
        check.display()
    );
    let vi1 = instance(
        "VI_1",
        "eth0",
        56,
        150,
        "10.99.8.100",
        "    track_script {\n        chk\n    }",
    );
    let da = lab.start(&a, "a", &format!("{GLOBAL}{script}{vi1}"));
    let db = lab.start(
        &b,
        "b",
        &format!(
            "{GLOBAL}{}",
            instance("VI_1", "eth0", 56, 100, "10.99.8.100", "")
        ),
    );
    lab.wait_log(da, "(VI_1) Changing effective priority from 150 to 50");
    lab.vip_on(&b, &a, "eth0", "10.99.8.100");

    // Reload with VI_1 and chk unchanged and a second instance added: VI_1 keeps running at
    // 50 (its script is still known to fail), so the address does not flap back to A.
    let vi2 = instance("VI_2", "eth0", 57, 100, "10.99.8.101", "");
    fs::write(
        lab.dir.join("a.conf"),
        format!("{GLOBAL}{script}{vi1}{vi2}"),
    )
    .unwrap();
    // SAFETY: a pid we started and have not reaped.
    unsafe { libc::kill(lab.pid(da), libc::SIGHUP) };
    lab.wait_log(da, "(VI_2) Entering BACKUP STATE");
    std::thread::sleep(Duration::from_secs(3));
    let log = lab.log(da);
    assert!(!log.contains("from 50 to 150"), "{log}");
    assert!(lab.has_addr(&b, "eth0", "10.99.8.100"));
    assert!(!lab.has_addr(&a, "eth0", "10.99.8.100"));
    let after = &log[log.find("Reloading configuration").unwrap()..];
    assert!(!after.contains("(VI_1) Entering"), "{log}");
    lab.stop(da);
    lab.stop(db);
}

#[test]
fn tracked_interface_down_means_fault_and_the_vip_moves() {
    if !root_or_skip() {
        return;
    }
    let mut lab = Lab::new("ti");
    let (a, b) = (lab.ns("a"), lab.ns("b"));
    lab.veth(&a, &b, "eth0", "10.99.2.1/24", "10.99.2.2/24");
    // The tracked uplink: a veth pair inside A (no dummy module needed); setting one end down
    // takes it down.
    lab.ip(
        &a,
        &[
            "link", "add", "uplink", "type", "veth", "peer", "name", "uplinkp",
        ],
    );
    lab.ip(&a, &["link", "set", "uplinkp", "up"]);
    lab.ip(&a, &["link", "set", "uplink", "up"]);
    lab.wait_carrier(&a, "uplink");
    let conf_a = format!(
        "{GLOBAL}{}",
        instance(
            "VI_1",
            "eth0",
            52,
            150,
            "10.99.2.100",
            "    track_interface {\n        uplink\n    }"
        )
    );
    let conf_b = format!(
        "{GLOBAL}{}",
        instance("VI_1", "eth0", 52, 100, "10.99.2.100", "")
    );
    let da = lab.start(&a, "a", &conf_a);
    let db = lab.start(&b, "b", &conf_b);
    lab.vip_on(&a, &b, "eth0", "10.99.2.100");

    lab.ip(&a, &["link", "set", "uplink", "down"]);
    lab.wait_log(da, "tracked interface uplink is down");
    lab.wait_log(da, "(VI_1) Entering FAULT STATE");
    lab.vip_on(&b, &a, "eth0", "10.99.2.100");

    lab.ip(&a, &["link", "set", "uplink", "up"]);
    lab.wait_log(da, "tracked interface uplink is up");
    lab.vip_on(&a, &b, "eth0", "10.99.2.100");
    let log = lab.log(da);
    let fault = log.find("(VI_1) Entering FAULT STATE").unwrap();
    assert!(
        log[fault..].contains("(VI_1) Entering BACKUP STATE")
            && log[fault..].contains("(VI_1) Entering MASTER STATE"),
        "{log}"
    );
    lab.stop(da);
    lab.stop(db);
}

#[test]
fn track_file_value_moves_priority() {
    if !root_or_skip() {
        return;
    }
    let mut lab = Lab::new("tf");
    let (a, b) = (lab.ns("a"), lab.ns("b"));
    lab.veth(&a, &b, "eth0", "10.99.7.1/24", "10.99.7.2/24");
    let file = lab.dir.join("state/value");
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    fs::write(&file, "0\n").unwrap();
    let conf_a = format!(
        "{GLOBAL}vrrp_track_file level {{
    file \"{}\"
    weight 1
}}
{}",
        file.display(),
        instance(
            "VI_1",
            "eth0",
            55,
            150,
            "10.99.7.100",
            "    track_file {\n        level weight -2\n    }"
        )
    );
    let conf_b = format!(
        "{GLOBAL}{}",
        instance("VI_1", "eth0", 55, 100, "10.99.7.100", "")
    );
    let da = lab.start(&a, "a", &conf_a);
    let db = lab.start(&b, "b", &conf_b);
    lab.vip_on(&a, &b, "eth0", "10.99.7.100");

    // 40 × -2 = -80: A drops to 70 and B takes over; seen through inotify, not polling.
    fs::write(&file, "40\n").unwrap();
    lab.wait_log(da, "(VI_1) Changing effective priority from 150 to 70");
    lab.vip_on(&b, &a, "eth0", "10.99.7.100");
    // Replaced by rename, as careful writers do.
    let tmp = lab.dir.join("state/value.tmp");
    fs::write(&tmp, "0\n").unwrap();
    fs::rename(&tmp, &file).unwrap();
    lab.wait_log(da, "(VI_1) Changing effective priority from 70 to 150");
    lab.vip_on(&a, &b, "eth0", "10.99.7.100");
    // Below -253 means FAULT.
    fs::write(&file, "200\n").unwrap();
    lab.wait_log(da, "(VI_1) Entering FAULT STATE");
    lab.vip_on(&b, &a, "eth0", "10.99.7.100");
    lab.stop(da);
    lab.stop(db);
}

#[test]
fn sync_group_moves_both_vips_together() {
    if !root_or_skip() {
        return;
    }
    let mut lab = Lab::new("sg");
    let (a, b) = (lab.ns("a"), lab.ns("b"));
    lab.veth(&a, &b, "eth0", "10.99.3.1/24", "10.99.3.2/24");
    lab.veth(&a, &b, "eth1", "10.99.4.1/24", "10.99.4.2/24");
    let flag = lab.dir.join("fail");
    let check = lab.script(
        "scripts/check.sh",
        &format!("#!/bin/sh\n[ ! -e {} ]\n", flag.display()),
    );
    let out = lab.dir.join("group.log");
    let gnotify = lab.script(
        "scripts/gnotify.sh",
        &format!("#!/bin/sh\necho \"$*\" >> {}\n", out.display()),
    );
    // Each router tags its lines with its name: both write to the same file.
    let group = |router: &str| {
        format!(
            "vrrp_sync_group G {{
    group {{
        LAN
        WAN
    }}
    notify \"{} {router}\"
}}
",
            gnotify.display()
        )
    };
    let conf = |router: &str, prio: u8, track: &str| {
        format!(
            "{GLOBAL}vrrp_script chk {{
    script \"{}\"
    interval 1
}}
{}{}{}",
            check.display(),
            group(router),
            instance("LAN", "eth0", 61, prio, "10.99.3.100", track),
            instance("WAN", "eth1", 62, prio, "10.99.4.100", ""),
        )
    };
    let da = lab.start(
        &a,
        "a",
        &conf("A", 150, "    track_script {\n        chk\n    }"),
    );
    let db = lab.start(&b, "b", &conf("B", 100, ""));
    lab.vip_on(&a, &b, "eth0", "10.99.3.100");
    lab.vip_on(&a, &b, "eth1", "10.99.4.100");

    // LAN's check fails on A: both of A's instances go to FAULT and B takes both addresses.
    fs::write(&flag, "").unwrap();
    lab.wait_log(da, "(LAN) Entering FAULT STATE");
    lab.wait_log(da, "(WAN) Entering FAULT STATE");
    lab.vip_on(&b, &a, "eth0", "10.99.3.100");
    lab.vip_on(&b, &a, "eth1", "10.99.4.100");

    // Recovery brings both back to A.
    fs::remove_file(&flag).unwrap();
    lab.vip_on(&a, &b, "eth0", "10.99.3.100");
    lab.vip_on(&a, &b, "eth1", "10.99.4.100");

    // The group's notify saw one transition per group state change, in order.
    let want = [
        "A GROUP G BACKUP 0",
        "A GROUP G MASTER 0",
        "A GROUP G FAULT 0",
        "A GROUP G BACKUP 0",
        "A GROUP G MASTER 0",
    ];
    let lines_of = |router: &str| {
        fs::read_to_string(&out)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with(router))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    eventually("group notify lines", WAIT, || {
        lines_of("A ").len() >= want.len()
    });
    assert_eq!(lines_of("A "), want);
    // B's instances moved as a group too: MASTER while A was out, then BACKUP again.
    eventually("B back to backup", WAIT, || lines_of("B ").len() >= 3);
    assert_eq!(
        lines_of("B "),
        [
            "B GROUP G BACKUP 0",
            "B GROUP G MASTER 0",
            "B GROUP G BACKUP 0"
        ]
    );
    lab.stop(da);
    lab.stop(db);
}

#[test]
fn notify_scripts_get_keepalived_arguments_in_order() {
    if !root_or_skip() {
        return;
    }
    let mut lab = Lab::new("nt");
    let (a, b) = (lab.ns("a"), lab.ns("b"));
    lab.veth(&a, &b, "eth0", "10.99.5.1/24", "10.99.5.2/24");
    // Output goes where script_user (nobody) may write; scripts stay root-owned.
    let out = lab.dir.join("out");
    fs::create_dir_all(&out).unwrap();
    fs::set_permissions(&out, fs::Permissions::from_mode(0o777)).unwrap();
    let notify = lab.script(
        "scripts/notify.sh",
        &format!(
            "#!/bin/sh\necho \"$(id -un) $*\" >> {}/notify.log\n",
            out.display()
        ),
    );
    let hook = lab.script(
        "scripts/hook.sh",
        &format!("#!/bin/sh\necho \"$1\" >> {}/hooks.log\n", out.display()),
    );
    // A script in a world-writable directory: refused under enable_script_security.
    let bad = lab.script("bad/hook.sh", "#!/bin/sh\nexit 0\n");
    fs::set_permissions(lab.dir.join("bad"), fs::Permissions::from_mode(0o777)).unwrap();
    let conf = format!(
        "global_defs {{
    vrrp_version 3
    script_user nobody
    enable_script_security
}}
{}",
        instance(
            "VI_1",
            "eth0",
            53,
            150,
            "10.99.5.100",
            &format!(
                "    notify {}\n    notify_master \"{} master\"\n    notify_backup \"{} backup\"\n    notify_stop \"{} stop\"",
                notify.display(),
                hook.display(),
                bad.display(),
                hook.display()
            )
        )
    );
    let da = lab.start(&a, "a", &conf);
    lab.wait_log(da, "(VI_1) Entering MASTER STATE");
    lab.wait_log(da, "refusing to run");
    // The master hook runs concurrently; let it finish before the stop hook starts.
    eventually("master hook ran", WAIT, || {
        fs::read_to_string(out.join("hooks.log")).is_ok_and(|t| t.contains("master"))
    });
    assert!(lab.log(da).contains("is writable by everyone"));
    lab.stop(da);
    assert!(lab.log(da).contains("(VI_1) Stopping"));

    let want = [
        "nobody INSTANCE VI_1 BACKUP 150",
        "nobody INSTANCE VI_1 MASTER 150",
        "nobody INSTANCE VI_1 STOP 150",
    ];
    let notify_log = out.join("notify.log");
    eventually("three notify lines", WAIT, || {
        fs::read_to_string(&notify_log)
            .unwrap_or_default()
            .lines()
            .count()
            >= 3
    });
    let text = fs::read_to_string(&notify_log).unwrap();
    assert_eq!(text.lines().collect::<Vec<_>>(), want, "{text}");
    let hooks_log = out.join("hooks.log");
    eventually("two hook lines", WAIT, || {
        fs::read_to_string(&hooks_log)
            .unwrap_or_default()
            .lines()
            .count()
            >= 2
    });
    let text = fs::read_to_string(&hooks_log).unwrap();
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        ["master", "stop"],
        "{text}"
    );
}

/// Children of `pid` as listed by /proc, with their states.
fn children(pid: i32) -> Vec<(i32, char)> {
    let list = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    list.split_whitespace()
        .filter_map(|c| c.parse::<i32>().ok())
        .filter_map(|c| {
            let stat = fs::read_to_string(format!("/proc/{c}/stat")).ok()?;
            let state = stat.rsplit(')').next()?.trim_start().chars().next()?;
            Some((c, state))
        })
        .collect()
}

/// Records (arrival, source, priority) of the VRRP adverts reaching `ifname` in `ns` for `dur`.
fn capture(
    ns: &str,
    ifname: &'static str,
    dur: Duration,
) -> std::thread::JoinHandle<Vec<(Instant, Ipv4Addr)>> {
    let netns = fs::File::open(format!("/run/netns/{ns}")).unwrap();
    std::thread::spawn(move || {
        // SAFETY: moves only this thread into the namespace; the fd is open.
        assert_eq!(
            unsafe { libc::setns(netns.as_raw_fd(), libc::CLONE_NEWNET) },
            0
        );
        let cname = std::ffi::CString::new(ifname).unwrap();
        // SAFETY: a live C string.
        let idx = unsafe { libc::if_nametoindex(cname.as_ptr()) };
        assert_ne!(idx, 0);
        let sock = vrrpd::sys::raw::VrrpSocket::open(ifname, idx).unwrap();
        sock.join(Ipv4Addr::new(224, 0, 0, 18), idx).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 1536];
        let end = Instant::now() + dur;
        while Instant::now() < end {
            let mut pfd = libc::pollfd {
                fd: sock.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one live pollfd.
            unsafe { libc::poll(&mut pfd, 1, 50) };
            while let Ok(n) = sock.recv(&mut buf) {
                if n >= 20 {
                    got.push((
                        Instant::now(),
                        Ipv4Addr::new(buf[12], buf[13], buf[14], buf[15]),
                    ));
                }
            }
        }
        got
    })
}

#[test]
fn stuck_script_is_killed_and_adverts_keep_their_interval() {
    if !root_or_skip() {
        return;
    }
    let mut lab = Lab::new("st");
    let (a, b) = (lab.ns("a"), lab.ns("b"));
    lab.veth(&a, &b, "eth0", "10.99.6.1/24", "10.99.6.2/24");
    let conf = format!(
        "{GLOBAL}vrrp_script slow {{
    script \"/bin/sleep 30\"
    interval 1
    timeout 2
    weight -10
    fall 1
}}
{}",
        instance(
            "VI_1",
            "eth0",
            54,
            150,
            "10.99.6.100",
            "    track_script {\n        slow\n    }"
        )
        .replace("advert_int 0.5", "advert_int 1")
    );
    let da = lab.start(&a, "a", &conf);
    lab.wait_log(da, "(VI_1) Entering MASTER STATE");
    let pid = lab.pid(da);

    let cap = capture(&b, "eth0", Duration::from_secs(9));
    // Meanwhile: never more than one script running, and no zombie lingers.
    let start = Instant::now();
    let mut zombie_seen_at: Option<Instant> = None;
    while start.elapsed() < Duration::from_secs(8) {
        let kids = children(pid);
        assert!(kids.len() <= 1, "children: {kids:?}");
        if kids.iter().any(|k| k.1 == 'Z') {
            let since = *zombie_seen_at.get_or_insert(Instant::now());
            assert!(
                since.elapsed() < Duration::from_secs(1),
                "zombie child: {kids:?}"
            );
        } else {
            zombie_seen_at = None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let adverts: Vec<Instant> = cap
        .join()
        .unwrap()
        .into_iter()
        .filter(|(_, src)| *src == Ipv4Addr::new(10, 99, 6, 1))
        .map(|(t, _)| t)
        .collect();
    assert!(adverts.len() >= 7, "only {} adverts in 9 s", adverts.len());
    // advert_int 1: a loop that waited for the script, even only until its 2 s timeout, would
    // leave gaps of 2 s or more; scheduling noise on a busy machine stays well inside this.
    for w in adverts.windows(2) {
        let gap = w[1] - w[0];
        assert!(
            gap > Duration::from_millis(700) && gap < Duration::from_millis(1600),
            "advert gap {gap:?} (all: {:?})",
            adverts.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>()
        );
    }
    let log = lab.log(da);
    assert!(
        log.contains("VRRP_Script(slow) failed (timed out and was killed)"),
        "{log}"
    );
    assert!(log.contains("(VI_1) Changing effective priority from 150 to 140"));
    let running: Vec<i32> = children(pid).into_iter().map(|k| k.0).collect();
    lab.stop(da);
    // Stopping terminated the running check too (its pid is gone, not left behind).
    eventually("the check ended with the daemon", WAIT, || {
        running
            .iter()
            .all(|c| !PathBuf::from(format!("/proc/{c}")).exists())
    });
}
