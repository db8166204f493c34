//! Issue 16: what vrrpd tells about itself, against running daemons in network namespaces.
//! keepalived's state files (keepalived.json on SIGRTMIN+2, .data on SIGUSR1, .stats on SIGUSR2)
//! in Debian keepalived 2.2.7's shape, written atomically with mode 0600 in $TMPDIR; `vrrpd -s`
//! with and without a daemon; hotplug-call on every transition; signals vrrpd does not use.
//!
//! tests/vectors/keepalived-2.2.7.{json,stats} are what Debian's keepalived 2.2.7 wrote in the
//! same kind of lab (`keepalived --signum=JSON`, then the file), kept to compare field by field.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Daemon, Lab, Start, Topo, vrrpd_bin};

const SECS: fn(u64) -> Duration = Duration::from_secs;
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn config(net: u8, priority: u8) -> String {
    format!(
        "vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority {priority}
    advert_int 1
    virtual_ipaddress {{
        10.99.{net}.100/24
    }}
}}
"
    )
}

/// A wrapper that runs vrrpd with TMPDIR set and extra arguments appended.
fn wrapper(lab: &Lab, name: &str, tmpdir: &Path, extra: &str) -> String {
    fs::create_dir_all(tmpdir).expect("tmpdir");
    let body = format!(
        "#!/bin/sh\nexport TMPDIR={}\nexec \"$@\" {extra}\n",
        tmpdir.display()
    );
    let p = lab.script(name, &body);
    p.display().to_string()
}

fn start(lab: &Lab, i: usize, conf: &str, wrap: &str) -> Daemon {
    let w = [wrap];
    lab.vrrpd_with(
        i,
        conf,
        Start {
            wrapper: &w,
            ..Start::QUIET
        },
    )
}

fn signum(name: &str) -> i32 {
    let out = Command::new(vrrpd_bin())
        .arg(format!("--signum={name}"))
        .output()
        .expect("vrrpd --signum");
    assert!(out.status.success(), "--signum={name}");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a number")
}

/// A JSON file as `INDEX.SECTION.KEY=VALUE` lines in file order (python3's json keeps it).
fn flatten(path: &Path) -> Vec<(String, String)> {
    let code = "import json,sys\n\
                for i,e in enumerate(json.load(open(sys.argv[1]))):\n\
                \x20for s,o in e.items():\n\
                \x20 for k,v in o.items(): print('%d.%s.%s=%s' % (i,s,k,json.dumps(v)))\n";
    let out = Command::new("python3")
        .args(["-c", code])
        .arg(path)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{} is not valid JSON: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn wait_file(path: &Path, newer_than: Option<u64>) -> bool {
    common::wait_until(SECS(5), Duration::from_millis(20), || {
        fs::metadata(path).is_ok_and(|m| newer_than.is_none_or(|ino| m.ino() != ino))
    })
}

/// The JSON kind of a value: keepalived's readers (Go exporters) care about int vs float vs bool.
fn kind(v: &str) -> &'static str {
    match v {
        "true" | "false" => "bool",
        _ if v.starts_with('"') => "string",
        _ if v.starts_with('[') => "list",
        _ if v.contains('.') => "float",
        _ => "int",
    }
}

#[test]
fn state_files_in_keepalived_shape() {
    let Some(lab) = Lab::with("osf", Topo::routers(2).net(161)) else {
        return;
    };
    let t1 = lab.path("tmp1");
    let t2 = lab.path("tmp2");
    let w1 = wrapper(&lab, "w1.sh", &t1, "");
    let w2 = wrapper(&lab, "w2.sh", &t2, "");
    let master = start(&lab, 1, &config(161, 150), &w1);
    let backup = start(&lab, 2, &config(161, 100), &w2);
    assert!(
        master.wait_log("(VI_1) Entering MASTER STATE", SECS(10)),
        "{}",
        master.log()
    );
    std::thread::sleep(SECS(2));

    let json = signum("JSON");
    for (d, dir) in [(&master, &t1), (&backup, &t2)] {
        d.signal(json);
        assert!(
            wait_file(&dir.join("keepalived.json"), None),
            "no keepalived.json:\n{}",
            d.log()
        );
    }
    let m = flatten(&t1.join("keepalived.json"));
    let b = flatten(&t2.join("keepalived.json"));
    let get = |f: &[(String, String)], k: &str| -> String {
        f.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {k} in {f:?}"))
    };

    // Every field keepalived 2.2.7 writes, in its order and of its JSON type; ours may add more
    // at the end of each object.
    let reference = flatten(&Path::new(ROOT).join("tests/vectors/keepalived-2.2.7.json"));
    for section in ["0.data.", "0.stats."] {
        let theirs: Vec<&(String, String)> = reference
            .iter()
            .filter(|(k, _)| k.starts_with(section))
            .collect();
        let ours: Vec<&(String, String)> =
            m.iter().filter(|(k, _)| k.starts_with(section)).collect();
        assert!(ours.len() >= theirs.len(), "{section}: {ours:?}");
        for (t, o) in theirs.iter().zip(&ours) {
            assert_eq!(t.0, o.0, "field order in {section}");
            assert_eq!(kind(&t.1), kind(&o.1), "{}: {} vs {}", t.0, t.1, o.1);
        }
    }

    assert_eq!(get(&m, "0.data.iname"), "\"VI_1\"");
    assert_eq!(get(&m, "0.data.ifp_ifname"), "\"eth0\"");
    assert_eq!(get(&m, "0.data.vrid"), "51");
    assert_eq!(get(&m, "0.data.state"), "2");
    assert_eq!(get(&m, "0.data.wantstate"), "2");
    assert_eq!(get(&m, "0.data.base_priority"), "150");
    assert_eq!(get(&m, "0.data.effective_priority"), "150");
    assert_eq!(get(&m, "0.data.vipset"), "true");
    assert_eq!(
        get(&m, "0.data.vips"),
        "[\"10.99.161.100/24 dev eth0 scope global set\"]"
    );
    assert_eq!(get(&m, "0.stats.become_master"), "1");
    assert!(get(&m, "0.stats.advert_sent").parse::<u64>().expect("int") >= 2);
    assert_eq!(get(&b, "0.data.state"), "1");
    assert_eq!(get(&b, "0.data.master_priority"), "150");
    assert_eq!(get(&b, "0.data.vipset"), "false");
    assert!(get(&b, "0.stats.advert_rcvd").parse::<u64>().expect("int") >= 2);
    assert_eq!(get(&b, "0.stats.advert_sent"), "0");
    let lt: f64 = get(&m, "0.data.last_transition").parse().expect("float");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    assert!(
        lt > now - 60.0 && lt <= now,
        "last_transition {lt} vs {now}"
    );

    // Mode 0600, replaced atomically (a new inode each time, no temporary left behind), and the
    // counters move between two dumps.
    let path = t1.join("keepalived.json");
    let meta = fs::metadata(&path).expect("stat");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let sent = get(&m, "0.stats.advert_sent").parse::<u64>().expect("int");
    std::thread::sleep(SECS(2));
    master.signal(json);
    assert!(wait_file(&path, Some(meta.ino())), "not replaced");
    let again = flatten(&path);
    assert!(
        get(&again, "0.stats.advert_sent")
            .parse::<u64>()
            .expect("int")
            > sent
    );
    let left: Vec<PathBuf> = fs::read_dir(&t1)
        .expect("readdir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");

    // keepalived.stats: keepalived's layout line by line, with our numbers.
    master.signal(libc::SIGUSR2);
    let stats = t1.join("keepalived.stats");
    assert!(wait_file(&stats, None));
    let ours = fs::read_to_string(&stats).expect("stats");
    let theirs = fs::read_to_string(Path::new(ROOT).join("tests/vectors/keepalived-2.2.7.stats"))
        .expect("reference stats");
    let shape = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| l.trim_end_matches(|c: char| c.is_ascii_digit()).to_string())
            .collect()
    };
    assert_eq!(shape(&ours), shape(&theirs));
    assert!(ours.contains("  Became master: 1\n"), "{ours}");
    assert_eq!(
        fs::metadata(&stats).expect("stat").permissions().mode() & 0o777,
        0o600
    );

    // keepalived.data: the topology part, and the one-line dump still in the log.
    master.signal(libc::SIGUSR1);
    let data = t1.join("keepalived.data");
    assert!(wait_file(&data, None));
    let text = fs::read_to_string(&data).expect("data");
    for needle in [
        "------< VRRP Topology >------\n",
        " VRRP Instance = VI_1\n",
        "   State = MASTER\n",
        "   Virtual Router ID = 51\n",
        "   Priority = 150\n",
        "     10.99.161.100/24 dev eth0 scope global set\n",
    ] {
        assert!(text.contains(needle), "no {needle:?} in\n{text}");
    }
    assert!(master.wait_log("(VI_1) state MASTER priority 150", SECS(2)));
    let bdata = {
        backup.signal(libc::SIGUSR1);
        let p = t2.join("keepalived.data");
        assert!(wait_file(&p, None));
        fs::read_to_string(p).expect("data")
    };
    assert!(
        bdata.contains("   Master router = 10.99.161.11\n"),
        "{bdata}"
    );
}

/// Debian's keepalived and vrrpd side by side, each asked for its JSON dump: the same fields in
/// the same order with the same JSON types, and values that agree on the shared instance.
#[test]
fn json_dump_next_to_a_live_keepalived() {
    let Some(lab) = Lab::with("okj", Topo::routers(2).net(167)) else {
        return;
    };
    let ka = lab.keepalived(1, &config(167, 150));
    let dir = lab.path("tmp2");
    let w = wrapper(&lab, "wkj.sh", &dir, "");
    let vd = start(&lab, 2, &config(167, 100), &w);
    assert!(
        vd.wait_log("(VI_1) Entering BACKUP STATE", SECS(10)),
        "{}",
        vd.log()
    );
    assert!(
        ka.wait_log("(VI_1) Entering MASTER STATE", SECS(10)),
        "{}",
        ka.log()
    );
    std::thread::sleep(SECS(2));

    // keepalived's own number for its JSON signal (its libc's SIGRTMIN), sent to its VRRP child.
    let out = Command::new("keepalived")
        .arg("--signum=JSON")
        .output()
        .expect("keepalived --signum");
    let ka_json: i32 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("number");
    let child = ka.conf_path().with_extension("vrrp.pid");
    let child: i32 = fs::read_to_string(&child)
        .expect("keepalived's VRRP pid")
        .trim()
        .parse()
        .expect("pid");
    // SAFETY: a plain kill(2) to a process this test started.
    unsafe { libc::kill(child, ka_json) };
    vd.signal(signum("JSON"));
    let theirs = lab.dir().join("keepalived.json");
    let ours = dir.join("keepalived.json");
    assert!(
        wait_file(&theirs, None),
        "keepalived wrote no JSON:\n{}",
        ka.log()
    );
    assert!(wait_file(&ours, None), "vrrpd wrote no JSON:\n{}", vd.log());
    std::thread::sleep(Duration::from_millis(300));
    let t = flatten(&theirs);
    let o = flatten(&ours);
    for section in ["0.data.", "0.stats."] {
        let ts: Vec<_> = t.iter().filter(|(k, _)| k.starts_with(section)).collect();
        let os: Vec<_> = o.iter().filter(|(k, _)| k.starts_with(section)).collect();
        for (a, b) in ts.iter().zip(&os) {
            assert_eq!(a.0, b.0, "field order in {section}");
            assert_eq!(kind(&a.1), kind(&b.1), "{}: {} vs {}", a.0, a.1, b.1);
        }
        assert!(os.len() >= ts.len());
    }
    let get = |f: &[(String, String)], k: &str| -> String {
        f.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {k}"))
    };
    for same in [
        "iname",
        "ifp_ifname",
        "vrid",
        "version",
        "adver_int",
        "auth_type",
        "garp_delay",
    ] {
        let k = format!("0.data.{same}");
        assert_eq!(get(&t, &k), get(&o, &k), "{k}");
    }
    assert_eq!(get(&t, "0.data.state"), "2");
    assert_eq!(get(&o, "0.data.state"), "1");
    assert_eq!(get(&o, "0.data.master_priority"), "150");
    let sent: i64 = get(&t, "0.stats.advert_sent").parse().expect("int");
    let rcvd: i64 = get(&o, "0.stats.advert_rcvd").parse().expect("int");
    assert!(
        (sent - rcvd).abs() <= 2,
        "keepalived sent {sent}, vrrpd heard {rcvd}"
    );
}

#[test]
fn status_command_with_and_without_a_daemon() {
    let Some(lab) = Lab::with("ost", Topo::routers(1).net(162)) else {
        return;
    };
    let pid = lab.path("st.pid");
    let none = Command::new(vrrpd_bin())
        .args(["-s", "-p"])
        .arg(&pid)
        .output()
        .expect("vrrpd -s");
    assert_eq!(none.status.code(), Some(3), "no daemon: exit 3");
    let msg = String::from_utf8_lossy(&none.stderr);
    assert!(msg.contains("no vrrpd is running"), "{msg}");

    let d = lab.vrrpd_with(
        1,
        &config(162, 150),
        Start {
            pidfile: Some(&pid),
            ..Start::QUIET
        },
    );
    assert!(
        d.wait_log("(VI_1) Entering MASTER STATE", SECS(10)),
        "{}",
        d.log()
    );
    let sock = pid.with_extension("sock");
    let meta = fs::metadata(&sock).expect("control socket next to the pid file");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);

    let out = Command::new(vrrpd_bin())
        .args(["-s", "-p"])
        .arg(&pid)
        .output()
        .expect("vrrpd -s");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let words: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(
        &words[..9],
        [
            "VI_1",
            "eth0",
            "vrid",
            "51",
            "MASTER",
            "prio",
            "150",
            "master",
            "10.99.162.11"
        ],
        "{text}"
    );
    assert_eq!(words[9], "for");
    assert!(words[10].ends_with('s'), "{text}");
    assert_eq!(words[11], "adverts");
    assert!(words[12].starts_with("0/"), "{text}");
    assert_eq!(&words[13..], ["drops", "0"], "{text}");

    let js = Command::new(vrrpd_bin())
        .args(["--status", "--json", "-p"])
        .arg(&pid)
        .output()
        .expect("vrrpd -s --json");
    assert!(js.status.success());
    let f = lab.write("status.json", &String::from_utf8_lossy(&js.stdout));
    let flat: BTreeMap<String, String> = flatten(&f).into_iter().collect();
    assert_eq!(flat["0.data.iname"], "\"VI_1\"");
    assert_eq!(flat["0.data.state"], "2");
    assert_eq!(flat["0.data.master_ipaddr"], "\"10.99.162.11\"");

    // Gone with the daemon.
    let mut d = d;
    assert_eq!(d.term(), Some(0));
    assert!(!sock.exists(), "socket removed at exit");
    let after = Command::new(vrrpd_bin())
        .args(["-s", "-p"])
        .arg(&pid)
        .output()
        .expect("vrrpd -s");
    assert_eq!(after.status.code(), Some(3));
}

#[test]
fn hotplug_call_on_every_transition() {
    let Some(lab) = Lab::with("ohp", Topo::routers(1).net(163)) else {
        return;
    };
    let rec = lab.path("hotplug.log");
    let hp = lab.script(
        "hotplug-call",
        &format!(
            "#!/bin/sh\necho \"$* ACTION=$ACTION TYPE=$TYPE NAME=$NAME\" >>{}\n",
            rec.display()
        ),
    );
    let w = wrapper(
        &lab,
        "whp.sh",
        &lab.path("tmp"),
        &format!("--hotplug-call {}", hp.display()),
    );
    let mut d = start(&lab, 1, &config(163, 150), &w);
    assert!(
        d.wait_log("(VI_1) Entering MASTER STATE", SECS(10)),
        "{}",
        d.log()
    );
    let read = || fs::read_to_string(&rec).unwrap_or_default();
    assert!(
        common::wait_until(SECS(5), Duration::from_millis(20), || read()
            .lines()
            .count()
            >= 2),
        "{}",
        read()
    );
    assert_eq!(d.term(), Some(0));
    assert!(
        common::wait_until(SECS(5), Duration::from_millis(20), || read()
            .lines()
            .count()
            >= 3),
        "{}",
        read()
    );
    assert_eq!(
        read().lines().collect::<Vec<_>>(),
        [
            "vrrpd ACTION=NOTIFY_BACKUP TYPE=INSTANCE NAME=VI_1",
            "vrrpd ACTION=NOTIFY_MASTER TYPE=INSTANCE NAME=VI_1",
            "vrrpd ACTION=NOTIFY_STOP TYPE=INSTANCE NAME=VI_1",
        ]
    );
}

#[test]
fn hotplug_call_for_a_sync_group() {
    let Some(lab) = Lab::with("ohg", Topo::routers(1).net(166)) else {
        return;
    };
    let rec = lab.path("hotplug.log");
    let hp = lab.script(
        "hotplug-call",
        &format!(
            "#!/bin/sh\necho \"$ACTION $TYPE $NAME\" >>{}\n",
            rec.display()
        ),
    );
    let w = wrapper(
        &lab,
        "whg.sh",
        &lab.path("tmp"),
        &format!("--hotplug-call {}", hp.display()),
    );
    let conf = format!(
        "vrrp_sync_group G1 {{\n    group {{\n        VI_1\n    }}\n}}\n{}",
        config(166, 150)
    );
    let mut d = start(&lab, 1, &conf, &w);
    assert!(
        d.wait_log("(VI_1) Entering MASTER STATE", SECS(10)),
        "{}",
        d.log()
    );
    let read = || fs::read_to_string(&rec).unwrap_or_default();
    assert!(
        common::wait_until(SECS(5), Duration::from_millis(20), || read()
            .contains("NOTIFY_MASTER GROUP G1")),
        "{}",
        read()
    );
    let lines = read();
    assert!(lines.contains("NOTIFY_MASTER INSTANCE VI_1"), "{lines}");
    assert_eq!(d.term(), Some(0));
}

#[test]
fn signals_vrrpd_does_not_use_are_not_fatal() {
    let Some(lab) = Lab::with("osg", Topo::routers(1).net(164)) else {
        return;
    };
    let mut d = lab.vrrpd_with(1, &config(164, 150), Start::QUIET);
    assert!(
        d.wait_log("(VI_1) Entering MASTER STATE", SECS(10)),
        "{}",
        d.log()
    );
    let rtmin5 = signum("JSON") - 2 + 5;
    for sig in [
        libc::SIGALRM,
        libc::SIGPWR,
        libc::SIGVTALRM,
        libc::SIGPROF,
        libc::SIGIO,
        libc::SIGXCPU,
        libc::SIGPIPE,
        rtmin5,
    ] {
        d.signal(sig);
    }
    assert!(
        d.wait_log(&format!("Ignoring signal {rtmin5}"), SECS(5)),
        "{}",
        d.log()
    );
    assert!(d.running(), "a stray signal killed vrrpd:\n{}", d.log());
    assert!(
        d.log()
            .contains(&format!("Ignoring signal {}", libc::SIGALRM))
    );
    assert!(
        !d.log()
            .contains(&format!("Ignoring signal {}", libc::SIGPIPE))
    );
    assert_eq!(d.term(), Some(0));
}

#[test]
fn signum_names_match_keepalived() {
    assert_eq!(signum("DATA"), libc::SIGUSR1);
    assert_eq!(signum("STATS"), libc::SIGUSR2);
    assert_eq!(signum("RELOAD"), libc::SIGHUP);
    assert_eq!(signum("STOP"), libc::SIGTERM);
    assert_eq!(signum("JSON"), libc::SIGRTMIN() + 2);
    let bad = Command::new(vrrpd_bin())
        .arg("--signum=FOO")
        .output()
        .expect("vrrpd");
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("Unknown sigfunc FOO"));
}

#[test]
fn log_lines_have_no_module_path() {
    // What procd hands to logd: the bare message, which logread shows after `vrrpd[PID]: `.
    let Some(lab) = Lab::with("olg", Topo::routers(1).net(165)) else {
        return;
    };
    let mut d = lab.vrrpd_with(1, &config(165, 150), Start::QUIET);
    assert!(d.wait_log("(VI_1) Entering MASTER STATE", SECS(10)));
    assert!(
        d.log().lines().any(|l| l == "(VI_1) Entering MASTER STATE"),
        "{}",
        d.log()
    );
    assert!(!d.log().contains("[vrrpd"), "{}", d.log());
    assert_eq!(d.term(), Some(0));
}
