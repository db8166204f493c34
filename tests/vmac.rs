//! The virtual MAC (`use_vmac`) in network namespaces: the master holds the VIP on a macvlan
//! with 00:00:5e:00:01:VRID, a client keeps that MAC for the gateway across a failover without
//! any gratuitous ARP (they are dropped on the bridge), a backup sends nothing from the virtual
//! MAC, and the macvlan's life follows the daemon's (start, kill -9, hand deletion, parent down
//! or away, reload, stop).

mod common;

use common::*;
use std::time::Duration;

const S: Duration = Duration::from_secs(1);
const VMAC: &str = "00:00:5e:00:01:33";

/// VI_1 (VRRPv3, 0.1 s, VRID 51) with `use_vmac` and the extra lines `more`. The VIP names no
/// `dev`, so keepalived too puts it on the macvlan.
fn vmac_conf(priority: u8, more: &str) -> String {
    vi_vmac_conf(&Vi::v3(priority), more)
}

fn vi_vmac_conf(vi: &Vi, more: &str) -> String {
    conf(std::slice::from_ref(vi))
        .replace(
            "    interface eth0\n",
            &format!("    interface eth0\n    use_vmac\n{more}"),
        )
        .replace(" dev eth0", "")
}

/// `ip -d link show dev vrrp.51` in router `i`, or None if there is no such link.
fn vmac_link(lab: &Lab, i: usize) -> Option<String> {
    let r = lab.try_ip(i, &["-d", "link", "show", "dev", "vrrp.51"]);
    r.ok().then_some(r.stdout)
}

fn ifindex(link: &str) -> String {
    link.split(':').next().unwrap_or("").trim().to_string()
}

fn holds_vip_on_vmac(lab: &Lab, i: usize) -> bool {
    lab.has_addr(i, "vrrp.51", VIP)
}

/// What the IPv4 and IPv6 cases differ in: VI_1 holds 10.99.0.100 on a macvlan with
/// 00:00:5e:00:01:33, VI_6 holds fd99::100 (after fe80::1:100) on one with 00:00:5e:00:02:33;
/// the switch's nft table (`filter_switch`) is `vm` or `vm6`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fam {
    af: Af,
    vmac: &'static str,
    /// The VIP the client uses.
    vip: &'static str,
    instance: &'static str,
    table: &'static str,
    /// The switch's counter of the VIP's announcements.
    announced: &'static str,
}

const V4: Fam = Fam {
    af: Af::V4,
    vmac: VMAC,
    vip: VIP,
    instance: "VI_1",
    table: "vm",
    announced: "garp",
};

const V6: Fam = Fam {
    af: Af::V6,
    vmac: VMAC6,
    vip: VIP6,
    instance: "VI_6",
    table: "vm6",
    announced: "una",
};

impl Fam {
    /// The family's instance (0.1 s adverts) with use_vmac and the extra lines `more`.
    fn conf(self, priority: u8, more: &str) -> String {
        match self.af {
            Af::V4 => vmac_conf(priority, more),
            Af::V6 => vmac6_conf(priority, more),
        }
    }

    /// True if router `i` holds the VIP on its macvlan.
    fn holds(self, lab: &Lab, i: usize) -> bool {
        match self.af {
            Af::V4 => holds_vip_on_vmac(lab, i),
            Af::V6 => holds_vip6_on_vmac(lab, i),
        }
    }

    fn reach(self, lab: &Lab) -> bool {
        reach(lab, self.vip)
    }

    /// The client reaches the VIP, and so resolves it (over IPv6 it first gets an address).
    fn client_learns(self, lab: &Lab) -> bool {
        if self.af == Af::V6 {
            lab.add_client6();
        }
        self.reach(lab)
    }

    /// The MAC the client has for the VIP.
    fn neigh(self, lab: &Lab) -> Option<String> {
        lab.client_neigh(self.vip)
    }
}

/// Counts per port the frames with the virtual MAC as source, and counts the announcements
/// of the VIP on the bridge (`garp`: gratuitous ARPs, sender and target both the VIP; `una`:
/// unsolicited neighbour adverts, to all nodes), dropping them before the bridge learns from
/// them if `drop`.
fn filter_switch(lab: &Lab, fam: Fam, drop: bool) {
    let (table, vmac, counter) = (fam.table, fam.vmac, fam.announced);
    let announcement = match fam.af {
        Af::V4 => format!("ether type arp arp saddr ip {VIP} arp daddr ip {VIP}"),
        Af::V6 => "ip6 daddr ff02::1 icmpv6 type nd-neighbor-advert".to_string(),
    };
    let verdict = if drop { "drop" } else { "accept" };
    let rules = format!(
        "table bridge {table} {{\n\
         \x20 counter {counter} {{ }}\n\
         \x20 counter from_p1 {{ }}\n\
         \x20 counter from_p2 {{ }}\n\
         \x20 chain pre {{\n\
         \x20   type filter hook prerouting priority -200; policy accept;\n\
         \x20   iifname \"p1\" ether saddr {vmac} counter name from_p1\n\
         \x20   iifname \"p2\" ether saddr {vmac} counter name from_p2\n\
         \x20   {announcement} counter name {counter} {verdict}\n\
         \x20 }}\n\
         }}\n"
    );
    lab.sw_nft(&rules);
}

/// The client reaches `vip`: a TCP connection to a closed port is refused by whoever holds it
/// (no ping on a minimal host, and an answer either way proves the path both ways).
fn reach(lab: &Lab, vip: &str) -> bool {
    let Ok(ip) = vip.parse::<std::net::IpAddr>() else {
        return false;
    };
    let to = std::net::SocketAddr::new(ip, 9);
    in_netns(
        &lab.client_ns(),
        move || match std::net::TcpStream::connect_timeout(&to, S) {
            Ok(_) => true,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionRefused,
        },
    )
    .join()
    .unwrap_or(false)
}

/// Router `i`, alone with `priority`, holds the VIP on its macvlan within its
/// Master_Down_Interval and the margins (`d` is its daemon).
fn wait_holder(lab: &Lab, fam: Fam, i: usize, priority: u8, d: &Daemon) {
    let ok = wait_until(Vi::v3(priority).master_down() + 2 * MARGIN, S / 20, || {
        fam.holds(lab, i)
    });
    assert!(ok, "{}", describe(d));
}

/// While r2 is master, r1 starts with `conf` (priority 150) and preempts it: r1 alone holds
/// the VIP, and r2 is backup again.
fn preempts(lab: &Lab, fam: Fam, conf: &str, d2: &Daemon) -> Daemon {
    let d1 = lab.vrrpd(1, conf);
    let ok = wait_until(Vi::v3(150).master_down() + 2 * MARGIN, S / 20, || {
        fam.holds(lab, 1) && !fam.holds(lab, 2)
    });
    assert!(ok, "{}\n{}", describe(&d1), describe(d2));
    let backup = format!("({}) Entering BACKUP STATE", fam.instance);
    assert!(d2.wait_log(&backup, S), "{}", describe(d2));
    d1
}

/// r1 (priority 150) starts alone and holds the VIP on its macvlan, then r2 (100) starts and
/// is backup; `kind(i)` runs on router `i`.
fn start_pair(lab: &Lab, fam: Fam, kind: impl Fn(usize) -> Kind) -> (Daemon, Daemon) {
    let d1 = lab.daemon(kind(1), 1, &fam.conf(150, ""));
    wait_holder(lab, fam, 1, 150, &d1);
    let d2 = lab.daemon(kind(2), 2, &fam.conf(100, ""));
    let backup = format!("({}) Entering BACKUP STATE", fam.instance);
    assert!(d2.wait_log(&backup, 5 * S), "{}", describe(&d2));
    (d1, d2)
}

/// The master, r1, dies. A killed daemon cannot take its macvlan down, so its host still
/// answers for the VIP: the switch drops whatever r1 sends too, as when the box itself dies.
/// Its port stays up, so the bridge keeps the virtual MAC on it until r2 sends from the
/// virtual MAC (dropped frames teach the bridge nothing). r2 takes over; no announcement
/// reaches anyone (`filter_switch` drops them), yet the client still has (and reaches) the
/// virtual MAC, now at r2: its adverts from the macvlan taught the bridge where it is.
fn master_dies(lab: &Lab, fam: Fam, d1: &mut Daemon, d2: &Daemon) {
    d1.kill9();
    lab.sw_nft(&format!(
        "add rule bridge {} pre iifname \"p1\" drop\n",
        fam.table
    ));
    let announced = lab.sw_counter(fam.table, fam.announced);
    let ok = wait_until(Vi::v3(100).master_down() + MARGIN, S / 20, || {
        fam.holds(lab, 2)
    });
    assert!(ok, "{}", describe(d2));
    assert!(
        wait_until(3 * S, S / 10, || fam.reach(lab)),
        "{}\n{}",
        describe(d2),
        lab.sw_ip(&["-s", "neigh"])
    );
    assert_eq!(fam.neigh(lab).as_deref(), Some(fam.vmac));
    assert!(
        lab.sw_counter(fam.table, fam.announced) > announced,
        "r2's announcements were dropped"
    );
    assert!(lab.sw_counter(fam.table, "from_p2") > 0);
}

/// eth0's arp_ignore, arp_filter and arp_announce on router `i`.
fn arp_settings(lab: &Lab, i: usize) -> [String; 3] {
    ["arp_ignore", "arp_filter", "arp_announce"]
        .map(|k| sysctl(lab, i, &format!("ipv4/conf/eth0/{k}")))
}

/// /proc/sys/net/`key` in router `i`.
fn sysctl(lab: &Lab, i: usize, key: &str) -> String {
    let r = lab.exec(i, &["cat", &format!("/proc/sys/net/{key}")]);
    r.stdout.trim().to_string()
}

#[test]
fn gateway_keeps_its_mac_across_a_kill_without_gratuitous_arp() {
    let Some(mut lab) = Lab::new("mvpair", 2) else {
        return;
    };
    lab.add_client();
    filter_switch(&lab, V4, true);
    let (mut d1, mut d2) = start_pair(&lab, V4, |_| Kind::Vrrpd);

    // The master's macvlan: bridge mode on eth0, the virtual MAC, up, holding the VIP (and
    // eth0 does not). The backup has its macvlan too, down and without the VIP.
    let l1 = vmac_link(&lab, 1).expect("r1 has vrrp.51");
    assert!(
        l1.contains("vrrp.51@eth0") && l1.contains(&format!("link/ether {VMAC}")),
        "{l1}"
    );
    assert!(
        l1.contains("macvlan mode bridge") && l1.contains(",UP"),
        "{l1}"
    );
    assert!(!lab.has_vip(1, VIP));
    let l2 = vmac_link(&lab, 2).expect("r2 has vrrp.51");
    assert!(!l2.contains(",UP") && !holds_vip_on_vmac(&lab, 2), "{l2}");
    // The parents answer ARP only for their own addresses, and announce their own.
    assert_eq!(arp_settings(&lab, 2), ["1", "1", "2"]);

    // The client reaches the VIP at the virtual MAC.
    assert!(
        reach(&lab, VIP),
        "{}\n{}",
        describe(&d1),
        lab.ip(1, &["addr"])
    );
    assert_eq!(lab.client_neigh(VIP).as_deref(), Some(VMAC));
    // Steady state with the backup running: it sends nothing from the virtual MAC.
    std::thread::sleep(2 * S);
    assert_eq!(lab.sw_counter("vm", "from_p2"), 0, "{}", describe(&d2));
    assert!(lab.sw_counter("vm", "from_p1") > 0);
    assert!(l2.contains("addrgenmode none"), "{l2}");
    // Brought up by hand on the backup, it goes down again.
    lab.ip(2, &["link", "set", "vrrp.51", "up"]);
    let down = wait_until(S, S / 50, || {
        vmac_link(&lab, 2).is_some_and(|l| !l.contains(",UP"))
    });
    assert!(down, "{:?}", vmac_link(&lab, 2));
    assert!(
        lab.sw_counter("vm", "garp") > 0,
        "the master's gratuitous ARPs were dropped"
    );

    // The master dies; r2 takes over without gratuitous ARP.
    master_dies(&lab, V4, &mut d1, &d2);

    // Stop: priority 0, the VIP and the macvlan go.
    assert_eq!(d2.term(), Some(0), "{}", describe(&d2));
    assert_eq!(vmac_link(&lab, 2), None);
    assert!(!lab.has_addr(2, "eth0", VIP));
    // And eth0's ARP settings are as they were.
    assert_eq!(arp_settings(&lab, 2), ["0", "0", "0"], "{}", describe(&d2));
}

fn wait_vip_on_vmac(lab: &Lab, d: &Daemon, what: &str) {
    let ok = wait_until(Vi::v3(150).master_down() + 2 * MARGIN, S / 20, || {
        holds_vip_on_vmac(lab, 1) && vmac_link(lab, 1).is_some_and(|l| l.contains(VMAC))
    });
    assert!(ok, "{what}: no VIP on vrrp.51\n{}", describe(d));
}

#[test]
fn macvlan_follows_the_daemon_and_its_parent() {
    let Some(lab) = Lab::new("mvlife", 1) else {
        return;
    };
    let conf = vmac_conf(150, "");

    // A link of that name that is not a macvlan is not ours: left alone, FAULT.
    lab.ip(
        1,
        &[
            "link", "add", "vrrp.51", "type", "veth", "peer", "name", "x51",
        ],
    );
    let mut d = lab.vrrpd(1, &conf);
    assert!(
        d.wait_log("vrrp.51 exists and is not a macvlan (veth)", 5 * S),
        "{}",
        describe(&d)
    );
    assert!(
        d.wait_log("(VI_1) Entering FAULT STATE", 5 * S),
        "{}",
        describe(&d)
    );
    assert_eq!(d.term(), Some(0), "{}", describe(&d));
    assert!(vmac_link(&lab, 1).is_some_and(|l| l.contains("veth")));
    lab.ip(1, &["link", "del", "vrrp.51"]);

    // A macvlan of that name with another MAC is recreated.
    lab.ip(
        1,
        &[
            "link",
            "add",
            "link",
            "eth0",
            "name",
            "vrrp.51",
            "address",
            "02:00:00:00:00:51",
            "type",
            "macvlan",
        ],
    );
    let mut d = lab.vrrpd(1, &conf);
    wait_vip_on_vmac(&lab, &d, "start");
    assert_eq!(
        d.count("is a macvlan on another parent or with another MAC; recreating it"),
        1
    );

    // Deleted by hand: back at once, VIP included, without passing through FAULT.
    let mark = d.mark();
    lab.ip(1, &["link", "del", "vrrp.51"]);
    assert!(
        d.wait_log(
            "(VI_1) macvlan vrrp.51 was deleted by someone else; recreating it",
            2 * S
        ),
        "{}",
        describe(&d)
    );
    wait_vip_on_vmac(&lab, &d, "hand deletion");
    assert!(!d.log_since(mark).contains("FAULT"), "{}", describe(&d));

    // A reload that leaves the instance alone keeps the macvlan and the VIP on it.
    let before = ifindex(&vmac_link(&lab, 1).unwrap_or_default());
    let mark = d.mark();
    d.hup();
    assert!(d.wait_log("Reloading", 2 * S));
    std::thread::sleep(S / 2);
    assert_eq!(ifindex(&vmac_link(&lab, 1).unwrap_or_default()), before);
    assert!(holds_vip_on_vmac(&lab, 1), "{}", describe(&d));
    assert!(!d.log_since(mark).contains("Entering"), "{}", describe(&d));

    // Parent down: FAULT, the VIP and the macvlan go down; back up: master again.
    lab.ip(1, &["link", "set", "eth0", "down"]);
    assert!(
        d.wait_log("(VI_1) Entering FAULT STATE", 2 * S),
        "{}",
        describe(&d)
    );
    let ok = wait_until(2 * S, S / 20, || {
        !holds_vip_on_vmac(&lab, 1) && vmac_link(&lab, 1).is_some_and(|l| !l.contains(",UP"))
    });
    assert!(ok, "{}\n{:?}", describe(&d), vmac_link(&lab, 1));
    lab.ip(1, &["link", "set", "eth0", "up"]);
    wait_vip_on_vmac(&lab, &d, "parent back up");

    // Parent away: the kernel takes the macvlan with it; it is made again when eth0 returns.
    let created = d.count("created macvlan vrrp.51 on eth0");
    lab.disconnect(1);
    assert!(
        d.wait_count("(VI_1) Entering FAULT STATE", 2, 2 * S),
        "{}",
        describe(&d)
    );
    assert_eq!(vmac_link(&lab, 1), None);
    lab.connect(1);
    wait_vip_on_vmac(&lab, &d, "parent back");
    assert_eq!(d.count("created macvlan vrrp.51 on eth0"), created + 1);

    // kill -9 leaves the macvlan up with the VIP; the next run reuses it.
    let before = ifindex(&vmac_link(&lab, 1).unwrap_or_default());
    d.kill9();
    assert!(holds_vip_on_vmac(&lab, 1));
    let mut d = lab.vrrpd(1, &conf);
    assert!(
        d.wait_log("(VI_1) using the existing macvlan vrrp.51", 2 * S),
        "{}",
        describe(&d)
    );
    wait_vip_on_vmac(&lab, &d, "restart after kill -9");
    assert_eq!(ifindex(&vmac_link(&lab, 1).unwrap_or_default()), before);

    // A reload without use_vmac deletes it; the VIP goes back to eth0.
    std::fs::write(d.conf_path(), common::conf(&[Vi::v3(150)])).unwrap();
    d.hup();
    assert!(
        d.wait_log("(VI_1) deleting macvlan vrrp.51", 2 * S),
        "{}",
        describe(&d)
    );
    assert!(lab.wait_master(VIP, 1, 3 * S), "{}", describe(&d));
    assert_eq!(vmac_link(&lab, 1), None);

    // And back with it; SIGTERM then leaves nothing behind.
    std::fs::write(d.conf_path(), &conf).unwrap();
    d.hup();
    wait_vip_on_vmac(&lab, &d, "reload with use_vmac");
    assert_eq!(d.term(), Some(0), "{}", describe(&d));
    assert_eq!(vmac_link(&lab, 1), None);
    assert!(lab.addrs_on(1, "eth0").iter().all(|a| !a.starts_with(VIP)));
}

/// r1 (priority 150) and r2 (100) with use_vmac, one of them keepalived 2.2.7, vrrpd on
/// `vrrpd_on`: the master holds the VIP on its macvlan and the client reaches it at the virtual
/// MAC; a graceful stop hands it to the other within Skew_Time, the client still at the virtual
/// MAC; the stopped one leaves no macvlan behind. Announcements pass (over IPv6, keepalived's
/// backup keeps its macvlan up).
fn with_keepalived(prefix: &str, fam: Fam, vrrpd_on: usize) {
    let Some(mut lab) = Lab::new(prefix, 2) else {
        return;
    };
    lab.add_client();
    match fam.af {
        Af::V4 => filter_switch(&lab, fam, false),
        Af::V6 => wait_dad(&lab),
    }
    let kind = |i| {
        if i == vrrpd_on {
            Kind::Vrrpd
        } else {
            Kind::Keepalived
        }
    };
    let lo = Vi::v3(100);
    let (mut d1, mut d2) = start_pair(&lab, fam, kind);
    // Past the backup's Master_Down_Interval: it hears the master through the macvlans.
    std::thread::sleep(lo.master_down() + S / 2);
    assert!(
        fam.holds(&lab, 1) && !fam.holds(&lab, 2),
        "{}\n{}",
        describe(&d1),
        describe(&d2)
    );
    assert!(vmac_link(&lab, 2).is_some(), "{}", describe(&d2));
    assert!(fam.client_learns(&lab), "{}", describe(&d1));
    // keepalived leaves arp_announce at 0: its host's own ARP requests to the client name the
    // VIP with the parent's MAC, and the client's entry flips to it (see
    // /work/shared/notes/keepalived-observed.md). vrrpd sets arp_announce=2, so over IPv4
    // only its masters keep the client at the virtual MAC.
    let client_on_vmac = |master: usize| {
        (fam.af == Af::V4 && kind(master) == Kind::Keepalived)
            || fam.neigh(&lab).as_deref() == Some(fam.vmac)
    };
    assert!(client_on_vmac(1), "{:?}", fam.neigh(&lab));
    if fam.af == Af::V4 && vrrpd_on == 2 {
        assert_eq!(lab.sw_counter("vm", "from_p2"), 0, "{}", describe(&d2));
    }
    if fam.af == Af::V6 {
        let vrrpd = if vrrpd_on == 1 { &d1 } else { &d2 };
        let x = vrrpd.must_dump("VI_6");
        for k in ["len", "ttl", "version", "checksum", "interval", "addrs"] {
            assert_eq!(x.get(k), 0, "dropped {k}: {x:?}");
        }
    }

    assert_eq!(d1.term(), Some(0), "{}", describe(&d1));
    let ok = wait_until(lo.skew() + MARGIN, S / 50, || fam.holds(&lab, 2));
    assert!(ok, "{}\n{}", describe(&d1), describe(&d2));
    assert!(
        wait_until(3 * S, S / 10, || fam.reach(&lab)),
        "{}",
        describe(&d2)
    );
    assert!(client_on_vmac(2), "{:?}", fam.neigh(&lab));
    assert_eq!(vmac_link(&lab, 1), None, "{}", describe(&d1));
    assert_eq!(d2.term(), Some(0), "{}", describe(&d2));
    assert_eq!(vmac_link(&lab, 2), None, "{}", describe(&d2));
}

#[test]
fn vrrpd_master_keepalived_backup() {
    with_keepalived("mvkab", V4, 1);
}

#[test]
fn keepalived_master_vrrpd_backup() {
    with_keepalived("mvkba", V4, 2);
}

/// A higher priority router that starts while another is master preempts it: the master hears
/// adverts whose source is the virtual MAC its own macvlan has (a private-mode macvlan would
/// keep such multicast from the parent; ours are in bridge mode, as FRR's).
#[test]
fn higher_priority_preempts_a_vmac_master() {
    let Some(lab) = Lab::new("mvpre", 2) else {
        return;
    };
    let d2 = lab.vrrpd(2, &vmac_conf(100, ""));
    wait_holder(&lab, V4, 2, 100, &d2);
    let _d1 = preempts(&lab, V4, &vmac_conf(150, ""), &d2);
}

/// r1 (priority 150) and r2 (100), FRR on `frr_on` (it always uses the virtual MAC, from its
/// own macvlan vrrp4-51 or vrrp6-51) and vrrpd with use_vmac on the other; the announcements
/// (gratuitous ARPs, unsolicited NAs) dropped on the bridge. Election, the backup silent on
/// the virtual MAC, the client at the virtual MAC before and after a graceful stop of the
/// master. Over IPv6 the adverts are 1 s apart (FRR's first IPv6 advert comes late).
fn with_frr(prefix: &str, fam: Fam, frr_on: usize) {
    if !frr_available() {
        return;
    }
    let Some(mut lab) = Lab::new(prefix, 2) else {
        return;
    };
    lab.add_client();
    if fam.af == Af::V6 {
        wait_dad(&lab);
    }
    filter_switch(&lab, fam, true);
    if fam.af == Af::V4 {
        // FRR leaves the host's ARP settings alone: with arp_ignore=0 the FRR host answers ARP
        // for the VIP (an address of the host, on its macvlan) from eth0 with its own MAC, even
        // as backup, and with arp_announce=0 its own ARP requests name the VIP with eth0's MAC;
        // either flips the client's entry to the physical MAC (seen here). Set what an FRR
        // admin must set — what vrrpd sets by itself — so that the test looks at the VRRP side.
        for knob in ["arp_ignore=1", "arp_announce=2"] {
            let knob = format!("net.ipv4.conf.eth0.{knob}");
            let r = lab.exec(frr_on, &["sysctl", "-q", "-w", &knob]);
            assert!(r.ok(), "{}", r.stderr);
        }
    }
    let vrrpd_on = 3 - frr_on;
    let prio = |i: usize| if i == 1 { 150 } else { 100 };
    let advert_int = if fam.af == Af::V6 { "1" } else { "0.1" };
    let vi = |p: u8| Vi {
        advert_int,
        ..Vi::v3(p)
    };
    let (hi, lo) = (vi(150), vi(100));
    let conf = |i: usize| match fam.af {
        Af::V4 => vi_vmac_conf(&vi(prio(i)), ""),
        Af::V6 => vmac6_instance(prio(i), advert_int, &[VIP6], ""),
    };
    let fvr = |i: usize| match fam.af {
        Af::V4 => FrrVr::v3(prio(i)),
        Af::V6 => FrrVr {
            advert_ms: 1000,
            ..FrrVr::v6(prio(i))
        },
    };
    let mut first = hi.master_down() + 2 * MARGIN;
    if fam.af == Af::V6 {
        first += 2 * S;
    }
    let start_frr = |i: usize| lab.frr(i, &fvr(i));
    let start_vrrpd = |i: usize| lab.vrrpd(i, &conf(i));
    let holds = |i: usize| fam.holds(&lab, i);
    let mut m = Mixed::elect(
        &lab,
        frr_on,
        fam.af,
        first,
        &start_frr,
        &start_vrrpd,
        &holds,
    );
    // Past the backup's Master_Down_Interval: r1 alone is master.
    std::thread::sleep(lo.master_down() + S / 2);
    assert_eq!(m.masters(), [1], "{}", m.why());
    assert!(fam.client_learns(&lab), "{}", m.why());
    assert_eq!(fam.neigh(&lab).as_deref(), Some(fam.vmac));
    if vrrpd_on == 2 {
        let d = &m.vrrpd;
        assert_eq!(lab.sw_counter(fam.table, "from_p2"), 0, "{}", describe(d));
        let x = d.must_dump(fam.instance);
        assert!(x.get("adverts_rx") > 0, "{x:?}");
        if fam.af == Af::V6 {
            for k in ["len", "ttl", "version", "checksum", "interval", "addrs"] {
                assert_eq!(x.get(k), 0, "dropped {k}: {x:?}");
            }
        }
    }

    // Graceful stop of r1: r2 takes over within Skew_Time, the client never leaves the
    // virtual MAC, and no announcement was needed.
    m.term(1);
    if vrrpd_on == 1 {
        assert_eq!(vmac_link(&lab, 1), None);
    }
    let ok = m.wait_masters(&[2], lo.skew() + MARGIN);
    assert!(ok, "{:?}\n{}", m.masters(), m.why());
    assert!(wait_until(3 * S, S / 10, || fam.reach(&lab)), "{}", m.why());
    assert_eq!(fam.neigh(&lab).as_deref(), Some(fam.vmac));
    assert!(lab.sw_counter(fam.table, "from_p2") > 0);
    m.term(2);
    if vrrpd_on == 2 {
        assert_eq!(vmac_link(&lab, 2), None);
    }
}

#[test]
fn frr_master_vrrpd_backup() {
    with_frr("mvfab", V4, 1);
}

#[test]
fn vrrpd_master_frr_backup() {
    with_frr("mvfba", V4, 2);
}

/// Where adverts and gratuitous ARPs come from: adverts from the virtual MAC, or from the
/// interface's own with `vmac_xmit_base`; gratuitous ARPs from the virtual MAC, naming it.
#[test]
fn adverts_leave_from_the_macvlan_or_with_vmac_xmit_base_from_the_interface() {
    let Some(lab) = Lab::new("mvxmit", 2) else {
        return;
    };
    for (i, more, advert_src) in [
        (1, "", VMAC),
        (2, "    vmac_xmit_base\n", "02:99:00:00:00:02"),
    ] {
        let cap = lab.capture("vrrp or arp", Duration::from_secs(30));
        let mut d = lab.vrrpd(i, &vmac_conf(150, more));
        wait_holder(&lab, V4, i, 150, &d);
        std::thread::sleep(S / 2);
        assert_eq!(d.term(), Some(0), "{}", describe(&d));
        let pcap = cap.stop();
        let adverts = tshark_fields(&pcap, "vrrp", &["eth.src", "ip.src", "vrrp.prio"]);
        assert!(adverts.len() > 2, "{adverts:?}");
        let want = [advert_src.to_string(), lab.host_ip(i)];
        assert!(
            adverts.iter().all(|r| r[..2] == want),
            "{more}: {adverts:?}"
        );
        // The priority-0 advert at stop went out before the macvlan was deleted.
        assert_eq!(
            adverts.last().map(|r| r[2].as_str()),
            Some("0"),
            "{adverts:?}"
        );
        let garps = tshark_fields(
            &pcap,
            &format!("arp.src.proto_ipv4 == {VIP} && arp.dst.proto_ipv4 == {VIP}"),
            &["eth.src", "arp.src.hw_mac"],
        );
        assert!(!garps.is_empty());
        assert!(garps.iter().all(|r| r == &[VMAC, VMAC]), "{garps:?}");
    }
}

// ---- IPv6: the virtual MAC is 00:00:5e:00:02:VRID ----

const VMAC6: &str = "00:00:5e:00:02:33";
/// The advertised VIPs: a link-local first (RFC 5798 section 5.2.9), then a global one.
const LL_VIP6: &str = "fe80::1:100";
const VIP6: &str = "fd99::100";

/// VI_6 (VRRPv3 over IPv6, 0.1 s, VRID 51) with `use_vmac` and the extra lines `more`; the
/// VIPs name no `dev`, so they go on the macvlan.
fn vmac6_conf(priority: u8, more: &str) -> String {
    vmac6_instance(priority, "0.1", &[LL_VIP6, VIP6], more)
}

fn vmac6_instance(priority: u8, advert_int: &str, vips: &[&str], more: &str) -> String {
    let vips: String = vips.iter().map(|v| format!("        {v}/64\n")).collect();
    format!(
        "vrrp_instance VI_6 {{\n    state BACKUP\n    interface eth0\n    use_vmac\n{more}    virtual_router_id 51\n    priority {priority}\n    advert_int {advert_int}\n    virtual_ipaddress {{\n{vips}    }}\n}}\n"
    )
}

/// Router `i`'s kernel link-local on eth0 (EUI-64 of its MAC).
fn router_ll(i: usize) -> String {
    format!("fe80::99:ff:fe00:{i:x}")
}

fn holds_vip6_on_vmac(lab: &Lab, i: usize) -> bool {
    lab.has_addr6(i, "vrrp.51", VIP6)
}

/// Every router's eth0 link-local has passed duplicate address detection.
fn wait_dad(lab: &Lab) {
    for i in 1..=lab.n {
        let ok = wait_until(10 * S, S / 20, || {
            lab.addrs6_on(i, "eth0")
                .iter()
                .any(|a| a.starts_with("fe80::") && !a.contains("tentative"))
        });
        assert!(ok, "r{i}: no usable link-local");
    }
}

/// The client gets fd99::250/64 and resolves VIP6 (a datagram there makes it solicit).
fn client_learns6(lab: &Lab) {
    assert!(V6.client_learns(lab), "client cannot reach {VIP6}");
}

#[test]
fn ipv6_gateway_keeps_its_mac_across_a_kill_without_neighbour_adverts() {
    let Some(mut lab) = Lab::new("xvpair", 2) else {
        return;
    };
    lab.add_client();
    wait_dad(&lab);
    filter_switch(&lab, V6, true);
    let minute = Duration::from_secs(60);
    // What each router sends (before the bridge's filter), and the backup's frames from the
    // virtual MAC.
    let cap1 = lab.capture_on("p1", &["-Q", "in"], "icmp6 or proto 112", minute);
    let cap2 = lab.capture_on("p2", &["-Q", "in"], &format!("ether src {VMAC6}"), minute);
    let (mut d1, mut d2) = start_pair(&lab, V6, |_| Kind::Vrrpd);

    // The master's macvlan: the IPv6 virtual MAC, up, with both VIPs and eth0's link-local
    // copied to send from, all without DAD; eth0 holds no VIP. The backup's is down, bare.
    let l1 = vmac_link(&lab, 1).expect("r1 has vrrp.51");
    assert!(
        l1.contains("vrrp.51@eth0") && l1.contains(&format!("link/ether {VMAC6}")),
        "{l1}"
    );
    assert!(
        l1.contains(",UP") && l1.contains("addrgenmode none"),
        "{l1}"
    );
    let a1 = lab.addrs6_on(1, "vrrp.51");
    for want in [LL_VIP6, VIP6, router_ll(1).as_str()] {
        assert!(
            a1.iter()
                .any(|a| a.starts_with(&format!("{want}/")) && a.contains("nodad")),
            "{want}: {a1:?}\n{}",
            describe(&d1)
        );
    }
    assert!(!lab.has_addr6(1, "eth0", VIP6) && !lab.has_addr6(1, "eth0", LL_VIP6));
    let l2 = vmac_link(&lab, 2).expect("r2 has vrrp.51");
    assert!(
        !l2.contains(",UP") && l2.contains("addrgenmode none"),
        "{l2}"
    );
    assert_eq!(lab.addrs6_on(2, "vrrp.51"), Vec::<String>::new());
    for key in ["accept_ra", "accept_dad"] {
        let key = format!("ipv6/conf/vrrp.51/{key}");
        assert_eq!(sysctl(&lab, 2, &key), "0", "{key}");
    }

    // The client resolves the VIP to the virtual MAC and reaches it.
    client_learns6(&lab);
    assert_eq!(lab.client_neigh(VIP6).as_deref(), Some(VMAC6));
    // Steady state with the backup running: nothing from the virtual MAC on its port.
    std::thread::sleep(2 * S);
    assert_eq!(lab.sw_counter("vm6", "from_p2"), 0, "{}", describe(&d2));
    assert!(lab.sw_counter("vm6", "from_p1") > 0);
    assert!(
        lab.sw_counter("vm6", "una") > 0,
        "the master's unsolicited NAs were dropped"
    );
    let backup_frames = tshark_fields(&cap2.stop(), "", &["frame.number"]);
    assert!(backup_frames.is_empty(), "r2 sent {backup_frames:?}");

    // The master dies; r2 takes over without unsolicited NAs, sending from its copy of eth0's
    // link-local.
    master_dies(&lab, V6, &mut d1, &d2);
    assert!(
        lab.has_addr6(2, "vrrp.51", &router_ll(2)),
        "{:?}",
        lab.addrs6_on(2, "vrrp.51")
    );

    // r1's frames: adverts from the virtual MAC with eth0's link-local as source, and
    // unsolicited NAs for both VIPs from the virtual MAC, naming it as target link-layer
    // address.
    let pcap = cap1.stop();
    let adverts = tshark_fields(&pcap, "vrrp", &["eth.src", "ipv6.src", "ipv6.hlim"]);
    assert!(adverts.len() > 2, "{adverts:?}");
    let want = [VMAC6.to_string(), router_ll(1), "255".to_string()];
    assert!(adverts.iter().all(|r| r[..] == want), "{adverts:?}");
    let nas = tshark_fields(
        &pcap,
        "icmpv6.type == 136 && ipv6.dst == ff02::1",
        &[
            "eth.src",
            "icmpv6.nd.na.target_address",
            "icmpv6.opt.linkaddr",
        ],
    );
    for target in [VIP6, LL_VIP6] {
        assert!(
            nas.iter().any(|n| n[1] == target),
            "no NA for {target}: {nas:?}"
        );
    }
    assert!(
        nas.iter().all(|n| n[0] == VMAC6 && n[2] == VMAC6),
        "{nas:?}"
    );

    // Stop: priority 0, then the VIPs and the macvlan go; eth0 is as it was.
    assert_eq!(d2.term(), Some(0), "{}", describe(&d2));
    assert_eq!(vmac_link(&lab, 2), None);
    assert!(!lab.has_addr6(2, "eth0", VIP6) && !lab.has_addr6(2, "eth0", LL_VIP6));
    assert_eq!(arp_settings(&lab, 2), ["0", "0", "0"], "{}", describe(&d2));
}

#[test]
fn ipv6_frr_master_vrrpd_backup() {
    with_frr("xvfab", V6, 1);
}

#[test]
fn ipv6_vrrpd_master_frr_backup() {
    with_frr("xvfba", V6, 2);
}

#[test]
fn ipv6_vrrpd_master_keepalived_backup() {
    with_keepalived("xvkab", V6, 1);
}

#[test]
fn ipv6_keepalived_master_vrrpd_backup() {
    with_keepalived("xvkba", V6, 2);
}

/// With `vmac_xmit_base` the adverts leave from eth0 with its own MAC and nothing refreshes
/// the switches' entry for the virtual MAC; `garp_extra_if` (keepalived's `vmac_garp_intvl`)
/// sends one unsolicited NA from the macvlan at its period. The macvlan, sending no adverts,
/// gets no copy of eth0's link-local. The NAs' Router flag follows eth0's forwarding (the
/// macvlan took the default when it was made).
#[test]
fn ipv6_vmac_xmit_base_with_garp_extra_if_refreshes_the_virtual_mac() {
    let Some(lab) = Lab::new("xvxmit", 1) else {
        return;
    };
    wait_dad(&lab);
    let r = lab.exec(
        1,
        &["sysctl", "-q", "-w", "net.ipv6.conf.eth0.forwarding=1"],
    );
    assert!(r.ok(), "{}", r.stderr);
    let more = "    vmac_xmit_base\n    garp_extra_if 1\n    garp_master_delay 0\n";
    let cap = lab.capture_on(
        "p1",
        &["-Q", "in"],
        "icmp6 or proto 112",
        Duration::from_secs(30),
    );
    let mut d = lab.vrrpd(1, &vmac6_conf(150, more));
    wait_holder(&lab, V6, 1, 150, &d);
    std::thread::sleep(3 * S + S / 2);
    assert!(
        !lab.has_addr6(1, "vrrp.51", &router_ll(1)),
        "{:?}",
        lab.addrs6_on(1, "vrrp.51")
    );
    assert_eq!(d.term(), Some(0), "{}", describe(&d));
    let pcap = cap.stop();
    let adverts = tshark_fields(&pcap, "vrrp", &["eth.src", "ipv6.src"]);
    assert!(adverts.len() > 10, "{adverts:?}");
    let want = [router_mac(1), router_ll(1)];
    assert!(adverts.iter().all(|r| r[..] == want), "{adverts:?}");
    // The burst on becoming master (five per VIP), then one NA a second for the first VIP.
    let nas = tshark_fields(
        &pcap,
        "icmpv6.type == 136 && ipv6.dst == ff02::1",
        &[
            "icmpv6.nd.na.flag.r",
            "eth.src",
            "icmpv6.nd.na.target_address",
        ],
    );
    let router = |f: &str| f == "1" || f.eq_ignore_ascii_case("true");
    assert!(
        nas.iter().all(|n| n[1] == VMAC6 && router(&n[0])),
        "{nas:?}"
    );
    let count = |t: &str| nas.iter().filter(|n| n[2] == t).count();
    assert_eq!(count(VIP6), 5, "{nas:?}");
    let extra = count(LL_VIP6) - 5;
    assert!((2..=4).contains(&extra), "{extra} extra: {nas:?}");
    assert!(
        d.log()
            .contains("Sending unsolicited neighbour adverts on vrrp.51 for fe80::1:100")
    );
}

/// A preempted IPv6 master sends nothing from the virtual MAC but its adverts as master: no
/// MLD report for the addresses it lets go (one would teach the switches the old master's
/// port again). vrrpd takes the macvlan down before removing its VIPs, so the kernel drops
/// them silently; with the other order this kernel too defers the report past the link going
/// down, so the test passes either way and pins the behaviour, with 32 VIPs to remove.
#[test]
fn ipv6_preempted_master_sends_no_mld_from_the_virtual_mac() {
    let Some(lab) = Lab::new("xvpre", 2) else {
        return;
    };
    wait_dad(&lab);
    let vips: Vec<String> = (0..30).map(|k| format!("fd99::1:{k:x}")).collect();
    let vips: Vec<&str> = std::iter::once(LL_VIP6)
        .chain(std::iter::once(VIP6))
        .chain(vips.iter().map(String::as_str))
        .collect();
    let vmac6_conf = |p: u8, more: &str| vmac6_instance(p, "0.1", &vips, more);
    let d2 = lab.vrrpd(2, &vmac6_conf(100, ""));
    wait_holder(&lab, V6, 2, 100, &d2);
    // Past the reports of r2 joining its groups as it became master.
    std::thread::sleep(3 * S);
    let filter = format!("ether src {VMAC6}");
    let cap = lab.capture_on("p2", &["-Q", "in"], &filter, Duration::from_secs(30));
    let _d1 = preempts(&lab, V6, &vmac6_conf(150, ""), &d2);
    std::thread::sleep(2 * S);
    let frames = tshark_fields(&cap.stop(), "", &["frame.protocols", "icmpv6.type"]);
    // r2's adverts as master, and nothing else.
    assert!(!frames.is_empty());
    assert!(frames.iter().all(|f| f[0].ends_with(":vrrp")), "{frames:?}");
    assert_eq!(vmac_link(&lab, 2).map(|l| l.contains(",UP")), Some(false));
    assert_eq!(lab.addrs6_on(2, "vrrp.51"), Vec::<String>::new());
}

/// The copy of eth0's link-local on the macvlan follows the source: a lower link-local on
/// eth0 becomes the source and moves there (the old one goes); removed by hand, it comes back.
#[test]
fn ipv6_vmac_source_follows_the_link_local() {
    let Some(lab) = Lab::new("xvsrc", 1) else {
        return;
    };
    wait_dad(&lab);
    let d = lab.vrrpd(1, &vmac6_conf(150, ""));
    let ok = wait_until(Vi::v3(150).master_down() + 2 * MARGIN, S / 20, || {
        holds_vip6_on_vmac(&lab, 1) && lab.has_addr6(1, "vrrp.51", &router_ll(1))
    });
    assert!(ok, "{}", describe(&d));
    lab.ip(1, &["addr", "add", "fe80::5/64", "dev", "eth0", "nodad"]);
    let ok = wait_until(2 * S, S / 20, || {
        lab.has_addr6(1, "vrrp.51", "fe80::5") && !lab.has_addr6(1, "vrrp.51", &router_ll(1))
    });
    assert!(ok, "{:?}\n{}", lab.addrs6_on(1, "vrrp.51"), describe(&d));
    lab.ip(1, &["addr", "del", "fe80::5/64", "dev", "vrrp.51"]);
    let ok = wait_until(2 * S, S / 20, || lab.has_addr6(1, "vrrp.51", "fe80::5"));
    assert!(ok, "{:?}\n{}", lab.addrs6_on(1, "vrrp.51"), describe(&d));
    assert!(
        d.log()
            .contains("fe80::5 was removed from its macvlan; restoring it")
    );
    let x = d.must_dump("VI_6");
    assert!(x.get("adverts_tx") > 0, "{x:?}");
}

/// An IPv4 and an IPv6 instance with use_vmac on one interface: each macvlan answers ARP only
/// for its own addresses, so the client's entry for the IPv4 VIP is always the IPv4 virtual
/// MAC (keepalived's IPv6 macvlan also answered with 00:00:5e:00:02:VRID; see
/// /work/shared/notes/keepalived-observed.md).
#[test]
fn dual_stack_macvlans_answer_for_their_own_family_only() {
    let Some(mut lab) = Lab::new("xvdual", 1) else {
        return;
    };
    lab.add_client();
    wait_dad(&lab);
    let v4 = vi_vmac_conf(&Vi::v3(150), "").replace("use_vmac\n", "use_vmac vrrp4.51\n");
    let v6 = vmac6_conf(150, "").replace("use_vmac\n", "use_vmac vrrp6.51\n");
    let d = lab.vrrpd(1, &format!("{v4}{v6}"));
    let ok = wait_until(Vi::v3(150).master_down() + 2 * MARGIN, S / 20, || {
        lab.has_addr(1, "vrrp4.51", VIP) && lab.has_addr6(1, "vrrp6.51", VIP6)
    });
    assert!(ok, "{}", describe(&d));
    assert_eq!(sysctl(&lab, 1, "ipv4/conf/vrrp6.51/arp_ignore"), "1");
    for round in 0..5 {
        let r = lab.client_exec(&["ip", "neigh", "flush", "dev", "eth0"]);
        assert!(r.ok(), "{}", r.stderr);
        assert!(reach(&lab, VIP), "round {round}: {}", describe(&d));
        // Both answers, if there were two, have arrived by now.
        std::thread::sleep(S / 5);
        assert_eq!(
            lab.client_neigh(VIP).as_deref(),
            Some(VMAC),
            "round {round}"
        );
    }
    client_learns6(&lab);
    assert_eq!(lab.client_neigh(VIP6).as_deref(), Some(VMAC6));
}
