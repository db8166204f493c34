//! Tests against the real kernel. Each runs on its own thread inside a fresh network namespace
//! (namespaces are per thread, and the `ip` children inherit the thread's), with a veth pair
//! named sysv0/sysv1 and addresses in 10.99.0.0/16. The namespace vanishes with the thread.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::{Duration, Instant as StdInstant};

use super::netlink::{Event, Monitor, Netlink, VipSpec};
use super::os;
use super::packet::PacketSocket;
use super::raw::VrrpSocket;

/// Runs `body` in a private network namespace, or skips (panics under CI) without root.
fn in_netns(body: impl FnOnce() + Send + 'static) {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("needs root: these tests create network namespaces");
        }
        eprintln!("skipped: needs root");
        return;
    }
    let result = std::thread::spawn(move || {
        // SAFETY: unshare(CLONE_NEWNET) only moves this thread into a new network namespace.
        let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "unshare: {}", io::Error::last_os_error());
        body();
    })
    .join();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Index and MAC of `name`, from `ip -o link show`.
fn link(name: &str) -> (u32, [u8; 6]) {
    let line = ip(&["-o", "link", "show", name]);
    let index = line.split(':').next().unwrap().trim().parse().unwrap();
    let mac_text = line
        .split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .unwrap();
    let mut mac = [0u8; 6];
    for (b, hex) in mac.iter_mut().zip(mac_text.split(':')) {
        *b = u8::from_str_radix(hex, 16).unwrap();
    }
    (index, mac)
}

/// A veth pair sysv0 <-> sysv1, both up, with 10.99.0.1/24 and 10.99.0.2/24.
fn veth() -> (u32, u32) {
    ip(&[
        "link", "add", "sysv0", "type", "veth", "peer", "name", "sysv1",
    ]);
    for (dev, addr) in [("sysv0", "10.99.0.1/24"), ("sysv1", "10.99.0.2/24")] {
        ip(&["addr", "add", addr, "dev", dev]);
        ip(&["link", "set", dev, "up"]);
    }
    (link("sysv0").0, link("sysv1").0)
}

/// Waits until `fd` is readable, at most `limit`.
fn readable(fd: &impl AsRawFd, limit: Duration) -> bool {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one live pollfd, count 1.
    unsafe { libc::poll(&mut pfd, 1, limit.as_millis() as libc::c_int) == 1 }
}

/// Retries `check` for up to 3 s (carrier and events arrive asynchronously).
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let start = StdInstant::now();
    while !check() {
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn vip(ifindex: u32, label: Option<&str>) -> VipSpec<'_> {
    VipSpec {
        ifindex,
        addr: Ipv4Addr::new(10, 99, 0, 100).into(),
        prefix_len: 24,
        brd: Some(Ipv4Addr::new(10, 99, 0, 255)),
        scope: 0,
        label,
    }
}

#[test]
fn netlink_dumps_adds_and_deletes() {
    in_netns(|| {
        let (i0, i1) = veth();
        let mut nl = Netlink::open().unwrap();

        let (mac0, mac1) = (link("sysv0").1, link("sysv1").1);
        eventually("both ends up with carrier", || {
            let mut seen = Vec::new();
            nl.dump_links(&mut |l| seen.push(l)).unwrap();
            let find = |i: u32| seen.iter().find(|l| l.ifindex == i).cloned();
            let (l0, l1) = (find(i0).unwrap(), find(i1).unwrap());
            assert_eq!((l0.name.as_str(), l0.mac), ("sysv0", mac0));
            assert_eq!((l1.name.as_str(), l1.mac), ("sysv1", mac1));
            assert!(seen.iter().any(|l| l.name == "lo"));
            l0.up && l1.up
        });

        nl.add_addr(&vip(i0, Some("sysv0:vip"))).unwrap();
        nl.add_addr(&vip(i0, Some("sysv0:vip"))).unwrap(); // again: EEXIST is fine
        let shown = ip(&["-4", "addr", "show", "dev", "sysv0"]);
        assert!(
            shown.contains("inet 10.99.0.100/24 brd 10.99.0.255 scope global secondary sysv0:vip"),
            "{shown}"
        );

        let mut addrs = Vec::new();
        nl.dump_addrs(&mut |a| addrs.push(a)).unwrap();
        let ours = addrs
            .iter()
            .find(|a| a.addr == Ipv4Addr::new(10, 99, 0, 100))
            .unwrap();
        assert_eq!((ours.ifindex, ours.prefix_len), (i0, 24));
        assert!(ours.secondary);
        assert_eq!(ours.label, "sysv0:vip");
        let primary = addrs
            .iter()
            .find(|a| a.addr == Ipv4Addr::new(10, 99, 0, 1))
            .unwrap();
        assert!(!primary.secondary);
        assert_eq!(primary.label, "sysv0");

        // A label that does not start with the interface name.
        let err = nl.add_addr(&vip(i0, Some("sysv1:x"))).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);

        // Wrong prefix length does not delete it; the right one does; twice is fine.
        nl.del_addr(i0, Ipv4Addr::new(10, 99, 0, 100).into(), 32)
            .unwrap();
        assert!(ip(&["-4", "addr", "show", "dev", "sysv0"]).contains("10.99.0.100/24"));
        nl.del_addr(i0, Ipv4Addr::new(10, 99, 0, 100).into(), 24)
            .unwrap();
        assert!(!ip(&["-4", "addr", "show", "dev", "sysv0"]).contains("10.99.0.100"));
        nl.del_addr(i0, Ipv4Addr::new(10, 99, 0, 100).into(), 24)
            .unwrap();

        // No label, host scope, on the other end. (In a subnet of its own: the kernel wants
        // a secondary address to share its primary's scope.)
        let mut v = vip(i1, None);
        v.addr = Ipv4Addr::new(10, 99, 1, 100).into();
        v.scope = 254;
        v.brd = None;
        nl.add_addr(&v).unwrap();
        let shown = ip(&["-4", "addr", "show", "dev", "sysv1"]);
        assert!(
            shown.contains("inet 10.99.1.100/24 scope host sysv1"),
            "{shown}"
        );

        // A kernel refusal comes back as its errno.
        let err = nl.add_addr(&vip(9999, None)).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENODEV), "{err}");

        // IPv6: added without DAD (usable at once, never tentative), dumped, deleted.
        let v6: std::net::IpAddr = "fd99::100".parse().unwrap();
        let v = VipSpec {
            ifindex: i0,
            addr: v6,
            prefix_len: 64,
            brd: None,
            scope: 0,
            label: None,
        };
        nl.add_addr(&v).unwrap();
        nl.add_addr(&v).unwrap(); // EEXIST is fine for IPv6 too
        let shown = ip(&["-6", "addr", "show", "dev", "sysv0"]);
        assert!(
            shown.contains("inet6 fd99::100/64 scope global nodad"),
            "{shown}"
        );
        assert!(
            !shown.contains("fd99::100/64 scope global tentative"),
            "{shown}"
        );
        let mut addrs = Vec::new();
        nl.dump_addrs(&mut |a| addrs.push(a)).unwrap();
        let ours = addrs.iter().find(|a| a.addr == v6).unwrap();
        assert_eq!(
            (ours.ifindex, ours.prefix_len, ours.tentative),
            (i0, 64, false)
        );
        assert!(
            addrs.iter().any(|a| a.ifindex == i0
                && matches!(a.addr, std::net::IpAddr::V6(l) if l.segments()[0] == 0xfe80)),
            "the kernel's link-local is dumped too: {addrs:?}"
        );
        nl.del_addr(i0, v6, 128).unwrap();
        assert!(ip(&["-6", "addr", "show", "dev", "sysv0"]).contains("fd99::100/64"));
        nl.del_addr(i0, v6, 64).unwrap();
        assert!(!ip(&["-6", "addr", "show", "dev", "sysv0"]).contains("fd99::100"));
    });
}

#[test]
fn monitor_reports_changes() {
    in_netns(|| {
        let mut mon = Monitor::open().unwrap();
        let (i0, i1) = veth();
        let mut nl = Netlink::open().unwrap();
        let mut events = Vec::new();
        let mut wait_for = |what: &str, want: &dyn Fn(&Event) -> bool| {
            eventually(what, || {
                mon.recv(&mut |e| events.push(e)).unwrap();
                events.iter().any(want)
            });
        };
        wait_for(
            "Link(sysv1 up)",
            &|e| matches!(e, Event::Link(l) if l.ifindex == i1 && l.up && l.name == "sysv1"),
        );

        nl.add_addr(&vip(i0, Some("sysv0:1"))).unwrap();
        wait_for("AddrAdded", &|e| {
            matches!(e, Event::AddrAdded(a) if a.ifindex == i0
                && a.addr == Ipv4Addr::new(10, 99, 0, 100) && a.label == "sysv0:1" && a.secondary)
        });
        nl.del_addr(i0, Ipv4Addr::new(10, 99, 0, 100).into(), 24)
            .unwrap();
        wait_for(
            "AddrRemoved",
            &|e| matches!(e, Event::AddrRemoved(a) if a.addr == Ipv4Addr::new(10, 99, 0, 100)),
        );

        ip(&["link", "set", "sysv1", "down"]);
        wait_for(
            "Link(sysv1 down)",
            &|e| matches!(e, Event::Link(l) if l.ifindex == i1 && !l.up),
        );
        // The peer loses its carrier.
        wait_for(
            "Link(sysv0 no carrier)",
            &|e| matches!(e, Event::Link(l) if l.ifindex == i0 && !l.up),
        );

        ip(&["link", "del", "sysv0"]);
        wait_for(
            "LinkRemoved",
            &|e| matches!(e, Event::LinkRemoved { ifindex } if *ifindex == i0),
        );
    });
}

/// A VRRPv2 advert for VRID 7, whole IPv4 header included. Its source, 10.99.0.11, is on no
/// interface: both veth ends live in this one namespace, and the kernel drops packets that
/// arrive from one of its own addresses.
fn advert() -> Vec<u8> {
    let mut p = vec![
        0x45, 0xc0, 0, 40, // version/IHL, DSCP CS6, total length
        0, 0, 0, 0, // id (kernel fills), flags/fragment
        255, 112, 0, 0, // TTL, protocol VRRP, checksum (kernel fills)
        10, 99, 0, 11, // source
        224, 0, 0, 18, // destination
    ];
    p.extend_from_slice(&[0x21, 7, 100, 1, 0, 1, 0, 0, 10, 99, 0, 254]);
    p.extend_from_slice(&[0; 8]); // v2 authentication data
    p
}

#[test]
fn vrrp_socket_round_trip() {
    in_netns(|| {
        let (i0, i1) = veth();
        let group = Ipv4Addr::new(224, 0, 0, 18);
        let a = VrrpSocket::open("sysv0", i0).unwrap();
        let b = VrrpSocket::open("sysv1", i1).unwrap();
        a.join(group, i0).unwrap();
        b.join(group, i1).unwrap();

        let mut buf = [0u8; crate::limits::MAX_PACKET];
        let e = b.recv(&mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);

        let sent = advert();
        // The first send may race with the interfaces coming up; retry briefly.
        eventually("advert crosses the veth", || {
            a.send_to(&sent, group).unwrap();
            readable(&b, Duration::from_millis(200))
        });
        let n = b.recv(&mut buf).unwrap();
        let got = &buf[..n];
        assert_eq!(n, sent.len());
        assert_eq!(got[8], 255, "TTL intact");
        assert_eq!(got[9], 112);
        assert_eq!(&got[12..20], &sent[12..20], "addresses");
        assert_eq!(&got[20..], &sent[20..], "VRRP payload");

        // Multicast loop is off and a is bound to sysv0, so a hears nothing of its own.
        let e = a.recv(&mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);

        // After leaving, b no longer receives.
        while b.recv(&mut buf).is_ok() {}
        b.leave(group, i1).unwrap();
        a.send_to(&sent, group).unwrap();
        assert!(!readable(&b, Duration::from_millis(200)));
    });
}

#[test]
fn packet_socket_sends_gratuitous_arp() {
    in_netns(|| {
        let (i0, i1) = veth();
        let (_, mac0) = link("sysv0");

        // A listener on the far end for ARP frames only.
        let eth_p_arp = (libc::ETH_P_ARP as u16).to_be();
        let rx = os::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            libc::c_int::from(eth_p_arp),
        )
        .unwrap();
        // SAFETY: zero is a valid sockaddr_ll.
        let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sa.sll_family = libc::AF_PACKET as u16;
        sa.sll_protocol = eth_p_arp;
        sa.sll_ifindex = i1 as i32;
        // SAFETY: `sa` is a live sockaddr_ll of the size given; the kernel only reads it.
        let rc = unsafe {
            libc::bind(
                rx.as_raw_fd(),
                (&sa as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        assert_eq!(rc, 0, "{}", io::Error::last_os_error());

        // Gratuitous ARP request for 10.99.0.100 from sysv0's MAC.
        let mut frame = vec![0xff; 6];
        frame.extend_from_slice(&mac0);
        frame.extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1]);
        frame.extend_from_slice(&mac0);
        frame.extend_from_slice(&[10, 99, 0, 100]);
        frame.extend_from_slice(&[0xff; 6]);
        frame.extend_from_slice(&[10, 99, 0, 100]);
        assert_eq!(frame.len(), 42);

        let tx = PacketSocket::open().unwrap();
        assert!(tx.send(i0, &frame[..10]).is_err(), "short frame refused");
        let mut buf = [0u8; 128];
        eventually("ARP frame arrives", || {
            tx.send(i0, &frame).unwrap();
            readable(&rx, Duration::from_millis(200))
        });
        let n = os::recv(&rx, &mut buf, 0).unwrap();
        assert_eq!(&buf[..n], &frame[..]);

        // A batch (the bursts of instances becoming master together): one for each of 70
        // addresses, more than one sendmmsg's worth, with a short frame among them that is
        // refused alone.
        while os::recv(&rx, &mut buf, 0).is_ok() {}
        let frames: Vec<Vec<u8>> = (0..70u8)
            .map(|k| {
                let mut f = frame.clone();
                f[31] = k;
                f[41] = k;
                f
            })
            .collect();
        let mut batch: Vec<(u32, &[u8])> = frames.iter().map(|f| (i0, &f[..])).collect();
        batch.insert(3, (i0, &frame[..10]));
        let mut refused = Vec::new();
        assert_eq!(tx.send_batch(&batch, |i, _| refused.push(i)), 70);
        assert_eq!(refused, [3]);
        let mut seen = Vec::new();
        eventually("70 ARP frames arrive", || {
            while let Ok(n) = os::recv(&rx, &mut buf, 0) {
                assert_eq!(n, 42);
                seen.push(buf[41]);
            }
            seen.len() >= 70
        });
        assert_eq!(seen, (0..70).collect::<Vec<u8>>(), "all, in order");
    });
}

/// One sendmmsg for a tick's adverts and one recvmmsg per batch on the far end, each packet
/// with its arrival stamp (issue 17).
#[test]
fn vrrp_socket_batches() {
    use super::mmsg::{RX_BATCH, RxBatch};
    in_netns(|| {
        let (i0, i1) = veth();
        let group = Ipv4Addr::new(224, 0, 0, 18);
        let a = VrrpSocket::open("sysv0", i0).unwrap();
        let b = VrrpSocket::open("sysv1", i1).unwrap();
        b.join(group, i1).unwrap();
        let (ovfl, stamp) = b.enable_meta();
        ovfl.unwrap();
        stamp.unwrap();
        let sent = advert();
        eventually("advert crosses the veth", || {
            a.send_to(&sent, group).unwrap();
            readable(&b, Duration::from_millis(200))
        });
        std::thread::sleep(Duration::from_millis(20));
        let mut batch = Box::new(RxBatch::new());
        while b.recv_batch(&mut batch, RX_BATCH).is_ok() {}
        let pkts: Vec<Vec<u8>> = (1..=100u8)
            .map(|vrid| {
                let mut p = sent.clone();
                p[21] = vrid;
                p
            })
            .collect();
        let list: Vec<(&[u8], Ipv4Addr)> = pkts.iter().map(|p| (&p[..], group)).collect();
        assert_eq!(a.send_batch(&list, |i, e| panic!("{i}: {e}")), 100);
        let mut seen = Vec::new();
        eventually("100 adverts arrive", || {
            while let Ok(n) = b.recv_batch(&mut batch, RX_BATCH) {
                for i in 0..n {
                    let (pkt, m) = batch.get(i).unwrap();
                    assert_eq!(pkt.len(), sent.len());
                    assert!(m.stamp.is_some(), "{m:?}");
                    seen.push(pkt[21]);
                }
            }
            seen.len() >= 100
        });
        assert_eq!(seen, (1..=100).collect::<Vec<u8>>(), "all, in order");
        // Empty: WouldBlock, as recv says.
        let e = b.recv_batch(&mut batch, RX_BATCH).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    });
}

#[test]
fn monitor_overflow_is_enobufs() {
    in_netns(|| {
        let mut mon = Monitor::open().unwrap();
        // The smallest buffer the kernel allows, so a burst overflows it.
        let zero: libc::c_int = 0;
        os::setsockopt(&mon, libc::SOL_SOCKET, libc::SO_RCVBUF, &zero).unwrap();
        let (i0, _) = veth();
        let mut nl = Netlink::open().unwrap();
        for host in 10..60 {
            let mut v = vip(i0, None);
            v.addr = Ipv4Addr::new(10, 99, 0, host).into();
            nl.add_addr(&v).unwrap();
        }
        let mut seen = 0;
        let err = mon.recv(&mut |_| seen += 1).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOBUFS), "{err}");
        // After the overflow report the socket works again.
        mon.recv(&mut |_| seen += 1).unwrap();
        nl.del_addr(i0, Ipv4Addr::new(10, 99, 0, 10).into(), 24)
            .unwrap();
        let mut removed = false;
        eventually("event after overflow", || {
            mon.recv(&mut |e| removed |= matches!(e, Event::AddrRemoved(_)))
                .unwrap();
            removed
        });
    });
}
