//! Bounded resources (issue 7): about a million adverts through one daemon, and its memory and
//! descriptors stay flat. The daemon runs 4 master instances at advert_int 0.01 (100 adverts/s
//! each, sent) and 8 backup instances that a peer in another namespace feeds with valid
//! higher-priority adverts at ~25 000/s (received, checked and handed to the state machine).
//! The run stops at a million adverts in all or after 60 s, whichever comes first.

mod common;

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{Daemon, Lab, Start, Topo, forge_v4, in_netns, vrrp_socket};
use vrrpd::wire::vrrp::{self, Auth, Checksum, MULTICAST_V4, Version};

const TARGET: u64 = 1_000_000;
const LIMIT: Duration = Duration::from_secs(60);
const RATE_PER_10MS: usize = 250;
const MASTERS: [u8; 4] = [1, 2, 3, 4];
const BACKUPS: [u8; 8] = [11, 12, 13, 14, 15, 16, 17, 18];
const PEER: Ipv4Addr = Ipv4Addr::new(10, 99, 20, 12);

fn instance(vrid: u8, state: &str, priority: u8, advert_int: &str) -> String {
    format!(
        "vrrp_instance VI_{vrid} {{
    state {state}
    interface eth0
    virtual_router_id {vrid}
    priority {priority}
    advert_int {advert_int}
    version 3
    virtual_ipaddress {{
        10.99.20.{}/24 dev eth0
    }}
}}
",
        100 + vrid
    )
}

fn config() -> String {
    let masters = MASTERS.map(|v| instance(v, "MASTER", 200, "0.01"));
    let backups = BACKUPS.map(|v| instance(v, "BACKUP", 100, "1"));
    masters.concat() + &backups.concat()
}

/// A valid v3 advert from the peer for `vrid`, priority 250, interval 1 s.
fn advert(vrid: u8) -> Vec<u8> {
    let mut addrs = heapless::Vec::new();
    let _ = addrs.push(Ipv4Addr::new(10, 99, 20, 100 + vrid));
    let repr = vrrp::Repr {
        version: Version::V3,
        vrid,
        priority: 250,
        max_adver_int_cs: 100,
        auth: Auth::None,
        addrs,
    };
    let how = Checksum::Pseudo {
        src: PEER,
        dst: MULTICAST_V4,
    };
    forge_v4(PEER, MULTICAST_V4, 255, &repr, how)
}

fn totals(d: &Daemon) -> (u64, u64) {
    let rx = BACKUPS
        .iter()
        .map(|v| d.must_dump(&format!("VI_{v}")).get("adverts_rx"))
        .sum();
    let tx = MASTERS
        .iter()
        .map(|v| d.must_dump(&format!("VI_{v}")).get("adverts_tx"))
        .sum();
    (rx, tx)
}

#[test]
fn a_million_adverts_leave_memory_and_descriptors_flat() {
    // Router 1 runs the daemon (.11), router 2 is the peer feeding it (.12).
    let Some(lab) = Lab::with("vhk", Topo::routers(2).net(20)) else {
        return;
    };
    // Without debug logging: a line per advert would be the soak's real load.
    let mut d = lab.vrrpd_with(1, &config(), Start::QUIET);
    assert!(
        d.wait_count(
            "Entering MASTER STATE",
            MASTERS.len(),
            Duration::from_secs(8)
        ),
        "{}",
        d.log()
    );

    let stop_at = Instant::now() + LIMIT;
    let soaked = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sender = in_netns(&lab.ns(2), {
        let (soaked, stop) = (soaked.clone(), stop.clone());
        move || {
            let sock = vrrp_socket("eth0");
            let packets: Vec<_> = BACKUPS.iter().map(|&v| advert(v)).collect();
            let mut sent = 0u64;
            let mut tick = Instant::now();
            while Instant::now() < stop_at && sent < TARGET {
                for k in 0..RATE_PER_10MS {
                    if sock
                        .send_to(&packets[k % packets.len()], MULTICAST_V4)
                        .is_ok()
                    {
                        sent += 1;
                    }
                }
                tick += Duration::from_millis(10);
                if let Some(wait) = tick.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            soaked.store(sent, Ordering::SeqCst);
            // Then an ordinary master's pace, so the backups stay backups while we look.
            while !stop.load(Ordering::SeqCst) {
                for p in &packets {
                    let _ = sock.send_to(p, MULTICAST_V4);
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    });

    // Warm up (every table and buffer touched), then sample every 5 s.
    std::thread::sleep(Duration::from_secs(3));
    let start = d.resources();
    let mut samples = vec![start];
    while soaked.load(Ordering::SeqCst) == 0 && !sender.is_finished() {
        std::thread::sleep(Duration::from_secs(5));
        samples.push(d.resources());
    }
    let sent = soaked.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(500));
    let end = d.resources();
    samples.push(end);
    let (rx, tx) = totals(&d);
    eprintln!(
        "soak: peer sent {sent}, daemon accepted {rx} and sent {tx}: {} adverts; \
         (RSS KiB, fds) samples {samples:?}",
        rx + tx
    );

    // Nothing flapped: the masters stayed masters and the backups followed the peer.
    assert_eq!(
        d.count("Entering MASTER STATE"),
        MASTERS.len(),
        "{}",
        d.log()
    );
    for v in BACKUPS {
        assert_eq!(d.must_dump(&format!("VI_{v}")).state, "BACKUP");
    }
    // Delivery is the kernel's socket buffer against a loaded 2-core runner as much as the
    // daemon's pace (85 % was seen with other builds running): the bound catches a stall, and
    // the counts are printed above for a reader who wants the real figure.
    assert!(
        rx + tx >= TARGET * 3 / 4 || sent < TARGET,
        "only {} of {sent} adverts reached the daemon",
        rx + tx
    );
    assert!(rx + tx >= 250_000, "only {} adverts in {LIMIT:?}", rx + tx);
    assert_eq!(end.1, start.1, "descriptor count changed: {samples:?}");
    // A few pages of slack for the allocator and stdio; a leak per advert would be megabytes.
    assert!(
        end.0 <= start.0 + 256,
        "RSS grew from {} KiB to {} KiB: {samples:?}",
        start.0,
        end.0
    );
    assert!(d.running());
    stop.store(true, Ordering::SeqCst);
    sender.join().expect("sender");
}
