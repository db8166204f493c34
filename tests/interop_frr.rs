//! vrrpd next to FRRouting's vrrpd (Debian's frr 8.4.4), a second independent implementation,
//! in both roles over IPv4, VRRPv3 and VRRPv2 (FRR's has no authentication): election,
//! graceful hand-over on priority 0, preemption on return, and take-over after kill -9.
//!
//! Adverts every second here (not 0.1 s as elsewhere): then Master_Down_Interval (3.6 s) is
//! well above Skew_Time plus the lab's margin (0.6 + 1.5 s), so a take-over in time after a
//! stop shows the priority-0 advert was heard, not merely that the master went quiet. The
//! capture checks the priority-0 advert itself.
//!
//! FRR holds the VIP on its macvlan and is master when that is not protodown (see
//! `common/frr.rs`); vrrpd holds it on eth0.

mod common;

use common::*;
use std::time::{Duration, Instant};

const S: Duration = Duration::from_secs(1);

/// vrrpd's side: VRRP `version`, 1 s adverts, VRID 51, VIP 10.99.0.100, no authentication.
fn vi(version: u8, priority: u8) -> Vi {
    Vi {
        advert_int: "1",
        version,
        auth_pass: None,
        ..Vi::v3(priority)
    }
}

/// FRR's side, the same virtual router.
fn fvr(version: u8, priority: u8) -> FrrVr {
    FrrVr {
        advert_ms: 1000,
        version,
        ..FrrVr::v3(priority)
    }
}

/// vrrpd heard adverts and dropped none for a reason that would mean a wire disagreement.
fn assert_clean(d: &Daemon) {
    let x = d.must_dump("VI_1");
    assert!(x.get("adverts_rx") > 0, "{x:?}");
    for k in [
        "len", "ttl", "version", "type", "checksum", "auth", "interval", "addrs",
    ] {
        assert_eq!(x.get(k), 0, "dropped {k}: {x:?}\n{}", describe(d));
    }
}

/// Priority-0 adverts from `src` in the capture.
fn priority_zero_from(pcap: &std::path::Path, src: &str) -> usize {
    let filter = format!("vrrp && ip.src == {src} && vrrp.prio == 0");
    tshark_fields(pcap, &filter, &["vrrp.prio"]).len()
}

/// r1 has priority 150, r2 100; FRR runs on `frr_on`, vrrpd on the other, both speaking VRRP
/// `version`. Election, graceful hand-over (priority 0), preemption when r1 returns, crash
/// take-over.
fn handover(prefix: &str, frr_on: usize, version: u8) {
    if !frr_available() {
        return;
    }
    let Some(lab) = Lab::new(prefix, 2) else {
        return;
    };
    let cap = lab.capture("vrrp", Duration::from_secs(90));
    let prio = |i: usize| if i == 1 { 150 } else { 100 };
    let (hi, lo) = (vi(version, 150), vi(version, 100));
    let start_vrrpd = |i: usize| lab.vrrpd(i, &conf(&[vi(version, prio(i))]));
    let start_frr = |i: usize| lab.frr(i, &fvr(version, prio(i)));
    let vrrpd_on = 3 - frr_on;
    // vrrpd is master when its VIP is on eth0.
    let holds = |i: usize| lab.has_vip(i, VIP);

    // Election: r1 first becomes master alone, then r2 joins as backup.
    let first = hi.master_down() + 2 * MARGIN;
    let mut m = Mixed::elect(
        &lab,
        frr_on,
        Af::V4,
        first,
        &start_frr,
        &start_vrrpd,
        &holds,
    );
    // Past the backup's Master_Down_Interval: it accepts the master's adverts.
    let r = m.steady(&[1], lo.master_down() + S);
    assert_eq!(r, Ok(()), "{}", m.why());
    if vrrpd_on == 2 {
        assert_clean(&m.vrrpd);
    }

    // Graceful stop of the master: priority 0, so the backup takes over after Skew_Time.
    let t0 = Instant::now();
    m.stop_r1();
    let ok = m.wait_masters(&[2], lo.skew() + MARGIN);
    let took = t0.elapsed();
    assert!(ok, "{:?} after stop\n{}", m.masters(), m.why());
    assert!(
        took < lo.master_down(),
        "take-over after {took:?}: priority 0 not heard"
    );
    eprintln!("{prefix}: take-over after a graceful stop of r1 in {took:?}");
    m.reap_r1();

    // r1 returns with the higher priority and preempts.
    m.restart_r1();
    let ok = m.wait_masters(&[1], hi.master_down() + MARGIN);
    assert!(ok, "{:?} after r1 returned\n{}", m.masters(), m.why());
    let r = m.steady(&[1], S);
    assert_eq!(r, Ok(()), "{}", m.why());

    // Crash of r1: its VIP stays where it was, the backup adds its own.
    let t0 = Instant::now();
    m.crash_r1();
    let ok = m.wait_masters(&[1, 2], lo.master_down() + MARGIN);
    assert!(ok, "{:?} after kill -9\n{}", m.masters(), m.why());
    eprintln!("{prefix}: kill -9 take-over after {:?}", t0.elapsed());

    let pcap = cap.stop();
    let r1 = lab.host_ip(1);
    assert!(
        priority_zero_from(&pcap, &r1) > 0,
        "no priority-0 advert from {r1} (the {} on r1) in {}",
        if frr_on == 1 { "FRR" } else { "vrrpd" },
        pcap.display()
    );
    // Each side's adverts decode in tshark with a good checksum.
    for i in 1..=2 {
        let src = lab.host_ip(i);
        let rows = tshark_fields(
            &pcap,
            &format!("vrrp && ip.src == {src}"),
            &["vrrp.version", "vrrp.checksum.status", "ip.ttl"],
        );
        assert!(!rows.is_empty(), "no adverts from {src}");
        let good = [version.to_string(), "1".into(), "255".into()];
        assert!(rows.iter().all(|r| r == &good), "{src}: {rows:?}");
    }
}

#[test]
fn v3_vrrpd_master_frr_backup() {
    handover("fivf", 2, 3);
}

#[test]
fn v3_frr_master_vrrpd_backup() {
    handover("fifv", 1, 3);
}

#[test]
fn v2_vrrpd_master_frr_backup() {
    handover("fitvf", 2, 2);
}

#[test]
fn v2_frr_master_vrrpd_backup() {
    handover("fitfv", 1, 2);
}

/// The IPv6 harness the IPv6 interop tests build on: two FRR routers elect over VRRPv3/IPv6,
/// and a third namespace hears the master's adverts through vrrpd's own IPv6 socket and
/// codec: from the macvlan's link-local, to ff02::12, hop limit 255, checksum over the IPv6
/// pseudo-header.
#[test]
fn frr_ipv6_pair_is_heard_by_our_socket() {
    use std::net::Ipv6Addr;
    use vrrpd::sys::raw6::Vrrp6Socket;
    use vrrpd::wire::vrrp::{self, Checksum, MULTICAST_V6};

    if !frr_available() {
        return;
    }
    let Some(lab) = Lab::new("fisix", 3) else {
        return;
    };
    let hi = FrrVr::v6(200);
    let f1 = lab.frr(1, &hi);
    let f2 = lab.frr(2, &FrrVr::v6(100));
    let limit = 3 * S + 2 * MARGIN + 2 * S; // Master_Down at 100 ms, DAD, FRR's late first advert
    let ok = wait_until(limit, Duration::from_millis(20), || {
        f1.is_master(Af::V6) && !f2.is_master(Af::V6)
    });
    assert!(ok, "{}\n{}", f1.describe(), f2.describe());
    assert!(f2.wait_state(Af::V6, "Backup", S), "{}", f2.describe());
    let ll: Ipv6Addr = match f1.link_local().map(|a| a.parse()) {
        Some(Ok(a)) => a,
        other => panic!(
            "no link-local on FRR's macvlan: {other:?}\n{}",
            f1.describe()
        ),
    };

    let heard = in_netns(&lab.ns(3), move || {
        let name = std::ffi::CString::new("eth0").unwrap();
        // SAFETY: a valid NUL-terminated string.
        let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
        let sock = Vrrp6Socket::open("eth0", ifindex).unwrap();
        sock.join(MULTICAST_V6).unwrap();
        let mut buf = [0u8; 512];
        let end = Instant::now() + 5 * S;
        while Instant::now() < end {
            match sock.recv(&mut buf) {
                Ok((meta, n)) => {
                    let p = vrrp::Packet::<_, Ipv6Addr>::checked(&buf[..n]).unwrap();
                    let how = Checksum::Pseudo {
                        src: meta.src,
                        dst: meta.dst,
                    };
                    return (meta, vrrp::Repr::parse(&p, how), ifindex);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        panic!("no IPv6 advert heard in 5 s");
    })
    .join();
    let (meta, repr, ifindex) = match heard {
        Ok(h) => h,
        Err(e) => panic!("listener failed: {e:?}\n{}", f1.describe()),
    };
    assert_eq!((meta.src, meta.dst), (ll, MULTICAST_V6));
    assert_eq!((meta.hop_limit, meta.ifindex), (255, ifindex));
    let repr = repr.unwrap();
    assert_eq!(
        (repr.version, repr.vrid, repr.priority),
        (vrrp::Version::V3, 51, 200)
    );
    assert_eq!(repr.max_adver_int_cs, 10);
    let vip: Ipv6Addr = VIP6.parse().unwrap();
    assert_eq!(&repr.addrs[..], &[vip][..]);
}
