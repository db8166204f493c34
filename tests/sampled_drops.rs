//! What the socket filter drops is sampled (`sys::bpf::SAMPLE`, 1 in 256), so a peer with a
//! wrong password or a VRID not run here is counted and logged again, and changes nothing.
//! A master (with `log_unknown_vrids`) and a backup (without) share a LAN with a third host
//! that sends, at a modest rate, adverts for the master's VRID at priority 255 with a wrong
//! password (a split-brain peer that would win if heard) and adverts for VRID 77.

mod common;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use common::{Lab, Start, Topo, forge_v4, in_netns, vrrp_socket};
use vrrpd::wire::vrrp::{self, Auth, Checksum, MULTICAST_V4, Version};

const PEER: Ipv4Addr = Ipv4Addr::new(10, 99, 2, 13);
const VIP: Ipv4Addr = Ipv4Addr::new(10, 99, 2, 100);
/// Adverts of each kind sent; some 31 of each are sampled.
const EACH: u64 = 8000;
const SAMPLE: u64 = 256;

fn config(priority: u8, global: &str) -> String {
    format!(
        "global_defs {{
{global}}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority {priority}
    advert_int 1
    version 2
    authentication {{
        auth_type PASS
        auth_pass s3cret
    }}
    virtual_ipaddress {{
        {VIP}/24 dev eth0
    }}
}}
"
    )
}

fn advert(vrid: u8, pass: [u8; 8]) -> Vec<u8> {
    let mut addrs = heapless::Vec::new();
    let _ = addrs.push(VIP);
    let repr = vrrp::Repr {
        version: Version::V2,
        vrid,
        priority: 255,
        max_adver_int_cs: 100,
        auth: Auth::Pass(pass),
        addrs,
    };
    forge_v4(PEER, MULTICAST_V4, 255, &repr, Checksum::Message)
}

#[test]
fn wrong_password_and_unknown_vrid_are_counted_and_logged_without_effect() {
    let Some(lab) = Lab::with("isd", Topo::routers(3).net(2)) else {
        return;
    };
    let master = lab.vrrpd_with(1, &config(200, "    log_unknown_vrids\n"), Start::QUIET);
    let backup = lab.vrrpd_with(2, &config(100, ""), Start::QUIET);
    master.wait_elected_over(&backup, 1);
    let transitions = (master.count("Entering"), backup.count("Entering"));

    // 2 × 3000 adverts over 3 s: a peer's rate, far below a flood's.
    let start = Instant::now();
    let sent = in_netns(&lab.ns(3), move || {
        let sock = vrrp_socket("eth0");
        let wrong = advert(51, *b"guessed\0");
        let other = advert(77, *b"s3cret\0\0");
        let mut sent = [0u64; 2];
        for i in 0..EACH {
            sent[0] += u64::from(sock.send_to(&wrong, MULTICAST_V4).is_ok());
            sent[1] += u64::from(sock.send_to(&other, MULTICAST_V4).is_ok());
            if i % 200 == 199 {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        sent
    })
    .join()
    .expect("sender");
    eprintln!("sent {sent:?} in {:?}", start.elapsed());
    assert_eq!(sent, [EACH; 2], "sends failed");
    std::thread::sleep(Duration::from_millis(300));

    // Counted: a sample, of the order of one in SAMPLE, on both routers.
    let lo = EACH / SAMPLE / 4;
    let hi = EACH / SAMPLE * 3;
    for (who, d) in [("master", &master), ("backup", &backup)] {
        let x = d.must_dump("VI_1");
        eprintln!("{who}: {:?}", x.fields);
        for reason in ["auth", "vrid"] {
            let n = x.get(reason);
            assert!(
                (lo..=hi).contains(&n),
                "{who}: {n} '{reason}' drops counted of {EACH} sent, want {lo}..={hi}: {:?}",
                x.fields
            );
        }
        if who == "master" {
            assert_eq!(x.get("adverts_rx"), 0, "a sample taken for an advert");
        }
    }

    // Logged, rate-limited: the password mismatch on both, unknown VRIDs where asked for.
    let m = master.log();
    let auth_lines = |log: &str| {
        log.lines()
            .filter(|l| l.contains("(VI_1) dropped") && l.contains("received an invalid passwd"))
            .count()
    };
    let unknown = "Unknown VRID(77) received on interface(eth0) from 10.99.2.13. ignoring...";
    let unknown_lines = |log: &str| log.lines().filter(|l| l.contains(unknown)).count();
    assert!(
        (1..=2).contains(&auth_lines(&m)),
        "master: {} auth lines:\n{m}",
        auth_lines(&m)
    );
    assert!(
        (1..=2).contains(&unknown_lines(&m)),
        "master: {} unknown-VRID lines:\n{m}",
        unknown_lines(&m)
    );
    for l in m
        .lines()
        .filter(|l| l.contains("dropped") || l.contains(unknown))
    {
        eprintln!("master said: {l}");
    }
    let b = backup.log();
    assert!((1..=2).contains(&auth_lines(&b)), "backup:\n{b}");
    assert_eq!(
        unknown_lines(&b),
        0,
        "backup logs unknown VRIDs unasked:\n{b}"
    );

    // And nothing changed: the 255 with the wrong password took nothing from the master.
    assert_eq!(
        (master.count("Entering"), backup.count("Entering")),
        transitions,
        "master:\n{m}\n---\nbackup:\n{b}"
    );
    assert_eq!(master.must_dump("VI_1").state, "MASTER");
    assert_eq!(backup.must_dump("VI_1").state, "BACKUP");
    assert!(lab.has_vip(1, &VIP.to_string()));
    assert!(!lab.has_vip(2, &VIP.to_string()));
}
