//! Route and rule encodings against what `ip` sent (captured with strace in a namespace where
//! eth0 is ifindex 3; the commands are quoted above each case), and decodings of what the kernel
//! answered to `ip route show` / `ip rule show` there. `scripts/netlink-capture.sh send|recv
//! IP-ARGS…` redoes such a capture.

use std::net::IpAddr;

use super::consts::*;
use super::parse::parse_messages;
use super::route::{route_request, rule_request};
use super::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Our request's header fields and payload, for comparison with a capture.
fn parts(mut req: request::Request) -> (u32, u16, u16, Vec<u8>) {
    let b = req.bytes().to_vec();
    let len = u32::from_ne_bytes(b[0..4].try_into().unwrap());
    let ty = u16::from_ne_bytes(b[4..6].try_into().unwrap());
    let flags = u16::from_ne_bytes(b[6..8].try_into().unwrap());
    (len, ty, flags, b[16..].to_vec())
}

fn a(s: &str) -> IpAddr {
    s.parse().unwrap()
}

const ACK_CREATE: u16 = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE;

/// Our request to add (or delete) `r` is the message `ip` sent: header flags `flags` and the
/// payload `ip`, in hex (the header's length and type follow from those).
fn assert_route(r: &RouteSpec, add: bool, flags: u16, ip: &str) {
    let ty = if add { RTM_NEWROUTE } else { RTM_DELROUTE };
    let (len, t, f, payload) = parts(route_request(r, add, 1).unwrap());
    assert_eq!(
        (len as usize, t, f, payload),
        (16 + ip.len() / 2, ty, flags, hex(ip)),
        "{r:?}"
    );
}

/// `nexthop via GW1 dev eth0 weight 2 nexthop via GW2 dev eth0 onlink`.
fn two_hops(gw1: &str, gw2: &str) -> [NexthopSpec; 2] {
    [
        NexthopSpec {
            via: Some(a(gw1)),
            ifindex: 3,
            weight: 2,
            onlink: false,
        },
        NexthopSpec {
            via: Some(a(gw2)),
            ifindex: 3,
            weight: 1,
            onlink: true,
        },
    ]
}

fn route(dst: &str, len: u8) -> RouteSpec<'static> {
    RouteSpec {
        dst: a(dst),
        dst_len: len,
        src: (
            if a(dst).is_ipv6() {
                a("::")
            } else {
                a("0.0.0.0")
            },
            0,
        ),
        tos: 0,
        table: 254,
        protocol: 18,
        scope: 0,
        kind: 1,
        onlink: false,
        pref_src: None,
        via: None,
        oif: None,
        metric: None,
        nexthops: &[],
        append: false,
        pref: None,
    }
}

fn rule(priority: u32) -> RuleSpec<'static> {
    RuleSpec {
        priority,
        from: (a("0.0.0.0"), 0),
        to: (a("0.0.0.0"), 0),
        action: 1,
        table: 254,
        goto: None,
        invert: false,
        tos: 0,
        fwmark: None,
        iif: None,
        oif: None,
        protocol: 18,
        suppress_prefixlen: None,
        l3mdev: false,
        ipproto: None,
        sport: None,
        dport: None,
        uidrange: None,
    }
}

#[test]
fn route_with_everything_and_its_delete() {
    let r = RouteSpec {
        table: 1000,
        pref_src: Some(a("10.0.0.5")),
        via: Some(a("10.0.0.1")),
        metric: Some(5),
        oif: Some(3),
        ..route("10.1.0.0", 24)
    };
    // ip route prepend table 1000 10.1.0.0/24 src 10.0.0.5 via 10.0.0.1 metric 5 dev eth0 proto keepalived
    let ip = "02180000001200010000000008000f00e8030000080001000a010000080007000a000005080005000a00000108000600050000000800040003000000";
    assert_route(&r, true, ACK_CREATE, ip);
    // ip route del table 1000 unicast 10.1.0.0/24 src 10.0.0.5 via 10.0.0.1 metric 5 dev eth0 proto keepalived
    let ip = "021800000012ff010000000008000f00e8030000080001000a010000080007000a000005080005000a00000108000600050000000800040003000000";
    assert_route(&r, false, NLM_F_REQUEST | NLM_F_ACK, ip);
}

#[test]
fn blackhole_append_onlink_tos() {
    // ip route prepend blackhole 10.2.0.0/16 proto keepalived
    let r = RouteSpec {
        kind: 6,
        ..route("10.2.0.0", 16)
    };
    let ip = "02100000fe12000600000000080001000a020000";
    assert_route(&r, true, ACK_CREATE, ip);
    // ip route append 10.3.0.0/24 dev eth0 proto keepalived scope global
    let r = RouteSpec {
        oif: Some(3),
        append: true,
        ..route("10.3.0.0", 24)
    };
    let ip = "02180000fe12000100000000080001000a0300000800040003000000";
    assert_route(&r, true, ACK_CREATE | NLM_F_APPEND, ip);
    // ip route prepend 10.5.0.0/24 via 10.0.0.1 dev eth0 onlink tos 0x10 proto keepalived
    let r = RouteSpec {
        via: Some(a("10.0.0.1")),
        oif: Some(3),
        onlink: true,
        tos: 0x10,
        ..route("10.5.0.0", 24)
    };
    let ip = "02180010fe12000104000000080001000a050000080005000a0000010800040003000000";
    assert_route(&r, true, ACK_CREATE, ip);
}

#[test]
fn multipath_route() {
    // ip route prepend 10.4.0.0/24 proto keepalived nexthop via 10.0.0.1 dev eth0 weight 2
    //   nexthop via 10.0.0.2 dev eth0 onlink
    let nhs = two_hops("10.0.0.1", "10.0.0.2");
    let r = RouteSpec {
        nexthops: &nhs,
        ..route("10.4.0.0", 24)
    };
    let ip = "02180000fe12000100000000080001000a040000240009001000000103000000080005000a0000011000040003000000080005000a000002";
    assert_route(&r, true, ACK_CREATE, ip);
}

const RULE_FULL: &str = "0210100000000001000000000800060064000000080002000a010000080001000a02000008000a001000000008001000ff00000009000300657468300000000009001100657468310000000008000f00e803000005001500120000000500160006000000080017000100020008001800030004000c0014000500000006000000";

fn full_rule() -> RuleSpec<'static> {
    RuleSpec {
        from: (a("10.1.0.0"), 16),
        to: (a("10.2.0.0"), 16),
        fwmark: Some((0x10, Some(0xff))),
        iif: Some("eth0"),
        oif: Some("eth1"),
        table: 1000,
        ipproto: Some(6),
        sport: Some((1, 2)),
        dport: Some((3, 4)),
        uidrange: Some((5, 6)),
        ..rule(100)
    }
}

#[test]
fn rule_with_everything_and_its_delete() {
    // ip rule add pref 100 from 10.1.0.0/16 to 10.2.0.0/16 fwmark 0x10/0xff iif eth0 oif eth1
    //   table 1000 proto keepalived ipproto tcp sport 1-2 dport 3-4 uidrange 5-6
    let r = full_rule();
    assert_eq!(
        parts(rule_request(&r, true, 1).unwrap()),
        (144, RTM_NEWRULE, ACK_CREATE | NLM_F_EXCL, hex(RULE_FULL))
    );
    // `ip rule del` with the same words leaves the action unset (byte 7); we send it, which
    // only narrows what the kernel may delete.
    let mut ip = hex(RULE_FULL);
    let (_, ty, flags, ours) = parts(rule_request(&r, false, 1).unwrap());
    assert_eq!((ty, flags), (RTM_DELRULE, NLM_F_REQUEST | NLM_F_ACK));
    assert_eq!(ours[7], 1);
    ip[7] = 1;
    assert_eq!(ours, ip);
}

#[test]
fn rule_actions_and_flags() {
    // ip rule add not pref 50 to 10.9.0.0/24 tos 0x10 table 5 suppress_prefixlength 0 proto keepalived
    let r = RuleSpec {
        invert: true,
        to: (a("10.9.0.0"), 24),
        tos: 0x10,
        table: 5,
        suppress_prefixlen: Some(0),
        ..rule(50)
    };
    let ip =
        "0218001005000001020000000800060032000000080001000a09000008000e00000000000500150012000000";
    assert_eq!(parts(rule_request(&r, true, 1).unwrap()).3, hex(ip));
    // ip rule add pref 300 goto 400 proto keepalived
    let r = RuleSpec {
        action: 2,
        table: 0,
        goto: Some(400),
        ..rule(300)
    };
    let ip = "020000000000000200000000080006002c01000008000400900100000500150012000000";
    assert_eq!(parts(rule_request(&r, true, 1).unwrap()).3, hex(ip));
    // ip rule add pref 301 blackhole proto keepalived
    let r = RuleSpec {
        action: 6,
        table: 0,
        ..rule(301)
    };
    let ip = "020000000000000600000000080006002d0100000500150012000000";
    assert_eq!(parts(rule_request(&r, true, 1).unwrap()).3, hex(ip));
    // ip rule add pref 1000 l3mdev proto keepalived
    let r = RuleSpec {
        table: 0,
        l3mdev: true,
        ..rule(1000)
    };
    let ip = "02000000000000010000000008000600e803000005001300010000000500150012000000";
    assert_eq!(parts(rule_request(&r, true, 1).unwrap()).3, hex(ip));
}

fn kernel_msg(ty: u16, payload: &str) -> Vec<u8> {
    let p = hex(payload);
    let mut v = ((16 + p.len()) as u32).to_ne_bytes().to_vec();
    v.extend_from_slice(&ty.to_ne_bytes());
    v.extend_from_slice(&[0; 10]);
    v.extend_from_slice(&p);
    v
}

/// The messages of a dump, each `payload` of type `ty`, in one buffer.
fn kernel_dump(ty: u16, payloads: &[&str]) -> Vec<u8> {
    payloads.iter().flat_map(|p| kernel_msg(ty, p)).collect()
}

fn events(buf: &[u8]) -> Vec<Event> {
    let mut out = Vec::new();
    parse_messages(buf, &mut |e| out.push(e)).unwrap();
    out
}

#[test]
fn kernel_route_dump_yields_only_ours_with_their_keys() {
    // What the kernel answered `ip route show table main` after the adds above.
    let dump = [
        // 10.0.0.0/24 proto kernel scope link src 10.0.0.5
        "02180000fe02fd010000000008000f00fe000000080001000a000000080007000a0000050800040003000000",
        // 10.0.1.0/24 dev eth0 (proto boot)
        "02180000fe03fd010000000008000f00fe000000080001000a0001000800040003000000",
        // blackhole 10.2.0.0/16 proto keepalived
        "02100000fe1200060000000008000f00fe000000080001000a020000",
        // 10.5.0.0/24 tos 0x10 via 10.0.0.1 dev eth0 proto keepalived onlink
        "02180010fe1200010400000008000f00fe000000080001000a050000080005000a0000010800040003000000",
    ];
    let buf = kernel_dump(RTM_NEWROUTE, &dump);
    let blackhole = RouteSpec {
        kind: 6,
        ..route("10.2.0.0", 16)
    };
    let tos = RouteSpec {
        tos: 0x10,
        via: Some(a("10.0.0.1")),
        ..route("10.5.0.0", 24)
    };
    assert_eq!(
        events(&buf),
        [
            Event::RouteAdded(blackhole.key()),
            Event::RouteAdded(tos.key())
        ]
    );
    let del = kernel_msg(RTM_DELROUTE, dump[2]);
    assert_eq!(events(&del), [Event::RouteRemoved(blackhole.key())]);
}

#[test]
fn kernel_rule_dump_yields_only_ours_with_their_keys() {
    // What the kernel answered `ip rule show` after the adds above.
    let dump = [
        // 0: from all lookup local (proto kernel)
        "02000000ff0000010000000008000f00ff00000008000e00ffffffff0500150002000000",
        // 50: not from all to 10.9.0.0/24 tos 0x10 lookup 5 suppress_prefixlength 0 proto keepalived
        "02180010050000010200000008000f000500000008000e000000000005001500120000000800060032000000080001000a090000",
        // 300: from all goto 400 [unresolved] proto keepalived
        "02000000000000020400000008000f000000000008000e00ffffffff0500150012000000080006002c0100000800040090010000",
    ];
    let buf = kernel_dump(RTM_NEWRULE, &dump);
    let not50 = RuleSpec {
        invert: true,
        to: (a("10.9.0.0"), 24),
        tos: 0x10,
        table: 5,
        suppress_prefixlen: Some(0),
        ..rule(50)
    };
    let goto = RuleSpec {
        action: 2,
        table: 0,
        goto: Some(400),
        ..rule(300)
    };
    assert_eq!(
        events(&buf),
        [Event::RuleAdded(not50.key()), Event::RuleAdded(goto.key())]
    );
    assert_eq!(
        events(&kernel_msg(RTM_DELRULE, dump[1])),
        [Event::RuleRemoved(not50.key())]
    );
}

// IPv6, captured the same way (`ip -6 …` in a namespace where eth0 is ifindex 3).

#[test]
fn ipv6_route_with_everything_and_its_delete() {
    let r = RouteSpec {
        table: 1000,
        pref_src: Some(a("fd99::5")),
        via: Some(a("fd99::1")),
        metric: Some(5),
        oif: Some(3),
        ..route("fd99:1::", 64)
    };
    // ip -6 route prepend table 1000 fd99:1::/64 src fd99::5 via fd99::1 metric 5 dev eth0 proto keepalived
    let ip = "0a400000001200010000000008000f00e803000014000100fd99000100000000000000000000000014000700fd99000000000000000000000000000514000500fd99000000000000000000000000000108000600050000000800040003000000";
    assert_route(&r, true, ACK_CREATE, ip);
    // ip -6 route del table 1000 unicast fd99:1::/64 src fd99::5 via fd99::1 metric 5 dev eth0 proto keepalived
    // (the same bytes: no scope for IPv6)
    assert_route(&r, false, NLM_F_REQUEST | NLM_F_ACK, ip);
}

#[test]
fn ipv6_blackhole_unreachable_append_default() {
    let cases = [
        // ip -6 route prepend blackhole fd99:2::/48 proto keepalived
        (
            RouteSpec {
                kind: 6,
                ..route("fd99:2::", 48)
            },
            ACK_CREATE,
            "0a300000fe1200060000000014000100fd990002000000000000000000000000",
        ),
        // ip -6 route append fd99:3::/64 dev eth0 proto keepalived
        (
            RouteSpec {
                oif: Some(3),
                append: true,
                ..route("fd99:3::", 64)
            },
            ACK_CREATE | NLM_F_APPEND,
            "0a400000fe1200010000000014000100fd9900030000000000000000000000000800040003000000",
        ),
        // ip -6 route prepend default via fe80::1 dev eth0 proto keepalived
        (
            RouteSpec {
                via: Some(a("fe80::1")),
                oif: Some(3),
                ..route("::", 0)
            },
            ACK_CREATE,
            "0a000000fe1200010000000014000500fe8000000000000000000000000000010800040003000000",
        ),
        // ip -6 route prepend unreachable fd99:6::/64 metric 9 proto keepalived
        (
            RouteSpec {
                kind: 7,
                metric: Some(9),
                ..route("fd99:6::", 64)
            },
            ACK_CREATE,
            "0a400000fe1200070000000014000100fd9900060000000000000000000000000800060009000000",
        ),
    ];
    for (r, flags, ip) in cases {
        assert_route(&r, true, flags, ip);
    }
}

#[test]
fn ipv6_multipath_route_with_link_local_gateways() {
    // ip -6 route prepend fd99:4::/64 proto keepalived nexthop via fe80::1 dev eth0 weight 2
    //   nexthop via fe80::2 dev eth0 onlink
    let nhs = two_hops("fe80::1", "fe80::2");
    let r = RouteSpec {
        nexthops: &nhs,
        ..route("fd99:4::", 64)
    };
    let ip = "0a400000fe1200010000000014000100fd9900040000000000000000000000003c0009001c0000010300000014000500fe8000000000000000000000000000011c0004000300000014000500fe800000000000000000000000000002";
    assert_route(&r, true, ACK_CREATE, ip);
}

#[test]
fn a_route_or_rule_of_two_families_is_refused() {
    let r = RouteSpec {
        via: Some(a("10.0.0.1")),
        ..route("fd99:4::", 64)
    };
    assert!(route_request(&r, true, 1).is_err());
    let r = RouteSpec {
        dst_len: 33,
        ..route("10.0.0.0", 8)
    };
    assert!(route_request(&r, true, 1).is_err());
    let r = RuleSpec {
        from: (a("fd99::"), 64),
        to: (a("10.0.0.0"), 8),
        ..rule(1)
    };
    assert!(rule_request(&r, true, 1).is_err());
}

#[test]
fn ipv6_rules() {
    // ip -6 rule add pref 100 from fd99:1::/64 to fd99:2::/64 fwmark 0x10/0xff iif eth0 oif eth1
    //   table 1000 proto keepalived ipproto tcp sport 1-2 dport 3-4 uidrange 5-6
    let r = RuleSpec {
        from: (a("fd99:1::"), 64),
        to: (a("fd99:2::"), 64),
        ..full_rule()
    };
    let ip = "0a4040000000000100000000080006006400000014000200fd99000100000000000000000000000014000100fd99000200000000000000000000000008000a001000000008001000ff00000009000300657468300000000009001100657468310000000008000f00e803000005001500120000000500160006000000080017000100020008001800030004000c0014000500000006000000";
    assert_eq!(
        parts(rule_request(&r, true, 1).unwrap()),
        (168, RTM_NEWRULE, ACK_CREATE | NLM_F_EXCL, hex(ip))
    );
    // ip -6 rule add pref 102 table 102 proto keepalived: no address, the family alone.
    let r = RuleSpec {
        from: (a("::"), 0),
        to: (a("::"), 0),
        table: 102,
        ..rule(102)
    };
    let ip = "0a000000660000010000000008000600660000000500150012000000";
    assert_eq!(
        parts(rule_request(&r, true, 1).unwrap()),
        (44, RTM_NEWRULE, ACK_CREATE | NLM_F_EXCL, hex(ip))
    );
    // ip -6 rule del pref 102 table 102 proto keepalived (action left unset by ip; we send it).
    let mut ip = hex(ip);
    ip[7] = 1;
    assert_eq!(parts(rule_request(&r, false, 1).unwrap()).3, ip);
}

#[test]
fn kernel_ipv6_route_dump_yields_only_ours_with_their_keys() {
    // What the kernel answered `ip -6 route show table all` after the adds above.
    let dump = [
        // fd99::/64 dev eth0 proto kernel metric 256
        "0a400000fe0200010000000008000f00fe00000014000100fd9900000000000000000000000000000800060000010000080004000300000024000c0000000000000000000000000000000000000000000000000000000000000000000500140000000000",
        // blackhole fd99:2::/48 dev lo proto keepalived metric 1024
        "0a300000fe1200060000000008000f00fe00000014000100fd9900020000000000000000000000000800060000040000080004000100000024000c0000000000000000000000000000000000000000000000000000000000000000000500140000000000",
        // unreachable fd99:6::/64 dev lo proto keepalived metric 9
        "0a400000fe1200070000000008000f00fe00000014000100fd9900060000000000000000000000000800060009000000080004000100000024000c0000000000000000000000000000000000000000000000000000000000000000000500140000000000",
        // default via fe80::1 dev eth0 proto keepalived metric 1024
        "0a000000fe1200010000000008000f00fe000000080006000004000014000500fe800000000000000000000000000001080004000300000024000c0000000000000000000000000000000000000000000000000000000000000000000500140000000000",
        // fd99:4::/64 proto keepalived metric 1024, two next hops
        "0a400000fe1200010000000008000f00fe00000014000100fd99000400000000000000000000000008000600000400003c0009001c0000010300000014000500fe8000000000000000000000000000011c0004000300000014000500fe80000000000000000000000000000224000c0000000000000000000000000000000000000000000000000000000000000000000500140000000000",
    ];
    let buf = kernel_dump(RTM_NEWROUTE, &dump);
    // Written without a metric, an IPv6 route gets 1024 and the key says so.
    let keys: Vec<RouteKey> = [
        RouteSpec {
            kind: 6,
            ..route("fd99:2::", 48)
        },
        RouteSpec {
            kind: 7,
            metric: Some(9),
            ..route("fd99:6::", 64)
        },
        RouteSpec {
            via: Some(a("fe80::1")),
            oif: Some(3),
            ..route("::", 0)
        },
        route("fd99:4::", 64),
    ]
    .iter()
    .map(|r| r.key())
    .collect();
    let added: Vec<Event> = keys.iter().map(|k| Event::RouteAdded(*k)).collect();
    assert_eq!(events(&buf), added);
    assert_eq!(keys[0].metric, 1024);
    assert_eq!(
        events(&kernel_msg(RTM_DELROUTE, dump[3])),
        [Event::RouteRemoved(keys[2])]
    );
}

#[test]
fn kernel_ipv6_rule_dump_yields_only_ours_with_their_keys() {
    // What the kernel answered `ip -6 rule show` after the adds above.
    let dump = [
        // 0: from all lookup local (proto kernel)
        "0a000000ff0000010000000008000f00ff00000008000e00ffffffff0500150002000000",
        // 100: from fd99:1::/64 to fd99:2::/64 fwmark 0x10/0xff iif eth0 oif eth1 uidrange 5-6
        //   ipproto tcp sport 1-2 dport 3-4 lookup 1000 proto keepalived
        "0a404000fc0000010000000008000f00e803000008000e00ffffffff0500150012000000090003006574683000000000090011006574683100000000080006006400000008000a001000000008001000ff0000000c001400050000000600000008001700010002000800180003000400050016000600000014000100fd99000200000000000000000000000014000200fd990001000000000000000000000000",
        // 32766: from all lookup main (proto kernel)
        "0a000000fe0000010000000008000f00fe00000008000e00ffffffff050015000200000008000600fe7f0000",
    ];
    let buf = kernel_dump(RTM_NEWRULE, &dump);
    let r = RuleSpec {
        from: (a("fd99:1::"), 64),
        to: (a("fd99:2::"), 64),
        ..full_rule()
    };
    assert_eq!(events(&buf), [Event::RuleAdded(r.key())]);
    // An IPv4 rule with the same words is another rule.
    assert_ne!(r.key(), full_rule().key());
}

#[test]
fn ipv6_source_specific_route_and_preference() {
    // ip -6 route prepend fd99:12::/64 from fd99::/64 dev eth0 proto keepalived
    let from = RouteSpec {
        src: (a("fd99::"), 64),
        oif: Some(3),
        ..route("fd99:12::", 64)
    };
    let ip = "0a404000fe1200010000000014000100fd99001200000000000000000000000014000200fd9900000000000000000000000000000800040003000000";
    assert_route(&from, true, ACK_CREATE, ip);
    // ip -6 route prepend fd99:13::/64 dev eth0 proto keepalived pref high
    let pref = RouteSpec {
        pref: Some(1),
        oif: Some(3),
        ..route("fd99:13::", 64)
    };
    let ip = "0a400000fe1200010000000014000100fd99001300000000000000000000000005001400010000000800040003000000";
    assert_route(&pref, true, ACK_CREATE, ip);
    // IPv4 has no source-specific routes.
    let v4 = RouteSpec {
        src: (a("10.0.0.0"), 8),
        ..route("10.1.0.0", 16)
    };
    assert!(route_request(&v4, true, 1).is_err());
    // What the kernel answered `ip -6 route show` with: the source is part of the key.
    let dump = "0a404000fe1200010000000008000f00fe00000014000100fd99001200000000000000000000000014000200fd9900000000000000000000000000000800060000040000080004000300000024000c0000000000000000000000000000000000000000000000000000000000000000000500140000000000";
    assert_eq!(
        events(&kernel_msg(RTM_NEWROUTE, dump)),
        [Event::RouteAdded(from.key())]
    );
    assert_ne!(from.key(), route("fd99:12::", 64).key());
}
