//! The receive path under attack (issue 7). A master and a backup share a bridged LAN with a
//! flooder that sends, as fast as one thread can, every kind of bad advert: random bytes,
//! truncated packets, wrong TTL, bad checksums, the wrong password, a spoofed higher priority
//! with the wrong password, and the right VRID of a unicast instance from a non-peer. The master
//! must stay master with its adverts on time, the VIP must not move, each rejection must be
//! counted, and the log must stay small.

mod nsutil;

use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nsutil::{Lan, Vrrpd};
use vrrpd::sys::raw::VrrpSocket;
use vrrpd::wire::ipv4;
use vrrpd::wire::vrrp::{self, Auth, Checksum, MULTICAST_V4, Version};

const FLOOD: Duration = Duration::from_secs(10);
const MASTER: Ipv4Addr = Ipv4Addr::new(10, 99, 1, 11);
const BACKUP: Ipv4Addr = Ipv4Addr::new(10, 99, 1, 12);
const FLOODER: Ipv4Addr = Ipv4Addr::new(10, 99, 1, 13);
const VIP: Ipv4Addr = Ipv4Addr::new(10, 99, 1, 100);
const VIP_U: Ipv4Addr = Ipv4Addr::new(10, 99, 1, 101);
const PASS: [u8; 8] = *b"s3cret\0\0";

fn config(me: Ipv4Addr, peer: Ipv4Addr, priority: u8) -> String {
    format!(
        "global_defs {{
    router_id vh-{me}
}}
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
vrrp_instance VI_U {{
    state BACKUP
    interface eth0
    virtual_router_id 52
    priority {priority}
    advert_int 1
    version 2
    authentication {{
        auth_type PASS
        auth_pass s3cret
    }}
    unicast_src_ip {me}
    unicast_peer {{
        {peer}
    }}
    virtual_ipaddress {{
        {VIP_U}/24 dev eth0
    }}
}}
"
    )
}

/// xorshift64*: fast and deterministic, so a failing flood can be replayed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A v2 advert in an IPv4 header, with everything right unless the caller changes it.
struct Forge {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ttl: u8,
    vrid: u8,
    priority: u8,
    pass: [u8; 8],
    vip: Ipv4Addr,
}

impl Forge {
    fn good(vrid: u8, vip: Ipv4Addr) -> Forge {
        Forge {
            src: FLOODER,
            dst: MULTICAST_V4,
            ttl: 255,
            vrid,
            priority: 100,
            pass: PASS,
            vip,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut addrs = heapless::Vec::new();
        let _ = addrs.push(self.vip);
        let repr = vrrp::Repr {
            version: Version::V2,
            vrid: self.vrid,
            priority: self.priority,
            max_adver_int_cs: 100,
            auth: Auth::Pass(self.pass),
            addrs,
        };
        let ip = ipv4::Repr {
            src: self.src,
            dst: self.dst,
            protocol: ipv4::PROTOCOL_VRRP,
            ttl: self.ttl,
            payload_len: repr.buffer_len(),
        };
        let mut buf = vec![0u8; ip.buffer_len()];
        let (head, body) = buf.split_at_mut(ipv4::HEADER_LEN);
        ip.emit(&mut ipv4::Packet::new_unchecked(head));
        repr.emit(&mut vrrp::Packet::new_unchecked(body), Checksum::Message);
        buf
    }
}

/// Sets the IP total length to what the buffer holds now (the kernel does it too, but the
/// packet must be right before it gets there).
fn fix_ip(p: &mut [u8]) {
    let len = p.len() as u16;
    p[2..4].copy_from_slice(&len.to_be_bytes());
    ipv4::Packet::new_unchecked(&mut p[..]).fill_checksum();
}

/// The kinds of bad packet, sent in turn. Returns the packet and where it goes.
fn hostile(kind: usize, rng: &mut Rng) -> (Vec<u8>, Ipv4Addr) {
    let mut f = Forge::good(51, VIP);
    match kind {
        // Random bytes after a valid IP header.
        0 => {
            let mut p = f.bytes();
            p.truncate(ipv4::HEADER_LEN);
            let n = rng.below(64);
            p.extend((0..n).map(|_| rng.next() as u8));
            fix_ip(&mut p);
            (p, MULTICAST_V4)
        }
        // Truncated: a good advert cut short.
        1 => {
            let mut p = f.bytes();
            let cut = ipv4::HEADER_LEN + rng.below(p.len() - ipv4::HEADER_LEN);
            p.truncate(cut);
            fix_ip(&mut p);
            (p, MULTICAST_V4)
        }
        // Wrong TTL: it crossed a router.
        2 => {
            f.ttl = 64 + rng.below(191) as u8;
            (f.bytes(), MULTICAST_V4)
        }
        // Bad checksum.
        3 => {
            let mut p = f.bytes();
            p[ipv4::HEADER_LEN + 6] ^= 1 + rng.below(254) as u8;
            (p, MULTICAST_V4)
        }
        // Wrong password.
        4 => {
            f.pass = *b"guessed\0";
            f.pass[0] = b'a' + rng.below(26) as u8;
            (f.bytes(), MULTICAST_V4)
        }
        // A spoofed higher priority, but with the wrong password.
        5 => {
            f.priority = 255;
            f.src = Ipv4Addr::new(10, 99, 1, 200);
            f.pass = *b"letmein\0";
            (f.bytes(), MULTICAST_V4)
        }
        // The unicast instance's VRID, all else right, from a host that is not its peer.
        6 => {
            let mut f = Forge::good(52, VIP_U);
            f.priority = 254;
            f.dst = if rng.below(2) == 0 { MASTER } else { BACKUP };
            (f.bytes(), f.dst)
        }
        // A VRID nobody here runs.
        _ => {
            f.vrid = 99;
            (f.bytes(), MULTICAST_V4)
        }
    }
}

const KINDS: usize = 8;

/// Times at which the master's VI_1 adverts were seen on the LAN.
fn capture(stop: Arc<AtomicBool>) -> Vec<Instant> {
    let ifindex = ifindex("eth0");
    let sock = VrrpSocket::open("eth0", ifindex).expect("capture socket");
    sock.join(MULTICAST_V4, ifindex).expect("join");
    let mut seen = Vec::new();
    let mut buf = [0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        let mut pfd = libc::pollfd {
            fd: sock.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one live pollfd.
        unsafe { libc::poll(&mut pfd, 1, 100) };
        while let Ok(n) = sock.recv(&mut buf) {
            let at = Instant::now();
            let Ok(ip) = ipv4::Packet::new_checked(&buf[..n]) else {
                continue;
            };
            if ip.src_addr() == MASTER && ip.payload().get(1) == Some(&51) {
                seen.push(at);
            }
        }
    }
    seen
}

fn ifindex(name: &str) -> u32 {
    let c = std::ffi::CString::new(name).expect("name");
    // SAFETY: a valid NUL-terminated string.
    unsafe { libc::if_nametoindex(c.as_ptr()) }
}

/// Sends hostile packets round-robin until `until`; returns how many of each kind went out.
/// The packets are made beforehand so the loop does nothing but send.
fn flood(until: Instant, seed: u64) -> [u64; KINDS] {
    let sock = VrrpSocket::open("eth0", ifindex("eth0")).expect("flood socket");
    let mut rng = Rng(seed);
    let pool: Vec<_> = (0..4096).map(|i| hostile(i % KINDS, &mut rng)).collect();
    let mut sent = [0u64; KINDS];
    let mut i = 0;
    while Instant::now() < until {
        for _ in 0..256 {
            i = (i + 1) % pool.len();
            let (p, dst) = &pool[i];
            // A full queue (ENOBUFS/EAGAIN) just means we are faster than the wire.
            if sock.send_to(p, *dst).is_ok() {
                sent[i % KINDS] += 1;
            }
        }
    }
    sent
}

#[test]
fn flood_of_bad_adverts_changes_nothing() {
    if !nsutil::need_root() {
        return;
    }
    let lan = Lan::new("vhh", 1, 3);
    let dir = nsutil::Dir::new("vhh");
    let master = Vrrpd::start(&lan.hosts[0], &dir, "master", &config(MASTER, BACKUP, 200));
    let backup = Vrrpd::start(&lan.hosts[1], &dir, "backup", &config(BACKUP, MASTER, 100));

    let settled = nsutil::eventually(Duration::from_secs(10), || {
        master.count("Entering MASTER STATE") == 2 && backup.count("Entering BACKUP STATE") >= 2
    });
    assert!(
        settled,
        "no election:\n{}\n---\n{}",
        master.log_text(),
        backup.log_text()
    );
    assert!(lan.hosts[0].has_addr("eth0", "10.99.1.100"));
    let transitions = |d: &Vrrpd| d.count("Entering");
    let (m_before, b_before) = (transitions(&master), transitions(&backup));
    let lines_before = master.log_text().lines().count();

    let stop = Arc::new(AtomicBool::new(false));
    let cap = lan.hosts[2].spawn({
        let stop = stop.clone();
        move || capture(stop)
    });
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    let until = start + FLOOD;
    // Two senders: on a small machine one thread alone cannot fill the daemon's queue.
    let flooders: Vec<_> = (0..2u64)
        .map(|k| lan.hosts[2].spawn(move || flood(until, 0x5eed_1234_abcd_0001 + k)))
        .collect();

    // While the flood runs, the VIP must stay on the master and never show up on the backup.
    let mut vip_checks = 0;
    while Instant::now() < until {
        assert!(
            lan.hosts[0].has_addr("eth0", "10.99.1.100"),
            "VIP left the master"
        );
        assert!(
            !lan.hosts[1].has_addr("eth0", "10.99.1.100"),
            "VIP on the backup"
        );
        vip_checks += 1;
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut sent = [0u64; KINDS];
    for f in flooders {
        let part = f.join().expect("flooder");
        sent.iter_mut().zip(part).for_each(|(s, p)| *s += p);
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let seen = cap.join().expect("capture");
    let total: u64 = sent.iter().sum();
    eprintln!(
        "flood: {total} packets in {:?} ({:.0}/s), per kind {sent:?}; {vip_checks} VIP checks",
        FLOOD,
        total as f64 / FLOOD.as_secs_f64()
    );

    // Adverts kept their 1 s spacing all through the flood.
    let during: Vec<_> = seen
        .iter()
        .filter(|t| **t >= start && **t <= until)
        .collect();
    let gaps: Vec<_> = during.windows(2).map(|w| *w[1] - *w[0]).collect();
    eprintln!("advert gaps during the flood: {gaps:?}");
    assert!(
        during.len() >= 8,
        "only {} adverts in {FLOOD:?}",
        during.len()
    );
    let worst = gaps.iter().max().copied().unwrap_or_default();
    assert!(worst < Duration::from_millis(1500), "advert gap {worst:?}");

    // Nobody changed state, and both still say so.
    assert_eq!(
        transitions(&master),
        m_before,
        "master log:\n{}",
        master.log_text()
    );
    assert_eq!(
        transitions(&backup),
        b_before,
        "backup log:\n{}",
        backup.log_text()
    );
    let m1 = master.dump("VI_1");
    let mu = master.dump("VI_U");
    let b1 = backup.dump("VI_1");
    let bu = backup.dump("VI_U");
    assert_eq!(
        (&m1.state[..], &mu.state[..], &b1.state[..], &bu.state[..]),
        ("MASTER", "MASTER", "BACKUP", "BACKUP")
    );
    assert!(lan.hosts[0].has_addr("eth0", "10.99.1.100"));
    assert!(lan.hosts[0].has_addr("eth0", "10.99.1.101"));

    // Every kind of rejection was counted, on both routers.
    for (who, d1, du) in [("master", &m1, &mu), ("backup", &b1, &bu)] {
        eprintln!("{who} VI_1 {:?}\n{who} VI_U {:?}", d1.fields, du.fields);
        for reason in ["len", "ttl", "checksum", "auth", "vrid"] {
            assert!(d1.get(reason) > 0, "{who}: no '{reason}' drops counted");
        }
        assert!(du.get("peer") > 0, "{who}: no 'peer' drops counted");
    }

    // The log grew by a few lines per reason per 10 s, not by one per packet.
    let text = master.log_text();
    let added = text.lines().count() - lines_before;
    eprintln!("master log grew by {added} lines during {total} bad packets");
    assert!(added < 60, "log grew by {added} lines:\n{text}");
    assert!(text.len() < 32 * 1024, "log is {} bytes", text.len());
    assert!(master.alive() && backup.alive());
}

/// CapEff, CapPrm and CapBnd of a running vrrpd, once it says it is up.
fn capabilities(extra: &str, tag: &str) -> (Vrrpd, [String; 3], Lan, nsutil::Dir) {
    let lan = Lan::new(tag, 3, 1);
    let dir = nsutil::Dir::new(tag);
    let conf = format!(
        "vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress {{
        10.99.3.100/24 dev eth0
    }}
    {extra}
}}
"
    );
    let d = Vrrpd::start(&lan.hosts[0], &dir, "caps", &conf);
    assert!(
        d.wait_for("Entering BACKUP STATE", 1, Duration::from_secs(5)),
        "{}",
        d.log_text()
    );
    std::thread::sleep(Duration::from_millis(200));
    let sets = ["CapEff", "CapPrm", "CapBnd"].map(|f| d.status_field(f).unwrap_or_default());
    (d, sets, lan, dir)
}

#[test]
fn without_scripts_only_net_admin_and_net_raw_remain() {
    if !nsutil::need_root() {
        return;
    }
    let (d, sets, lan, _dir) = capabilities("", "vhc1");
    assert_eq!(
        sets,
        ["0000000000003000"; 3].map(String::from),
        "{}",
        d.log_text()
    );
    assert_eq!(d.count("Dropped every capability"), 1);
    // It still works with what is left: it becomes master and adds its VIP.
    assert!(d.wait_for("Entering MASTER STATE", 1, Duration::from_secs(6)));
    assert!(lan.hosts[0].has_addr("eth0", "10.99.3.100"));
}

#[test]
fn with_a_notify_script_capabilities_are_kept() {
    if !nsutil::need_root() {
        return;
    }
    let (d, sets, _lan, _dir) = capabilities("notify /bin/true", "vhc2");
    assert_ne!(sets[0], "0000000000003000", "{}", d.log_text());
    assert_eq!(d.count("Dropped every capability"), 0);
    assert_eq!(d.count("Starting vrrpd"), 1, "the log is read");
}

#[test]
fn runs_as_non_root_with_only_net_admin_and_net_raw() {
    if !nsutil::need_root() {
        return;
    }
    if std::process::Command::new("setpriv")
        .arg("--help")
        .output()
        .is_err()
    {
        eprintln!("skipped: no setpriv");
        return;
    }
    let lan = Lan::new("vhc3", 4, 1);
    let dir = nsutil::Dir::new("vhc3");
    // The unprivileged user must be able to write its pid file there.
    std::fs::set_permissions(&dir.0, std::os::unix::fs::PermissionsExt::from_mode(0o777))
        .expect("chmod");
    let conf = "vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    virtual_ipaddress {
        10.99.4.100/24 dev eth0
    }
}
";
    let setpriv = [
        "setpriv",
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        "--inh-caps=-all,+net_admin,+net_raw",
        "--ambient-caps=+net_admin,+net_raw",
        "--bounding-set=-all,+net_admin,+net_raw",
    ];
    let mut d = Vrrpd::start_with(&lan.hosts[0], &dir, "nobody", conf, &setpriv);
    assert!(
        d.wait_for("Entering MASTER STATE", 1, Duration::from_secs(6)),
        "{}",
        d.log_text()
    );
    assert_eq!(
        d.status_field("Uid").unwrap_or_default(),
        "65534\t65534\t65534\t65534"
    );
    assert!(lan.hosts[0].has_addr("eth0", "10.99.4.100"));
    // A clean stop still removes the VIP without root.
    assert!(d.stop().is_some_and(|s| s.success()), "{}", d.log_text());
    assert!(!lan.hosts[0].has_addr("eth0", "10.99.4.100"));
}
