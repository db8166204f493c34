//! vrrpd next to keepalived (Debian's 2.2.7), in both roles: VRRPv2 with PASS authentication,
//! VRRPv3 over multicast and unicast, address tie-break, preemption, interval learning, refused
//! mismatches, and how vrrpd's packets decode in tshark.
//!
//! With VRRPD_LAB_SUBJECT=keepalived the vrrpd side is keepalived too (vrrpd-only checks skipped).

mod common;

use common::*;
use std::time::{Duration, Instant};

const S: Duration = Duration::from_secs(1);

/// The daemon for router `i` when the daemon under test sits on router `dut_on`.
fn kind(i: usize, dut_on: usize) -> Kind {
    if i == dut_on {
        subject()
    } else {
        Kind::Keepalived
    }
}

fn start(lab: &Lab, i: usize, dut_on: usize, vi: &Vi) -> Daemon {
    lab.daemon(kind(i, dut_on), i, &conf(std::slice::from_ref(vi)))
}

fn dump(d: &Daemon) -> Dump {
    match d.dump("VI_1") {
        Some(x) => x,
        None => panic!("no state dump after SIGUSR1\n{}", describe(d)),
    }
}

/// Nothing dropped for a reason that would mean the two daemons disagree on the wire format.
fn assert_clean(d: &Daemon) {
    if d.kind != Kind::Vrrpd {
        return;
    }
    let x = dump(d);
    assert!(x.get("adverts_rx") > 0, "{x:?}");
    for k in [
        "len", "ttl", "version", "type", "checksum", "auth", "interval", "addrs",
    ] {
        assert_eq!(x.get(k), 0, "dropped {k}: {x:?}\n{}", describe(d));
    }
}

/// r1 (`hi`) and r2 (`lo`), one of them vrrpd: election, graceful hand-over, preemption on
/// return, crash take-over.
fn handover(prefix: &str, dut_on: usize, hi: Vi, lo: Vi) {
    let Some(lab) = Lab::new(prefix, 2) else {
        return;
    };
    if hi.unicast.is_some() {
        lab.drop_multicast();
    }
    let mut d1 = start(&lab, 1, dut_on, &hi);
    assert!(
        lab.wait_master(VIP, 1, hi.master_down() + 2 * MARGIN),
        "{}",
        describe(&d1)
    );
    let d2 = start(&lab, 2, dut_on, &lo);
    assert!(
        d2.wait_log("Entering BACKUP STATE", 5 * S),
        "{}",
        describe(&d2)
    );
    // Past the backup's Master_Down_Interval: it accepts the master's adverts.
    let r = lab.steady(VIP, &[1], lo.master_down() + S);
    assert_eq!(r, Ok(()), "{}\n{}", describe(&d1), describe(&d2));
    assert_clean(&d2);

    // Graceful stop: a priority-0 advert, so the backup takes over after Skew_Time.
    d1.sigterm();
    let ok = lab.wait_master(VIP, 2, lo.skew() + MARGIN);
    let why = format!(
        "{:?}\n{}\n{}",
        lab.holders(VIP),
        describe(&d1),
        describe(&d2)
    );
    assert!(ok, "{why}");
    assert_eq!(d1.term(), Some(0), "{}", describe(&d1));
    assert_eq!(lab.steady(VIP, &[2], S), Ok(()), "{}", describe(&d2));

    let mut d1 = start(&lab, 1, dut_on, &hi);
    let ok = lab.wait_master(VIP, 1, hi.master_down() + MARGIN);
    assert!(
        ok,
        "{:?}\n{}\n{}",
        lab.holders(VIP),
        describe(&d1),
        describe(&d2)
    );
    assert_eq!(lab.steady(VIP, &[1], S), Ok(()), "{}", describe(&d2));
    assert_clean(&d1);

    let t0 = Instant::now();
    d1.kill9();
    // The crashed master's VIP stays where it was; the backup adds its own.
    let ok = lab.wait_holders(VIP, &[1, 2], lo.master_down() + MARGIN);
    assert!(ok, "{:?}\n{}", lab.holders(VIP), describe(&d2));
    eprintln!("{prefix}: kill -9 take-over after {:?}", t0.elapsed());
}

#[test]
fn v2_pass_vrrpd_master_keepalived_backup() {
    handover("vipav", 1, Vi::v2(150), Vi::v2(100));
}

#[test]
fn v2_pass_keepalived_master_vrrpd_backup() {
    handover("vipak", 2, Vi::v2(150), Vi::v2(100));
}

#[test]
fn v3_multicast_vrrpd_master_keepalived_backup() {
    handover("vimcv", 1, Vi::v3(150), Vi::v3(100));
}

#[test]
fn v3_multicast_keepalived_master_vrrpd_backup() {
    handover("vimck", 2, Vi::v3(150), Vi::v3(100));
}

#[test]
fn v3_unicast_vrrpd_master_keepalived_backup() {
    let (hi, lo) = (Vi::v3(150).unicast(1, &[2]), Vi::v3(100).unicast(2, &[1]));
    handover("viucv", 1, hi, lo);
}

#[test]
fn v3_unicast_keepalived_master_vrrpd_backup() {
    let (hi, lo) = (Vi::v3(150).unicast(1, &[2]), Vi::v3(100).unicast(2, &[1]));
    handover("viuck", 2, hi, lo);
}

/// Equal priorities: two masters that meet keep the one with the higher primary address (r2).
/// Dropping multicast first makes both masters, so the tie-break is what decides.
fn equal_priority(prefix: &str, dut_on: usize) {
    let Some(lab) = Lab::new(prefix, 2) else {
        return;
    };
    lab.drop_multicast();
    let vi = Vi::v3(100);
    let d1 = start(&lab, 1, dut_on, &vi);
    let d2 = start(&lab, 2, dut_on, &vi);
    let ok = lab.wait_holders(VIP, &[1, 2], vi.master_down() + 2 * MARGIN);
    assert!(
        ok,
        "{:?}\n{}\n{}",
        lab.holders(VIP),
        describe(&d1),
        describe(&d2)
    );
    lab.allow_multicast();
    let ok = lab.wait_master(VIP, 2, 2 * MARGIN);
    assert!(
        ok,
        "{:?}\n{}\n{}",
        lab.holders(VIP),
        describe(&d1),
        describe(&d2)
    );
    assert_eq!(lab.steady(VIP, &[2], S), Ok(()), "{}", describe(&d1));
}

#[test]
fn equal_priority_vrrpd_lower_address_yields() {
    equal_priority("vieqv", 1);
}

#[test]
fn equal_priority_keepalived_lower_address_yields() {
    equal_priority("vieqk", 2);
}

/// r1 (higher priority, nopreempt) comes back while r2 is master and leaves it be.
fn nopreempt(prefix: &str, dut_on: usize) {
    let Some(lab) = Lab::new(prefix, 2) else {
        return;
    };
    let hi = Vi {
        nopreempt: true,
        ..Vi::v3(150)
    };
    let lo = Vi::v3(100);
    let mut d1 = start(&lab, 1, dut_on, &hi);
    assert!(
        lab.wait_master(VIP, 1, hi.master_down() + 2 * MARGIN),
        "{}",
        describe(&d1)
    );
    let d2 = start(&lab, 2, dut_on, &lo);
    assert!(
        d2.wait_log("Entering BACKUP STATE", 5 * S),
        "{}",
        describe(&d2)
    );
    assert_eq!(d1.term(), Some(0), "{}", describe(&d1));
    assert!(
        lab.wait_master(VIP, 2, lo.skew() + MARGIN),
        "{}",
        describe(&d2)
    );
    let d1 = start(&lab, 1, dut_on, &hi);
    let r = lab.steady(VIP, &[2], 3 * S);
    assert_eq!(r, Ok(()), "{}\n{}", describe(&d1), describe(&d2));
}

#[test]
fn nopreempt_vrrpd_returns_as_backup() {
    nopreempt("vinpv", 1);
}

#[test]
fn nopreempt_keepalived_returns_as_backup() {
    nopreempt("vinpk", 2);
}

#[test]
fn v3_backup_learns_the_masters_interval() {
    let Some(lab) = Lab::new("viint", 2) else {
        return;
    };
    // keepalived sends every 0.5 s; vrrpd is configured for 0.1 s. Judged by its own interval
    // it would declare the master dead after 0.36 s, between two adverts.
    let hi = Vi {
        advert_int: "0.5",
        ..Vi::v3(150)
    };
    let lo = Vi::v3(100);
    let mut k1 = lab.keepalived(1, &conf(std::slice::from_ref(&hi)));
    assert!(
        lab.wait_master(VIP, 1, hi.master_down() + 2 * MARGIN),
        "{}",
        describe(&k1)
    );
    let d2 = lab.dut(2, &conf(std::slice::from_ref(&lo)));
    // Before its first advert arrives, a backup may legitimately time out once on its own
    // interval; after that it must follow the master's.
    std::thread::sleep(2 * S);
    let mark = d2.mark();
    let r = lab.steady(VIP, &[1], 5 * S);
    assert_eq!(r, Ok(()), "{}", describe(&d2));
    let after = d2.log_since(mark);
    assert!(
        !after.contains("Entering MASTER STATE"),
        "flapping:\n{after}"
    );
    // Take-over also follows the learnt interval: 3 × 0.5 s + skew, not 0.36 s.
    let learnt = Vi {
        advert_int: "0.5",
        ..lo.clone()
    };
    let t0 = Instant::now();
    k1.kill9();
    let ok = lab.wait_holders(VIP, &[1, 2], learnt.master_down() + MARGIN);
    let took = t0.elapsed();
    assert!(ok, "{}", describe(&d2));
    assert!(
        took >= Duration::from_millis(1000),
        "took over after {took:?}"
    );
}

/// keepalived on r1 (priority 150) and the daemon under test on r2 (priority 100) that must
/// refuse each other's adverts: both end up master, and vrrpd counts the drops as `counter`.
/// `None`: vrrpd's socket filter drops them in the kernel (another VRID, a wrong password) but
/// for its 1-in-256 sample, so none is accepted and few are counted (tests/sampled_drops.rs).
fn refused(prefix: &str, hi: Vi, lo: Vi, counter: Option<&str>) {
    let Some(lab) = Lab::new(prefix, 2) else {
        return;
    };
    let k1 = lab.keepalived(1, &conf(std::slice::from_ref(&hi)));
    assert!(
        lab.wait_master(VIP, 1, hi.master_down() + 2 * MARGIN),
        "{}",
        describe(&k1)
    );
    let d2 = lab.dut(2, &conf(std::slice::from_ref(&lo)));
    let ok = lab.wait_holders(VIP, &[1, 2], lo.master_down() + 2 * MARGIN);
    assert!(
        ok,
        "{:?}\n{}\n{}",
        lab.holders(VIP),
        describe(&k1),
        describe(&d2)
    );
    let r = lab.steady(VIP, &[1, 2], 2 * S);
    assert_eq!(r, Ok(()), "{}\n{}", describe(&k1), describe(&d2));
    if d2.kind == Kind::Vrrpd {
        let x = dump(&d2);
        assert_eq!(x.state, "MASTER", "{x:?}");
        match counter {
            Some(c) => assert!(x.get(c) > 0, "expected drops counted as {c}: {x:?}"),
            None => assert_eq!(x.get("adverts_rx"), 0, "{x:?}"),
        }
    }
}

#[test]
fn refuses_wrong_password() {
    let lo = Vi {
        auth_pass: Some("other"),
        ..Vi::v2(100)
    };
    refused("viwpw", Vi::v2(150), lo, None);
}

#[test]
fn refuses_other_vrid() {
    let lo = Vi {
        vrid: 52,
        ..Vi::v3(100)
    };
    refused("viwid", Vi::v3(150), lo, None);
}

#[test]
fn refuses_other_version() {
    let hi = Vi {
        auth_pass: None,
        ..Vi::v2(150)
    };
    let lo = Vi {
        advert_int: "1",
        ..Vi::v3(100)
    };
    refused("viwvr", hi, lo, Some("version"));
}

#[test]
fn refuses_v2_interval_mismatch() {
    let lo = Vi {
        advert_int: "2",
        ..Vi::v2(100)
    };
    refused("viwin", Vi::v2(150), lo, Some("interval"));
}

/// Debian's keepalived 2.2.7 predates `v3_checksum_as_v2` (it rejects the keyword) and only takes
/// VRRPv3 checksums with the IPv4 pseudo-header. So a vrrpd told to leave the pseudo-header out
/// is refused by it ("Invalid VRRPv3 checksum") and both become master, while vrrpd, which takes
/// either form, still hears keepalived. This pins down the incompatibility README documents: the
/// option is for peers that want the RFC 9568 checksum, never for keepalived 2.2.7.
#[test]
fn keepalived_2_2_7_refuses_v3_checksum_as_v2() {
    let Some(lab) = Lab::new("vicks", 2) else {
        return;
    };
    if subject() != Kind::Vrrpd {
        return;
    }
    let hi = Vi {
        v3_checksum_as_v2: true,
        ..Vi::v3(150)
    };
    let lo = Vi::v3(100);
    let text = conf(std::slice::from_ref(&hi));
    let d1 = lab.vrrpd(1, &text);
    assert!(
        lab.wait_master(VIP, 1, hi.master_down() + 2 * MARGIN),
        "{}",
        describe(&d1)
    );
    let k2 = lab.keepalived(2, &conf(std::slice::from_ref(&lo)));
    let ok = lab.wait_holders(VIP, &[1, 2], lo.master_down() + 2 * MARGIN);
    assert!(
        ok,
        "{:?}\n{}\n{}",
        lab.holders(VIP),
        describe(&d1),
        describe(&k2)
    );
    assert!(
        k2.wait_log("Invalid VRRPv3 checksum", 2 * S),
        "{}",
        describe(&k2)
    );
    let x = dump(&d1);
    assert!(x.get("adverts_rx") > 0 && x.get("checksum") == 0, "{x:?}");
}

#[test]
fn vrrpd_adverts_decode_cleanly_in_tshark() {
    let Some(lab) = Lab::new("vitsh", 3) else {
        return;
    };
    let cap = lab.capture("vrrp", Duration::from_secs(60));
    // Three separate virtual routers, all masters: v3 multicast, v2 with PASS, v3 unicast.
    let v3 = Vi::v3(150);
    let v2 = Vi {
        vrid: 52,
        vips: vec!["10.99.0.101/24".into()],
        ..Vi::v2(150)
    };
    let v3u = Vi {
        vrid: 53,
        vips: vec!["10.99.0.102/24".into()],
        ..Vi::v3(150).unicast(3, &[1])
    };
    let d1 = lab.dut(1, &conf(&[v3]));
    let d2 = lab.dut(2, &conf(&[v2]));
    let d3 = lab.dut(3, &conf(&[v3u]));
    let ok = wait_until(8 * S, Duration::from_millis(50), || {
        lab.has_vip(1, VIP) && lab.has_vip(2, "10.99.0.101") && lab.has_vip(3, "10.99.0.102")
    });
    assert!(
        ok,
        "{}\n{}\n{}",
        describe(&d1),
        describe(&d2),
        describe(&d3)
    );
    std::thread::sleep(2 * S);
    let pcap = cap.stop();
    let fields = ["vrrp.version", "vrrp.type", "vrrp.checksum.status"];
    for (src, version) in [
        ("10.99.0.11", "3"),
        ("10.99.0.12", "2"),
        ("10.99.0.13", "3"),
    ] {
        let rows = tshark_fields(&pcap, &format!("vrrp && ip.src == {src}"), &fields);
        assert!(!rows.is_empty(), "no adverts from {src}");
        // Checksum status 1 is tshark's "Good".
        let good = [version, "1", "1"];
        assert!(rows.iter().all(|r| r == &good), "{src}: {rows:?}");
        let v = tshark_verbose(&pcap, &format!("vrrp && ip.src == {src}"));
        let head = format!("Version {version}, Packet type 1 (Advertisement)");
        assert!(v.contains(&head), "{v}");
        assert!(
            v.contains("[correct]") && v.contains("[Checksum Status: Good]"),
            "{v}"
        );
        assert!(!v.contains("incorrect"), "{v}");
    }
    let v2 = tshark_verbose(&pcap, "vrrp && ip.src == 10.99.0.12");
    assert!(v2.contains("Authentication String: secret"), "{v2}");
    let ttl = tshark_fields(&pcap, "vrrp && ip.ttl != 255", &["ip.src"]);
    assert!(ttl.is_empty(), "adverts with TTL other than 255: {ttl:?}");
}
