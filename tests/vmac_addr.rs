//! Macvlans beyond the instance's own, in network namespaces: `use_vmac_addr` gives each other
//! interface and each other family its own macvlan with the right virtual MAC (keepalived's
//! names: vrrp1.51 on eth1, vrrp6.51 for IPv6 on eth0), and a VIP's own `use_vmac` one for it.
//! Clients on both LANs keep the virtual MACs across a kill -9 of the master with every
//! gratuitous ARP and NA dropped; a backup sends nothing from them; keepalived agrees; the
//! macvlans follow their parents and the daemon.

mod common;

use common::*;
use std::time::Duration;

const S: Duration = Duration::from_secs(1);
const MAC4: &str = "00:00:5e:00:01:33";
const MAC6: &str = "00:00:5e:00:02:33";
/// The second LAN, on the routers' eth1 and the switch's br1 (which is also its client).
const VIP_LAN2: &str = "10.99.7.100";
const SW_LAN2: &str = "10.99.7.250";

/// VI_1 (IPv4, VRRPv3, 0.1 s, VRID 51) with `words`: VIP 10.99.0.100 on eth0, and excluded
/// 10.99.7.100 on eth1 and fd99::100 on eth0.
fn conf_with(vi: &Vi, words: &str, lan2: &str) -> String {
    conf(std::slice::from_ref(vi)).replace(
        "    interface eth0\n",
        &format!(
            "    interface eth0\n{words}    virtual_ipaddress_excluded {{\n        \
             {VIP_LAN2}/24 dev eth1{lan2}\n        {VIP6}/64\n    }}\n"
        ),
    )
}

fn addr_conf(vi: &Vi) -> String {
    conf_with(vi, "    use_vmac\n    use_vmac_addr\n", "").replace(" dev eth0", "")
}

/// A second LAN: bridge br1 in the switch namespace (at SW_LAN2, the LAN's client), port q{i}
/// to each router's eth1 at 10.99.7.{host}.
fn add_lan2(lab: &Lab) {
    let sw_ip = |args: &[&str]| {
        lab.sw_ip(args);
    };
    sw_ip(&[
        "link",
        "add",
        "br1",
        "type",
        "bridge",
        "forward_delay",
        "0",
        "stp_state",
        "0",
        "mcast_snooping",
        "0",
    ]);
    sw_ip(&["addr", "add", &format!("{SW_LAN2}/24"), "dev", "br1"]);
    sw_ip(&["link", "set", "br1", "up"]);
    for i in 1..=lab.n {
        plug_lan2(lab, i);
    }
}

/// Router `i`'s eth1 and its port q{i} on br1 (again, after `unplug_lan2`).
fn plug_lan2(lab: &Lab, i: usize) {
    let q = format!("q{i}");
    let ns = lab.ns(i);
    lab.sw_ip(&[
        "link", "add", &q, "type", "veth", "peer", "name", "eth1", "netns", &ns,
    ]);
    lab.sw_ip(&["link", "set", &q, "master", "br1"]);
    lab.sw_ip(&["link", "set", &q, "up"]);
    let me = lab.host_ip(i).replace("10.99.0.", "10.99.7.");
    lab.ip(i, &["addr", "add", &format!("{me}/24"), "dev", "eth1"]);
    lab.ip(i, &["link", "set", "eth1", "up"]);
    lab.wait_carrier(&ns, "eth1");
}

/// On both bridges: counts per router port the frames from either virtual MAC, and with `hide`
/// keeps every gratuitous ARP and unsolicited NA from the clients (they ignore them, as the
/// phones and printers of keepalived's issues do). The bridges still learn from them, as
/// switches do: a macvlan that sends no adverts has nothing else to tell them where the
/// virtual MAC went.
fn filter_switches(lab: &Lab, hide: bool) {
    let mut rules = String::from("table bridge va {\n  counter announced { }\n");
    for i in 1..=lab.n {
        rules.push_str(&format!(
            "  counter from_p{i} {{ }}\n  counter from_q{i} {{ }}\n"
        ));
    }
    rules
        .push_str("  chain pre {\n    type filter hook prerouting priority -200; policy accept;\n");
    for i in 1..=lab.n {
        for port in ["p", "q"] {
            rules.push_str(&format!(
                "    iifname \"{port}{i}\" ether saddr {{ {MAC4}, {MAC6} }} counter name from_{port}{i}\n"
            ));
        }
    }
    rules.push_str("  }\n");
    let verdict = if hide { "drop" } else { "accept" };
    let announced = "ether type arp arp saddr ip { 10.99.0.100, 10.99.7.100 } arp daddr ip { 10.99.0.100, 10.99.7.100 } counter name announced VERDICT\n    icmpv6 type nd-neighbor-advert ip6 daddr ff02::1 counter name announced VERDICT"
        .replace("VERDICT", verdict);
    for hook in ["forward", "input"] {
        rules.push_str(&format!(
            "  chain {hook} {{\n    type filter hook {hook} priority 0; policy accept;\n    {announced}\n  }}\n"
        ));
    }
    rules.push_str("}\n");
    lab.sw_nft(&rules);
}

/// A TCP connection from namespace `ns` to a closed port of `addr` is answered (refused) by
/// whoever holds it: the path works both ways.
fn reach(ns: &str, addr: &str) -> bool {
    let Ok(ip) = addr.parse::<std::net::IpAddr>() else {
        return false;
    };
    let to = std::net::SocketAddr::new(ip, 9);
    in_netns(ns, move || {
        match std::net::TcpStream::connect_timeout(&to, S) {
            Ok(_) => true,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionRefused,
        }
    })
    .join()
    .unwrap_or(false)
}

/// The MAC the client (`lan` 1) or the switch's br1 (`lan` 2) has for `addr`.
fn neigh(lab: &Lab, lan: u8, addr: &str) -> Option<String> {
    let out = if lan == 1 {
        lab.client_exec(&["ip", "neigh", "show", "to", addr, "dev", "eth0"])
            .stdout
    } else {
        lab.sw_ip(&["neigh", "show", "to", addr, "dev", "br1"])
    };
    let words: Vec<&str> = out.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "lladdr")?;
    words.get(at + 1).map(|s| s.to_string())
}

/// `ip -d link show dev NAME` in router `i`, or None.
fn link(lab: &Lab, i: usize, name: &str) -> Option<String> {
    let r = lab.try_ip(i, &["-d", "link", "show", "dev", name]);
    r.ok().then_some(r.stdout)
}

/// Router `i`'s `dev` has `addr` (either family).
fn has(lab: &Lab, i: usize, dev: &str, addr: &str) -> bool {
    lab.has_addr(i, dev, addr) || lab.has_addr6(i, dev, addr)
}

/// The three addresses on their macvlans in router `i` (keepalived's names).
fn holds_all(lab: &Lab, i: usize) -> bool {
    has(lab, i, "vrrp.51", VIP)
        && has(lab, i, "vrrp1.51", VIP_LAN2)
        && has(lab, i, "vrrp6.51", VIP6)
}

fn holds_none(lab: &Lab, i: usize) -> bool {
    [("vrrp.51", VIP), ("vrrp1.51", VIP_LAN2), ("vrrp6.51", VIP6)]
        .iter()
        .all(|(dev, a)| !has(lab, i, dev, a))
}

/// The clients reach all three addresses, each at its family's virtual MAC (`macs`: keepalived
/// leaves arp_announce at 0, and its host's own ARP requests flip the client's entry for the
/// VIP to the parent's MAC; see tests/vmac.rs).
fn clients_at_virtual_macs(lab: &Lab, macs: bool) -> Result<(), String> {
    let (cl, sw) = (lab.client_ns(), lab.sw());
    for (ns, lan, addr, mac) in [
        (&cl, 1, VIP, MAC4),
        (&cl, 1, VIP6, MAC6),
        (&sw, 2, VIP_LAN2, MAC4),
    ] {
        if !wait_until(3 * S, S / 10, || reach(ns, addr)) {
            return Err(format!("{ns} cannot reach {addr}"));
        }
        let got = neigh(lab, lan, addr);
        if macs && got.as_deref() != Some(mac) {
            return Err(format!("{ns} has {got:?} for {addr}, not {mac}"));
        }
    }
    Ok(())
}

/// Two routers with `use_vmac` + `use_vmac_addr`, `kinds` each; r1 the higher priority. The
/// master holds each address on the macvlan of its interface and family, the clients keep the
/// virtual MACs across a kill -9 of r1 with no announcement getting through, and the backup
/// sends nothing from a virtual MAC.
fn pair(prefix: &str, kinds: [Kind; 2]) {
    let Some(mut lab) = Lab::new(prefix, 2) else {
        return;
    };
    lab.add_client();
    add_lan2(&lab);
    lab.add_client6();
    // A client whose entry keepalived flipped to its physical MAC (see clients_at_virtual_macs)
    // needs the new master's announcements; with a vrrpd master it needs none.
    filter_switches(&lab, kinds[0] == Kind::Vrrpd);
    let (hi, lo) = (Vi::v3(150), Vi::v3(100));
    let mut d1 = lab.daemon(kinds[0], 1, &addr_conf(&hi));
    let ok = wait_until(hi.master_down() + 2 * MARGIN, S / 20, || holds_all(&lab, 1));
    assert!(ok, "{}\n{}", describe(&d1), lab.ip(1, &["-br", "addr"]));
    let mut d2 = lab.daemon(kinds[1], 2, &addr_conf(&lo));
    assert!(
        d2.wait_log("Entering BACKUP STATE", 5 * S),
        "{}",
        describe(&d2)
    );
    std::thread::sleep(lo.master_down() + S / 2);

    // Each macvlan on its parent with its family's virtual MAC; the backup's are there too,
    // down and empty.
    for i in [1, 2] {
        for (name, parent, mac) in [
            ("vrrp.51", "eth0", MAC4),
            ("vrrp1.51", "eth1", MAC4),
            ("vrrp6.51", "eth0", MAC6),
        ] {
            let l = link(&lab, i, name).unwrap_or_else(|| panic!("r{i} has no {name}"));
            assert!(
                l.contains(&format!("{name}@{parent}")) && l.contains(&format!("link/ether {mac}")),
                "{l}"
            );
            if kinds[i - 1] == Kind::Vrrpd && i == 2 {
                assert!(!l.contains(",UP"), "{l}");
            }
        }
    }
    assert!(
        holds_all(&lab, 1) && holds_none(&lab, 2),
        "{}",
        describe(&d2)
    );
    // The JSON dump names the macvlan a VIP is on as keepalived 2.2.7 does.
    if kinds[0] == Kind::Vrrpd {
        let pidfile = d1.pidfile().display().to_string();
        let r = lab.vrrpd_run(1, &["-s", "--json", "-p", &pidfile]);
        assert!(
            r.stdout
                .contains(r#""10.99.0.100\/24 dev vrrp.51@eth0 scope global set""#),
            "{}{}",
            r.stdout,
            r.stderr
        );
    }
    clients_at_virtual_macs(&lab, kinds[0] == Kind::Vrrpd)
        .unwrap_or_else(|e| panic!("{e}\n{}", describe(&d1)));
    if kinds[1] == Kind::Vrrpd {
        std::thread::sleep(S);
        for c in ["from_p2", "from_q2"] {
            assert_eq!(lab.sw_counter("va", c), 0, "{c}\n{}", describe(&d2));
        }
    }
    assert!(
        lab.sw_counter("va", "announced") > 0,
        "nothing was announced"
    );

    // r1 dies, and (as when the box dies) nothing it sends arrives any more.
    d1.kill9();
    lab.sw_nft("add rule bridge va pre iifname { \"p1\", \"q1\" } drop\n");
    let ok = wait_until(lo.master_down() + MARGIN, S / 20, || holds_all(&lab, 2));
    assert!(ok, "{}\n{}", describe(&d2), lab.ip(2, &["-br", "addr"]));
    // No announcement reached a client, yet they reach all three at the virtual MACs, now at
    // r2: the bridges learned r2's ports from its adverts (vrrp.51) and its announcements.
    clients_at_virtual_macs(&lab, kinds[1] == Kind::Vrrpd)
        .unwrap_or_else(|e| panic!("{e}\n{}", describe(&d2)));

    assert_eq!(d2.term(), Some(0), "{}", describe(&d2));
    for name in ["vrrp.51", "vrrp1.51", "vrrp6.51"] {
        assert_eq!(link(&lab, 2, name), None, "{}", describe(&d2));
    }
}

#[test]
fn use_vmac_addr_each_interface_and_family_keeps_its_virtual_mac() {
    pair("hvaddr", [Kind::Vrrpd, Kind::Vrrpd]);
}

#[test]
fn use_vmac_addr_keepalived_master_vrrpd_backup() {
    pair("hvakv", [Kind::Keepalived, Kind::Vrrpd]);
}

#[test]
fn use_vmac_addr_vrrpd_master_keepalived_backup() {
    pair("hvavk", [Kind::Vrrpd, Kind::Keepalived]);
}

/// A VIP's own `use_vmac` without the instance's: only 10.99.7.100 gets a macvlan (named
/// vrrp.51, on eth1); it is recreated when deleted by hand, goes with eth1 and comes back with
/// it without the instance leaving MASTER, is kept over a reload, reused after a kill -9,
/// deleted by a reload that drops the keyword, and the address is gone at stop.
#[test]
fn a_vip_s_own_use_vmac_follows_its_interface() {
    let Some(lab) = Lab::new("hvvip", 1) else {
        return;
    };
    add_lan2(&lab);
    let vi = Vi::v3(150);
    let text = conf_with(&vi, "", " use_vmac");
    let on_vmac = |lab: &Lab| has(lab, 1, "vrrp.51", VIP_LAN2);
    let mut d = lab.vrrpd(1, &text);
    assert!(
        wait_until(vi.master_down() + 2 * MARGIN, S / 20, || on_vmac(&lab)),
        "{}",
        describe(&d)
    );
    let l = link(&lab, 1, "vrrp.51").expect("vrrp.51");
    assert!(
        l.contains("vrrp.51@eth1") && l.contains(MAC4) && l.contains(",UP"),
        "{l}"
    );
    // The instance's own address and the IPv6 one stay on eth0 (no use_vmac of their own).
    assert!(has(&lab, 1, "eth0", VIP) && has(&lab, 1, "eth0", VIP6));
    assert!(reach(&lab.sw(), VIP_LAN2), "{}", describe(&d));
    assert_eq!(neigh(&lab, 2, VIP_LAN2).as_deref(), Some(MAC4));

    // Deleted by hand: made again with its address.
    let m = d.mark();
    lab.ip(1, &["link", "del", "vrrp.51"]);
    assert!(
        wait_until(3 * S, S / 20, || on_vmac(&lab)),
        "{}",
        describe(&d)
    );
    assert!(
        d.log_since(m)
            .contains("macvlan vrrp.51 was deleted by someone else; recreating it")
    );

    // eth1 goes away (and the kernel takes the macvlan with it) and comes back: the instance
    // stays MASTER, its address comes back on a new vrrp.51.
    let m = d.mark();
    lab.sw_ip(&["link", "del", "q1"]);
    assert!(
        wait_until(3 * S, S / 20, || link(&lab, 1, "vrrp.51").is_none()),
        "{}",
        describe(&d)
    );
    std::thread::sleep(S / 2);
    plug_lan2(&lab, 1);
    assert!(
        wait_until(3 * S, S / 20, || on_vmac(&lab)),
        "{}",
        describe(&d)
    );
    let log = d.log_since(m);
    assert!(!log.contains("FAULT"), "{log}");
    assert!(log.contains("created macvlan vrrp.51 on eth1"), "{log}");

    // A reload keeps it; a kill -9 leaves it, and the next run reuses it.
    let m = d.mark();
    d.hup();
    assert!(
        d.wait_log("Reloading configuration from", 3 * S),
        "{}",
        describe(&d)
    );
    std::thread::sleep(S / 2);
    assert!(
        !d.log_since(m).contains("deleting macvlan"),
        "{}",
        describe(&d)
    );
    let index = link(&lab, 1, "vrrp.51").map(|l| l.split(':').next().map(str::to_string));
    d.kill9();
    let mut d = lab.vrrpd(1, &text);
    assert!(
        d.wait_log("using the existing macvlan vrrp.51", 5 * S),
        "{}",
        describe(&d)
    );
    assert!(
        wait_until(vi.master_down() + 2 * MARGIN, S / 20, || on_vmac(&lab)),
        "{}",
        describe(&d)
    );
    assert_eq!(
        link(&lab, 1, "vrrp.51").map(|l| l.split(':').next().map(str::to_string)),
        index
    );
    // A reload without the VIP's use_vmac restarts the instance on plain eth1: the macvlan
    // goes, the address comes back on eth1 itself.
    let m = d.mark();
    std::fs::write(d.conf_path(), conf_with(&vi, "", "")).expect("rewrite the config");
    d.hup();
    let back = wait_until(vi.master_down() + 2 * MARGIN, S / 20, || {
        link(&lab, 1, "vrrp.51").is_none() && has(&lab, 1, "eth1", VIP_LAN2)
    });
    assert!(back, "{}", d.log_since(m));
    assert!(d.log_since(m).contains("(VI_1) deleting macvlan vrrp.51"));
    assert_eq!(d.term(), Some(0), "{}", describe(&d));
    assert!(!has(&lab, 1, "eth1", VIP_LAN2));
}
