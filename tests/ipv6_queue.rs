//! The IPv6 receive path at parity with IPv4 (tests/hostile.rs): the kernel's socket filter
//! drops other VRIDs (but for its 1-in-256 sample), `kernel_rx_buf_size` sizes the queue, and a backup that could not run
//! for longer than Master_Down_Interval judges the adverts queued meanwhile by their arrival
//! stamps instead of taking over from a live master.

mod common;

use common::*;
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use vrrpd::sys::raw6::Vrrp6Socket;
use vrrpd::wire::vrrp::MULTICAST_V6;

/// Router `i`'s kernel link-local (from its MAC, EUI-64).
fn router_ll(i: usize) -> Ipv6Addr {
    format!("fe80::99:ff:fe00:{i:x}").parse().expect("address")
}

fn conf(priority: u8, extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority {priority}
    advert_int 1
{extra}    virtual_ipaddress {{
        fd99::51/64 dev eth0
    }}
}}
"
    )
}

/// A VRRPv3 advert for `vrid` with priority 250 and a zero (so wrong) checksum.
fn bad_advert(vrid: u8) -> Vec<u8> {
    let mut p = vec![0x31, vrid, 250, 1, 0x00, 100, 0, 0];
    p.extend_from_slice(&"fd99::51".parse::<Ipv6Addr>().expect("vip").octets());
    p
}

fn wait_link_locals(lab: &Lab) {
    for i in 1..=lab.n {
        let ok = wait_until(Duration::from_secs(10), Duration::from_millis(50), || {
            let out = lab.ip(i, &["-6", "-o", "addr", "show", "dev", "eth0"]);
            out.lines()
                .any(|l| l.contains("fe80::") && !l.contains("tentative"))
        });
        assert!(ok, "r{i}: no usable link-local");
    }
}

#[test]
fn ipv6_backup_waking_late_reads_its_queue_and_the_filter_drops_other_vrids() {
    let Some(lab) = Lab::new("kq", 3) else {
        return;
    };
    wait_link_locals(&lab);
    let master = lab.vrrpd_with(1, &conf(200, ""), Start::QUIET);
    let backup = lab.vrrpd_with(
        2,
        &conf(100, "    kernel_rx_buf_size 1048576\n"),
        Start::QUIET,
    );
    master.wait_elected_over(&backup, 1);

    // Other VRIDs are dropped in the kernel but for the filter's 1-in-256 sample (some 16 of
    // these 4000), which the daemon counts.
    let flood = in_netns(&lab.ns(3), || {
        let ifindex = if_index("eth0");
        let sock = Vrrp6Socket::open("eth0", ifindex).expect("socket");
        let mut sent = 0u32;
        for vrid in [50u8, 52, 1, 255] {
            for _ in 0..1000 {
                sent += u32::from(
                    sock.send(&bad_advert(vrid), router_ll(3), MULTICAST_V6)
                        .is_ok(),
                );
            }
        }
        sent
    });
    assert_eq!(flood.join().expect("flooder"), 4000);
    std::thread::sleep(Duration::from_millis(300));
    let b1 = backup.must_dump("VI_1");
    eprintln!("{} of 4000 other VRIDs sampled", b1.get("vrid"));
    assert!(
        (1..=100).contains(&b1.get("vrid")),
        "not the filter's sample of 4000 other VRIDs: {:?}",
        b1.fields
    );

    // Stopped past Master_Down_Interval (3.61 s at priority 100), behind a burst of its own
    // VRID with a bad checksum (which the filter passes and the daemon counts).
    let before = backup.count("Entering MASTER STATE");
    const STOPPED: Duration = Duration::from_millis(4500);
    backup.signal(libc::SIGSTOP);
    let start = Instant::now();
    let sender = in_netns(&lab.ns(3), move || {
        let sock = Vrrp6Socket::open("eth0", if_index("eth0")).expect("socket");
        let p = bad_advert(51);
        let mut sent = 0u64;
        for _ in 0..600 {
            sent += u64::from(sock.send(&p, router_ll(3), router_ll(2)).is_ok());
        }
        while start.elapsed() < STOPPED {
            sent += u64::from(sock.send(&p, router_ll(3), router_ll(2)).is_ok());
            std::thread::sleep(Duration::from_millis(5));
        }
        sent
    });
    let sent = sender.join().expect("sender");
    backup.signal(libc::SIGCONT);
    std::thread::sleep(Duration::from_millis(1500));
    let took_over = backup.count("Entering MASTER STATE") - before;
    let b1 = backup.must_dump("VI_1");
    assert!(
        took_over == 0 && b1.get("queue_overflows") == 0 && b1.get("checksum") > 0,
        "an IPv6 backup stopped for {STOPPED:?} with {sent} packets queued ahead of the \
         master's adverts took over {took_over} time(s) on waking; checksum drops {}, \
         adverts_rx {}, queue overflows {}:\n{}",
        b1.get("checksum"),
        b1.get("adverts_rx"),
        b1.get("queue_overflows"),
        tail(&backup.log(), 12)
    );
}

fn if_index(name: &str) -> u32 {
    let c = std::ffi::CString::new(name).expect("name");
    // SAFETY: a valid NUL-terminated string; the call only reads it.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    assert!(i != 0, "no {name}");
    i
}
