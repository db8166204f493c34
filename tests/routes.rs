//! What follows the VIP (issue 14): excluded addresses, virtual routes and rules on the master
//! only, static ones on every router; moved on kill -9, removed on SIGTERM, restored after a
//! deletion by hand, leftovers of a killed run swept; excluded addresses never advertised; and
//! a keepalived master and a vrrpd backup with the same virtual_routes agree after failovers.
//! Every check reads the kernel back with `ip`.

mod common;

use std::time::Duration;

use common::{Lab, describe, tshark_fields, wait_until};

const S: Duration = Duration::from_secs(1);

fn eventually(limit: Duration, check: impl FnMut() -> bool) -> bool {
    wait_until(limit, Duration::from_millis(20), check)
}

/// Both routers' config: only the priority differs.
fn config(priority: u8) -> String {
    format!(
        "static_ipaddress {{
    10.99.7.1/32 dev lo
}}
static_routes {{
    10.99.8.0/24 via 10.99.0.254 dev eth0
}}
static_rules {{
    from 10.99.9.0/24 table 200 preference 200
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 71
    priority {priority}
    advert_int 0.2
    version 3
    virtual_ipaddress {{
        10.99.0.100/24 dev eth0
    }}
    virtual_ipaddress_excluded {{
        10.99.0.200/24 dev eth0
    }}
    virtual_routes {{
        10.99.5.0/24 via 10.99.0.254 dev eth0 table 100 metric 7
        src 10.99.0.100 to 10.99.6.0/24 dev eth0
        blackhole 10.99.4.0/24
        10.99.3.0/24 via 10.99.0.253 no_track
    }}
    virtual_rules {{
        from 10.99.0.100/32 table 100 priority 100
        to 10.99.5.0/24 table 100 priority 101 no_track
    }}
}}
"
    )
}

/// The virtual routes as `ip route show table all` prints them (proto keepalived ones).
const VIRTUAL_ROUTES: [&str; 4] = [
    "10.99.5.0/24 via 10.99.0.254 dev eth0 table 100 proto keepalived metric 7",
    "10.99.6.0/24 dev eth0 proto keepalived src 10.99.0.100",
    "blackhole 10.99.4.0/24 proto keepalived",
    "10.99.3.0/24 via 10.99.0.253 dev eth0 proto keepalived",
];
const STATIC_ROUTE: &str = "10.99.8.0/24 via 10.99.0.254 dev eth0 proto keepalived";
const VIRTUAL_RULES: [&str; 2] = [
    "100:\tfrom 10.99.0.100 lookup 100 proto keepalived",
    // no_track: keepalived tags such a rule with no protocol, and so does vrrpd.
    "101:\tfrom all to 10.99.5.0/24 lookup 100",
];
const STATIC_RULE: &str = "200:\tfrom 10.99.9.0/24 lookup 200 proto keepalived";

/// Router `i`'s routes tagged proto keepalived, in every table, one per line.
fn routes(lab: &Lab, i: usize) -> Vec<String> {
    lab.ip(i, &["-4", "route", "show", "table", "all"])
        .lines()
        .filter(|l| l.contains("proto keepalived"))
        .map(|l| l.trim().to_string())
        .collect()
}

/// Router `i`'s rules but the kernel's three defaults.
fn rules(lab: &Lab, i: usize) -> Vec<String> {
    lab.ip(i, &["-4", "rule", "show"])
        .lines()
        .filter(|l| {
            !["0:\t", "32766:\t", "32767:\t"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .map(|l| l.trim_end().to_string())
        .collect()
}

/// Exactly the virtual ones (as master) or none of them, plus the static ones, on router `i`.
fn state_is(lab: &Lab, i: usize, master: bool) -> bool {
    let mut want_routes: Vec<String> = if master {
        VIRTUAL_ROUTES.iter().map(|s| s.to_string()).collect()
    } else {
        Vec::new()
    };
    want_routes.push(STATIC_ROUTE.into());
    let mut want_rules: Vec<String> = if master {
        VIRTUAL_RULES.iter().map(|s| s.to_string()).collect()
    } else {
        Vec::new()
    };
    want_rules.push(STATIC_RULE.into());
    let (mut got_routes, mut got_rules) = (routes(lab, i), rules(lab, i));
    want_routes.sort();
    want_rules.sort();
    got_routes.sort();
    got_rules.sort();
    got_routes == want_routes
        && got_rules == want_rules
        && lab.has_vip(i, "10.99.0.200") == master
        && lab.has_addr(i, "lo", "10.99.7.1")
}

fn show(lab: &Lab, i: usize) -> String {
    format!(
        "r{i} routes: {:#?}\nr{i} rules: {:#?}\nr{i} addrs: {:?} lo {:?}",
        routes(lab, i),
        rules(lab, i),
        lab.addrs(i),
        lab.addrs_on(i, "lo")
    )
}

#[test]
fn routes_rules_and_excluded_follow_the_master() {
    follow_the_master(&Family {
        prefix: "urt",
        capture: "vrrp or arp",
        config,
        state_is,
        show,
        routes,
        rules,
        has: |lab, i, dev, addr| lab.has_addr(i, dev, addr),
        excluded: "10.99.0.200",
        on_lo: "10.99.7.1",
        tracked: &[
            &["route", "del", "10.99.5.0/24", "table", "100"],
            &["rule", "del", "pref", "100"],
            &["route", "del", "10.99.4.0/24"],
        ],
        no_track: &[
            &["route", "del", "10.99.3.0/24"],
            &["rule", "del", "pref", "101"],
        ],
        no_track_route: "10.99.3.0/24",
        statics: &[
            &["route", "del", "10.99.8.0/24"],
            &["addr", "del", "10.99.7.1/32", "dev", "lo"],
        ],
        swept: &["removing stale rule", "removing stale 10.99.0.200"],
        unlogged: &[],
        announced: "arp.isgratuitous && arp.src.proto_ipv4 == 10.99.0.200",
    });
}

/// One family's side of the lifecycle test (`follow_the_master`): its config and `ip`
/// read-backs, the hand edits, and what the capture shows of the excluded address.
struct Family {
    prefix: &'static str,
    /// The capture's filter: adverts and the excluded address's announcements.
    capture: &'static str,
    config: fn(u8) -> String,
    /// Exactly the virtual ones (as master) or none of them, plus the static ones.
    state_is: fn(&Lab, usize, bool) -> bool,
    show: fn(&Lab, usize) -> String,
    routes: fn(&Lab, usize) -> Vec<String>,
    rules: fn(&Lab, usize) -> Vec<String>,
    /// True if router `i`'s `dev` has the address.
    has: fn(&Lab, usize, &str, &str) -> bool,
    excluded: &'static str,
    /// The static address on lo.
    on_lo: &'static str,
    /// `ip` commands deleting tracked routes and rules on the master (each put back)...
    tracked: &'static [&'static [&'static str]],
    /// ... then the no_track route and rule (preference 101; left alone) ...
    no_track: &'static [&'static [&'static str]],
    no_track_route: &'static str,
    /// ... and static ones on the backup (put back).
    statics: &'static [&'static [&'static str]],
    /// What a new run logs, besides "removing stale route", as it sweeps a killed run's leftovers.
    swept: &'static [&'static str],
    /// What neither daemon may log.
    unlogged: &'static [&'static str],
    /// tshark's filter for the announcements of the excluded address.
    announced: &'static str,
}

/// Routes, rules and the excluded address follow the master: installed on it, the static ones
/// on both; restored after a deletion by hand (but for no_track ones); moved on kill -9; swept
/// by the next run, which preempts; never advertised but announced; all gone on SIGTERM.
fn follow_the_master(f: &Family) {
    let Some(lab) = Lab::new(f.prefix, 2) else {
        return;
    };
    let (state_is, show) = (f.state_is, f.show);
    let cap = lab.capture(f.capture, Duration::from_secs(60));
    let mut d1 = lab.vrrpd(1, &(f.config)(150));
    assert!(
        d1.wait_log("(VI_1) Entering MASTER STATE", 5 * S),
        "{}",
        describe(&d1)
    );
    let mut d2 = lab.vrrpd(2, &(f.config)(100));
    assert!(
        d2.wait_log("(VI_1) Entering BACKUP STATE", 5 * S),
        "{}",
        describe(&d2)
    );
    assert!(
        eventually(3 * S, || state_is(&lab, 1, true)
            && state_is(&lab, 2, false)),
        "{}\n{}\n{}\n{}",
        show(&lab, 1),
        show(&lab, 2),
        d1.log(),
        d2.log()
    );
    for d in [&d1, &d2] {
        for word in f.unlogged {
            assert!(!d.log().contains(word), "{}", d.log());
        }
    }

    // Deleted by hand on the master: tracked ones put back, no_track ones left alone; static
    // ones put back on the backup.
    for cmd in f.tracked {
        lab.ip(1, cmd);
    }
    assert!(
        eventually(3 * S, || state_is(&lab, 1, true)),
        "not restored:\n{}\n{}",
        show(&lab, 1),
        d1.log()
    );
    let restored = "was removed by someone else; restoring it";
    assert!(d1.wait_count(restored, f.tracked.len(), S));
    for cmd in f.no_track {
        lab.ip(1, cmd);
    }
    for cmd in f.statics {
        lab.ip(2, cmd);
    }
    assert!(
        eventually(3 * S, || state_is(&lab, 2, false)),
        "static ones not restored on the backup:\n{}\n{}",
        show(&lab, 2),
        d2.log()
    );
    std::thread::sleep(S / 2);
    let r1 = (f.routes)(&lab, 1);
    assert!(
        !r1.iter().any(|r| r.starts_with(f.no_track_route)),
        "a no_track route came back: {r1:?}"
    );
    assert!(!(f.rules)(&lab, 1).iter().any(|r| r.starts_with("101:")));

    // kill -9: the backup takes everything over; the dead master's kernel state stays.
    d1.kill9();
    assert!(
        d2.wait_log("(VI_1) Entering MASTER STATE", 3 * S),
        "{}",
        describe(&d2)
    );
    assert!(
        eventually(3 * S, || state_is(&lab, 2, true)),
        "{}\n{}",
        show(&lab, 2),
        d2.log()
    );
    // A new run on r1 sweeps the leftovers of the killed one, then preempts and installs again.
    let mut d1 = lab.vrrpd(1, &(f.config)(150));
    assert!(
        d1.wait_log("removing stale route", 3 * S),
        "{}",
        describe(&d1)
    );
    for line in f.swept {
        assert!(d1.log().contains(line), "no {line:?}:\n{}", d1.log());
    }
    assert!(
        d1.wait_log("(VI_1) Entering MASTER STATE", 5 * S),
        "{}",
        describe(&d1)
    );
    // The no_track route and rule are not ours to sweep or restore: the killed run's route is
    // gone (deleted above), so the master state is the full one again.
    assert!(
        eventually(3 * S, || state_is(&lab, 1, true)
            && state_is(&lab, 2, false)),
        "{}\n{}",
        show(&lab, 1),
        show(&lab, 2)
    );

    // The excluded address never rides an advert, but clients learn where it went:
    // announcements (gratuitous ARPs, unsolicited NAs) from both masters.
    let pcap = cap.stop();
    let adverts = tshark_fields(&pcap, "vrrp", &["vrrp.ip_addr"]);
    assert!(!adverts.is_empty());
    for a in &adverts {
        assert_eq!(a[0], "10.99.0.100", "{adverts:?}");
    }
    let announced = tshark_fields(&pcap, f.announced, &["eth.src"]);
    for mac in ["02:99:00:00:00:01", "02:99:00:00:00:02"] {
        assert!(announced.iter().any(|g| g[0] == mac), "{announced:?}");
    }

    // SIGTERM: everything of ours goes, on both.
    assert_eq!(d1.term(), Some(0), "{}", d1.log());
    assert_eq!(d2.term(), Some(0), "{}", d2.log());
    for i in [1, 2] {
        assert!((f.routes)(&lab, i).is_empty(), "{}", show(&lab, i));
        assert!((f.rules)(&lab, i).is_empty(), "{}", show(&lab, i));
        assert!(!(f.has)(&lab, i, "eth0", f.excluded), "{}", show(&lab, i));
        assert!(!(f.has)(&lab, i, "lo", f.on_lo), "{}", show(&lab, i));
    }
}

#[test]
fn a_route_whose_gateway_is_unreachable_is_retried() {
    let Some(lab) = Lab::new("urtg", 1) else {
        return;
    };
    let conf = "vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 72
    priority 150
    advert_int 0.2
    version 3
    virtual_ipaddress {
        10.99.0.100/24 dev eth0
    }
    virtual_routes {
        10.99.50.0/24 via 10.99.40.1
        fd99:50::/64 via fd99:40::1
        fd99:51::/64 via fe80::1 dev eth0
    }
}
";
    let (via_global, via_link_local) = (
        "fd99:50::/64 via fd99:40::1 dev eth0 proto keepalived metric 1024 pref medium",
        "fd99:51::/64 via fe80::1 dev eth0 proto keepalived metric 1024 pref medium",
    );
    let d = lab.vrrpd(1, conf);
    assert!(
        d.wait_log("(VI_1) Entering MASTER STATE", 5 * S),
        "{}",
        describe(&d)
    );
    assert!(
        d.wait_log("cannot add route 10.99.50.0/24 via 10.99.40.1", 2 * S),
        "{}",
        d.log()
    );
    assert!(
        d.wait_log("cannot add route fd99:50::/64 via fd99:40::1", 2 * S),
        "{}",
        d.log()
    );
    assert!(
        eventually(S, || routes6(&lab, 1) == [via_link_local]),
        "{:?}",
        routes6(&lab, 1)
    );
    // The gateways' subnets appear: the routes follow.
    lab.ip(1, &["addr", "add", "10.99.40.2/24", "dev", "eth0"]);
    lab.ip(1, &["addr", "add", "fd99:40::2/64", "dev", "eth0", "nodad"]);
    assert!(
        eventually(3 * S, || routes(&lab, 1)
            == ["10.99.50.0/24 via 10.99.40.1 dev eth0 proto keepalived"]),
        "{:?}\n{}",
        routes(&lab, 1),
        d.log()
    );
    assert!(
        eventually(3 * S, || routes6(&lab, 1)
            == sorted(&[via_global, via_link_local])),
        "{:?}\n{}",
        routes6(&lab, 1),
        d.log()
    );
    for r in [
        "10.99.50.0/24 via 10.99.40.1",
        "fd99:50::/64 via fd99:40::1",
    ] {
        assert!(
            d.log().contains(&format!("route {r} installed now")),
            "{}",
            d.log()
        );
    }
    // The link goes down (the kernel drops the routes, and with IPv6 its global addresses)
    // and up: they come back, but for the one whose gateway's subnet went with the address.
    lab.ip(1, &["link", "set", "eth0", "down"]);
    assert!(eventually(3 * S, || routes(&lab, 1).is_empty()
        && routes6(&lab, 1).is_empty()));
    lab.ip(1, &["link", "set", "eth0", "up"]);
    assert!(
        eventually(5 * S, || routes(&lab, 1).len() == 1
            && routes6(&lab, 1) == [via_link_local]),
        "{:?} {:?}\n{}",
        routes(&lab, 1),
        routes6(&lab, 1),
        d.log()
    );
}

/// The instance part of `config`, without the static blocks: what both daemons run.
fn virtual_only(priority: u8) -> String {
    let c = config(priority);
    let at = c.find("vrrp_instance").expect("an instance");
    c[at..].to_string()
}

/// What a failover must carry, as `ip` shows it on router `i`: the routes and rules tagged
/// proto keepalived (sorted) and whether the excluded address is there.
type Snapshot = (Vec<String>, Vec<String>, bool);

#[test]
fn keepalived_master_and_vrrpd_backup_agree_on_the_routing_state() {
    let Some(lab) = Lab::new("urtk", 2) else {
        return;
    };
    let snap = |lab: &Lab, i: usize| -> Snapshot {
        let mut r = routes(lab, i);
        r.sort();
        let mut u = rules(lab, i);
        u.sort();
        (r, u, lab.has_vip(i, "10.99.0.200"))
    };
    // keepalived's own: four routes and two rules, all proto keepalived.
    agree_after_failovers(&lab, &virtual_only, &snap, (4, 2));
}

/// The same with IPv6 routes, rules and an IPv6 excluded address on an IPv4 instance.
#[test]
fn keepalived_master_and_vrrpd_backup_agree_on_the_ipv6_routing_state() {
    let Some(lab) = Lab::new("rrtk", 2) else {
        return;
    };
    let conf = |priority: u8| {
        let c = config6(priority);
        let at = c.find("vrrp_instance").expect("an instance");
        c[at..].to_string()
    };
    let snap = |lab: &Lab, i: usize| -> Snapshot {
        (
            routes6(lab, i),
            rules6(lab, i),
            addrs6(lab, i, "eth0").contains(&"fd99::200".to_string()),
        )
    };
    agree_after_failovers(&lab, &conf, &snap, (6, 3));
}

/// A keepalived master and a vrrpd backup run `conf`: after keepalived leaves, vrrpd's master
/// state is exactly keepalived's (`counts`: its routes and rules); after keepalived returns and
/// preempts, it is back there and vrrpd's side is clean.
fn agree_after_failovers(
    lab: &Lab,
    conf: &dyn Fn(u8) -> String,
    snap: &dyn Fn(&Lab, usize) -> Snapshot,
    counts: (usize, usize),
) {
    let mut k1 = lab.keepalived(1, &conf(150));
    assert!(
        lab.wait_master("10.99.0.100", 1, 5 * S),
        "{}",
        describe(&k1)
    );
    let d2 = lab.vrrpd(2, &conf(100));
    assert!(
        d2.wait_log("(VI_1) Entering BACKUP STATE", 5 * S),
        "{}",
        describe(&d2)
    );
    let clean: Snapshot = (Vec::new(), Vec::new(), false);
    assert!(
        eventually(3 * S, || {
            let (r, u, x) = snap(lab, 1);
            (r.len(), u.len(), x) == (counts.0, counts.1, true)
        }),
        "{:#?}\n{}",
        snap(lab, 1),
        k1.log()
    );
    let want = snap(lab, 1);
    assert_eq!(snap(lab, 2), clean);

    // keepalived leaves: vrrpd's master state is keepalived's, exactly.
    assert_eq!(k1.term(), Some(0), "{}", k1.log());
    assert!(
        d2.wait_log("(VI_1) Entering MASTER STATE", 3 * S),
        "{}",
        describe(&d2)
    );
    assert!(
        eventually(3 * S, || snap(lab, 2) == want && snap(lab, 1) == clean),
        "keepalived's: {want:#?}\nr1 {:#?}\nr2 {:#?}\n{}",
        snap(lab, 1),
        snap(lab, 2),
        d2.log()
    );

    // keepalived comes back and preempts: the state moves back, vrrpd's side is clean.
    let k1 = lab.keepalived(1, &conf(150));
    assert!(
        d2.wait_log("(VI_1) Entering BACKUP STATE", 8 * S),
        "{}\n{}",
        describe(&d2),
        k1.log()
    );
    assert!(
        eventually(3 * S, || snap(lab, 1) == want && snap(lab, 2) == clean),
        "r1 {:#?}\nr2 {:#?}\n{}",
        snap(lab, 1),
        snap(lab, 2),
        d2.log()
    );
}

/// One master whose extras change by reload: what stayed is never deleted (watched with
/// `ip monitor`), what went is gone, what came is there, and the VIP never left.
#[test]
fn reload_applies_only_the_difference() {
    let Some(lab) = Lab::new("urtr", 1) else {
        return;
    };
    let conf = |routes: &str, rules: &str, excluded: &str, statics: &str| {
        format!(
            "static_routes {{
{statics}
}}
vrrp_instance VI_1 {{
    state MASTER
    interface eth0
    virtual_router_id 73
    priority 150
    advert_int 0.2
    version 3
    virtual_ipaddress {{
        10.99.0.100/24 dev eth0
    }}
    virtual_ipaddress_excluded {{
{excluded}
    }}
    virtual_routes {{
{routes}
    }}
    virtual_rules {{
{rules}
    }}
}}
"
        )
    };
    let a = conf(
        "        10.99.21.0/24 via 10.99.0.254\n        10.99.22.0/24 via 10.99.0.254
        fd99:21::/64 via fe80::1 dev eth0\n        fd99:22::/64 via fe80::1 dev eth0",
        "        from 10.99.0.100 table 100 pref 100\n        from fd99::1 table 100 pref 100",
        "        10.99.0.201/24 dev eth0",
        "    10.99.31.0/24 via 10.99.0.254\n    10.99.32.0/24 via 10.99.0.254",
    );
    let b = conf(
        "        10.99.21.0/24 via 10.99.0.254\n        10.99.23.0/24 via 10.99.0.254
        fd99:21::/64 via fe80::1 dev eth0\n        fd99:23::/64 via fe80::1 dev eth0",
        "        from 10.99.0.100 table 100 pref 100\n        to 10.99.23.0/24 table 100 pref 101
        from fd99::1 table 100 pref 100",
        "        10.99.0.202/24 dev eth0",
        "    10.99.31.0/24 via 10.99.0.254\n    10.99.33.0/24 via 10.99.0.254",
    );
    let d = lab.vrrpd(1, &a);
    assert!(
        d.wait_log("(VI_1) Entering MASTER STATE", 5 * S),
        "{}",
        describe(&d)
    );
    let dsts = |lab: &Lab| {
        let mut v: Vec<String> = routes(lab, 1)
            .iter()
            .chain(&routes6(lab, 1))
            .filter_map(|r| r.split(' ').next().map(String::from))
            .collect();
        v.sort();
        v
    };
    assert!(
        eventually(3 * S, || dsts(&lab)
            == [
                "10.99.21.0/24",
                "10.99.22.0/24",
                "10.99.31.0/24",
                "10.99.32.0/24",
                "fd99:21::/64",
                "fd99:22::/64"
            ]),
        "{}",
        show(&lab, 1)
    );
    let mut monitor = std::process::Command::new("ip")
        .args(["-n", &lab.ns(1), "monitor", "route", "rule", "address"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("ip monitor");
    std::thread::sleep(S / 5);
    std::fs::write(d.conf_path(), &b).unwrap();
    d.hup();
    let settled = eventually(3 * S, || {
        dsts(&lab)
            == [
                "10.99.21.0/24",
                "10.99.23.0/24",
                "10.99.31.0/24",
                "10.99.33.0/24",
                "fd99:21::/64",
                "fd99:23::/64",
            ]
            && rules(&lab, 1).len() == 2
            && rules6(&lab, 1).len() == 1
            && lab.has_vip(1, "10.99.0.202")
            && !lab.has_vip(1, "10.99.0.201")
    });
    std::thread::sleep(S / 5);
    let _ = monitor.kill();
    let out = monitor.wait_with_output().expect("ip monitor output");
    let events = String::from_utf8_lossy(&out.stdout);
    assert!(settled, "{}\n{}\n{events}", show(&lab, 1), d.log());
    for kept in [
        "10.99.21.0/24",
        "10.99.31.0/24",
        "from 10.99.0.100",
        "10.99.0.100/24",
        "fd99:21::/64",
        "from fd99::1",
    ] {
        assert!(
            !events
                .lines()
                .any(|l| l.starts_with("Deleted") && l.contains(kept)),
            "{kept} was touched by the reload:\n{events}"
        );
    }
    for gone in [
        "10.99.22.0/24",
        "10.99.32.0/24",
        "10.99.0.201/24",
        "fd99:22::/64",
    ] {
        assert!(
            events
                .lines()
                .any(|l| l.starts_with("Deleted") && l.contains(gone)),
            "{gone} not deleted:\n{events}"
        );
    }
    assert_eq!(d.count("Entering MASTER STATE"), 1, "{}", d.log());
    assert!(d.log().contains("applied in place"), "{}", d.log());
}

/// A sync group moves its members' routes together: one member faults (track_file), both
/// instances' routes go to the other router.
#[test]
fn sync_group_moves_the_routes_of_all_members() {
    let Some(lab) = Lab::new("urts", 2) else {
        return;
    };
    // Each router its own file: only r1's member faults.
    let (file, other) = (lab.path("fault-r1"), lab.path("fault-r2"));
    std::fs::write(&file, "0\n").unwrap();
    std::fs::write(&other, "0\n").unwrap();
    let conf = |priority: u8, file: &std::path::Path| {
        let inst = |name: &str, vrid: u8, net: u8, track: &str| {
            format!(
                "vrrp_instance {name} {{
    state BACKUP
    interface eth0
    virtual_router_id {vrid}
    priority {priority}
    advert_int 0.2
    version 3
    virtual_ipaddress {{
        10.99.0.{vrid}/24 dev eth0
    }}
    virtual_routes {{
        10.99.{net}.0/24 via 10.99.0.254
    }}
{track}
}}
"
            )
        };
        format!(
            "vrrp_track_file tf {{
    file \"{}\"
    weight 0
}}
vrrp_sync_group G {{
    group {{
        VI_1
        VI_2
    }}
}}
{}{}",
            file.display(),
            inst("VI_1", 81, 41, ""),
            inst("VI_2", 82, 42, "    track_file {\n        tf\n    }")
        )
    };
    let d1 = lab.vrrpd(1, &conf(150, &file));
    assert!(
        d1.wait_count("Entering MASTER STATE", 2, 5 * S),
        "{}",
        describe(&d1)
    );
    let d2 = lab.vrrpd(2, &conf(100, &other));
    assert!(
        d2.wait_count("Entering BACKUP STATE", 2, 5 * S),
        "{}",
        describe(&d2)
    );
    let nets = |i: usize| {
        let mut v: Vec<String> = routes(&lab, i)
            .iter()
            .filter_map(|r| r.split(' ').next().map(String::from))
            .collect();
        v.sort();
        v
    };
    let both = ["10.99.41.0/24", "10.99.42.0/24"];
    assert!(
        eventually(3 * S, || nets(1) == both && nets(2).is_empty()),
        "{}\n{}",
        show(&lab, 1),
        show(&lab, 2)
    );
    std::fs::write(&file, "1\n").unwrap();
    assert!(
        eventually(5 * S, || nets(2) == both && nets(1).is_empty()),
        "{}\n{}\n{}\n{}",
        show(&lab, 1),
        show(&lab, 2),
        d1.log(),
        d2.log()
    );
}

/// Lost netlink events (ENOBUFS): routes and rules of both families deleted while the queue
/// overflowed are only noticed by the re-read, which puts them back.
#[test]
fn routes_deleted_during_lost_events_come_back() {
    let Some(lab) = Lab::new("urto", 1) else {
        return;
    };
    let conf = "vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 74
    priority 150
    advert_int 0.2
    version 3
    virtual_ipaddress {
        10.99.0.100/24 dev eth0
    }
    virtual_routes {
        10.99.51.0/24 via 10.99.0.254
        fd99:51::/64 via fe80::1 dev eth0
    }
    virtual_rules {
        from 10.99.0.100 table 100 pref 100
        from fd99::100 table 100 pref 100
    }
}
";
    let all_there = || {
        [
            routes(&lab, 1),
            rules(&lab, 1),
            routes6(&lab, 1),
            rules6(&lab, 1),
        ]
        .iter()
        .all(|v| v.len() == 1)
    };
    let d = lab.vrrpd(1, conf);
    assert!(
        d.wait_log("(VI_1) Entering MASTER STATE", 5 * S),
        "{}",
        describe(&d)
    );
    assert!(eventually(3 * S, all_there));
    lab.ip(
        1,
        &[
            "link", "add", "dummy0", "type", "veth", "peer", "name", "dummy1",
        ],
    );
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
    std::fs::write(&batch, lines).expect("batch file");
    d.signal(libc::SIGSTOP);
    lab.ip(1, &["-batch", batch.to_str().expect("path")]);
    lab.ip(1, &["route", "del", "10.99.51.0/24"]);
    lab.ip(1, &["rule", "del", "pref", "100"]);
    lab.ip(1, &["-6", "route", "del", "fd99:51::/64"]);
    lab.ip(1, &["-6", "rule", "del", "pref", "100"]);
    d.signal(libc::SIGCONT);
    assert!(
        d.wait_count("netlink event queue overflowed", 1, 5 * S),
        "no overflow seen:\n{}",
        d.log()
    );
    assert!(
        eventually(3 * S, all_there),
        "not restored after the re-read:\n{}\n{}\n{}",
        show(&lab, 1),
        show6(&lab, 1),
        d.log()
    );
    assert_eq!(d.count("Entering MASTER STATE"), 1);
}

// IPv6: routes, rules and addresses of the other family on an IPv4 instance (dual stack in one
// instance, as neutron's HA routers have it), and static IPv6 ones.

/// Both routers' dual-stack config: an IPv4 instance that carries IPv6 excluded addresses,
/// routes and rules; static IPv6 ones. Only the priority differs.
fn config6(priority: u8) -> String {
    format!(
        "static_ipaddress {{
    fd99:7::1/128 dev lo
}}
static_routes {{
    fd99:8::/64 via fe80::254 dev eth0
}}
static_rules {{
    from fd99:9::/64 table 200 preference 200
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 75
    priority {priority}
    advert_int 0.2
    version 3
    virtual_ipaddress {{
        10.99.0.100/24 dev eth0
    }}
    virtual_ipaddress_excluded {{
        fd99::200/64 dev eth0
    }}
    virtual_routes {{
        fd99:5::/64 via fd99::254 dev eth0 table 100 metric 7
        src fd99::200 to fd99:6::/64 dev eth0
        blackhole fd99:4::/64
        default via fe80::1 dev eth0 table 101
        fd99:3::/64 via fd99::253 dev eth0 no_track
        fd99:12::/64 from fd99::/64 dev eth0 pref high
    }}
    virtual_rules {{
        from fd99::200/128 table 100 priority 100
        fwmark 7 table 101 priority 102 inet6
        to fd99:5::/64 table 100 priority 101 no_track
    }}
}}
"
    )
}

/// The virtual IPv6 routes as `ip -6 route show table all` prints them.
const VIRTUAL_ROUTES6: [&str; 6] = [
    "fd99:12::/64 from fd99::/64 dev eth0 proto keepalived metric 1024 pref high",
    "fd99:5::/64 via fd99::254 dev eth0 table 100 proto keepalived metric 7 pref medium",
    "fd99:6::/64 dev eth0 proto keepalived src fd99::200 metric 1024 pref medium",
    "blackhole fd99:4::/64 dev lo proto keepalived metric 1024 pref medium",
    "default via fe80::1 dev eth0 table 101 proto keepalived metric 1024 pref medium",
    "fd99:3::/64 via fd99::253 dev eth0 proto keepalived metric 1024 pref medium",
];
const STATIC_ROUTE6: &str =
    "fd99:8::/64 via fe80::254 dev eth0 proto keepalived metric 1024 pref medium";
const VIRTUAL_RULES6: [&str; 3] = [
    "100:\tfrom fd99::200 lookup 100 proto keepalived",
    "101:\tfrom all to fd99:5::/64 lookup 100",
    "102:\tfrom all fwmark 0x7 lookup 101 proto keepalived",
];
const STATIC_RULE6: &str = "200:\tfrom fd99:9::/64 lookup 200 proto keepalived";

/// Router `i`'s IPv6 routes tagged proto keepalived, in every table.
fn routes6(lab: &Lab, i: usize) -> Vec<String> {
    let mut v: Vec<String> = lab
        .ip(i, &["-6", "route", "show", "table", "all"])
        .lines()
        .filter(|l| l.contains("proto keepalived"))
        .map(|l| l.trim().to_string())
        .collect();
    v.sort();
    v
}

/// Router `i`'s IPv6 rules but the kernel's two defaults.
fn rules6(lab: &Lab, i: usize) -> Vec<String> {
    let mut v: Vec<String> = lab
        .ip(i, &["-6", "rule", "show"])
        .lines()
        .filter(|l| !["0:\t", "32766:\t"].iter().any(|p| l.starts_with(p)))
        .map(|l| l.trim_end().to_string())
        .collect();
    v.sort();
    v
}

/// IPv6 addresses on router `i`'s `dev`, without their prefix length.
fn addrs6(lab: &Lab, i: usize, dev: &str) -> Vec<String> {
    lab.addrs6_on(i, dev)
        .iter()
        .filter_map(|a| a.split('/').next().map(str::to_string))
        .collect()
}

fn sorted(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// Exactly the virtual IPv6 ones (as master) or none, plus the static ones, on router `i`.
fn state6_is(lab: &Lab, i: usize, master: bool) -> bool {
    let mut want_routes: Vec<&str> = if master {
        VIRTUAL_ROUTES6.to_vec()
    } else {
        Vec::new()
    };
    want_routes.push(STATIC_ROUTE6);
    let mut want_rules: Vec<&str> = if master {
        VIRTUAL_RULES6.to_vec()
    } else {
        Vec::new()
    };
    want_rules.push(STATIC_RULE6);
    routes6(lab, i) == sorted(&want_routes)
        && rules6(lab, i) == sorted(&want_rules)
        && addrs6(lab, i, "eth0").contains(&"fd99::200".to_string()) == master
        && lab.has_vip(i, "10.99.0.100") == master
        && addrs6(lab, i, "lo").contains(&"fd99:7::1".to_string())
}

fn show6(lab: &Lab, i: usize) -> String {
    format!(
        "r{i} routes: {:#?}\nr{i} rules: {:#?}\nr{i} eth0: {:?} {:?} lo {:?}",
        routes6(lab, i),
        rules6(lab, i),
        lab.addrs(i),
        addrs6(lab, i, "eth0"),
        addrs6(lab, i, "lo")
    )
}

#[test]
fn ipv6_routes_rules_and_excluded_follow_an_ipv4_master() {
    follow_the_master(&Family {
        prefix: "rrtsix",
        capture: "vrrp or icmp6",
        config: config6,
        state_is: state6_is,
        show: show6,
        routes: routes6,
        rules: rules6,
        has: |lab, i, dev, addr| addrs6(lab, i, dev).iter().any(|a| a == addr),
        excluded: "fd99::200",
        on_lo: "fd99:7::1",
        tracked: &[
            &["-6", "route", "del", "fd99:5::/64", "table", "100"],
            &["-6", "route", "del", "default", "table", "101"],
            &["-6", "rule", "del", "pref", "100"],
            &["-6", "route", "del", "blackhole", "fd99:4::/64"],
        ],
        no_track: &[
            &["-6", "route", "del", "fd99:3::/64"],
            &["-6", "rule", "del", "pref", "101"],
        ],
        no_track_route: "fd99:3::/64",
        statics: &[
            &["-6", "route", "del", "fd99:8::/64"],
            &["-6", "rule", "del", "pref", "200"],
            &["addr", "del", "fd99:7::1/128", "dev", "lo"],
        ],
        swept: &["removing stale rule"],
        // The IPv6 extras of an IPv4 instance are no cause for a warning.
        unlogged: &["IPv6"],
        announced: "icmpv6.type == 136 && icmpv6.nd.na.target_address == fd99::200",
    });
}

/// The reverse: an IPv6 instance with an IPv4 excluded address, IPv4 and IPv6 routes and rules.
#[test]
fn ipv4_extras_follow_an_ipv6_master() {
    let Some(lab) = Lab::new("rrtrev", 2) else {
        return;
    };
    let conf = |priority: u8| {
        format!(
            "vrrp_instance VI_6 {{
    state BACKUP
    interface eth0
    virtual_router_id 76
    priority {priority}
    advert_int 0.2
    virtual_ipaddress {{
        fe80::1:100/64 dev eth0
        fd99::100/64 dev eth0
    }}
    virtual_ipaddress_excluded {{
        10.99.0.201/24 dev eth0
    }}
    virtual_routes {{
        10.99.52.0/24 via 10.99.0.254 dev eth0
        fd99:52::/64 via fe80::1 dev eth0
        default dev eth0 table 102
    }}
    virtual_rules {{
        from 10.99.0.201 table 100 pref 100
        from fd99::100 table 100 pref 100
    }}
}}
"
        )
    };
    let want4 = [
        "10.99.52.0/24 via 10.99.0.254 dev eth0 proto keepalived",
        // `default` with nothing else to say is IPv4, as keepalived.conf(5) has it.
        "default dev eth0 table 102 proto keepalived",
    ];
    let want6 = ["fd99:52::/64 via fe80::1 dev eth0 proto keepalived metric 1024 pref medium"];
    let master = |i: usize| {
        sorted(&want4) == {
            let mut r = routes(&lab, i);
            r.sort();
            r
        } && routes6(&lab, i) == sorted(&want6)
            && rules(&lab, i) == ["100:\tfrom 10.99.0.201 lookup 100 proto keepalived"]
            && rules6(&lab, i) == ["100:\tfrom fd99::100 lookup 100 proto keepalived"]
            && lab.has_vip(i, "10.99.0.201")
    };
    let clean = |i: usize| {
        routes(&lab, i).is_empty()
            && routes6(&lab, i).is_empty()
            && rules(&lab, i).is_empty()
            && rules6(&lab, i).is_empty()
            && !lab.has_vip(i, "10.99.0.201")
    };
    let both = |i: usize| format!("{}\n{}", show(&lab, i), show6(&lab, i));
    let mut d1 = lab.vrrpd(1, &conf(150));
    assert!(
        d1.wait_log("(VI_6) Entering MASTER STATE", 5 * S),
        "{}",
        describe(&d1)
    );
    let mut d2 = lab.vrrpd(2, &conf(100));
    assert!(
        d2.wait_log("(VI_6) Entering BACKUP STATE", 5 * S),
        "{}",
        describe(&d2)
    );
    assert!(
        eventually(3 * S, || master(1) && clean(2)),
        "{}\n{}\n{}",
        both(1),
        both(2),
        d1.log()
    );
    assert_eq!(d1.term(), Some(0), "{}", d1.log());
    assert!(
        d2.wait_log("(VI_6) Entering MASTER STATE", 3 * S),
        "{}",
        describe(&d2)
    );
    assert!(
        eventually(3 * S, || master(2) && clean(1)),
        "{}\n{}\n{}",
        both(1),
        both(2),
        d2.log()
    );
    assert_eq!(d2.term(), Some(0), "{}", d2.log());
    assert!(clean(2), "{}", both(2));
}
