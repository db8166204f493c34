//! Self-healing (issue 7): the daemon follows what happens to the system under it. A VIP
//! deleted by hand comes back; links going down, up, away and back are followed; lost netlink
//! events (ENOBUFS) lead to a full re-read; reloads change nothing that did not change and a
//! broken one is refused; a healed partition ends with one master that re-announces itself.

mod common;

use std::fs;
use std::os::unix::fs::OpenOptionsExt;
use std::time::{Duration, Instant};

use common::{Daemon, Lab, Start, Topo, in_netns};

const SECS: fn(u64) -> Duration = Duration::from_secs;

/// vrrpd without debug logging: these tests count log lines, some under a flood.
const QUIET: Start = Start::QUIET;

/// Polls `check` every 20 ms until it holds or `limit` passes.
fn eventually(limit: Duration, check: impl FnMut() -> bool) -> bool {
    common::wait_until(limit, Duration::from_millis(20), check)
}

fn config(net: u8, state: &str, priority: u8, extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{
    state {state}
    interface eth0
    virtual_router_id 61
    priority {priority}
    advert_int 1
    version 2
    virtual_ipaddress {{
        10.99.{net}.100/24 dev eth0
    }}
    {extra}
}}
"
    )
}

/// One router alone on a LAN, master within a few seconds; `None` when the lab is skipped.
fn lone_master(tag: &str, net: u8) -> Option<(Lab, Daemon)> {
    let lab = Lab::with(tag, Topo::routers(1).net(net))?;
    let d = lab.vrrpd_with(1, &config(net, "MASTER", 150, ""), QUIET);
    assert!(
        d.wait_count("(VI_1) Entering MASTER STATE", 1, SECS(8)),
        "never master:\n{}",
        d.log()
    );
    let vip = format!("10.99.{net}.100");
    assert!(eventually(SECS(2), || lab.has_vip(1, &vip)));
    Some((lab, d))
}

#[test]
fn vip_deleted_by_hand_is_restored() {
    let Some((lab, d)) = lone_master("vhsa", 11) else {
        return;
    };
    for round in 1..=3 {
        lab.ip(1, &["addr", "del", "10.99.11.100/24", "dev", "eth0"]);
        assert!(
            eventually(SECS(3), || lab.has_vip(1, "10.99.11.100")),
            "round {round}: VIP not restored:\n{}",
            d.log()
        );
        assert!(d.wait_count("restoring it", round, SECS(2)));
    }
    assert_eq!(d.count("Entering MASTER STATE"), 1);
}

#[test]
fn link_down_up_delete_and_recreate_are_followed() {
    let Some((lab, d)) = lone_master("vhsb", 12) else {
        return;
    };
    let vip = "10.99.12.100";

    lab.ip(1, &["link", "set", "eth0", "down"]);
    assert!(
        d.wait_count("(VI_1) Entering FAULT STATE", 1, SECS(3)),
        "{}",
        d.log()
    );
    assert!(eventually(SECS(2), || !lab.has_vip(1, vip)));
    lab.ip(1, &["link", "set", "eth0", "up"]);
    assert!(
        d.wait_count("(VI_1) Entering MASTER STATE", 2, SECS(8)),
        "{}",
        d.log()
    );
    assert!(eventually(SECS(2), || lab.has_vip(1, vip)));

    // Delete the link (its veth peer on the switch takes it along), then make a new one.
    lab.disconnect(1);
    assert!(
        d.wait_count("(VI_1) Entering FAULT STATE", 2, SECS(3)),
        "{}",
        d.log()
    );
    lab.connect(1);
    assert!(
        d.wait_count("(VI_1) Entering MASTER STATE", 3, SECS(8)),
        "{}",
        d.log()
    );
    assert!(eventually(SECS(2), || lab.has_vip(1, vip)));
    // Adverts go out through the new link's socket.
    let tx = d.must_dump("VI_1").get("adverts_tx");
    std::thread::sleep(SECS(2));
    let after = d.must_dump("VI_1");
    assert_eq!(after.state, "MASTER");
    assert!(after.get("adverts_tx") > tx, "no adverts on the new link");
}

#[test]
fn lost_netlink_events_lead_to_a_full_reread() {
    let Some((lab, d)) = lone_master("vhsc", 13) else {
        return;
    };
    // A veth pair as a place for many addresses (the dummy driver may not be built).
    lab.ip(
        1,
        &[
            "link", "add", "dummy0", "type", "veth", "peer", "name", "dummy1",
        ],
    );
    // While the daemon sleeps, overfill its event queue, then take the VIP away: that event
    // is lost, and only a re-read can notice it.
    let batch = lab.path("addrs.batch");
    let lines: String = (0..3000)
        .map(|k| {
            format!(
                "addr add 10.99.{}.{}/32 dev dummy0\n",
                100 + k / 250,
                1 + k % 250
            )
        })
        .collect();
    fs::write(&batch, lines).expect("batch file");
    d.signal(libc::SIGSTOP);
    lab.ip(1, &["-batch", batch.to_str().expect("path")]);
    lab.ip(1, &["addr", "del", "10.99.13.100/24", "dev", "eth0"]);
    d.signal(libc::SIGCONT);
    assert!(
        d.wait_count("netlink event queue overflowed", 1, SECS(5)),
        "no overflow seen:\n{}",
        d.log()
    );
    assert!(
        eventually(SECS(3), || lab.has_vip(1, "10.99.13.100")),
        "VIP not restored after the re-read:\n{}",
        d.log()
    );
    assert_eq!(d.count("Entering MASTER STATE"), 1);
    assert_eq!(d.must_dump("VI_1").state, "MASTER");
}

#[test]
fn sighup_a_hundred_times_while_master_changes_nothing() {
    let Some((lab, d)) = lone_master("vhsd", 14) else {
        return;
    };
    let (_, fds_before) = d.resources();
    let transitions = d.count("Entering");
    for _ in 0..100 {
        d.signal(libc::SIGHUP);
        // Signals of one kind coalesce while pending: give each a moment to be taken.
        std::thread::sleep(Duration::from_millis(15));
        assert!(lab.has_vip(1, "10.99.14.100"), "VIP gone during reloads");
    }
    assert!(d.wait_count("Reloading configuration", 50, SECS(5)));
    std::thread::sleep(Duration::from_millis(500));
    eprintln!("{} reloads logged", d.count("Reloading configuration"));
    assert_eq!(d.count("Entering"), transitions, "{}", d.log());
    assert_eq!(d.count("removed or changed by the reload"), 0);
    assert_eq!(d.must_dump("VI_1").state, "MASTER");
    assert!(lab.has_vip(1, "10.99.14.100"));
    assert_eq!(d.resources().1, fds_before, "descriptors leaked by reloads");
}

#[test]
fn broken_reload_keeps_the_running_config() {
    let Some((lab, mut d)) = lone_master("vhse", 15) else {
        return;
    };
    let good = fs::read_to_string(d.conf_path()).expect("config");
    let transitions = d.count("Entering");
    fs::write(
        d.conf_path(),
        "vrrp_instance VI_1 {\n    priority 300\n    interface\n",
    )
    .expect("write");
    d.signal(libc::SIGHUP);
    assert!(d.wait_count("Reload failed", 1, SECS(3)), "{}", d.log());
    std::thread::sleep(SECS(1));
    assert_eq!(d.count("Entering"), transitions, "{}", d.log());
    assert_eq!(d.must_dump("VI_1").state, "MASTER");
    assert!(lab.has_vip(1, "10.99.15.100"));
    // The good file back: the reload goes through and still changes nothing.
    fs::write(d.conf_path(), good).expect("write");
    d.signal(libc::SIGHUP);
    assert!(d.wait_count("Reloading configuration", 2, SECS(3)));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(d.count("Reload failed"), 1);
    assert_eq!(d.count("Entering"), transitions, "{}", d.log());
    assert!(d.running());
}

/// Gratuitous ARPs for `vip` seen in namespace `ns`, with the time and sender MAC.
fn watch_garps(
    ns: &str,
    vip: std::net::Ipv4Addr,
    until: Instant,
) -> std::thread::JoinHandle<Vec<(Instant, [u8; 6])>> {
    in_netns(ns, move || {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        let proto = (libc::ETH_P_ARP as u16).to_be();
        // SAFETY: socket(2) with integer arguments.
        let fd = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK,
                libc::c_int::from(proto),
            )
        };
        assert!(fd >= 0, "packet socket");
        // SAFETY: a descriptor we just got and own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut seen = Vec::new();
        let mut buf = [0u8; 256];
        while Instant::now() < until {
            let mut pfd = libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one live pollfd.
            unsafe { libc::poll(&mut pfd, 1, 100) };
            loop {
                // SAFETY: recv into our own buffer of the given length.
                let n =
                    unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
                if n <= 0 {
                    break;
                }
                if let Ok(g) = vrrpd::wire::arp::Repr::parse(&buf[..n as usize]) {
                    if g.ip == vip {
                        seen.push((Instant::now(), g.sender_mac));
                    }
                }
            }
        }
        seen
    })
}

fn mac(lab: &Lab, i: usize) -> [u8; 6] {
    let out = lab.ip(i, &["-o", "link", "show", "eth0"]);
    let text = out
        .split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let mut m = [0u8; 6];
    for (b, h) in m.iter_mut().zip(text.split(':')) {
        *b = u8::from_str_radix(h, 16).unwrap_or(0);
    }
    m
}

/// Two routers, split and joined again: the partition makes two masters, the heal one, and
/// the one that stays master sends fresh gratuitous ARPs after the heal.
fn partition_heal(tag: &str, net: u8, prio_a: u8, prio_b: u8) {
    // Routers: 1 = A (.11), 2 = B (.12), 3 = an observer for gratuitous ARPs.
    let Some(lab) = Lab::with(tag, Topo::routers(3).net(net)) else {
        return;
    };
    let vip: std::net::Ipv4Addr = format!("10.99.{net}.100").parse().expect("vip");
    let vip_s = vip.to_string();
    let a = lab.vrrpd_with(1, &config(net, "BACKUP", prio_a, ""), QUIET);
    let b = lab.vrrpd_with(2, &config(net, "BACKUP", prio_b, ""), QUIET);
    let routers = [&a, &b];
    let states = || routers.map(|r| r.must_dump("VI_1").state);
    // Signals sent before vrrpd has blocked them would kill it: wait until it runs.
    for r in routers {
        assert!(
            r.wait_count("Entering BACKUP STATE", 1, SECS(5)),
            "{}",
            r.log()
        );
    }
    // With equal priorities both may time out together; a master then yields to a higher
    // address. A backup accepts an equal master, so the first master can be either.
    assert!(
        eventually(SECS(12), || {
            // Each look is a SIGUSR1 dump in the logs: not too many.
            std::thread::sleep(Duration::from_millis(200));
            let s = states();
            s.contains(&"MASTER".to_string()) && s.contains(&"BACKUP".to_string())
        }),
        "no election:\n{}\n---\n{}",
        a.log(),
        b.log()
    );
    let cut = if states()[0] == "MASTER" { 1 } else { 0 };
    let cut_masters = routers[cut].count("Entering MASTER STATE");

    // Index `cut` among [A, B] is router cut + 1.
    lab.isolate(cut + 1, true);
    assert!(
        routers[cut].wait_count("Entering MASTER STATE", cut_masters + 1, SECS(8)),
        "the cut-off router never took over:\n{}",
        routers[cut].log()
    );
    assert!(lab.has_vip(1, &vip_s) && lab.has_vip(2, &vip_s));

    // After the heal the higher priority wins, or with equal ones the higher address (B).
    let (wk, lk) = if prio_a > prio_b { (0, 1) } else { (1, 0) };
    let (win, lose) = (routers[wk], routers[lk]);
    let win_masters = win.count("Entering MASTER STATE");
    let lose_backups = lose.count("Entering BACKUP STATE");
    let garps = watch_garps(&lab.ns(3), vip, Instant::now() + SECS(6));
    std::thread::sleep(Duration::from_millis(300));
    let healed = Instant::now();
    lab.isolate(cut + 1, false);
    assert!(
        lose.wait_count("Entering BACKUP STATE", lose_backups + 1, SECS(5)),
        "two masters after the heal: {:?} {:?}\n{}\n---\n{}",
        a.dump("VI_1"),
        b.dump("VI_1"),
        a.log(),
        b.log()
    );
    assert!(eventually(SECS(2), || !lab.has_vip(lk + 1, &vip_s)));
    assert!(lab.has_vip(wk + 1, &vip_s));
    assert_eq!(
        win.count("Entering MASTER STATE"),
        win_masters,
        "{}",
        win.log()
    );
    assert_eq!(win.must_dump("VI_1").state, "MASTER");
    assert_eq!(lose.must_dump("VI_1").state, "BACKUP");

    // The winner re-announced the VIP after the heal, so ARP caches that followed the other
    // side's announcements come back.
    let seen = garps.join().expect("observer");
    let win_mac = mac(&lab, wk + 1);
    assert!(
        seen.iter().any(|(t, m)| *t >= healed && *m == win_mac),
        "no gratuitous ARP from the winner after the heal: {seen:?}\n{}",
        win.log()
    );
}

#[test]
fn partition_heal_higher_priority_wins() {
    partition_heal("vhsf", 16, 200, 100);
}

#[test]
fn partition_heal_equal_priority_higher_address_wins() {
    partition_heal("vhsg", 17, 100, 100);
}

/// Issue 10 item 5: with stderr a pipe whose reader has died, every log line fails with EPIPE.
/// Losing the lines is fine; dying is not: SIGTERM must still send priority 0 and remove the VIP.
#[test]
fn dead_log_pipe_does_not_stop_a_clean_shutdown() {
    let Some(lab) = Lab::with("bsp", Topo::routers(1).net(41)) else {
        return;
    };
    // stderr into a pipe whose reader takes one byte and exits; `exec` keeps vrrpd's PID.
    let wrapper = [
        "bash",
        "-c",
        "exec \"$@\" 2> >(exec head -c 1 >/dev/null)",
        "bash",
    ];
    let how = Start {
        wrapper: &wrapper,
        ..QUIET
    };
    let mut d = lab.vrrpd_with(1, &config(41, "MASTER", 150, ""), how);
    let vip = "10.99.41.100";
    assert!(eventually(SECS(8), || lab.has_vip(1, vip)), "never master");
    std::thread::sleep(Duration::from_millis(300));
    // A state dump writes lines into the dead pipe.
    d.usr1();
    std::thread::sleep(Duration::from_millis(300));
    let cap = lab.capture("vrrp", SECS(30));
    let status = d.stop_within(SECS(5));
    let pcap = cap.stop();
    let goodbyes = common::tshark_fields(&pcap, "vrrp.prio == 0", &["ip.src"]).len();
    let still = lab.has_vip(1, vip);
    assert!(
        status.is_some_and(|s| s.success()) && goodbyes >= 1 && !still,
        "after a dump and SIGTERM with a dead log pipe: exit {status:?}, {goodbyes} priority-0 adverts, \
         VIP still there: {still}"
    );
}

/// Issue 10 item 8: a router with many links (VLANs, PPPoE, WireGuard). The instance's link, its
/// tracked link and a VIP's device are the last of 600, each with an address, so they come
/// after the 256th entry of both the link and the address dump (veth pairs, whose other ends
/// make 600 more links: the dummy module is not in every kernel). They must be found all the
/// same: a stale VIP removed, master on the link, the tracked link followed.
#[test]
fn six_hundred_links_the_watched_ones_last() {
    let Some(lab) = Lab::with("bml", Topo::routers(1).net(42)) else {
        return;
    };
    const N: usize = 600;
    let mut cmds = String::new();
    for k in 0..N {
        let (hi, lo) = (100 + k / 250, 1 + k % 250);
        cmds += &format!("link add d{k} type veth peer name p{k}\n");
        cmds += &format!("link set d{k} up\nlink set p{k} up\n");
        cmds += &format!("addr add 10.99.{hi}.{lo}/32 dev d{k}\n");
    }
    let batch = lab.write("many-links.ip", &cmds);
    lab.ip(1, &["-batch", &batch.display().to_string()]);
    // A VIP left on d597 by an earlier run that was killed.
    lab.ip(1, &["addr", "add", "10.99.44.101/24", "dev", "d597"]);
    let conf = "vrrp_instance VI_1 {
    state BACKUP
    interface d599
    virtual_router_id 62
    priority 100
    advert_int 1
    track_interface {
        d598
    }
    virtual_ipaddress {
        10.99.44.100/24
        10.99.44.101/24 dev d597
    }
}
";
    let d = lab.vrrpd_with(1, conf, QUIET);
    let start = Instant::now();
    let stale_gone = eventually(SECS(3), || !lab.has_addr(1, "d597", "10.99.44.101"));
    let stale_after = start.elapsed();
    let master = d.wait_count("(VI_1) Entering MASTER STATE", 1, SECS(8))
        && eventually(SECS(2), || {
            lab.has_addr(1, "d599", "10.99.44.100") && lab.has_addr(1, "d597", "10.99.44.101")
        });
    let absent = d.count("no such interface");
    assert!(
        stale_gone && master && absent == 0,
        "{N} links: stale VIP removed {stale_gone} (after {stale_after:?}), master with both \
         VIPs {master}, 'no such interface' logged {absent} times:\n{}",
        d.log()
    );
    // The tracked link, far down the table, is followed both ways.
    lab.ip(1, &["link", "set", "d598", "down"]);
    let fault = d.wait_count("(VI_1) Entering FAULT STATE", 1, SECS(3))
        && eventually(SECS(2), || !lab.has_addr(1, "d599", "10.99.44.100"));
    lab.ip(1, &["link", "set", "d598", "up"]);
    let back = d.wait_count("(VI_1) Entering MASTER STATE", 2, SECS(8));
    assert!(
        fault && back,
        "tracked d598: fault {fault}, back {back}:\n{}",
        d.log()
    );
}

/// Issue 10 item 2, end to end: a reload whose config includes a FIFO (nobody writes to it) must
/// not stop the loop. It is refused with the include's file:line, the master keeps sending,
/// and SIGTERM still stops it cleanly.
#[test]
fn reload_with_a_fifo_include_does_not_hang() {
    let Some((lab, mut d)) = lone_master("bsf", 43) else {
        return;
    };
    let fifo = lab.path("pipe.conf");
    let c = std::ffi::CString::new(fifo.display().to_string()).expect("path");
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    let good = fs::read_to_string(d.conf_path()).expect("config");
    fs::write(d.conf_path(), format!("include {}\n{good}", fifo.display())).expect("write");
    let start = Instant::now();
    d.signal(libc::SIGHUP);
    let refused = d.wait_count("Reload failed", 1, SECS(3));
    let took = start.elapsed();
    // A stuck loop answers no SIGUSR1: no dump is a figure too.
    let tx = d.dump("VI_1").map(|x| x.get("adverts_tx"));
    std::thread::sleep(SECS(2));
    let later = d.dump("VI_1").map(|x| x.get("adverts_tx"));
    let stopped = d.stop_within(SECS(5)).is_some_and(|s| s.success());
    // A writer frees a reader stuck in open(2), should the daemon be one; without a reader
    // the non-blocking open just fails.
    let _ = fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo);
    assert!(
        refused && later > tx && tx.is_some() && stopped,
        "reload with a FIFO include: refused {refused} after {took:?}, adverts sent \
         {tx:?} -> {later:?} (state dumps), clean stop {stopped}:\n{}",
        d.log()
    );
    assert!(
        d.log().contains("a FIFO, not a regular file"),
        "{}",
        d.log()
    );
    assert!(!lab.has_vip(1, "10.99.43.100"));
}

/// Issue 10 item 1: a master whose own address is deleted (the kernel takes the same-subnet VIP
/// with it) cannot send adverts. It must go to FAULT and let the VIP go, so the backup alone
/// holds it, and come back by itself when the address returns.
#[test]
fn master_without_its_own_address_faults_and_recovers() {
    let Some(lab) = Lab::with("ahsa", Topo::routers(2).net(18)) else {
        return;
    };
    let vip = "10.99.18.100";
    let a = lab.vrrpd_with(1, &config(18, "BACKUP", 150, ""), QUIET);
    let b = lab.vrrpd_with(2, &config(18, "BACKUP", 100, ""), QUIET);
    assert!(
        a.wait_count("(VI_1) Entering MASTER STATE", 1, SECS(10))
            && b.wait_count("(VI_1) Entering BACKUP STATE", 1, SECS(5)),
        "no election:\n{}\n---\n{}",
        a.log(),
        b.log()
    );
    assert!(lab.wait_master(vip, 1, SECS(3)));

    lab.ip(1, &["addr", "del", "10.99.18.11/24", "dev", "eth0"]);
    // For 6 s (the backup's Master_Down_Interval and then some), sample who holds the VIP:
    // never both.
    let mut both = 0;
    let mut samples = 0;
    let end = Instant::now() + SECS(6);
    while Instant::now() < end {
        let h = lab.holders(vip);
        samples += 1;
        both += usize::from(h == [1, 2]);
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        both,
        0,
        "both routers held the VIP in {both} of {samples} samples:\n{}\n---\n{}",
        a.log(),
        b.log()
    );
    assert_eq!(lab.holders(vip), [2], "the backup did not take over");
    assert_eq!(a.count("(VI_1) Entering FAULT STATE"), 1, "{}", a.log());
    assert_eq!(a.count("No address of its own"), 1, "{}", a.log());
    assert_eq!(a.must_dump("VI_1").state, "FAULT");

    // The address back: A leaves FAULT, listens, and preempts the lower-priority B.
    lab.ip(1, &["addr", "add", "10.99.18.11/24", "dev", "eth0"]);
    assert!(
        a.wait_count("(VI_1) Entering MASTER STATE", 2, SECS(8)),
        "A did not come back:\n{}",
        a.log()
    );
    assert!(
        lab.wait_master(vip, 1, SECS(3)),
        "holders {:?}",
        lab.holders(vip)
    );
    assert_eq!(b.must_dump("VI_1").state, "BACKUP");
}

/// Addresses added (true) and removed (false) in namespace `ns` until `until`, from the
/// kernel's own events: a VIP removed and put back within a millisecond shows up here, where
/// sampling `ip addr` would miss it.
fn watch_addrs(
    ns: &str,
    until: Instant,
) -> std::thread::JoinHandle<Vec<(bool, std::net::Ipv4Addr)>> {
    in_netns(ns, move || {
        use std::os::fd::AsRawFd;
        use vrrpd::sys::netlink::{Event, Monitor};
        let mut mon = Monitor::open().expect("netlink monitor");
        let mut seen = Vec::new();
        while Instant::now() < until {
            let mut pfd = libc::pollfd {
                fd: mon.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one live pollfd.
            unsafe { libc::poll(&mut pfd, 1, 50) };
            // IPv4 only: the monitor reports IPv6 addresses too (link-locals coming and going).
            let _ = mon.recv(&mut |ev| match ev {
                Event::AddrAdded(a) => {
                    if let std::net::IpAddr::V4(v4) = a.addr {
                        seen.push((true, v4));
                    }
                }
                Event::AddrRemoved(a) => {
                    if let std::net::IpAddr::V4(v4) = a.addr {
                        seen.push((false, v4));
                    }
                }
                _ => {}
            });
        }
        seen
    })
}

fn config_vips(net: u8, priority: u8, hosts: &[u8]) -> String {
    let vips: String = hosts
        .iter()
        .map(|h| format!("        10.99.{net}.{h}/24 dev eth0\n"))
        .collect();
    format!(
        "vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 62
    priority {priority}
    advert_int 1
    version 2
    virtual_ipaddress {{
{vips}    }}
}}
"
    )
}

/// Issue 10 item 3: a routine edit (priority 150→140, one VIP added and one removed) is applied
/// in place: no transition, the VIP that stays never leaves the kernel, only the difference is
/// added and removed, and the new priority is advertised at once. A later edit that makes the
/// backup the better router moves the master by the RFC's rules (preemption).
#[test]
fn reload_applies_priority_and_vip_changes_in_place() {
    let Some(lab) = Lab::with("ahsb", Topo::routers(2).net(19)) else {
        return;
    };
    let a = lab.vrrpd_with(1, &config_vips(19, 150, &[100, 102]), QUIET);
    let b = lab.vrrpd_with(2, &config_vips(19, 100, &[100, 102]), QUIET);
    assert!(
        a.wait_count("(VI_1) Entering MASTER STATE", 1, SECS(10))
            && b.wait_count("(VI_1) Entering BACKUP STATE", 1, SECS(5)),
        "no election:\n{}\n---\n{}",
        a.log(),
        b.log()
    );
    assert!(lab.wait_master("10.99.19.102", 1, SECS(3)));
    let transitions = (a.count("Entering"), b.count("Entering"));

    let until = Instant::now() + SECS(4);
    let events = watch_addrs(&lab.ns(1), until);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let heard = common::listen(&lab.ns(2), "eth0", "10.99.19.11".parse().expect("ip"), {
        let stop = stop.clone();
        move || stop.load(std::sync::atomic::Ordering::Relaxed)
    });
    std::thread::sleep(Duration::from_millis(300));
    // The backup first (it only compares address lists), then the master.
    fs::write(b.conf_path(), config_vips(19, 100, &[100, 101])).expect("write");
    b.signal(libc::SIGHUP);
    assert!(b.wait_count("Reloading configuration", 1, SECS(3)));
    std::thread::sleep(Duration::from_millis(200));
    fs::write(a.conf_path(), config_vips(19, 140, &[100, 101])).expect("write");
    let hup = Instant::now();
    a.signal(libc::SIGHUP);
    assert!(a.wait_count("Reloading configuration", 1, SECS(3)));
    let events = events.join().expect("address watcher");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let heard = heard.join().expect("listener");

    let vip = |h: u8| -> std::net::Ipv4Addr { format!("10.99.19.{h}").parse().expect("ip") };
    let first_140 = heard
        .iter()
        .find(|h| h.vrid == Some(62) && h.priority == Some(140))
        .map(|h| h.at.saturating_duration_since(hup));
    assert!(
        events.iter().all(|&(_, a)| a != vip(100)),
        "the kept VIP was touched: {events:?}\n{}",
        a.log()
    );
    assert_eq!(
        events,
        [(false, vip(102)), (true, vip(101))],
        "only the difference touches the kernel\n{}",
        a.log()
    );
    assert!(
        first_140.is_some_and(|d| d < Duration::from_millis(500)),
        "priority 140 first heard {first_140:?} after the SIGHUP\n{}",
        a.log()
    );
    eprintln!("priority 140 heard {first_140:?} after the SIGHUP");
    assert_eq!(
        (a.count("Entering"), b.count("Entering")),
        transitions,
        "a reload made a transition:\n{}\n---\n{}",
        a.log(),
        b.log()
    );
    assert_eq!(a.count("applied in place"), 1, "{}", a.log());
    assert_eq!(lab.holders("10.99.19.100"), [1]);
    assert_eq!(lab.holders("10.99.19.101"), [1]);
    assert_eq!(lab.holders("10.99.19.102"), Vec::<usize>::new());

    // The master now below the backup: the backup preempts it after Master_Down_Interval.
    fs::write(a.conf_path(), config_vips(19, 90, &[100, 101])).expect("write");
    a.signal(libc::SIGHUP);
    assert!(
        b.wait_count("(VI_1) Entering MASTER STATE", 1, SECS(6)),
        "the backup did not preempt a master at 90:\n{}\n---\n{}",
        a.log(),
        b.log()
    );
    assert!(
        a.wait_count("(VI_1) Entering BACKUP STATE", 2, SECS(3)),
        "{}",
        a.log()
    );
    assert!(lab.wait_master("10.99.19.100", 2, SECS(3)));

    // Another version is another virtual router: A's instance is stopped and started again (and
    // its claim on eth0/VRID 62 passes from the old instance to the new one).
    let backups = a.count("(VI_1) Entering BACKUP STATE");
    let v3 = config_vips(19, 90, &[100, 101]).replace("version 2", "version 3");
    fs::write(a.conf_path(), v3).expect("write");
    a.signal(libc::SIGHUP);
    assert!(
        a.wait_count("(VI_1) Entering BACKUP STATE", backups + 1, SECS(3)),
        "{}",
        a.log()
    );
    assert_eq!(a.count("removed or changed by the reload: stopping it"), 1);
    assert_eq!(a.count("not started"), 0, "{}", a.log());
}

/// VRID `k`'s advert interval in the 255-instance test: 0.2 s to 1 s, so that the instances'
/// adverts drift apart and some always fall due while a reload runs.
fn interval_255(k: u8) -> Duration {
    Duration::from_millis(200 * (u64::from(k) % 5 + 1))
}

/// 255 VRRPv3 instances, one VIP each (10.99.120.k/32 for VRID k), all at `priority`.
fn config_255(priority: u8) -> String {
    (1..=255u8)
        .map(|k| {
            format!(
                "vrrp_instance VI_{k} {{
    state BACKUP
    interface eth0
    virtual_router_id {k}
    priority {priority}
    advert_int {:.1}
    version 3
    virtual_ipaddress {{
        10.99.120.{k}/32 dev eth0
    }}
}}
",
                interval_255(k).as_secs_f64()
            )
        })
        .collect()
}

/// The worst lateness of an advert between `from` and `to`: the longest gap between two adverts
/// of one virtual router less its interval, and that router's VRID.
fn worst_lateness(heard: &[common::Heard], from: Instant, to: Instant) -> (Duration, u8) {
    let mut last: [Option<Instant>; 256] = [None; 256];
    let mut worst = (Duration::ZERO, 0);
    for h in heard.iter().filter(|h| h.at >= from && h.at <= to) {
        let Some(v) = h.vrid else { continue };
        if let Some(prev) = last[usize::from(v)] {
            let late = (h.at - prev).saturating_sub(interval_255(v));
            if late > worst.0 {
                worst = (late, v);
            }
        }
        last[usize::from(v)] = Some(h.at);
    }
    worst
}

/// Issue 10 item 3: reading and checking a new configuration of 255 instances, and applying a
/// priority change to all of them, must not hold up the adverts that fall due meanwhile by more
/// than a few milliseconds (and must not restart anything).
#[test]
fn reloads_of_255_instances_do_not_delay_adverts() {
    let Some(lab) = Lab::with("ahsc", Topo::routers(2).net(20)) else {
        return;
    };
    let d = lab.vrrpd_with(1, &config_255(200), QUIET);
    assert!(
        d.wait_count("Entering MASTER STATE", 255, SECS(15)),
        "not all master:\n{}",
        common::tail(&d.log(), 40)
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let heard = common::listen(&lab.ns(2), "eth0", "10.99.20.11".parse().expect("ip"), {
        let stop = stop.clone();
        move || stop.load(std::sync::atomic::Ordering::Relaxed)
    });
    // A quiet spell first: how punctual adverts are on this machine without reloads.
    std::thread::sleep(SECS(3));
    let reloads_from = Instant::now();
    for round in 0..6 {
        if round == 3 {
            fs::write(d.conf_path(), config_255(190)).expect("write");
        }
        d.signal(libc::SIGHUP);
        assert!(
            d.wait_count("Reloading configuration", round + 1, SECS(3)),
            "reload {round} did not finish:\n{}",
            common::tail(&d.log(), 40)
        );
        std::thread::sleep(Duration::from_millis(700));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let reloads_to = Instant::now();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let heard = heard.join().expect("listener");

    let log = d.log();
    let took: Vec<f64> = log
        .lines()
        .filter_map(|l| {
            l.split("Reloaded in ")
                .nth(1)?
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .collect();
    let reading: Vec<f64> = log
        .lines()
        .filter_map(|l| {
            l.split("(reading and checking ")
                .nth(1)?
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .collect();
    let longest = took.iter().copied().fold(0.0, f64::max);
    let (quiet, _) = worst_lateness(&heard, reloads_from - SECS(3), reloads_from);
    let (late, vrid) = worst_lateness(&heard, reloads_from, reloads_to);
    let figures = format!(
        "reloads took {took:?} ms, of which reading and checking {reading:?} ms; worst advert lateness {late:?} (VRID {vrid}) across reloads, \
         {quiet:?} in the quiet spell before"
    );
    eprintln!("{figures}");
    assert_eq!(
        d.count("Entering"),
        255 * 2,
        "{figures}\n{}",
        common::tail(&log, 40)
    );
    let all_190 = (1..=255u8).all(|v| {
        heard
            .iter()
            .any(|h| h.vrid == Some(v) && h.priority == Some(190))
    });
    assert!(
        all_190,
        "not every instance advertised priority 190: {figures}"
    );
    // Generous bounds for a shared 2-core machine; the figures say what it really was.
    assert!(
        late < quiet + Duration::from_millis(100),
        "adverts held up by reloads: {figures}"
    );
    assert!(
        longest < 250.0,
        "a reload held the loop too long: {figures}"
    );
}

fn config_auth(priority: u8, pass: &str, advert_int: u8, notify_master: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 63
    priority {priority}
    advert_int {advert_int}
    version 2
    authentication {{
        auth_type PASS
        auth_pass {pass}
    }}
    {notify_master}
    virtual_ipaddress {{
        10.99.21.100/24 dev eth0
    }}
}}
"
    )
}

/// Issue 10 item 3: auth, advert_int and notify commands change in place too. Both routers move
/// to a new password and a 2 s interval without a transition; then the backup, with a
/// notify_master it did not have at start, takes over and runs it.
#[test]
fn reload_applies_auth_interval_and_notify_in_place() {
    let Some(lab) = Lab::with("ahsd", Topo::routers(2).net(21)) else {
        return;
    };
    let a = lab.vrrpd_with(1, &config_auth(150, "one", 1, ""), QUIET);
    let b = lab.vrrpd_with(2, &config_auth(100, "one", 1, ""), QUIET);
    assert!(
        a.wait_count("(VI_1) Entering MASTER STATE", 1, SECS(10))
            && b.wait_count("(VI_1) Entering BACKUP STATE", 1, SECS(5)),
        "no election:\n{}\n---\n{}",
        a.log(),
        b.log()
    );
    let transitions = (a.count("Entering"), b.count("Entering"));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let heard = common::listen(&lab.ns(2), "eth0", "10.99.21.11".parse().expect("ip"), {
        let stop = stop.clone();
        move || stop.load(std::sync::atomic::Ordering::Relaxed)
    });
    let marker = lab.path("b-became-master");
    let script = lab.script(
        "notify/master.sh",
        &format!("#!/bin/sh\necho \"$@\" > {}\n", marker.display()),
    );
    let notify = format!("notify_master {}", script.display());
    // Backup first: a master's adverts with the new password would otherwise be dropped.
    fs::write(b.conf_path(), config_auth(100, "two", 2, &notify)).expect("write");
    b.signal(libc::SIGHUP);
    assert!(b.wait_count("applied in place", 1, SECS(3)), "{}", b.log());
    fs::write(a.conf_path(), config_auth(150, "two", 2, "")).expect("write");
    a.signal(libc::SIGHUP);
    assert!(a.wait_count("applied in place", 1, SECS(3)), "{}", a.log());
    let settled = Instant::now();
    let auth_drops = b.must_dump("VI_1").get("auth");
    // Longer than the backup's new Master_Down_Interval (6.6 s) would be, if it had lost the
    // master: the adverts must keep coming, with the new password, every 2 s.
    std::thread::sleep(SECS(8));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let times: Vec<Instant> = heard
        .join()
        .expect("listener")
        .into_iter()
        .filter(|h| h.vrid == Some(63) && h.at > settled + SECS(1))
        .map(|h| h.at)
        .collect();
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(
        (a.count("Entering"), b.count("Entering")),
        transitions,
        "a reload made a transition (advert gaps {gaps:?}):\n{}\n---\n{}",
        a.log(),
        b.log()
    );
    assert!(
        gaps.len() >= 2
            && gaps
                .iter()
                .all(|g| *g > Duration::from_millis(1800) && *g < Duration::from_millis(2500)),
        "adverts not at the new 2 s interval: {gaps:?}"
    );
    assert_eq!(
        b.must_dump("VI_1").get("auth"),
        auth_drops,
        "the backup dropped adverts with the new password"
    );

    // The master steps down (priority below B's): B takes over and runs its new notify_master.
    fs::write(a.conf_path(), config_auth(50, "two", 2, "")).expect("write");
    a.signal(libc::SIGHUP);
    assert!(
        b.wait_count("(VI_1) Entering MASTER STATE", 1, SECS(10)),
        "{}",
        b.log()
    );
    assert!(
        eventually(SECS(3), || marker.exists()),
        "the notify_master added by the reload did not run:\n{}",
        b.log()
    );
}
