//! VRRPv3 over IPv6 between vrrpd routers in network namespaces: election, the VIPs on the
//! master only, unsolicited neighbour advertisements and a client's neighbour entry following
//! them, failover on kill -9 and on SIGTERM, dual stack, hop-limit checks, and FAULT without a
//! link-local address (and recovery when one appears). Addresses: fd99::/16 and link-locals.

mod common;

use common::*;
use std::time::{Duration, Instant};

const S: Duration = Duration::from_secs(1);
/// The advertised VIPs: a link-local first (RFC 5798 section 5.2.9), then a global one.
const LL_VIP: &str = "fe80::1:100";
const VIP6: &str = "fd99::100";

/// One IPv6 instance (VRRPv3, 0.1 s) with `vips` on eth0.
fn v6_instance(name: &str, vrid: u8, priority: u8, vips: &[&str]) -> String {
    let mut s = format!(
        "vrrp_instance {name} {{\n    state BACKUP\n    interface eth0\n    virtual_router_id {vrid}\n    priority {priority}\n    advert_int 0.1\n    virtual_ipaddress {{\n"
    );
    for v in vips {
        s.push_str(&format!("        {v} dev eth0\n"));
    }
    s.push_str("    }\n}\n");
    s
}

fn v6_conf(priority: u8) -> String {
    v6_instance(
        "VI_6",
        51,
        priority,
        &[&format!("{LL_VIP}/64"), &format!("{VIP6}/64")],
    )
}

/// Timers of a 0.1 s VRRPv3 instance at `priority`.
fn vi(priority: u8) -> Vi {
    Vi::v3(priority)
}

fn holders6(lab: &Lab, addr: &str) -> Vec<usize> {
    (1..=lab.n)
        .filter(|&i| lab.has_addr6(i, "eth0", addr))
        .collect()
}

fn wait_holders6(lab: &Lab, addr: &str, who: &[usize], timeout: Duration) -> bool {
    wait_until(timeout, Duration::from_millis(20), || {
        holders6(lab, addr) == who
    })
}

/// Router `i`'s kernel link-local (from its MAC, EUI-64).
fn router_ll(i: usize) -> String {
    format!("fe80::99:ff:fe00:{i:x}")
}

/// Waits until every router's link-local has finished duplicate address detection, so a test
/// that is not about it starts without a FAULT phase.
fn wait_dad(lab: &Lab) {
    for i in 1..=lab.n {
        let ok = wait_until(10 * S, Duration::from_millis(50), || {
            lab.addrs6_on(i, "eth0")
                .iter()
                .any(|a| a.starts_with("fe80::") && !a.contains("tentative"))
        });
        assert!(
            ok,
            "r{i}: no usable link-local: {:?}",
            lab.addrs6_on(i, "eth0")
        );
    }
}

/// The client gets fd99::250/64 and a neighbour entry for VIP6: it sends a datagram there,
/// so it solicits the address and the master answers.
fn client_learns(lab: &Lab) {
    lab.add_client6();
    let ok = wait_until(10 * S, Duration::from_millis(200), || {
        let poke = in_netns(&lab.client_ns(), || {
            let sock = std::net::UdpSocket::bind("[::]:0").expect("udp socket");
            let _ = sock.send_to(b"hello", (VIP6, 9));
        });
        let _ = poke.join();
        client_neigh6(lab).is_some()
    });
    assert!(ok, "client never resolved {VIP6}");
}

fn client_neigh6(lab: &Lab) -> Option<String> {
    let r = lab.client_exec(&["ip", "-6", "neigh", "show", "to", VIP6, "dev", "eth0"]);
    let words: Vec<&str> = r.stdout.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "lladdr")?;
    words.get(at + 1).map(|s| s.to_string())
}

fn on(v: &str) -> bool {
    v == "1" || v.eq_ignore_ascii_case("true")
}

#[test]
fn ipv6_pair_elects_announces_and_fails_over() {
    let Some(mut lab) = Lab::new("svpair", 2) else {
        return;
    };
    lab.add_client();
    wait_dad(&lab);
    let cap = lab.capture("icmp6 or proto 112", Duration::from_secs(60));
    let mut d1 = lab.vrrpd(1, &v6_conf(150));
    assert!(
        wait_holders6(&lab, VIP6, &[1], vi(150).master_down() + 2 * MARGIN),
        "{}",
        describe(&d1)
    );
    let d2 = lab.vrrpd(2, &v6_conf(100));
    assert!(
        d2.wait_log("(VI_6) Entering BACKUP STATE", 5 * S),
        "{}",
        describe(&d2)
    );
    // The VIPs are on the master only, and stay so for longer than a Master_Down_Interval.
    let end = Instant::now() + vi(100).master_down() + S;
    while Instant::now() < end {
        assert_eq!(holders6(&lab, VIP6), [1], "{}", describe(&d2));
        assert_eq!(holders6(&lab, LL_VIP), [1], "{}", describe(&d2));
        std::thread::sleep(Duration::from_millis(50));
    }
    // Added without DAD: usable at once, never tentative.
    let vip = lab
        .addrs6_on(1, "eth0")
        .into_iter()
        .find(|a| a.starts_with(VIP6));
    assert!(
        vip.as_deref()
            .is_some_and(|a| a.contains("nodad") && !a.contains("tentative")),
        "{vip:?}"
    );
    let b = d2.must_dump("VI_6");
    assert_eq!(b.state, "BACKUP", "{b:?}");
    assert!(b.get("adverts_rx") > 10, "{b:?}");
    assert!(
        d1.log()
            .contains(&format!("(eth0) IPv6 source address {}", router_ll(1)))
    );

    client_learns(&lab);
    assert_eq!(client_neigh6(&lab).as_deref(), Some(router_mac(1).as_str()));

    // Removed by hand under the master: put back.
    lab.ip(1, &["addr", "del", &format!("{VIP6}/64"), "dev", "eth0"]);
    assert!(wait_holders6(&lab, VIP6, &[1], 2 * S), "{}", describe(&d1));
    assert!(
        d1.log()
            .contains("fd99::100 was removed by someone else; restoring it")
    );

    // kill -9: the backup takes over after Master_Down_Interval, and its NAs move the client.
    let killed = Instant::now();
    d1.kill9();
    assert!(
        wait_holders6(&lab, VIP6, &[1, 2], vi(100).master_down() + MARGIN),
        "{}",
        describe(&d2)
    );
    let took = killed.elapsed();
    assert!(
        took >= vi(100).master_down() / 2,
        "took over after {took:?}"
    );
    // The killed daemon left its VIPs behind; take them away as a reboot would.
    for a in [VIP6, LL_VIP] {
        lab.ip(1, &["addr", "del", &format!("{a}/64"), "dev", "eth0"]);
    }
    let moved = wait_until(5 * S, Duration::from_millis(50), || {
        client_neigh6(&lab).as_deref() == Some(router_mac(2).as_str())
    });
    assert!(moved, "client still has {:?}", client_neigh6(&lab));

    // r1 comes back with the higher priority (finding a stale VIP of an earlier run, which it
    // removes), preempts, then stops gracefully: r2 takes over within Skew_Time (priority 0),
    // not Master_Down_Interval.
    lab.ip(
        1,
        &["addr", "add", &format!("{VIP6}/64"), "dev", "eth0", "nodad"],
    );
    let mut d1 = lab.vrrpd(1, &v6_conf(150));
    assert!(
        d1.wait_log("(VI_6) removing stale fd99::100", 5 * S),
        "{}",
        describe(&d1)
    );
    assert!(
        wait_holders6(&lab, VIP6, &[1], vi(150).master_down() + 2 * MARGIN),
        "{}\n{}",
        describe(&d1),
        describe(&d2)
    );
    let stopped = Instant::now();
    assert_eq!(d1.term_within(5 * S), Some(0), "{}", describe(&d1));
    assert!(
        wait_holders6(&lab, VIP6, &[2], vi(100).skew() + MARGIN),
        "{}",
        describe(&d2)
    );
    assert!(
        stopped.elapsed() < vi(100).master_down(),
        "took {:?}",
        stopped.elapsed()
    );

    // What went on the wire: adverts with hop limit 255 to ff02::12 from the link-local,
    // and unsolicited NAs from each VIP to all nodes with O set, S clear, the sender's MAC.
    let pcap = cap.stop();
    let adverts = tshark_fields(
        &pcap,
        "vrrp && ipv6.src == fe80::99:ff:fe00:1",
        &[
            "ipv6.dst",
            "ipv6.hlim",
            "vrrp.version",
            "vrrp.prio",
            "vrrp.checksum.status",
        ],
    );
    assert!(!adverts.is_empty());
    // tshark checks the checksum over the IPv6 pseudo-header (status 1: good).
    assert!(
        adverts
            .iter()
            .all(|r| r[0] == "ff02::12" && r[1] == "255" && r[2] == "3" && r[4] == "1"),
        "{adverts:?}"
    );
    assert!(adverts.iter().any(|r| r[3] == "0"), "no priority 0 at stop");
    // Solicited answers (the kernel's, to the client) go to the asker; ours to all nodes.
    let nas = tshark_fields(
        &pcap,
        "icmpv6.type == 136 && icmpv6.nd.na.flag.s == 0",
        &[
            "eth.src",
            "ipv6.src",
            "ipv6.dst",
            "ipv6.hlim",
            "icmpv6.nd.na.flag.r",
            "icmpv6.nd.na.flag.s",
            "icmpv6.nd.na.flag.o",
            "icmpv6.nd.na.target_address",
            "icmpv6.opt.linkaddr",
        ],
    );
    for (r, mac) in [(1, router_mac(1)), (2, router_mac(2))] {
        for target in [VIP6, LL_VIP] {
            let ours: Vec<_> = nas
                .iter()
                .filter(|n| n[0] == mac && n[7] == target)
                .collect();
            assert!(!ours.is_empty(), "no NA from r{r} for {target}: {nas:?}");
            for n in ours {
                assert_eq!(
                    (n[1].as_str(), n[2].as_str(), n[3].as_str()),
                    (target, "ff02::1", "255"),
                    "{n:?}"
                );
                // The lab does not forward IPv6, so no Router flag.
                assert!(!on(&n[4]) && !on(&n[5]) && on(&n[6]), "flags: {n:?}");
                assert_eq!(n[8], mac, "{n:?}");
            }
        }
    }
    let logged = "(VI_6) Sending unsolicited neighbour adverts on eth0 for fd99::100";
    assert!(d2.log().contains(logged), "{}", describe(&d2));
}

#[test]
fn ipv6_router_flag_follows_forwarding() {
    let Some(lab) = Lab::new("svfwd", 1) else {
        return;
    };
    wait_dad(&lab);
    let r = lab.exec(1, &["sysctl", "-w", "net.ipv6.conf.eth0.forwarding=1"]);
    assert!(r.ok(), "{}", r.stderr);
    let cap = lab.capture("icmp6", Duration::from_secs(30));
    let conf = v6_instance("VI_6", 51, 255, &[&format!("{LL_VIP}/64")]);
    let d = lab.vrrpd(1, &conf);
    assert!(wait_holders6(&lab, LL_VIP, &[1], 5 * S), "{}", describe(&d));
    assert!(d.wait_log("Sending unsolicited neighbour adverts", 5 * S));
    std::thread::sleep(Duration::from_millis(300));
    let nas = tshark_fields(
        &cap.stop(),
        "icmpv6.type == 136 && ipv6.src == fe80::1:100",
        &["icmpv6.nd.na.flag.r", "icmpv6.nd.na.flag.o"],
    );
    assert!(!nas.is_empty(), "no NA");
    assert!(nas.iter().all(|n| on(&n[0]) && on(&n[1])), "{nas:?}");
}

#[test]
fn dual_stack_same_vrid_in_one_sync_group() {
    let Some(lab) = Lab::new("svdual", 2) else {
        return;
    };
    wait_dad(&lab);
    let conf = |prio: u8| {
        let v4 = Vi {
            name: "VI_4",
            ..Vi::v3(prio)
        }
        .render();
        format!(
            "{v4}{}vrrp_sync_group G {{\n    group {{\n        VI_4\n        VI_6\n    }}\n}}\n",
            v6_conf(prio)
        )
    };
    let mut d1 = lab.vrrpd(1, &conf(150));
    assert!(
        wait_holders6(&lab, VIP6, &[1], vi(150).master_down() + 2 * MARGIN),
        "{}",
        describe(&d1)
    );
    assert!(lab.wait_master(VIP, 1, 5 * S), "{}", describe(&d1));
    let d2 = lab.vrrpd(2, &conf(100));
    assert!(
        d2.wait_log("(VI_6) Entering BACKUP STATE", 5 * S)
            && d2.wait_log("(VI_4) Entering BACKUP STATE", 5 * S),
        "{}",
        describe(&d2)
    );
    std::thread::sleep(vi(100).master_down() + S);
    assert_eq!(holders6(&lab, VIP6), [1]);
    assert_eq!(lab.holders(VIP), [1]);
    // Each family's adverts reach its own instance only: nothing is dropped as foreign.
    for name in ["VI_4", "VI_6"] {
        let b = d2.must_dump(name);
        assert!(b.get("adverts_rx") > 10, "{name}: {b:?}");
        for k in ["version", "vrid", "addrs", "checksum"] {
            assert_eq!(b.get(k), 0, "{name}: {k}: {b:?}");
        }
    }
    d1.kill9();
    assert!(
        wait_holders6(&lab, VIP6, &[1, 2], vi(100).master_down() + MARGIN),
        "{}",
        describe(&d2)
    );
    assert!(lab.wait_holders(VIP, &[1, 2], 2 * S), "{}", describe(&d2));
}

#[test]
fn hop_limit_below_255_is_dropped_and_counted() {
    let Some(mut lab) = Lab::new("svhop", 1) else {
        return;
    };
    lab.add_client();
    wait_dad(&lab);
    let d = lab.vrrpd(1, &v6_conf(100));
    assert!(
        d.wait_log("(VI_6) Entering BACKUP STATE", 5 * S),
        "{}",
        describe(&d)
    );
    // From the client: a higher-priority advert for VRID 51 with hop limit 64.
    let sent = in_netns(&lab.client_ns(), || {
        use std::os::fd::AsRawFd;
        use vrrpd::sys::raw6::Vrrp6Socket;
        use vrrpd::wire::vrrp::{self, MULTICAST_V6};
        // SAFETY: a valid NUL-terminated name.
        let ifindex = unsafe { libc::if_nametoindex(c"eth0".as_ptr()) };
        let sock = Vrrp6Socket::open("eth0", ifindex).expect("socket");
        let hops: libc::c_int = 64;
        // SAFETY: setsockopt on our own socket with an int option.
        let rc = unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::IPPROTO_IPV6,
                libc::IPV6_MULTICAST_HOPS,
                (&hops as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        assert_eq!(rc, 0);
        let src: std::net::Ipv6Addr = "fe80::99:ff:fe00:fa".parse().unwrap();
        let repr = vrrp::Repr::<std::net::Ipv6Addr> {
            version: vrrp::Version::V3,
            vrid: 51,
            priority: 200,
            max_adver_int_cs: 100,
            auth: vrrp::Auth::None,
            addrs: [LL_VIP, VIP6].iter().map(|a| a.parse().unwrap()).collect(),
        };
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(
            &mut vrrp::Packet::unchecked(&mut buf[..]),
            vrrp::Checksum::Pseudo {
                src,
                dst: MULTICAST_V6,
            },
        );
        // The client's own link-local may still be in DAD at first: sends fail until then.
        let mut n = 0;
        let end = Instant::now() + 10 * S;
        while n < 20 && Instant::now() < end {
            if sock.send(&buf, src, MULTICAST_V6).is_ok() {
                n += 1;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        n
    })
    .join()
    .expect("sender thread");
    assert_eq!(sent, 20);
    let dump = d.must_dump("VI_6");
    assert!(dump.get("ttl") >= 15, "{dump:?}");
    assert_eq!(dump.get("adverts_rx"), 0, "{dump:?}");
    // No state change: the forged "master" was never believed, so r1 takes over on its own.
    assert!(
        wait_holders6(&lab, VIP6, &[1], vi(100).master_down() + MARGIN),
        "{}",
        describe(&d)
    );
    assert!(
        d.log().contains("TTL or hop limit not 255"),
        "{}",
        describe(&d)
    );
}

/// keepalived's "stuck in FAULT" reports (#2275, #2688) are the pitfall: without a usable
/// link-local the instance sits in FAULT, and it recovers by itself when one appears.
#[test]
fn no_link_local_is_fault_until_one_appears() {
    let Some(lab) = Lab::new("svnoll", 1) else {
        return;
    };
    wait_dad(&lab);
    lab.ip(1, &["-6", "addr", "flush", "dev", "eth0", "scope", "link"]);
    let conf = v6_instance(
        "VI_6",
        51,
        255,
        &[&format!("{LL_VIP}/64"), &format!("{VIP6}/64")],
    );
    let d = lab.vrrpd(1, &conf);
    assert!(
        d.wait_log("(VI_6) Entering FAULT STATE", 5 * S),
        "{}",
        describe(&d)
    );
    std::thread::sleep(S);
    assert!(
        !lab.has_addr6(1, "eth0", VIP6),
        "a VIP without a source: {:?}",
        lab.addrs6_on(1, "eth0")
    );
    // A tentative link-local is not usable yet; once DAD is done, the owner takes over.
    lab.ip(1, &["addr", "add", "fe80::99:1/64", "dev", "eth0"]);
    assert!(wait_holders6(&lab, VIP6, &[1], 10 * S), "{}", describe(&d));
    assert!(
        d.log().contains("(eth0) IPv6 source address fe80::99:1"),
        "{}",
        describe(&d)
    );
    // It goes again: FAULT, VIPs removed.
    lab.ip(1, &["addr", "del", "fe80::99:1/64", "dev", "eth0"]);
    assert!(wait_holders6(&lab, VIP6, &[], 5 * S), "{}", describe(&d));
    assert!(
        d.log()
            .contains("No address of its own to send adverts from"),
        "{}",
        describe(&d)
    );
}

/// An IPv4 address listed in an IPv6 instance's `virtual_ipaddress` is warned about and follows
/// the master as an excluded address would (keepalived 2.2.7 drops it): on the master only, and
/// on the backup after a graceful hand-over.
#[test]
fn ipv4_address_in_an_ipv6_instance_follows_the_master() {
    let Some(lab) = Lab::new("dvex", 2) else {
        return;
    };
    wait_dad(&lab);
    const V4: &str = "10.99.0.100";
    let conf = |p| {
        v6_instance(
            "VI_6",
            51,
            p,
            &[
                &format!("{LL_VIP}/64"),
                &format!("{VIP6}/64"),
                &format!("{V4}/24"),
            ],
        )
    };
    let mut d1 = lab.vrrpd(1, &conf(150));
    assert!(
        d1.wait_log(
            "virtual address 10.99.0.100 is not of the instance's address family (IPv6)",
            5 * S
        ),
        "{}",
        describe(&d1)
    );
    assert!(
        wait_holders6(&lab, VIP6, &[1], vi(150).master_down() + 2 * MARGIN),
        "{}",
        describe(&d1)
    );
    assert!(lab.wait_holders(V4, &[1], S), "{}", describe(&d1));
    let d2 = lab.vrrpd(2, &conf(100));
    assert!(
        d2.wait_log("(VI_6) Entering BACKUP STATE", 5 * S),
        "{}",
        describe(&d2)
    );
    std::thread::sleep(vi(100).master_down());
    assert_eq!(lab.holders(V4), [1], "{}", describe(&d2));
    assert_eq!(d1.term_within(5 * S), Some(0), "{}", describe(&d1));
    assert!(
        lab.wait_holders(V4, &[2], vi(100).skew() + MARGIN),
        "{:?}\n{}",
        lab.holders(V4),
        describe(&d2)
    );
    assert!(wait_holders6(&lab, VIP6, &[2], S), "{}", describe(&d2));
}

// ---- keepalived 2.2.7 over IPv6, in both roles ----

/// Nothing dropped for a reason that would mean the two daemons disagree on the wire format.
fn assert_clean(d: &Daemon) {
    let x = d.must_dump("VI_6");
    assert!(x.get("adverts_rx") > 0, "{x:?}");
    for k in [
        "len", "ttl", "version", "type", "checksum", "auth", "interval", "addrs",
    ] {
        assert_eq!(x.get(k), 0, "dropped {k}: {x:?}\n{}", describe(d));
    }
}

/// r1 (priority 150) and r2 (100), vrrpd on `vrrpd_on` and keepalived on the other: election,
/// graceful hand-over within Skew_Time, preemption on return, kill -9 take-over.
fn keepalived_handover(prefix: &str, vrrpd_on: usize) {
    let Some(lab) = Lab::new(prefix, 2) else {
        return;
    };
    wait_dad(&lab);
    let kind = |i: usize| {
        if i == vrrpd_on {
            Kind::Vrrpd
        } else {
            Kind::Keepalived
        }
    };
    let (hi, lo) = (vi(150), vi(100));
    let mut d1 = lab.daemon(kind(1), 1, &v6_conf(150));
    assert!(
        wait_holders6(&lab, VIP6, &[1], hi.master_down() + 2 * MARGIN),
        "{}",
        describe(&d1)
    );
    let d2 = lab.daemon(kind(2), 2, &v6_conf(100));
    assert!(
        d2.wait_log("Entering BACKUP STATE", 5 * S),
        "{}",
        describe(&d2)
    );
    let end = Instant::now() + lo.master_down() + S;
    while Instant::now() < end {
        assert_eq!(
            holders6(&lab, VIP6),
            [1],
            "{}\n{}",
            describe(&d1),
            describe(&d2)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The listening side heard the other's adverts and found nothing to refuse.
    if vrrpd_on == 2 {
        assert_clean(&d2);
    }

    d1.sigterm();
    assert!(
        wait_holders6(&lab, VIP6, &[2], lo.skew() + MARGIN),
        "{:?}\n{}\n{}",
        holders6(&lab, VIP6),
        describe(&d1),
        describe(&d2)
    );
    assert_eq!(d1.term(), Some(0), "{}", describe(&d1));

    let mut d1 = lab.daemon(kind(1), 1, &v6_conf(150));
    assert!(
        wait_holders6(&lab, VIP6, &[1], hi.master_down() + MARGIN),
        "{:?}\n{}\n{}",
        holders6(&lab, VIP6),
        describe(&d1),
        describe(&d2)
    );
    assert!(wait_holders6(&lab, LL_VIP, &[1], S), "{}", describe(&d2));
    // r1 listened to r2 as master before it preempted.
    if vrrpd_on == 1 {
        assert_clean(&d1);
    }

    d1.kill9();
    assert!(
        wait_holders6(&lab, VIP6, &[1, 2], lo.master_down() + MARGIN),
        "{:?}\n{}",
        holders6(&lab, VIP6),
        describe(&d2)
    );
}

#[test]
fn ipv6_vrrpd_master_keepalived_backup() {
    keepalived_handover("svkav", 1);
}

#[test]
fn ipv6_keepalived_master_vrrpd_backup() {
    keepalived_handover("svkak", 2);
}

// ---- FRR 8.4.4 over IPv6, in both roles ----

/// r1 has priority 150, r2 100, 1 s adverts (so that a hand-over within Skew_Time plus the
/// margin is told apart from one after Master_Down_Interval); FRR on `frr_on`, vrrpd on the
/// other, the same virtual router: VRID 51 with fd99::100 (FRR's harness advertises no
/// link-local VIP, so neither side does).
fn frr_handover(prefix: &str, frr_on: usize) {
    if !frr_available() {
        return;
    }
    let Some(lab) = Lab::new(prefix, 2) else {
        return;
    };
    wait_dad(&lab);
    let prio = |i: usize| if i == 1 { 150 } else { 100 };
    let conf = |i: usize| {
        v6_instance("VI_6", 51, prio(i), &[&format!("{VIP6}/64")])
            .replace("advert_int 0.1", "advert_int 1")
    };
    let fvr = |i: usize| FrrVr {
        advert_ms: 1000,
        ..FrrVr::v6(prio(i))
    };
    let secs = |p: u8| Vi {
        advert_int: "1",
        ..Vi::v3(p)
    };
    let (hi, lo) = (secs(150), secs(100));
    // vrrpd is master when the VIP is on its eth0.
    let holds = |i: usize| lab.has_addr6(i, "eth0", VIP6);
    // FRR sends its first IPv6 advert late (after its macvlan's DAD).
    let first = hi.master_down() + 2 * MARGIN + 2 * S;
    let start_frr = |i: usize| lab.frr(i, &fvr(i));
    let start_vrrpd = |i: usize| lab.vrrpd(i, &conf(i));
    let mut m = Mixed::elect(
        &lab,
        frr_on,
        Af::V6,
        first,
        &start_frr,
        &start_vrrpd,
        &holds,
    );
    let r = m.steady(&[1], lo.master_down() + S);
    assert_eq!(r, Ok(()), "{}", m.why());
    if frr_on == 1 {
        assert_clean(&m.vrrpd);
    }

    // Graceful stop of the master: priority 0, the backup takes over after Skew_Time.
    let t0 = Instant::now();
    m.stop_r1();
    let ok = m.wait_masters(&[2], lo.skew() + MARGIN);
    let took = t0.elapsed();
    assert!(ok, "{:?} after stop\n{}", m.masters(), m.why());
    assert!(took < lo.master_down(), "take-over after {took:?}");
    m.reap_r1();

    // r1 returns and preempts.
    m.restart_r1();
    let ok = m.wait_masters(&[1], first);
    assert!(ok, "{:?} after r1 returned\n{}", m.masters(), m.why());
    if frr_on == 2 {
        assert_clean(&m.vrrpd);
    }

    // Crash of r1: the backup takes over after Master_Down_Interval.
    m.crash_r1();
    let ok = m.wait_masters(&[1, 2], lo.master_down() + MARGIN);
    assert!(ok, "{:?} after kill -9\n{}", m.masters(), m.why());
}

#[test]
fn ipv6_vrrpd_master_frr_backup() {
    frr_handover("svfrv", 2);
}

#[test]
fn ipv6_frr_master_vrrpd_backup() {
    frr_handover("svfrf", 1);
}

/// Unicast over IPv6 between link-locals (scoped to eth0), with multicast VRRP dropped on the
/// bridge so only the unicast adverts can keep the backup quiet.
#[test]
fn ipv6_unicast_pair_between_link_locals() {
    let Some(lab) = Lab::new("svuni", 2) else {
        return;
    };
    wait_dad(&lab);
    // Only the unicast path may carry adverts: no VRRP to ff02::12 across the bridge.
    lab.drop_multicast();
    let conf = |me: usize, prio: u8| {
        let peer = router_ll(3 - me);
        v6_conf(prio).replace(
            "    virtual_ipaddress {",
            &format!(
                "    unicast_src_ip {}\n    unicast_peer {{\n        {peer}\n    }}\n    virtual_ipaddress {{",
                router_ll(me)
            ),
        )
    };
    let d1 = lab.vrrpd(1, &conf(1, 150));
    assert!(
        wait_holders6(&lab, VIP6, &[1], vi(150).master_down() + 2 * MARGIN),
        "{}",
        describe(&d1)
    );
    let mut d2 = lab.vrrpd(2, &conf(2, 100));
    assert!(
        d2.wait_log("(VI_6) Entering BACKUP STATE", 5 * S),
        "{}",
        describe(&d2)
    );
    std::thread::sleep(vi(100).master_down() + S);
    assert_eq!(holders6(&lab, VIP6), [1], "{}", describe(&d2));
    let b = d2.must_dump("VI_6");
    assert!(b.get("adverts_rx") > 10 && b.get("peer") == 0, "{b:?}");
    assert_eq!(d2.term_within(5 * S), Some(0));
}

/// `vrrp_gna_interval` spreads a burst of unsolicited NAs: 3 per VIP, 50 ms apart, in order.
#[test]
fn gna_interval_spaces_the_na_burst() {
    let Some(lab) = Lab::new("svgna", 1) else {
        return;
    };
    wait_dad(&lab);
    let text = format!(
        "global_defs {{\n    vrrp_gna_interval 0.05\n    vrrp_garp_master_repeat 3\n    vrrp_garp_master_delay 0\n}}\n{}",
        v6_instance(
            "VI_6",
            51,
            255,
            &[&format!("{LL_VIP}/64"), &format!("{VIP6}/64")]
        )
    );
    let cap = lab.capture("icmp6", Duration::from_secs(30));
    let d = lab.vrrpd(1, &text);
    assert!(wait_holders6(&lab, VIP6, &[1], 5 * S), "{}", describe(&d));
    std::thread::sleep(Duration::from_millis(800));
    let rows = tshark_fields(
        &cap.stop(),
        "icmpv6.type == 136 && icmpv6.nd.na.flag.s == 0",
        &["frame.time_relative", "icmpv6.nd.na.target_address"],
    );
    let targets: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    let want: Vec<&str> = [LL_VIP; 3].iter().chain(&[VIP6; 3]).copied().collect();
    assert_eq!(targets, want, "{rows:?}");
    let t: Vec<f64> = rows.iter().filter_map(|r| r[0].parse().ok()).collect();
    for w in t.windows(2) {
        let gap = w[1] - w[0];
        assert!((0.045..0.5).contains(&gap), "gap {gap} s in {rows:?}");
    }
}

/// A reload that adds an IPv6 instance beside a running IPv4 one opens the IPv6 socket on the
/// same interface; the IPv4 instance keeps its state.
#[test]
fn reload_adds_an_ipv6_instance_beside_ipv4() {
    let Some(lab) = Lab::new("svrel", 1) else {
        return;
    };
    wait_dad(&lab);
    let v4 = Vi {
        name: "VI_4",
        ..Vi::v3(255)
    }
    .render();
    let d = lab.vrrpd(1, &v4);
    assert!(lab.wait_master(VIP, 1, 5 * S), "{}", describe(&d));
    let both = format!(
        "{v4}{}",
        v6_instance("VI_6", 51, 255, &[&format!("{LL_VIP}/64")])
    );
    std::fs::write(d.conf_path(), both).expect("config");
    d.hup();
    assert!(wait_holders6(&lab, LL_VIP, &[1], 5 * S), "{}", describe(&d));
    assert_eq!(
        d.count("(VI_4) Entering MASTER STATE"),
        1,
        "{}",
        describe(&d)
    );
    let m = d.must_dump("VI_6");
    assert_eq!(m.state, "MASTER", "{m:?}");
    assert!(m.get("adverts_tx") > 0, "{m:?}");
}
