//! vrrpd against vrrpd: election, failover, preemption, authentication, unicast, gratuitous ARP,
//! start-up clean-up, the pidfile lock and `-t`. VRRPv3 at 0.1 s unless the point needs slower.
//!
//! With VRRPD_LAB_SUBJECT=keepalived the same scenarios run keepalived against itself (checks on
//! vrrpd's own dump, log wording, pidfile and `-t` are skipped then).

mod common;

use common::*;
use std::time::{Duration, Instant};

const S: Duration = Duration::from_secs(1);

/// Starts the daemon under test on router `i` and waits until it alone holds the VIP.
fn start_master(lab: &Lab, i: usize, vi: &Vi) -> Daemon {
    let d = lab.dut(i, &conf(std::slice::from_ref(vi)));
    let ok = lab.wait_master(VIP, i, vi.master_down() + 2 * MARGIN);
    assert!(
        ok,
        "r{i} did not become sole master: {:?}\n{}",
        lab.holders(VIP),
        describe(&d)
    );
    d
}

/// Starts the daemon under test on router `i` and waits until it says it is backup.
fn start_backup(lab: &Lab, i: usize, vi: &Vi) -> Daemon {
    let d = lab.dut(i, &conf(std::slice::from_ref(vi)));
    assert!(
        d.wait_log("(VI_1) Entering BACKUP STATE", 5 * S),
        "{}",
        describe(&d)
    );
    d
}

/// vrrpd's SIGUSR1 dump line for VI_1 (the test fails if it never comes).
fn dump(d: &Daemon) -> Dump {
    match d.dump("VI_1") {
        Some(x) => x,
        None => panic!("no state dump after SIGUSR1\n{}", describe(d)),
    }
}

fn is_vrrpd(d: &Daemon) -> bool {
    d.kind == Kind::Vrrpd
}

#[test]
fn vip_is_only_on_the_master() {
    let Some(lab) = Lab::new("vfvip", 3) else {
        return;
    };
    let d1 = start_master(&lab, 1, &Vi::v3(150));
    let d2 = start_backup(&lab, 2, &Vi::v3(100));
    let d3 = start_backup(&lab, 3, &Vi::v3(50));
    // Longer than the backups' Master_Down_Interval: they hear the master and stay backup.
    let r = lab.steady(VIP, &[1], Vi::v3(50).master_down() + 2 * S);
    assert_eq!(r, Ok(()), "{}\n{}", describe(&d2), describe(&d3));
    assert_eq!(
        d1.count("(VI_1) Entering MASTER STATE"),
        1,
        "{}",
        describe(&d1)
    );
    for d in [&d2, &d3] {
        assert_eq!(d.count("Entering MASTER STATE"), 0, "{}", describe(d));
    }
    if is_vrrpd(&d1) {
        let m = dump(&d1);
        assert_eq!(m.state, "MASTER", "{m:?}");
        assert_eq!(m.get("priority"), 150, "{m:?}");
        assert!(m.get("adverts_tx") > 10, "{m:?}");
        let b = dump(&d2);
        assert_eq!(b.state, "BACKUP", "{b:?}");
        assert!(b.get("adverts_rx") > 10, "{b:?}");
        assert_eq!(b.get("adverts_tx"), 0, "{b:?}");
    }
}

#[test]
fn kill9_master_next_highest_takes_over() {
    let Some(lab) = Lab::new("vfkil", 3) else {
        return;
    };
    let mut d1 = start_master(&lab, 1, &Vi::v3(150));
    let lo = Vi::v3(100);
    let d2 = start_backup(&lab, 2, &lo);
    let d3 = start_backup(&lab, 3, &Vi::v3(50));
    assert_eq!(lab.steady(VIP, &[1], S), Ok(()));
    let t0 = Instant::now();
    d1.kill9();
    // A crashed master leaves its VIP behind; r2 adds it, r3 stays backup.
    let ok = lab.wait_holders(VIP, &[1, 2], lo.master_down() + MARGIN);
    assert!(
        ok,
        "{:?}\n{}\n{}",
        lab.holders(VIP),
        describe(&d2),
        describe(&d3)
    );
    eprintln!("kill -9 failover took {:?}", t0.elapsed());
    assert_eq!(lab.steady(VIP, &[1, 2], 2 * S), Ok(()), "{}", describe(&d3));
    assert!(d2.count("(VI_1) Entering MASTER STATE") >= 1);
}

#[test]
fn sigterm_master_hands_over_within_skew_time() {
    let Some(lab) = Lab::new("vfter", 2) else {
        return;
    };
    // 1 s adverts: Skew_Time (0.61 s) + margin stays well below Master_Down_Interval (3.6 s),
    // so a take-over in time proves the backup acted on the priority-0 advert.
    let hi = Vi {
        advert_int: "1",
        ..Vi::v3(150)
    };
    let lo = Vi {
        advert_int: "1",
        ..Vi::v3(100)
    };
    let mut d1 = start_master(&lab, 1, &hi);
    let d2 = start_backup(&lab, 2, &lo);
    assert_eq!(lab.steady(VIP, &[1], S), Ok(()));
    let t0 = Instant::now();
    d1.sigterm();
    // wait_master also means the old master has removed its copy.
    let ok = lab.wait_master(VIP, 2, lo.skew() + MARGIN);
    let took = t0.elapsed();
    let why = format!(
        "{:?}\n{}\n{}",
        lab.holders(VIP),
        describe(&d1),
        describe(&d2)
    );
    assert!(ok, "{why}");
    eprintln!("SIGTERM hand-over took {took:?}");
    assert!(took < lo.master_down());
    assert_eq!(d1.term(), Some(0), "{}", describe(&d1));
}

#[test]
fn returning_higher_priority_router_preempts() {
    let Some(lab) = Lab::new("vfpre", 2) else {
        return;
    };
    let (hi, lo) = (Vi::v3(150), Vi::v3(100));
    let mut d1 = start_master(&lab, 1, &hi);
    let d2 = start_backup(&lab, 2, &lo);
    assert_eq!(d1.term(), Some(0), "{}", describe(&d1));
    assert!(
        lab.wait_master(VIP, 2, lo.skew() + MARGIN),
        "{}",
        describe(&d2)
    );
    let mark = d2.mark();
    let _d1 = lab.dut(1, &conf(std::slice::from_ref(&hi)));
    let ok = lab.wait_master(VIP, 1, hi.master_down() + MARGIN);
    assert!(ok, "{:?}\n{}", lab.holders(VIP), describe(&d2));
    assert_eq!(lab.steady(VIP, &[1], S), Ok(()));
    let after = d2.log_since(mark);
    assert!(after.contains("Entering BACKUP STATE"), "{after}");
    if is_vrrpd(&d2) {
        let line = "(VI_1) Received advert from 10.99.0.11 with higher priority 150, ours 100";
        assert!(after.contains(line), "{after}");
    }
}

#[test]
fn nopreempt_keeps_the_current_master() {
    let Some(lab) = Lab::new("vfnop", 2) else {
        return;
    };
    let hi = Vi {
        nopreempt: true,
        ..Vi::v3(150)
    };
    let lo = Vi::v3(100);
    let mut d1 = start_master(&lab, 1, &hi);
    let d2 = start_backup(&lab, 2, &lo);
    assert_eq!(d1.term(), Some(0), "{}", describe(&d1));
    assert!(
        lab.wait_master(VIP, 2, lo.skew() + MARGIN),
        "{}",
        describe(&d2)
    );
    let d1 = lab.dut(1, &conf(std::slice::from_ref(&hi)));
    // Many times its Master_Down_Interval: r1 hears a lower-priority master and leaves it be.
    let r = lab.steady(VIP, &[2], 3 * S);
    assert_eq!(r, Ok(()), "{}\n{}", describe(&d1), describe(&d2));
    assert_eq!(d1.count("Entering MASTER STATE"), 0, "{}", describe(&d1));
}

#[test]
fn preempt_delay_postpones_preemption() {
    let Some(lab) = Lab::new("vfdel", 2) else {
        return;
    };
    let hi = Vi {
        preempt_delay: Some(3),
        ..Vi::v3(150)
    };
    let lo = Vi::v3(100);
    let d2 = start_master(&lab, 2, &lo);
    let t0 = Instant::now();
    let d1 = lab.dut(1, &conf(std::slice::from_ref(&hi)));
    // Not before the delay (less a second of slack for start-up)...
    let r = lab.steady(VIP, &[2], 2 * S);
    assert_eq!(r, Ok(()), "{}\n{}", describe(&d1), describe(&d2));
    // ...but soon after it.
    let limit = (3 * S + hi.master_down() + 2 * MARGIN).saturating_sub(t0.elapsed());
    let ok = lab.wait_master(VIP, 1, limit);
    assert!(
        ok,
        "{:?}\n{}\n{}",
        lab.holders(VIP),
        describe(&d1),
        describe(&d2)
    );
    eprintln!("preempted after {:?}", t0.elapsed());
}

#[test]
fn wrong_auth_pass_is_ignored_and_counted() {
    let Some(lab) = Lab::new("vfaut", 2) else {
        return;
    };
    let good = Vi::v2(100);
    let bad = Vi {
        auth_pass: Some("wrong"),
        ..Vi::v2(200)
    };
    let d1 = start_master(&lab, 1, &good);
    let mark = d1.mark();
    let d2 = lab.dut(2, &conf(std::slice::from_ref(&bad)));
    // Neither accepts the other's adverts, so both end up master, and r1 never yields to the
    // higher priority it cannot authenticate.
    let ok = lab.wait_holders(VIP, &[1, 2], bad.master_down() + 2 * MARGIN);
    assert!(
        ok,
        "{:?}\n{}\n{}",
        lab.holders(VIP),
        describe(&d1),
        describe(&d2)
    );
    assert_eq!(lab.steady(VIP, &[1, 2], 3 * S), Ok(()));
    let after = d1.log_since(mark);
    assert!(!after.contains("Entering BACKUP STATE"), "{after}");
    if is_vrrpd(&d1) {
        // The socket filter holds each side's password, so the kernel drops the other's
        // adverts before they are queued: none is accepted, and only the filter's 1-in-256
        // sample reaches the daemon, to be counted as `auth` (tests/sampled_drops.rs).
        let a = dump(&d1);
        assert_eq!(a.state, "MASTER", "{a:?}");
        let b = dump(&d2);
        for (who, d) in [("r1", &a), ("r2", &b)] {
            assert_eq!(d.get("adverts_rx"), 0, "{who}: {d:?}");
            assert!(
                d.get("auth") <= 3,
                "{who}: more than a sample counted: {d:?}"
            );
        }
    }
}

#[test]
fn auth_type_on_one_side_only_is_a_type_mismatch() {
    let Some(lab) = Lab::new("hfat", 2) else {
        return;
    };
    let pass = Vi::v2(100);
    let none = Vi {
        auth_pass: None,
        ..Vi::v2(200)
    };
    let d1 = start_master(&lab, 1, &pass);
    let d2 = lab.dut(2, &conf(std::slice::from_ref(&none)));
    let ok = lab.wait_holders(VIP, &[1, 2], none.master_down() + 2 * MARGIN);
    assert!(ok, "{}\n{}", describe(&d1), describe(&d2));
    std::thread::sleep(3 * S);
    if is_vrrpd(&d2) {
        // Its socket filter checks no password, so each of r1's adverts reaches it and is
        // counted as keepalived counts it: authtype_mismatch, not auth_failure.
        let b = dump(&d2);
        assert!(b.get("authtype") >= 2, "{b:?}");
        assert_eq!((b.get("auth"), b.get("adverts_rx")), (0, 0), "{b:?}");
        assert!(
            d2.log()
                .contains("authentication type differs (auth_type PASS on one side only)"),
            "{}",
            describe(&d2)
        );
    }
}

#[test]
fn unicast_peers_work_with_multicast_dropped() {
    let Some(lab) = Lab::new("vfuni", 3) else {
        return;
    };
    lab.drop_multicast();
    let hi = Vi::v3(150).unicast(1, &[2, 3]);
    let lo = Vi::v3(100).unicast(2, &[1, 3]);
    let least = Vi::v3(50).unicast(3, &[1, 2]);
    let mut d1 = start_master(&lab, 1, &hi);
    let cap = lab.capture("vrrp", Duration::from_secs(60));
    let d2 = start_backup(&lab, 2, &lo);
    let d3 = start_backup(&lab, 3, &least);
    let r = lab.steady(VIP, &[1], least.master_down() + 2 * S);
    assert_eq!(r, Ok(()), "{}\n{}", describe(&d2), describe(&d3));
    let pcap = cap.stop();
    let rows = tshark_fields(&pcap, "vrrp", &["ip.src", "ip.dst"]);
    assert!(
        rows.iter().any(|r| r == &["10.99.0.11", "10.99.0.12"]),
        "{rows:?}"
    );
    assert!(
        rows.iter().any(|r| r == &["10.99.0.11", "10.99.0.13"]),
        "{rows:?}"
    );
    assert!(
        !rows.iter().any(|r| r[1] == "224.0.0.18"),
        "multicast sent: {rows:?}"
    );
    d1.kill9();
    let ok = lab.wait_holders(VIP, &[1, 2], lo.master_down() + MARGIN);
    assert!(
        ok,
        "{:?}\n{}\n{}",
        lab.holders(VIP),
        describe(&d2),
        describe(&d3)
    );
    assert_eq!(lab.steady(VIP, &[1, 2], S), Ok(()), "{}", describe(&d3));
}

#[test]
fn new_master_sends_gratuitous_arp() {
    let Some(mut lab) = Lab::new("vfgar", 2) else {
        return;
    };
    lab.add_client();
    let mut d1 = start_master(&lab, 1, &Vi::v3(150));
    let lo = Vi::v3(100);
    let d2 = start_backup(&lab, 2, &lo);
    // The client learnt the VIP from r1's gratuitous ARP at start-up.
    let got = wait_until(2 * S, Duration::from_millis(50), || {
        lab.client_neigh(VIP).as_deref() == Some("02:99:00:00:00:01")
    });
    assert!(got, "client has {:?} for the VIP", lab.client_neigh(VIP));
    let cap = lab.capture("arp", Duration::from_secs(60));
    d1.kill9();
    let ok = lab.wait_holders(VIP, &[1, 2], lo.master_down() + MARGIN);
    assert!(ok, "{}", describe(&d2));
    let moved = wait_until(2 * S, Duration::from_millis(50), || {
        lab.client_neigh(VIP).as_deref() == Some("02:99:00:00:00:02")
    });
    let pcap = cap.stop();
    let garps = tshark_fields(
        &pcap,
        "arp.isgratuitous && arp.src.proto_ipv4 == 10.99.0.100",
        &["eth.src", "arp.src.hw_mac"],
    );
    let from_r2 = ["02:99:00:00:00:02", "02:99:00:00:00:02"];
    assert!(garps.iter().any(|r| r == &from_r2), "{garps:?}");
    assert!(moved, "client still has {:?}", lab.client_neigh(VIP));
    if is_vrrpd(&d2) {
        let line = "(VI_1) Sending gratuitous ARPs on eth0 for 10.99.0.100";
        assert!(d2.log().contains(line), "{}", describe(&d2));
    }
}

#[test]
fn stale_vip_is_removed_when_starting_as_backup() {
    let Some(lab) = Lab::new("vfsta", 2) else {
        return;
    };
    let (hi, lo) = (Vi::v3(150), Vi::v3(100));
    let mut d2 = start_master(&lab, 2, &lo);
    d2.kill9();
    assert!(lab.has_vip(2, VIP), "a killed daemon should leave its VIP");
    let d1 = lab.dut(1, &conf(std::slice::from_ref(&hi)));
    assert!(lab.wait_holders(VIP, &[1, 2], hi.master_down() + 2 * MARGIN));
    let d2 = lab.dut(2, &conf(std::slice::from_ref(&lo)));
    let ok = lab.wait_master(VIP, 1, 3 * S);
    assert!(
        ok,
        "{:?}\n{}\n{}",
        lab.holders(VIP),
        describe(&d1),
        describe(&d2)
    );
    assert_eq!(lab.steady(VIP, &[1], lo.master_down() + S), Ok(()));
}

#[test]
fn second_vrrpd_with_the_same_pidfile_exits_1() {
    let Some(lab) = Lab::new("vfpid", 2) else {
        return;
    };
    let pidfile = lab.path("shared.pid");
    let mut d1 = lab.vrrpd_pidfile(1, &conf(&[Vi::v3(150)]), &pidfile);
    let mine = d1.pid().to_string();
    let written = wait_until(5 * S, Duration::from_millis(20), || {
        std::fs::read_to_string(&pidfile).is_ok_and(|s| s.trim() == mine)
    });
    assert!(written, "pidfile not written\n{}", describe(&d1));
    let mut d2 = lab.vrrpd_pidfile(2, &conf(&[Vi::v3(100)]), &pidfile);
    let st = d2.wait_exit(5 * S);
    assert_eq!(st.and_then(|s| s.code()), Some(1), "{}", describe(&d2));
    assert!(d1.running(), "{}", describe(&d1));
    let now = std::fs::read_to_string(&pidfile).unwrap_or_default();
    assert_eq!(now.trim(), mine);
}

#[test]
fn config_check_reports_file_and_line() {
    let Some(lab) = Lab::new("vfcfg", 1) else {
        return;
    };
    let good = lab.write("good.conf", &conf(&[Vi::v3(150)]));
    let good = good.display().to_string();
    let r = lab.vrrpd_run(1, &["-t", "-f", &good]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let text = conf(&[Vi::v3(150)]).replace("virtual_router_id 51", "virtual_router_id 300");
    let line = text
        .lines()
        .position(|l| l.contains("virtual_router_id 300"))
        .map_or(0, |n| n + 1);
    let bad = lab.write("bad.conf", &text);
    let bad = bad.display().to_string();
    let r = lab.vrrpd_run(1, &["-t", "-f", &bad]);
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(r.stderr.contains(&format!("{bad}:{line}: error")), "{r:?}");
}

/// keepalived's scheduling keywords take effect: SCHED_RR at vrrp_rt_priority, with its
/// RLIMIT_RTTIME safety net, and the daemon still elects itself.
#[test]
fn vrrp_rt_priority_runs_the_daemon_real_time() {
    let Some(lab) = Lab::new("vfrt", 1) else {
        return;
    };
    let text = format!(
        "global_defs {{\n    vrrp_rt_priority 10\n    vrrp_rlimit_rttime 20000\n}}\n{}",
        conf(&[Vi::v3(150)])
    );
    let d = lab.vrrpd(1, &text);
    assert!(lab.wait_master(VIP, 1, 5 * S), "{}", describe(&d));
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", d.pid())).unwrap_or_default();
    // Fields after the command name: 18th of them is rt_priority, 19th policy (2 = SCHED_RR).
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    assert_eq!(
        (f.get(37), f.get(38)),
        (Some(&"10"), Some(&"2")),
        "stat: {stat}"
    );
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", d.pid())).unwrap_or_default();
    assert!(
        limits
            .lines()
            .any(|l| l.starts_with("Max realtime timeout") && l.contains("20000")),
        "{limits}"
    );
}

/// `v3_checksum_as_v2` on one side only: vrrpd sends the checksum without the IPv4 pseudo-header
/// there, and accepts either form, so the two still elect one master, in both roles.
#[test]
fn v3_checksum_as_v2_on_one_side_still_elects_one_master() {
    let Some(lab) = Lab::new("vfcks", 2) else {
        return;
    };
    let as_v2 = |vi: Vi| {
        conf(&[Vi {
            v3_checksum_as_v2: true,
            ..vi
        }])
    };
    let (hi, lo) = (Vi::v3(150), Vi::v3(100));
    let mut d1 = lab.vrrpd(1, &as_v2(hi.clone()));
    assert!(
        lab.wait_master(VIP, 1, hi.master_down() + 2 * MARGIN),
        "{}",
        describe(&d1)
    );
    let d2 = start_backup(&lab, 2, &lo);
    assert_eq!(
        lab.steady(VIP, &[1], lo.master_down() + S),
        Ok(()),
        "{}",
        describe(&d2)
    );
    let x = dump(&d2);
    assert!(x.get("adverts_rx") > 0 && x.get("checksum") == 0, "{x:?}");

    // Roles swapped: the pseudo-header side is master, the v3_checksum_as_v2 side listens.
    d1.term();
    assert!(
        lab.wait_master(VIP, 2, lo.skew() + MARGIN),
        "{}",
        describe(&d2)
    );
    let d1 = lab.vrrpd(1, &as_v2(Vi::v3(50)));
    assert!(
        d1.wait_log("(VI_1) Entering BACKUP STATE", 5 * S),
        "{}",
        describe(&d1)
    );
    assert_eq!(
        lab.steady(VIP, &[2], lo.master_down() + S),
        Ok(()),
        "{}",
        describe(&d1)
    );
    let x = dump(&d1);
    assert!(x.get("adverts_rx") > 0 && x.get("checksum") == 0, "{x:?}");
}

/// `vrrp_garp_interval` spreads a burst out: 3 frames for each of 2 VIPs, 50 ms apart.
#[test]
fn garp_interval_spaces_the_burst() {
    let Some(lab) = Lab::new("vfgai", 1) else {
        return;
    };
    let vi = Vi {
        vips: vec!["10.99.0.100/24".into(), "10.99.0.101/24".into()],
        ..Vi::v3(255)
    };
    let text = format!(
        "global_defs {{\n    vrrp_garp_interval 0.05\n    vrrp_garp_master_repeat 3\n    vrrp_garp_master_delay 0\n}}\n{}",
        conf(&[vi])
    );
    let cap = lab.capture("arp", Duration::from_secs(30));
    let d = lab.vrrpd(1, &text);
    assert!(lab.wait_master(VIP, 1, 5 * S), "{}", describe(&d));
    std::thread::sleep(Duration::from_millis(800));
    let pcap = cap.stop();
    let rows = tshark_fields(
        &pcap,
        "arp.isgratuitous",
        &["frame.time_relative", "arp.src.proto_ipv4"],
    );
    let ips: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    let want = ["10.99.0.100"; 3]
        .iter()
        .chain(&["10.99.0.101"; 3])
        .copied()
        .collect::<Vec<_>>();
    assert_eq!(ips, want, "{rows:?}");
    let t: Vec<f64> = rows.iter().filter_map(|r| r[0].parse().ok()).collect();
    for w in t.windows(2) {
        let gap = w[1] - w[0];
        assert!((0.045..0.5).contains(&gap), "gap {gap} s in {rows:?}");
    }
}

/// Issue 10 item 7: a second vrrpd for the same interface and VRID in one network namespace
/// (with its own pid file, so the pid-file lock does not stop it) is refused before it touches
/// anything; another VRID, another namespace or a restart after a crash is not.
#[test]
fn second_vrrpd_on_the_same_interface_and_vrid_is_refused() {
    if !is_vrrpd_subject() {
        return;
    }
    let Some(lab) = Lab::new("afdup", 2) else {
        return;
    };
    let vi = Vi::v3(150);
    let mut d1 = start_master(&lab, 1, &vi);
    // Router 2 runs the same virtual router in its own namespace: not refused.
    let other_ns = start_backup(&lab, 2, &Vi::v3(100));

    let mut d2 = lab.vrrpd(1, &conf(&[Vi::v3(200)]));
    let st = d2.wait_exit(5 * S);
    assert_eq!(
        st.and_then(|s| s.code()),
        Some(1),
        "the second vrrpd on eth0 VRID 51 ran for 5 s ({} transitions, VIP on {:?}):\n{}",
        d2.count("Entering"),
        lab.holders(VIP),
        describe(&d2)
    );
    let log = d2.log();
    assert!(
        log.contains("(VI_1) VRID 51 on eth0 (ipv4) is already run by another vrrpd"),
        "{log}"
    );
    assert_eq!(d2.count("Entering"), 0, "{log}");
    assert!(d1.running(), "{}", describe(&d1));
    assert_eq!(lab.holders(VIP), [1], "the VIP moved");

    // Another VRID on the same interface is another virtual router.
    let vi2 = Vi {
        name: "VI_2",
        vrid: 52,
        vips: vec!["10.99.0.101/24".into()],
        ..Vi::v3(150)
    };
    let mut d3 = lab.vrrpd(1, &conf(std::slice::from_ref(&vi2)));
    assert!(
        d3.wait_log("(VI_2) Entering MASTER STATE", 5 * S),
        "{}",
        describe(&d3)
    );
    // A reload that adds the taken VRID starts what it can and says why not the rest.
    std::fs::write(d3.conf_path(), conf(&[vi2, vi.clone()])).expect("write");
    d3.hup();
    assert!(
        d3.wait_log(
            "already run by another vrrpd in this network namespace: not started",
            3 * S
        ),
        "{}",
        describe(&d3)
    );
    assert!(d3.running());
    assert_eq!(d3.count("(VI_1) Entering"), 0, "{}", describe(&d3));
    assert_eq!(lab.holders(VIP), [1]);

    // The claim goes with the process, even on SIGKILL: a new vrrpd may take over.
    d1.kill9();
    let d4 = lab.vrrpd(1, &conf(&[vi]));
    assert!(
        d4.wait_log("(VI_1) Entering BACKUP STATE", 5 * S),
        "a restart after SIGKILL was refused:\n{}",
        describe(&d4)
    );
    drop(other_ns);
}

fn is_vrrpd_subject() -> bool {
    subject() == Kind::Vrrpd
}
