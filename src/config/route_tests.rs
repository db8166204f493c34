//! The route, rule, excluded and static address readers: every form keepalived.conf(5) shows,
//! the values they give, and the exact diagnostics (file:line) for what vrrpd ignores or refuses.

use std::net::IpAddr;

use super::*;

fn load(text: &str) -> (Option<Config>, Vec<String>) {
    let l = load_str(text, "t.conf");
    (
        l.config,
        l.diagnostics.iter().map(|d| d.to_string()).collect(),
    )
}

/// An instance with `body` from line 7 on.
fn inst(body: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {{\n        10.0.0.1/24\n    }}\n{body}\n}}\n"
    )
}

/// Each of `cases`' lines, alone in the instance's `block` (virtual_routes or virtual_rules),
/// is refused with exactly the diagnostic next to it.
fn assert_refused(block: &str, cases: &[(&str, &str)]) {
    for (line, want) in cases {
        let (c, d) = load(&inst(&format!("    {block} {{\n        {line}\n    }}")));
        assert!(c.is_none(), "{line}: accepted");
        assert_eq!(d, [*want], "{line}");
    }
}

/// The warning for a rule without a preference on `line`, numbered `pref`.
fn no_preference(line: u32, pref: u32) -> String {
    format!(
        "t.conf:{line}: warning: rule has no preference; using {pref}, as keepalived does (rules need one to be installed in a known order)"
    )
}

fn a(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn route(dst: &str, len: u8) -> Route {
    Route {
        dst: a(dst),
        dst_len: len,
        from: (
            if a(dst).is_ipv6() {
                a("::")
            } else {
                a("0.0.0.0")
            },
            0,
        ),
        pref_src: None,
        via: None,
        dev: None,
        nexthops: Vec::new(),
        table: 254,
        metric: None,
        protocol: PROTO_KEEPALIVED,
        scope: 0,
        kind: 1,
        tos: 0,
        onlink: false,
        append: false,
        pref: None,
        track: true,
    }
}

fn rule(priority: u32, action: RuleAction) -> Rule {
    Rule {
        from: (a("0.0.0.0"), 0),
        to: (a("0.0.0.0"), 0),
        priority,
        action,
        invert: false,
        tos: 0,
        fwmark: None,
        iif: None,
        oif: None,
        protocol: PROTO_KEEPALIVED,
        suppress_prefixlen: None,
        ipproto: None,
        sport: None,
        dport: None,
        uidrange: None,
        l3mdev: false,
        track: true,
    }
}

/// The virtual_routes and virtual_rules examples of keepalived.conf(5), unchanged.
#[test]
fn the_manual_examples_load() {
    let (c, d) = load(&inst(
        "    virtual_ipaddress_excluded {
        192.168.200.20/24 dev eth0
        fd00::20/64 dev eth0
    }
    virtual_routes {
        src 192.168.100.1 to 192.168.109.0/24 via 192.168.200.254 dev eth1
        192.168.110.0/24 via 192.168.200.254 dev eth1
        192.168.111.0/24 dev eth2 no_track
        192.168.112.0/24 via 192.168.100.254
        192.168.113.0/24 via 192.168.200.254 or 192.168.100.254 dev eth1
        blackhole 192.168.114.0/24
        0.0.0.0/0 gw 192.168.0.1 table 100
    }
    virtual_rules {
        from 192.168.2.0/24 table 1
        to 192.168.2.0/24 table 1 no_track
    }",
    ));
    assert_eq!(d, [no_preference(21, 16384), no_preference(22, 16383)]);
    let x = &c.unwrap().instances[0].extras;
    // The IPv6 one is kept too (it is announced with an unsolicited NA).
    assert_eq!(x.addrs.len(), 2);
    assert_eq!(x.addrs[0].addr, a("192.168.200.20"));
    let eth1 = Some("eth1".to_string());
    assert_eq!(
        x.routes,
        [
            Route {
                pref_src: Some(a("192.168.100.1")),
                via: Some(a("192.168.200.254")),
                dev: eth1.clone(),
                ..route("192.168.109.0", 24)
            },
            Route {
                via: Some(a("192.168.200.254")),
                dev: eth1.clone(),
                ..route("192.168.110.0", 24)
            },
            Route {
                dev: Some("eth2".into()),
                track: false,
                ..route("192.168.111.0", 24)
            },
            Route {
                via: Some(a("192.168.100.254")),
                ..route("192.168.112.0", 24)
            },
            Route {
                dev: eth1,
                nexthops: ["192.168.200.254", "192.168.100.254"]
                    .map(|g| Nexthop {
                        via: Some(a(g)),
                        dev: None,
                        weight: 1,
                        onlink: false
                    })
                    .to_vec(),
                ..route("192.168.113.0", 24)
            },
            Route {
                kind: 6,
                ..route("192.168.114.0", 24)
            },
            Route {
                via: Some(a("192.168.0.1")),
                table: 100,
                ..route("0.0.0.0", 0)
            },
        ]
    );
    assert_eq!(
        x.rules,
        [
            Rule {
                from: (a("192.168.2.0"), 24),
                ..rule(16384, RuleAction::Table(1))
            },
            Rule {
                to: (a("192.168.2.0"), 24),
                track: false,
                protocol: 0,
                ..rule(16383, RuleAction::Table(1))
            },
        ]
    );
    // Excluded addresses are not advertised, so not VIPs.
    assert_eq!(c_vips(&inst("")), 1);
}

fn c_vips(text: &str) -> usize {
    load(text).0.unwrap().instances[0].vips.len()
}

/// The static_routes and static_rules examples of keepalived.conf(5): what vrrpd does not set
/// is a warning naming it; the IPv6 ones load too.
#[test]
fn the_manual_static_examples_warn_about_what_is_lost() {
    let (c, d) = load(
        "static_ipaddress {
    192.168.1.1/24 dev eth0 scope global
    10.9.9.9/32
}
static_routes {
    192.168.2.0/24 via 192.168.1.100 dev eth0 track_group GROUP1
    192.168.100.0/24 table 6909 nexthop via 192.168.101.1 dev wlan0 onlink weight 1 nexthop via 192.168.101.2 dev wlan0 onlink weight 2
    192.168.200.0/24 dev p33p1.2 table 6909 tos 0x04 protocol bird scope link priority 12 mtu 1000 hoplimit 100 advmss 101 rtt 102 rttvar 103 reordering 104 window 105 cwnd 106 ssthresh lock 107 realms PQA/0x14 rto_min 108 initcwnd 109 initrwnd 110 features ecn append no_track
    2001:470:69e9:1:2::4 dev p33p1.2 table 6909 tos 0x04 protocol bird scope link priority 12 mtu 1000 hoplimit 100 advmss 101 rtt 102 rttvar 103 reordering 104 window 105 cwnd 106 ssthresh lock 107 rto_min 108 initcwnd 109 append initrwnd 110 features ecn fastopen_no_cookie 1
}
static_rules {
    from 192.168.2.0/24 table 1 track_group GROUP1
    from 192.168.28.0/24 to 192.168.29.0/26 table 6909 iif p33p1 oif wlan0 tos 22 fwmark 24/12 preference 39
    to 1:2:3:4:5:6:7:0/112 from 7:6:5:4:3:2::/96 table 6908 uidrange 10000-19999
    to 1:2:3:4:6:6:7:0/112 from 8:6:5:4:3:2::/96 l3mdev protocol 12 ip_proto UDP sport 10-20 dport 20-30
}
",
    );
    let lost = |line: u32, what: &str| {
        format!(
            "t.conf:{line}: warning: '{what}' for a route is not supported by vrrpd; the route is installed without it"
        )
    };
    let mut want = vec![
        "t.conf:3: warning: static address 10.9.9.9 has no 'dev'; using eth0, keepalived's default_interface".to_string(),
        lost(6, "track_group GROUP1"),
    ];
    for w in [
        "mtu 1000",
        "hoplimit 100",
        "advmss 101",
        "rtt 102",
        "rttvar 103",
        "reordering 104",
        "window 105",
        "cwnd 106",
        "ssthresh 107",
        "realms PQA/0x14",
        "rto_min 108",
        "initcwnd 109",
        "initrwnd 110",
        "features ecn",
    ] {
        want.push(lost(8, w));
    }
    for w in [
        "mtu 1000",
        "hoplimit 100",
        "advmss 101",
        "rtt 102",
        "rttvar 103",
        "reordering 104",
        "window 105",
        "cwnd 106",
        "ssthresh 107",
        "rto_min 108",
        "initcwnd 109",
        "initrwnd 110",
        "features ecn",
        "fastopen_no_cookie 1",
    ] {
        want.push(lost(9, w));
    }
    want.extend([
        "t.conf:9: warning: 'tos 0x04' is not available for IPv6 routes in Linux; the route is installed without it".to_string(),
        "t.conf:9: warning: a tracked route is tagged proto keepalived (18), not 12, so that vrrpd can tell it is its own (add no_track to keep 12)".into(),
        "t.conf:12: warning: 'track_group GROUP1' for a rule is not supported by vrrpd; the rule is installed without it".into(),
        no_preference(12, 16384),
        no_preference(14, 16383),
        "t.conf:15: warning: a tracked rule is tagged proto keepalived (18), not 12, so that vrrpd can tell it is its own (add no_track to keep 12)".into(),
        no_preference(15, 16382),
    ]);
    assert_eq!(d, want);
    let s = c.unwrap().statics;
    assert_eq!(s.addrs.len(), 2);
    assert_eq!(s.addrs[1].dev.as_deref(), Some("eth0"));
    assert_eq!(s.routes.len(), 4);
    // IPv6: the family comes from the destination; no TOS (Linux refuses one).
    assert_eq!(
        s.routes[3],
        Route {
            dev: Some("p33p1.2".into()),
            table: 6909,
            scope: 253,
            metric: Some(12),
            append: true,
            ..route("2001:470:69e9:1:2::4", 128)
        }
    );
    assert_eq!(
        s.rules[2],
        Rule {
            from: (a("7:6:5:4:3:2::"), 96),
            to: (a("1:2:3:4:5:6:7:0"), 112),
            uidrange: Some((10000, 19999)),
            ..rule(16383, RuleAction::Table(6908))
        }
    );
    assert_eq!(
        s.rules[3],
        Rule {
            from: (a("8:6:5:4:3:2::"), 96),
            to: (a("1:2:3:4:6:6:7:0"), 112),
            l3mdev: true,
            ipproto: Some(17),
            sport: Some((10, 20)),
            dport: Some((20, 30)),
            ..rule(16382, RuleAction::Table(0))
        }
    );
    assert_eq!(
        s.routes[1].nexthops,
        [("192.168.101.1", 1), ("192.168.101.2", 2)].map(|(g, w)| Nexthop {
            via: Some(a(g)),
            dev: Some("wlan0".into()),
            weight: w,
            onlink: true
        })
    );
    assert_eq!(
        s.routes[2],
        Route {
            dev: Some("p33p1.2".into()),
            table: 6909,
            tos: 4,
            protocol: 12,
            scope: 253,
            metric: Some(12),
            append: true,
            track: false,
            ..route("192.168.200.0", 24)
        }
    );
    assert_eq!(
        s.rules[1],
        Rule {
            from: (a("192.168.28.0"), 24),
            to: (a("192.168.29.0"), 26),
            iif: Some("p33p1".into()),
            oif: Some("wlan0".into()),
            tos: 22,
            fwmark: Some((24, Some(12))),
            ..rule(39, RuleAction::Table(6909))
        }
    );
}

#[test]
fn rule_forms() {
    let (c, d) = load(&inst(
        "    virtual_rules {
        not from 10.1.0.0/16 lookup main pref 10 suppress_prefixlength 0
        pref 20 goto 30
        pref 21 fwmark 0x10 blackhole
        pref 22 type unreachable
        pref 23 prohibit
        pref 24 nop
        pref 25 l3mdev
        pref 26 ipproto tcp dport 443 sport 1000-2000 uidrange 0-999 table 7 protocol static no_track
        pref 27 from all table 8 protocol static
    }",
    ));
    assert_eq!(
        d,
        [
            "t.conf:16: warning: a tracked rule is tagged proto keepalived (18), not 4, so that vrrpd can tell it is its own (add no_track to keep 4)"
        ]
    );
    let r = &c.unwrap().instances[0].extras.rules;
    assert_eq!(
        r[0],
        Rule {
            invert: true,
            from: (a("10.1.0.0"), 16),
            suppress_prefixlen: Some(0),
            ..rule(10, RuleAction::Table(254))
        }
    );
    let actions: Vec<RuleAction> = r.iter().map(|r| r.action).collect();
    use RuleAction::*;
    assert_eq!(
        actions,
        [
            Table(254),
            Goto(30),
            Blackhole,
            Unreachable,
            Prohibit,
            Nop,
            Table(0),
            Table(7),
            Table(8)
        ]
    );
    assert_eq!(r[2].fwmark, Some((0x10, None)));
    assert!(r[6].l3mdev);
    assert_eq!(
        (
            r[7].ipproto,
            r[7].dport,
            r[7].sport,
            r[7].uidrange,
            r[7].protocol,
            r[7].track
        ),
        (
            Some(6),
            Some((443, 443)),
            Some((1000, 2000)),
            Some((0, 999)),
            4,
            false
        )
    );
    assert_eq!((r[8].from, r[8].protocol), ((a("0.0.0.0"), 0), 18));
}

#[test]
fn route_forms() {
    let (c, d) = load(&inst(
        "    virtual_routes {
        default via 10.0.0.254 metric 10 onlink
        to unreachable 10.8.0.0/16 table local
        throw 10.9.0.0/16 preference 3 scope host
        10.7.0.0/16 dev eth0 proto static
        10.6.0.0/16 dev eth0 proto static no_track
        10.5.1.1 via inet 10.0.0.1 dsfield 0x10
    }",
    ));
    assert_eq!(
        d,
        [
            "t.conf:11: warning: a tracked route is tagged proto keepalived (18), not 4, so that vrrpd can tell it is its own (add no_track to keep 4)"
        ]
    );
    let r = &c.unwrap().instances[0].extras.routes;
    assert_eq!(
        r[0],
        Route {
            via: Some(a("10.0.0.254")),
            metric: Some(10),
            onlink: true,
            ..route("0.0.0.0", 0)
        }
    );
    assert_eq!((r[1].kind, r[1].table), (7, 255));
    assert_eq!((r[2].kind, r[2].metric, r[2].scope), (9, Some(3), 254));
    assert_eq!((r[3].protocol, r[4].protocol), (18, 4));
    assert_eq!(
        (r[5].dst_len, r[5].tos, r[5].via),
        (32, 0x10, Some(a("10.0.0.1")))
    );
    assert_eq!(r[0].to_string(), "default via 10.0.0.254 metric 10");
    assert_eq!(r[2].to_string(), "throw 10.9.0.0/16 metric 3");
}

#[test]
fn errors_name_the_line() {
    let cases: &[(&str, &str)] = &[
        (
            "10.1.0.0/33 via 10.0.0.1",
            "t.conf:8: error: unknown route keyword or bad destination '10.1.0.0/33'",
        ),
        (
            "10.1.0.0/16 via",
            "t.conf:8: error: expected a gateway address after 'via'",
        ),
        (
            "10.1.2.0/16 via 10.0.0.1",
            "t.conf:8: error: route destination 10.1.2.0/16 has host bits set (did you mean 10.1.0.0/16?)",
        ),
        (
            "10.1.0.0/16 via 10.0.0.300",
            "t.conf:8: error: '10.0.0.300' is not a valid IP address for 'via'",
        ),
        (
            "via 10.0.0.1",
            "t.conf:8: error: a route needs a destination (PREFIX or default)",
        ),
        (
            "10.1.0.0/16 table nosuchtable",
            "t.conf:8: error: routing table 'nosuchtable' not found (a number 1-4294967295, main, local, default or a name in /etc/iproute2/rt_tables)",
        ),
        (
            "10.1.0.0/16 scope galaxy",
            "t.conf:8: error: unknown scope 'galaxy' (global, site, link, host, nowhere or 0-255)",
        ),
        (
            "10.1.0.0/16 10.2.0.0/16",
            "t.conf:8: error: unexpected '10.2.0.0/16': the route already has a destination",
        ),
        (
            "10.1.0.0/16 or 10.0.0.1",
            "t.conf:8: error: 'or' needs a 'via' gateway before it",
        ),
        (
            "10.1.0.0/16 encap ip id 1",
            "t.conf:8: error: 'encap' in a route is not supported by vrrpd (encapsulation and MPLS)",
        ),
        (
            "10.1.0.0/16 nexthop weight 2",
            "t.conf:8: error: a next hop needs 'via' or 'dev'",
        ),
        (
            "10.1.0.0/16 nexthop via 10.0.0.1 weight 300",
            "t.conf:8: error: '300' is not a valid next-hop weight (1-256)",
        ),
    ];
    assert_refused("virtual_routes", cases);
    let cases: &[(&str, &str)] = &[
        (
            "from 10.1.0.0/16 pref 5",
            "t.conf:8: error: a rule needs an action (table, goto, nop, blackhole, unreachable, prohibit or l3mdev)",
        ),
        (
            "goto 30",
            "t.conf:8: error: a rule with 'goto 30' needs a preference",
        ),
        (
            "pref 40 goto 30",
            "t.conf:8: error: preference 40 must be below the goto target 30",
        ),
        (
            "pref 1 table 1 blackhole",
            "t.conf:8: error: a rule takes one of table, goto, nop, blackhole, unreachable, prohibit and l3mdev",
        ),
        (
            "pref 1 blackhole suppress_prefixlength 0",
            "t.conf:8: error: suppress_prefixlength and realms only go with a table action",
        ),
        (
            "pref 1 table 1 fwmark 0x10/zz",
            "t.conf:8: error: '0x10/zz' is not a valid fwmark (MARK or MARK/MASK)",
        ),
        (
            "pref 1 table 0",
            "t.conf:8: error: routing table '0' not found (a number 1-4294967295, main, local, default or a name in /etc/iproute2/rt_tables)",
        ),
        (
            "pref 1 table 1 frobnicate",
            "t.conf:8: error: unknown rule option 'frobnicate'",
        ),
        (
            "pref 1 table 1 uidrange 5",
            "t.conf:8: error: '5' is not a valid uid range (A-B)",
        ),
    ];
    assert_refused("virtual_rules", cases);
}

#[test]
fn limits_are_checked() {
    let routes: String = (0..=crate::limits::MAX_ROUTES)
        .map(|i| format!("        10.{i}.0.0/16 via 10.0.0.1\n"))
        .collect();
    let (c, d) = load(&inst(&format!("    virtual_routes {{\n{routes}    }}")));
    assert!(c.is_none());
    assert_eq!(
        d,
        [format!(
            "t.conf:{}: error: more than 32 virtual routes (limit MAX_ROUTES)",
            8 + crate::limits::MAX_ROUTES
        )]
    );
    let rules: String = (0..=crate::limits::MAX_STATIC_RULES)
        .map(|i| format!("    pref {i} table 1\n"))
        .collect();
    let (c, d) = load(&format!("static_rules {{\n{rules}}}\n{}", inst("")));
    assert!(c.is_none());
    assert_eq!(
        d,
        [format!(
            "t.conf:{}: error: more than 64 static rules (limit MAX_STATIC_RULES)",
            2 + crate::limits::MAX_STATIC_RULES
        )]
    );
}

#[test]
fn rules_without_preference_are_numbered_in_file_order() {
    let text = format!(
        "{}static_rules {{\n    from 10.2.0.0/16 table 2\n}}\n",
        inst("    virtual_rules {\n        from 10.1.0.0/16 table 1\n    }")
    );
    let (c, d) = load(&text);
    let c = c.unwrap();
    assert_eq!(c.instances[0].extras.rules[0].priority, 16384);
    assert_eq!(c.statics.rules[0].priority, 16383);
    assert_eq!(d.len(), 2);
    assert!(d[0].starts_with("t.conf:8: warning: rule has no preference; using 16384"));
    assert!(d[1].starts_with("t.conf:12: warning: rule has no preference; using 16383"));
}

/// IPv6 routes: the family from any address in the entry, from `inet6`, or IPv4 when nothing
/// says (keepalived.conf(5): "If a route or rule could apply to either IPv4 or IPv6 it will
/// default to IPv4. To force a route/rule to be IPv6, add the keyword inet6").
#[test]
fn ipv6_route_forms() {
    let (c, d) = load(&inst(
        "    virtual_routes {
        fd99:5::/64 via fd99::254 dev eth0 table 100 metric 7
        src fd99::100 to fd99:6::/64 dev eth0
        default via fe80::1 dev eth0
        inet6 default dev eth0 metric 5
        default dev eth0 table 50
        blackhole fd99:4::/48
        inet6 unreachable default table 60
        prohibit fd99:3::/64
        throw fd99:2::/64 table 70
        fd99:7::/64 via inet6 fd99::1 or fd99::2 dev eth0
        fd99:8::/64 nexthop via fe80::1 dev eth0 weight 2 nexthop via fe80::2 dev eth1
        fd99:9::1 dev eth0 no_track
    }",
    ));
    assert_eq!(d, Vec::<String>::new());
    let r = &c.unwrap().instances[0].extras.routes;
    let eth0 = Some("eth0".to_string());
    assert_eq!(
        r[0],
        Route {
            via: Some(a("fd99::254")),
            dev: eth0.clone(),
            table: 100,
            metric: Some(7),
            ..route("fd99:5::", 64)
        }
    );
    assert_eq!(
        r[1],
        Route {
            pref_src: Some(a("fd99::100")),
            dev: eth0.clone(),
            ..route("fd99:6::", 64)
        }
    );
    // `default` takes the family of its gateway, of `inet6`, or else IPv4.
    assert_eq!(
        r[2],
        Route {
            via: Some(a("fe80::1")),
            dev: eth0.clone(),
            ..route("::", 0)
        }
    );
    assert_eq!(
        r[3],
        Route {
            dev: eth0.clone(),
            metric: Some(5),
            ..route("::", 0)
        }
    );
    assert_eq!(r[4].dst, a("0.0.0.0"));
    let kinds: Vec<(u8, String)> = r[5..9]
        .iter()
        .map(|r| (r.kind, format!("{}/{}", r.dst, r.dst_len)))
        .collect();
    assert_eq!(
        kinds,
        [
            (6, "fd99:4::/48".to_string()),
            (7, "::/0".into()),
            (8, "fd99:3::/64".into()),
            (9, "fd99:2::/64".into())
        ]
    );
    assert_eq!(
        r[9].nexthops.iter().map(|n| n.via).collect::<Vec<_>>(),
        [Some(a("fd99::1")), Some(a("fd99::2"))]
    );
    assert_eq!(
        r[10].nexthops,
        [("fe80::1", "eth0", 2), ("fe80::2", "eth1", 1)].map(|(g, d, w)| Nexthop {
            via: Some(a(g)),
            dev: Some(d.into()),
            weight: w,
            onlink: false
        })
    );
    assert_eq!((r[11].dst_len, r[11].track), (128, false));
    assert_eq!(r[2].to_string(), "default via fe80::1 dev eth0");
    assert_eq!(
        r[0].to_string(),
        "fd99:5::/64 via fd99::254 dev eth0 table 100 metric 7"
    );
}

#[test]
fn ipv6_rule_forms() {
    let (c, d) = load(&inst(
        "    virtual_rules {
        from fd99::100/128 table 100 priority 100
        to fd99:5::/64 from fd99::/16 table 100 priority 101 no_track
        inet6 priority 102 table 102
        inet6 from all fwmark 7 priority 103 blackhole
        priority 104 table 104
        from ::/0 priority 105 table 105
        fwmark 7 table 106 priority 106 inet6
    }",
    ));
    assert_eq!(d, Vec::<String>::new());
    let r = &c.unwrap().instances[0].extras.rules;
    assert_eq!(
        r[0],
        Rule {
            from: (a("fd99::100"), 128),
            to: (a("::"), 0),
            ..rule(100, RuleAction::Table(100))
        }
    );
    assert_eq!(
        (r[1].from, r[1].to),
        ((a("fd99::"), 16), (a("fd99:5::"), 64))
    );
    // A rule with no address: IPv6 with `inet6`, IPv4 without; `from ::/0` is IPv6 "all".
    let fams: Vec<(IpAddr, IpAddr)> = r.iter().map(|r| (r.from.0, r.to.0)).collect();
    let (v6, v4) = (a("::"), a("0.0.0.0"));
    // `inet6` anywhere: at the end is where keepalived 2.2.7 reads it right (a leading one
    // swallows the next word there).
    assert_eq!(
        fams[2..],
        [(v6, v6), (v6, v6), (v4, v4), (v6, v6), (v6, v6)]
    );
    assert_eq!(r[3].fwmark, Some((7, None)));
    assert_eq!(r[0].to_string(), "100: from fd99::100/128 lookup 100");
}

#[test]
fn ipv6_errors_name_the_line() {
    let cases: &[(&str, &str)] = &[
        (
            "fd99:5::/64 via 10.0.0.1",
            "t.conf:8: error: '10.0.0.1' is IPv4, but 'fd99:5::/64' made the route IPv6: a route is of one address family",
        ),
        (
            "inet 2001:db8::/32 dev eth0",
            "t.conf:8: error: '2001:db8::/32' is IPv6, but 'inet' made the route IPv4: a route is of one address family",
        ),
        (
            "src 10.0.0.1 fd99::/64 dev eth0",
            "t.conf:8: error: 'fd99::/64' is IPv6, but '10.0.0.1' made the route IPv4: a route is of one address family",
        ),
        (
            "fd99:5::/129 dev eth0",
            "t.conf:8: error: unknown route keyword or bad destination 'fd99:5::/129'",
        ),
        (
            "fd99:5::1/64 dev eth0",
            "t.conf:8: error: route destination fd99:5::1/64 has host bits set (did you mean fd99:5::/64?)",
        ),
        (
            "default via fe80::1",
            "t.conf:8: error: link-local gateway fe80::1 needs 'dev' (the interface it is on)",
        ),
        (
            "fd99:8::/64 nexthop via fe80::1 nexthop via fd99::1",
            "t.conf:8: error: link-local gateway fe80::1 needs 'dev' (the interface it is on)",
        ),
        (
            "fd99:8::/64 via fd99::zz",
            "t.conf:8: error: 'fd99::zz' is not a valid IP address for 'via'",
        ),
        (
            "fd99:8::/64 nexthop via 10.0.0.1",
            "t.conf:8: error: '10.0.0.1' is IPv4, but 'fd99:8::/64' made the route IPv6: a route is of one address family",
        ),
    ];
    assert_refused("virtual_routes", cases);
    let cases: &[(&str, &str)] = &[
        (
            "from fd99::/64 to 10.0.0.0/8 table 1 pref 1",
            "t.conf:8: error: '10.0.0.0/8' is IPv4, but 'fd99::/64' made the rule IPv6: a rule is of one address family",
        ),
        (
            "inet6 from 10.0.0.0/8 table 1 pref 1",
            "t.conf:8: error: '10.0.0.0/8' is IPv4, but 'inet6' made the rule IPv6: a rule is of one address family",
        ),
        (
            "from fd99::/200 table 1 pref 1",
            "t.conf:8: error: 'fd99::/200' is not a valid prefix for 'from'",
        ),
    ];
    assert_refused("virtual_rules", cases);
}

/// Dual stack in one instance, as neutron's HA routers have it: an IPv4 instance's IPv6
/// excluded addresses and routes, and an IPv6 instance's IPv4 ones; static IPv6 addresses.
#[test]
fn dual_stack_extras() {
    let (c, d) = load(
        "static_ipaddress {
    fd99:7::1/128 dev lo
}
vrrp_instance V4 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        10.0.0.1/24
    }
    virtual_ipaddress_excluded {
        fd99::1/64 dev eth0
        fe80::99/64 dev eth0
    }
    virtual_routes {
        fd99:5::/64 via fd99::254 dev eth0
    }
}
vrrp_instance V6 {
    interface eth0
    virtual_router_id 52
    virtual_ipaddress {
        fe80::52/64
    }
    virtual_ipaddress_excluded {
        10.0.1.1/24
    }
    virtual_routes {
        10.0.5.0/24 via 10.0.1.254
    }
}
",
    );
    assert_eq!(d, Vec::<String>::new());
    let c = c.unwrap();
    assert_eq!(c.statics.addrs[0].addr, a("fd99:7::1"));
    let v4 = &c.instances[0].extras;
    let ex: Vec<String> = v4
        .addrs
        .iter()
        .map(|v| format!("{}/{}", v.addr, v.prefix_len))
        .collect();
    assert_eq!(ex, ["fd99::1/64", "fe80::99/64"]);
    assert_eq!(v4.routes[0].dst, a("fd99:5::"));
    let v6 = &c.instances[1].extras;
    assert_eq!(v6.addrs[0].addr, a("10.0.1.1"));
    assert_eq!(v6.routes[0].dst, a("10.0.5.0"));
}

/// IPv6 only: source-specific routes (`from`) and the router preference (`pref`).
#[test]
fn ipv6_from_and_pref() {
    let (c, d) = load(&inst(
        "    virtual_routes {
        fd99:12::/64 from fd99::/64 dev eth0
        fd99:13::/64 dev eth0 pref high
        default from fd99:1::/48 via fe80::1 dev eth0 pref low
        10.0.13.0/24 dev eth0 pref medium
    }",
    ));
    assert_eq!(
        d,
        [
            "t.conf:11: warning: 'pref medium' is for IPv6 routes only; the route is installed without it"
        ]
    );
    let r = &c.unwrap().instances[0].extras.routes;
    let eth0 = Some("eth0".to_string());
    assert_eq!(
        r[0],
        Route {
            from: (a("fd99::"), 64),
            dev: eth0.clone(),
            ..route("fd99:12::", 64)
        }
    );
    assert_eq!(
        r[1],
        Route {
            pref: Some(1),
            dev: eth0.clone(),
            ..route("fd99:13::", 64)
        }
    );
    assert_eq!(
        (r[2].dst, r[2].from, r[2].pref),
        (a("::"), (a("fd99:1::"), 48), Some(3))
    );
    assert_eq!(r[3].pref, None);
    assert_eq!(r[0].to_string(), "fd99:12::/64 from fd99::/64 dev eth0");
    let cases: &[(&str, &str)] = &[
        (
            "10.0.0.0/8 from 10.1.0.0/16 dev eth0",
            "t.conf:8: error: 'from' (a source-specific route) is for IPv6 routes only",
        ),
        (
            "fd99::/64 from fd99:1::1/48 dev eth0",
            "t.conf:8: error: route source fd99:1::1/48 has host bits set (did you mean fd99:1::/48?)",
        ),
        (
            "fd99::/64 dev eth0 pref urgent",
            "t.conf:8: error: 'urgent' is not a route preference (low, medium or high)",
        ),
    ];
    assert_refused("virtual_routes", cases);
}
