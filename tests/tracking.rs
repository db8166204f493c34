//! Health tracking, notify scripts and sync groups, end to end: real vrrpd processes in the
//! test lab (tests/common; namespaces "vk…", one set per test), addresses in 10.99.0.0/16.
//! Each lab cleans up after itself. Without root or a lab tool they print "skipped" (and fail
//! under CI=true).

mod common;

use std::fs;
use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{Daemon, Lab, Topo};

/// Retries `check` every 50 ms until it holds or `limit` passes.
fn eventually(what: &str, limit: Duration, check: impl FnMut() -> bool) {
    assert!(
        common::wait_until(limit, Duration::from_millis(50), check),
        "timed out after {limit:?}: {what}"
    );
}

const WAIT: Duration = Duration::from_secs(20);

/// Two routers at 10.99.{net}.1 and .2 on eth0.
fn two_routers(prefix: &str, net: u8) -> Option<Lab> {
    Lab::with(prefix, Topo::routers(2).net(net).base(0))
}

/// Starts vrrpd on router `i` with `conf`, once `vrrpd -t` has accepted it.
fn start(lab: &Lab, i: usize, conf: &str) -> Daemon {
    let path = lab.write(&format!("check-r{i}.conf"), conf);
    let check = lab.vrrpd_run(i, &["-t", "-f", &path.display().to_string()]);
    assert!(check.ok(), "config r{i} rejected:\n{}", check.stderr);
    lab.vrrpd(i, conf)
}

/// SIGTERM and wait (bounded) for a clean exit.
fn stop(d: &mut Daemon) {
    assert!(
        d.stop_within(Duration::from_secs(5)).is_some(),
        "vrrpd did not stop on SIGTERM"
    );
}

/// Waits until `addr` is on `dev` of router `yes` and not of router `no`.
fn vip_on(lab: &Lab, yes: usize, no: usize, dev: &str, addr: &str) {
    eventually(&format!("{addr} on r{yes} only"), WAIT, || {
        lab.has_addr(yes, dev, addr) && !lab.has_addr(no, dev, addr)
    });
}

fn wait_log(d: &Daemon, needle: &str) {
    eventually(
        &format!("log of r{} contains {needle:?}", d.router),
        WAIT,
        || d.log().contains(needle),
    );
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
    let Some(lab) = two_routers("vkhs", 1) else {
        return;
    };
    let flag = lab.path("fail");
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
    let mut da = start(&lab, 1, &conf_a);
    let mut db = start(&lab, 2, &conf_b);
    vip_on(&lab, 1, 2, "eth0", "10.99.1.100");
    wait_log(&db, "(VI_1) Entering BACKUP STATE");

    // The check fails: A drops to 50 and B (100) preempts it.
    fs::write(&flag, "").unwrap();
    wait_log(&da, "VRRP_Script(chk) failed (exited with status 1)");
    wait_log(&da, "(VI_1) Changing effective priority from 150 to 50");
    vip_on(&lab, 2, 1, "eth0", "10.99.1.100");
    wait_log(&db, "(VI_1) Entering MASTER STATE");
    wait_log(
        &da,
        "(VI_1) Received advert from 10.99.1.2 with higher priority 100, ours 50",
    );

    // It recovers (after two good runs): A is back at 150 and takes the address back.
    fs::remove_file(&flag).unwrap();
    wait_log(&da, "VRRP_Script(chk) succeeded");
    wait_log(&da, "(VI_1) Changing effective priority from 50 to 150");
    vip_on(&lab, 1, 2, "eth0", "10.99.1.100");
    wait_log(
        &db,
        "(VI_1) Received advert from 10.99.1.1 with higher priority 150, ours 100",
    );
    stop(&mut da);
    stop(&mut db);
}

#[test]
fn reload_keeps_the_health_of_unchanged_scripts() {
    let Some(lab) = two_routers("vkrl", 8) else {
        return;
    };
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
    let mut da = start(&lab, 1, &format!("{GLOBAL}{script}{vi1}"));
    let mut db = start(
        &lab,
        2,
        &format!(
            "{GLOBAL}{}",
            instance("VI_1", "eth0", 56, 100, "10.99.8.100", "")
        ),
    );
    wait_log(&da, "(VI_1) Changing effective priority from 150 to 50");
    vip_on(&lab, 2, 1, "eth0", "10.99.8.100");

    // Reload with VI_1 and chk unchanged and a second instance added: VI_1 keeps running at
    // 50 (its script is still known to fail), so the address does not flap back to A.
    let vi2 = instance("VI_2", "eth0", 57, 100, "10.99.8.101", "");
    fs::write(da.conf_path(), format!("{GLOBAL}{script}{vi1}{vi2}")).unwrap();
    da.hup();
    wait_log(&da, "(VI_2) Entering BACKUP STATE");
    std::thread::sleep(Duration::from_secs(3));
    let log = da.log();
    assert!(!log.contains("from 50 to 150"), "{log}");
    assert!(lab.has_addr(2, "eth0", "10.99.8.100"));
    assert!(!lab.has_addr(1, "eth0", "10.99.8.100"));
    let after = &log[log.find("Reloading configuration").unwrap()..];
    assert!(!after.contains("(VI_1) Entering"), "{log}");
    stop(&mut da);
    stop(&mut db);
}

#[test]
fn tracked_interface_down_means_fault_and_the_vip_moves() {
    let Some(lab) = two_routers("vkti", 2) else {
        return;
    };
    // The tracked uplink: a veth pair inside A (no dummy module needed); setting one end down
    // takes it down.
    lab.ip(
        1,
        &[
            "link", "add", "uplink", "type", "veth", "peer", "name", "uplinkp",
        ],
    );
    lab.ip(1, &["link", "set", "uplinkp", "up"]);
    lab.ip(1, &["link", "set", "uplink", "up"]);
    lab.wait_carrier(&lab.ns(1), "uplink");
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
    let mut da = start(&lab, 1, &conf_a);
    let mut db = start(&lab, 2, &conf_b);
    vip_on(&lab, 1, 2, "eth0", "10.99.2.100");

    lab.ip(1, &["link", "set", "uplink", "down"]);
    wait_log(&da, "tracked interface uplink is down");
    wait_log(&da, "(VI_1) Entering FAULT STATE");
    vip_on(&lab, 2, 1, "eth0", "10.99.2.100");

    lab.ip(1, &["link", "set", "uplink", "up"]);
    wait_log(&da, "tracked interface uplink is up");
    vip_on(&lab, 1, 2, "eth0", "10.99.2.100");
    let log = da.log();
    let fault = log.find("(VI_1) Entering FAULT STATE").unwrap();
    assert!(
        log[fault..].contains("(VI_1) Entering BACKUP STATE")
            && log[fault..].contains("(VI_1) Entering MASTER STATE"),
        "{log}"
    );
    stop(&mut da);
    stop(&mut db);
}

#[test]
fn track_file_value_moves_priority() {
    let Some(lab) = two_routers("vktf", 7) else {
        return;
    };
    let file = lab.path("state/value");
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
    let mut da = start(&lab, 1, &conf_a);
    let mut db = start(&lab, 2, &conf_b);
    vip_on(&lab, 1, 2, "eth0", "10.99.7.100");

    // 40 × -2 = -80: A drops to 70 and B takes over; seen through inotify, not polling.
    fs::write(&file, "40\n").unwrap();
    wait_log(&da, "(VI_1) Changing effective priority from 150 to 70");
    vip_on(&lab, 2, 1, "eth0", "10.99.7.100");
    // Replaced by rename, as careful writers do.
    let tmp = lab.path("state/value.tmp");
    fs::write(&tmp, "0\n").unwrap();
    fs::rename(&tmp, &file).unwrap();
    wait_log(&da, "(VI_1) Changing effective priority from 70 to 150");
    vip_on(&lab, 1, 2, "eth0", "10.99.7.100");
    // Below -253 means FAULT.
    fs::write(&file, "200\n").unwrap();
    wait_log(&da, "(VI_1) Entering FAULT STATE");
    vip_on(&lab, 2, 1, "eth0", "10.99.7.100");
    stop(&mut da);
    stop(&mut db);
}

#[test]
fn sync_group_moves_both_vips_together() {
    let Some(lab) = two_routers("vksg", 3) else {
        return;
    };
    lab.link(1, 2, "eth1", 4);
    let flag = lab.path("fail");
    let check = lab.script(
        "scripts/check.sh",
        &format!("#!/bin/sh\n[ ! -e {} ]\n", flag.display()),
    );
    let out = lab.path("group.log");
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
    let mut da = start(
        &lab,
        1,
        &conf("A", 150, "    track_script {\n        chk\n    }"),
    );
    let mut db = start(&lab, 2, &conf("B", 100, ""));
    vip_on(&lab, 1, 2, "eth0", "10.99.3.100");
    vip_on(&lab, 1, 2, "eth1", "10.99.4.100");

    // LAN's check fails on A: both of A's instances go to FAULT and B takes both addresses.
    fs::write(&flag, "").unwrap();
    wait_log(&da, "(LAN) Entering FAULT STATE");
    wait_log(&da, "(WAN) Entering FAULT STATE");
    vip_on(&lab, 2, 1, "eth0", "10.99.3.100");
    vip_on(&lab, 2, 1, "eth1", "10.99.4.100");

    // Recovery brings both back to A.
    fs::remove_file(&flag).unwrap();
    vip_on(&lab, 1, 2, "eth0", "10.99.3.100");
    vip_on(&lab, 1, 2, "eth1", "10.99.4.100");

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
    stop(&mut da);
    stop(&mut db);
}

#[test]
fn notify_scripts_get_keepalived_arguments_in_order() {
    let Some(lab) = two_routers("vknt", 5) else {
        return;
    };
    // Output goes where script_user (nobody) may write; scripts stay root-owned.
    let out = lab.path("out");
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
    fs::set_permissions(lab.path("bad"), fs::Permissions::from_mode(0o777)).unwrap();
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
    let mut da = start(&lab, 1, &conf);
    wait_log(&da, "(VI_1) Entering MASTER STATE");
    wait_log(&da, "refusing to run");
    // The master hook runs concurrently; let it finish before the stop hook starts.
    eventually("master hook ran", WAIT, || {
        fs::read_to_string(out.join("hooks.log")).is_ok_and(|t| t.contains("master"))
    });
    assert!(da.log().contains("is writable by everyone"));
    stop(&mut da);
    assert!(da.log().contains("(VI_1) Stopping"));

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

#[test]
fn stuck_script_is_killed_and_adverts_keep_their_interval() {
    let Some(lab) = two_routers("vkst", 6) else {
        return;
    };
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
    let mut da = start(&lab, 1, &conf);
    wait_log(&da, "(VI_1) Entering MASTER STATE");
    let pid = da.pid() as i32;

    let end = Instant::now() + Duration::from_secs(9);
    let a = Ipv4Addr::new(10, 99, 6, 1);
    let cap = common::listen(&lab.ns(2), "eth0", a, move || Instant::now() >= end);
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
    let adverts: Vec<Instant> = cap.join().unwrap().into_iter().map(|h| h.at).collect();
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
    let log = da.log();
    assert!(
        log.contains("VRRP_Script(slow) failed (timed out and was killed)"),
        "{log}"
    );
    assert!(log.contains("(VI_1) Changing effective priority from 150 to 140"));
    let running: Vec<i32> = children(pid).into_iter().map(|k| k.0).collect();
    stop(&mut da);
    // Stopping terminated the running check too (its pid is gone, not left behind).
    eventually("the check ended with the daemon", WAIT, || {
        running
            .iter()
            .all(|c| !PathBuf::from(format!("/proc/{c}")).exists())
    });
}

/// An instance a reload removes leaves like a stopped one: its notify_stop runs, and the VIP
/// goes, while the instance the reload keeps stays master without a transition.
#[test]
fn reload_that_removes_an_instance_runs_its_notify_stop() {
    let Some(lab) = two_routers("vkrs", 6) else {
        return;
    };
    let out = lab.path("out");
    fs::create_dir_all(&out).unwrap();
    let hook = lab.script(
        "scripts/hook.sh",
        &format!("#!/bin/sh\necho \"$*\" >> {}/hooks.log\n", out.display()),
    );
    let gone = instance(
        "VI_GONE",
        "eth0",
        61,
        150,
        "10.99.6.100",
        &format!("    notify_stop \"{} stop VI_GONE\"", hook.display()),
    );
    let kept = instance("VI_KEPT", "eth0", 62, 150, "10.99.6.101", "");
    let da = start(&lab, 1, &format!("{GLOBAL}{gone}{kept}"));
    wait_log(&da, "(VI_GONE) Entering MASTER STATE");
    wait_log(&da, "(VI_KEPT) Entering MASTER STATE");
    let mark = da.mark();
    fs::write(da.conf_path(), format!("{GLOBAL}{kept}")).unwrap();
    da.hup();
    eventually("notify_stop of the removed instance", WAIT, || {
        fs::read_to_string(out.join("hooks.log")).is_ok_and(|t| t.contains("stop VI_GONE"))
    });
    eventually("the removed instance's VIP is gone", WAIT, || {
        !lab.has_addr(1, "eth0", "10.99.6.100")
    });
    assert!(lab.has_addr(1, "eth0", "10.99.6.101"));
    let after = da.log_since(mark);
    assert!(
        !after.contains("(VI_KEPT) Entering"),
        "kept instance moved:\n{after}"
    );
}

/// Without `script_user`, keepalived runs scripts as `keepalived_script` when that user exists.
/// The user exists only for this daemon: it runs in its own mount namespace, where
/// `/etc/passwd` is a copy with that line added, so the host is never touched.
#[test]
fn scripts_default_to_keepalived_script_when_that_user_exists() {
    let Some(lab) = two_routers("vkdu", 9) else {
        return;
    };
    let passwd = fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    let fake = lab.write(
        "passwd",
        &format!("{passwd}keepalived_script:x:64999:64999::/nonexistent:/usr/sbin/nologin\n"),
    );
    let out = lab.path("out");
    fs::create_dir_all(&out).unwrap();
    fs::set_permissions(&out, fs::Permissions::from_mode(0o777)).unwrap();
    let notify = lab.script(
        "scripts/who.sh",
        &format!("#!/bin/sh\nid -u >> {}/who.log\n", out.display()),
    );
    let conf = format!(
        "global_defs {{\n    vrrp_version 3\n}}\n{}",
        instance(
            "VI_1",
            "eth0",
            57,
            150,
            "10.99.9.100",
            &format!("    notify_master {}", notify.display())
        )
    );
    // unshare -m: a private mount namespace; the bind mount is gone when the daemon exits.
    let bind = format!(
        "mount --bind {} /etc/passwd && exec \"$0\" \"$@\"",
        fake.display()
    );
    let how = common::Start {
        wrapper: &["unshare", "-m", "sh", "-c", &bind],
        ..common::Start::default()
    };
    let mut d = lab.vrrpd_with(1, &conf, how);
    wait_log(&d, "scripts run as keepalived_script");
    wait_log(&d, "(VI_1) Entering MASTER STATE");
    eventually("notify_master ran", WAIT, || {
        fs::read_to_string(out.join("who.log")).is_ok_and(|t| !t.is_empty())
    });
    stop(&mut d);
    let who = fs::read_to_string(out.join("who.log")).unwrap_or_default();
    assert_eq!(who.trim(), "64999", "{}", d.log());
}
