//! `virtual_routes` / `static_routes` and `virtual_rules` / `static_rules` entries, in
//! keepalived's syntax (which is `ip route add` / `ip rule add` without abbreviations).
//!
//! What keepalived accepts and vrrpd does not carry out is a warning naming the word and what
//! the route loses; what keepalived refuses is an error. Defaults are keepalived's: table main,
//! scope universe, type unicast, `proto keepalived` unless `no_track` names another one, and a
//! rule without a preference gets 16384, then 16383, … with a warning.

use core::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::diag::{Pos, Sink};
use super::tree::{Stmt, Word};
use super::value::ifname;
use super::vip::scope;

/// rtnetlink's number for routes and rules keepalived installs (RTPROT_KEEPALIVED).
pub const PROTO_KEEPALIVED: u8 = 18;
/// Preference of the first rule written without one (keepalived's RULE_START_PRIORITY).
pub const RULE_FIRST_DEFAULT_PREF: u32 = 16384;

pub const TABLE_MAIN: u32 = 254;

/// Route types (RTN_*), by `ip route` name.
const ROUTE_TYPES: &[(&str, u8)] = &[
    ("unicast", 1),
    ("local", 2),
    ("broadcast", 3),
    ("anycast", 4),
    ("multicast", 5),
    ("blackhole", 6),
    ("unreachable", 7),
    ("prohibit", 8),
    ("throw", 9),
    ("nat", 10),
];
pub const RTN_UNICAST: u8 = 1;

/// One next hop of a multipath route (`nexthop …`, or keepalived's older `via A or B`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nexthop {
    pub via: Option<Ipv4Addr>,
    pub dev: Option<String>,
    /// `weight W` (1..=256), as written; the kernel stores W - 1.
    pub weight: u16,
    pub onlink: bool,
}

/// One route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub dst: Ipv4Addr,
    pub dst_len: u8,
    /// `src`: the preferred source address (RTA_PREFSRC).
    pub pref_src: Option<Ipv4Addr>,
    pub via: Option<Ipv4Addr>,
    pub dev: Option<String>,
    /// Non-empty for a multipath route; `via` and `dev` are then unused.
    pub nexthops: Vec<Nexthop>,
    pub table: u32,
    /// `metric` / `priority` / `preference`; None sends none (the kernel's 0).
    pub metric: Option<u32>,
    pub protocol: u8,
    /// RT_SCOPE_*.
    pub scope: u8,
    /// RTN_*.
    pub kind: u8,
    pub tos: u8,
    pub onlink: bool,
    /// `append`: after matching routes (`ip route append`), not before them.
    pub append: bool,
    /// Restored when someone deletes it; false with `no_track`.
    pub track: bool,
}

/// What a rule does when it matches (FR_ACT_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleAction {
    Table(u32),
    Goto(u32),
    Nop,
    Blackhole,
    Unreachable,
    Prohibit,
}

impl RuleAction {
    /// FR_ACT_* number.
    pub fn code(self) -> u8 {
        match self {
            RuleAction::Table(_) => 1,
            RuleAction::Goto(_) => 2,
            RuleAction::Nop => 3,
            RuleAction::Blackhole => 6,
            RuleAction::Unreachable => 7,
            RuleAction::Prohibit => 8,
        }
    }
}

/// One policy-routing rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub from: Option<(Ipv4Addr, u8)>,
    pub to: Option<(Ipv4Addr, u8)>,
    /// Always set: keepalived's default (16384 downwards) when not written.
    pub priority: u32,
    pub action: RuleAction,
    /// `not`.
    pub invert: bool,
    pub tos: u8,
    /// `fwmark V[/M]`.
    pub fwmark: Option<(u32, Option<u32>)>,
    pub iif: Option<String>,
    pub oif: Option<String>,
    pub protocol: u8,
    pub suppress_prefixlen: Option<u32>,
    pub ipproto: Option<u8>,
    pub sport: Option<(u16, u16)>,
    pub dport: Option<(u16, u16)>,
    pub uidrange: Option<(u32, u32)>,
    pub l3mdev: bool,
    pub track: bool,
}

/// A rule as read: whether its preference was written (the default is numbered later, in
/// file order across the whole configuration, as keepalived does).
#[derive(Debug, Clone)]
pub(crate) struct RawRule {
    pub rule: Rule,
    pub pos: Pos,
    pub pref_given: bool,
}

/// Route options keepalived accepts that vrrpd does not set, and whether they may be
/// preceded by `lock`. Each takes one value.
const ROUTE_IGNORED: &[(&str, bool)] = &[
    ("mtu", true),
    ("advmss", true),
    ("rtt", true),
    ("rttvar", true),
    ("reordering", true),
    ("window", false),
    ("cwnd", true),
    ("ssthresh", true),
    ("rto_min", true),
    ("initcwnd", false),
    ("initrwnd", false),
    ("features", false),
    ("quickack", false),
    ("congctl", true),
    ("hoplimit", false),
    ("realms", false),
    ("pref", false),
    ("expires", false),
    ("ttl-propagate", false),
    ("fastopen_no_cookie", false),
    ("track_group", false),
];

/// Rule options keepalived accepts that vrrpd does not set; each takes one value.
const RULE_IGNORED: &[&str] = &[
    "realms",
    "tunnel-id",
    "suppress_ifgroup",
    "sup_group",
    "track_group",
];

/// The words of an entry: the statement's key and its arguments.
fn words(stmt: &Stmt) -> Vec<&Word> {
    std::iter::once(&stmt.key).chain(stmt.args.iter()).collect()
}

/// Walks an entry's words, reporting a missing value after an option.
struct Cursor<'a> {
    words: Vec<&'a Word>,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn next(&mut self) -> Option<&'a Word> {
        let w = self.words.get(self.at).copied();
        self.at += 1;
        w
    }

    fn peek(&self) -> Option<&'a Word> {
        self.words.get(self.at).copied()
    }

    /// The value after option `opt`; None (reported) if the line ends.
    fn value(&mut self, opt: &Word, what: &str, sink: &mut Sink) -> Option<&'a Word> {
        let v = self.next();
        if v.is_none() {
            sink.error(opt.pos, format!("expected {what} after '{}'", opt.text));
        }
        v
    }
}

/// The family an entry's address belongs to, when it is not IPv4.
enum NotV4 {
    V6,
    Bad,
}

/// `ADDR[/LEN]`, `default`, `all` or `any`: an IPv4 prefix.
fn prefix(text: &str) -> Result<(Ipv4Addr, u8), NotV4> {
    if matches!(text, "default" | "all" | "any") {
        return Ok((Ipv4Addr::UNSPECIFIED, 0));
    }
    let (a, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let Ok(addr) = a.parse::<Ipv4Addr>() else {
        return Err(if a.parse::<Ipv6Addr>().is_ok() {
            NotV4::V6
        } else {
            NotV4::Bad
        });
    };
    let len = match len {
        None => 32,
        Some(l) if !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()) => match l.parse() {
            Ok(n) if n <= 32 => n,
            _ => return Err(NotV4::Bad),
        },
        Some(_) => return Err(NotV4::Bad),
    };
    Ok((addr, len))
}

/// A number in decimal or `0x` hex, as `ip` and keepalived read them.
fn number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) if !hex.is_empty() => u64::from_str_radix(hex, 16).ok(),
        Some(_) => None,
        None if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => text.parse().ok(),
        None => None,
    }
}

fn number_in(w: &Word, what: &str, max: u64, sink: &mut Sink) -> Option<u64> {
    match number(&w.text) {
        Some(v) if v <= max => Some(v),
        _ => {
            sink.error(
                w.pos,
                format!("'{}' is not a valid {what} (0-{max})", w.text),
            );
            None
        }
    }
}

/// Reads `/etc/iproute2/NAME` style `NUMBER NAME` files for a name's number.
fn iproute2_name(file: &str, name: &str) -> Option<u32> {
    let dirs = ["/etc/iproute2", "/usr/share/iproute2", "/usr/lib/iproute2"];
    for dir in dirs {
        let path = format!("{dir}/{file}");
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        // A table file is a few hundred bytes; anything big or special is not one.
        if !meta.is_file() || meta.len() > 64 * 1024 {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut f = line.split_whitespace();
            if let (Some(n), Some(m)) = (f.next(), f.next()) {
                if m == name {
                    return number(n).and_then(|v| u32::try_from(v).ok());
                }
            }
        }
    }
    None
}

/// `table N|NAME`: numbers, the reserved names and names from rt_tables.
fn table(w: &Word, sink: &mut Sink) -> Option<u32> {
    let t = match w.text.as_str() {
        "main" => Some(TABLE_MAIN),
        "local" => Some(255),
        "default" => Some(253),
        other => number(other)
            .and_then(|v| u32::try_from(v).ok())
            .or_else(|| iproute2_name("rt_tables", other)),
    };
    match t {
        Some(0) | None => {
            sink.error(
                w.pos,
                format!(
                    "routing table '{}' not found (a number 1-4294967295, main, local, default or a name in /etc/iproute2/rt_tables)",
                    w.text
                ),
            );
            None
        }
        t => t,
    }
}

/// `proto P`: numbers and `ip`'s names.
fn protocol(w: &Word, sink: &mut Sink) -> Option<u8> {
    const NAMES: &[(&str, u8)] = &[
        ("unspec", 0),
        ("redirect", 1),
        ("kernel", 2),
        ("boot", 3),
        ("static", 4),
        ("gated", 8),
        ("ra", 9),
        ("mrt", 10),
        ("zebra", 11),
        ("bird", 12),
        ("dnrouted", 13),
        ("xorp", 14),
        ("ntk", 15),
        ("dhcp", 16),
        ("keepalived", PROTO_KEEPALIVED),
        ("babel", 42),
        ("bgp", 186),
        ("isis", 187),
        ("ospf", 188),
        ("rip", 189),
        ("eigrp", 192),
    ];
    let p = NAMES
        .iter()
        .find(|(n, _)| *n == w.text)
        .map(|(_, v)| u32::from(*v))
        .or_else(|| number(&w.text).and_then(|v| u32::try_from(v).ok()))
        .or_else(|| iproute2_name("rt_protos", &w.text));
    match p.and_then(|p| u8::try_from(p).ok()) {
        Some(p) => Some(p),
        None => {
            sink.error(
                w.pos,
                format!("unknown protocol '{}' (a number 0-255 or a name such as static, boot, keepalived)", w.text),
            );
            None
        }
    }
}

/// `a-b` (or a lone `a`, meaning `a-a`).
fn range<T: core::str::FromStr + Copy + PartialOrd>(text: &str) -> Option<(T, T)> {
    let (a, b) = text.split_once('-').unwrap_or((text, text));
    let (a, b) = (a.parse().ok()?, b.parse().ok()?);
    (a <= b).then_some((a, b))
}

/// Reads one route entry; None after an error or for an IPv6 route (reported).
pub(crate) fn read_route(stmt: &Stmt, sink: &mut Sink) -> Option<Route> {
    if stmt.block.is_some() {
        sink.error(stmt.pos(), "unexpected '{' in a route");
        return None;
    }
    let mut r = Route {
        dst: Ipv4Addr::UNSPECIFIED,
        dst_len: 0,
        pref_src: None,
        via: None,
        dev: None,
        nexthops: Vec::new(),
        table: TABLE_MAIN,
        metric: None,
        protocol: PROTO_KEEPALIVED,
        scope: 0,
        kind: RTN_UNICAST,
        tos: 0,
        onlink: false,
        append: false,
        track: true,
    };
    let mut dst_seen = false;
    let mut proto_given = None;
    let mut c = Cursor {
        words: words(stmt),
        at: 0,
    };
    let v6 = |w: &Word, sink: &mut Sink| {
        sink.warn(
            w.pos,
            format!(
                "IPv6 route ('{}') is not supported by vrrpd yet; route ignored",
                w.text
            ),
        );
    };
    // An address value of an option: IPv4, or the entry is dropped.
    let addr = |w: &Word, opt: &str, sink: &mut Sink| -> Result<Ipv4Addr, bool> {
        match w.text.parse::<Ipv4Addr>() {
            Ok(a) => Ok(a),
            Err(_) if w.text.parse::<Ipv6Addr>().is_ok() => {
                v6(w, sink);
                Err(false)
            }
            Err(_) => {
                sink.error(
                    w.pos,
                    format!("'{}' is not a valid IPv4 address for '{opt}'", w.text),
                );
                Err(true)
            }
        }
    };
    while let Some(w) = c.next() {
        let opt = w.text.as_str();
        match opt {
            "inet" => {}
            "inet6" => {
                v6(w, sink);
                return None;
            }
            "src" | "via" | "gw" | "or" => {
                let what = if opt == "src" {
                    "a source address"
                } else {
                    "a gateway address"
                };
                let mut v = c.value(w, what, sink)?;
                if (opt == "via" || opt == "gw") && v.text == "inet" {
                    v = c.value(w, what, sink)?;
                }
                if v.text == "inet6" {
                    v6(v, sink);
                    return None;
                }
                let a = addr(v, opt, sink).ok()?;
                match opt {
                    "src" => r.pref_src = Some(a),
                    "or" => {
                        // keepalived's older two-gateway form: a multipath route.
                        if !r.nexthops.is_empty() {
                            sink.error(w.pos, "only one 'or' gateway is allowed in a route");
                            return None;
                        }
                        let Some(first) = r.via.take() else {
                            sink.error(w.pos, "'or' needs a 'via' gateway before it");
                            return None;
                        };
                        for via in [first, a] {
                            r.nexthops.push(Nexthop {
                                via: Some(via),
                                dev: None,
                                weight: 1,
                                onlink: false,
                            });
                        }
                    }
                    _ => r.via = Some(a),
                }
            }
            "dev" | "oif" => {
                let v = c.value(w, "an interface name", sink)?;
                r.dev = Some(ifname(v, sink)?);
            }
            "table" => r.table = table(c.value(w, "a table", sink)?, sink)?,
            "metric" | "priority" | "preference" => {
                let v = c.value(w, "a number", sink)?;
                r.metric = Some(number_in(v, "metric", u64::from(u32::MAX), sink)? as u32);
            }
            "protocol" | "proto" => {
                proto_given = Some((protocol(c.value(w, "a protocol", sink)?, sink)?, w.pos));
            }
            "scope" => {
                let v = c.value(w, "a scope", sink)?;
                match scope(&v.text) {
                    Some(s) => r.scope = s,
                    None => {
                        sink.error(
                            v.pos,
                            format!(
                                "unknown scope '{}' (global, site, link, host, nowhere or 0-255)",
                                v.text
                            ),
                        );
                        return None;
                    }
                }
            }
            "tos" | "dsfield" => {
                let v = c.value(w, "a TOS value", sink)?;
                r.tos = number_in(v, "TOS value", 255, sink)? as u8;
            }
            "onlink" => r.onlink = true,
            "append" => r.append = true,
            "no_track" => r.track = false,
            "nexthop" => {
                if !r.nexthops.is_empty() {
                    sink.error(w.pos, "'nexthop' cannot follow an 'or' gateway");
                    return None;
                }
                // Everything after the first `nexthop` belongs to the next hops.
                c.at -= 1;
                read_nexthops(&mut c, &mut r, sink)?;
            }
            "encap" | "as" | "from" => {
                sink.error(
                    w.pos,
                    format!("'{opt}' in a route is not supported by vrrpd (encapsulation, MPLS and IPv6 source routing)"),
                );
                return None;
            }
            _ => {
                if let Some((_, lockable)) = ROUTE_IGNORED.iter().find(|(n, _)| *n == opt) {
                    let mut v = c.value(w, "a value", sink)?;
                    if *lockable && v.text == "lock" {
                        v = c.value(w, "a value", sink)?;
                    }
                    sink.warn(
                        w.pos,
                        format!(
                            "'{opt} {}' for a route is not supported by vrrpd; the route is installed without it",
                            v.text
                        ),
                    );
                    continue;
                }
                let mut w = w;
                if opt == "to" {
                    w = c.value(w, "a destination", sink)?;
                }
                if let Some((_, kind)) = ROUTE_TYPES.iter().find(|(n, _)| *n == w.text) {
                    r.kind = *kind;
                    w = c.value(w, "a destination", sink)?;
                }
                if dst_seen {
                    sink.error(
                        w.pos,
                        format!(
                            "unexpected '{}': the route already has a destination",
                            w.text
                        ),
                    );
                    return None;
                }
                match prefix(&w.text) {
                    Ok((a, len)) => {
                        (r.dst, r.dst_len) = (a, len);
                        dst_seen = true;
                    }
                    Err(NotV4::V6) => {
                        v6(w, sink);
                        return None;
                    }
                    Err(NotV4::Bad) => {
                        sink.error(
                            w.pos,
                            format!("unknown route keyword or bad destination '{}'", w.text),
                        );
                        return None;
                    }
                }
            }
        }
    }
    if !dst_seen {
        sink.error(
            stmt.pos(),
            "a route needs a destination (PREFIX or default)",
        );
        return None;
    }
    if r.dst_len < 32 && u32::from(r.dst) & !mask(r.dst_len) != 0 {
        sink.error(
            stmt.pos(),
            format!(
                "route destination {}/{} has host bits set (did you mean {}/{}?)",
                r.dst,
                r.dst_len,
                Ipv4Addr::from(u32::from(r.dst) & mask(r.dst_len)),
                r.dst_len
            ),
        );
        return None;
    }
    match proto_given {
        Some((p, pos)) if r.track && p != PROTO_KEEPALIVED => sink.warn(
            pos,
            format!("a tracked route is tagged proto keepalived ({PROTO_KEEPALIVED}), not {p}, so that vrrpd can tell it is its own (add no_track to keep {p})"),
        ),
        Some((p, _)) => r.protocol = p,
        None => {}
    }
    Some(r)
}

fn mask(len: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0)
}

/// `nexthop [via A] [dev D] [weight W] [onlink] nexthop …` to the end of the entry.
fn read_nexthops(c: &mut Cursor<'_>, r: &mut Route, sink: &mut Sink) -> Option<()> {
    while let Some(w) = c.next() {
        if w.text != "nexthop" {
            sink.error(
                w.pos,
                format!("unexpected '{}' after the next hops of a route", w.text),
            );
            return None;
        }
        let mut nh = Nexthop {
            via: None,
            dev: None,
            weight: 1,
            onlink: false,
        };
        while let Some(w) = c.peek() {
            match w.text.as_str() {
                "nexthop" => break,
                "via" => {
                    c.next();
                    let mut v = c.value(w, "a gateway address", sink)?;
                    if v.text == "inet" {
                        v = c.value(w, "a gateway address", sink)?;
                    }
                    match v.text.parse::<Ipv4Addr>() {
                        Ok(a) => nh.via = Some(a),
                        Err(_) => {
                            sink.error(
                                v.pos,
                                format!("'{}' is not a valid IPv4 next-hop address", v.text),
                            );
                            return None;
                        }
                    }
                }
                "dev" => {
                    c.next();
                    let v = c.value(w, "an interface name", sink)?;
                    nh.dev = Some(ifname(v, sink)?);
                }
                "weight" => {
                    c.next();
                    let v = c.value(w, "a weight", sink)?;
                    match number(&v.text) {
                        Some(n @ 1..=256) => nh.weight = n as u16,
                        _ => {
                            sink.error(
                                v.pos,
                                format!("'{}' is not a valid next-hop weight (1-256)", v.text),
                            );
                            return None;
                        }
                    }
                }
                "onlink" => {
                    c.next();
                    nh.onlink = true;
                }
                other => {
                    sink.error(
                        w.pos,
                        format!("'{other}' in a next hop is not supported by vrrpd (via, dev, weight, onlink)"),
                    );
                    return None;
                }
            }
        }
        if nh.via.is_none() && nh.dev.is_none() {
            sink.error(w.pos, "a next hop needs 'via' or 'dev'");
            return None;
        }
        if r.nexthops.len() == crate::limits::MAX_NEXTHOPS {
            sink.error(
                w.pos,
                format!(
                    "more than {} next hops in a route (limit MAX_NEXTHOPS)",
                    crate::limits::MAX_NEXTHOPS
                ),
            );
            return None;
        }
        r.nexthops.push(nh);
    }
    Some(())
}

/// Reads one rule entry; None after an error or for an IPv6 rule (reported).
pub(crate) fn read_rule(stmt: &Stmt, sink: &mut Sink) -> Option<RawRule> {
    if stmt.block.is_some() {
        sink.error(stmt.pos(), "unexpected '{' in a rule");
        return None;
    }
    let mut r = Rule {
        from: None,
        to: None,
        priority: 0,
        action: RuleAction::Nop,
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
    };
    let mut action: Option<RuleAction> = None;
    let mut pref_given = false;
    let mut table_option = None;
    let mut proto_given = None;
    let mut c = Cursor {
        words: words(stmt),
        at: 0,
    };
    let v6 = |w: &Word, sink: &mut Sink| {
        sink.warn(
            w.pos,
            format!(
                "IPv6 rule ('{}') is not supported by vrrpd yet; rule ignored",
                w.text
            ),
        );
    };
    let mut set_action = |a: RuleAction, w: &Word, sink: &mut Sink| -> Option<()> {
        if action.is_some() {
            sink.error(
                w.pos,
                "a rule takes one of table, goto, nop, blackhole, unreachable, prohibit and l3mdev",
            );
            return None;
        }
        action = Some(a);
        Some(())
    };
    while let Some(w) = c.next() {
        let opt = w.text.as_str();
        match opt {
            "inet" => {}
            "inet6" => {
                v6(w, sink);
                return None;
            }
            "from" | "to" => {
                let v = c.value(w, "a prefix", sink)?;
                let p = match prefix(&v.text) {
                    Ok(p) => p,
                    Err(NotV4::V6) => {
                        v6(v, sink);
                        return None;
                    }
                    Err(NotV4::Bad) => {
                        sink.error(
                            v.pos,
                            format!("'{}' is not a valid IPv4 prefix for '{opt}'", v.text),
                        );
                        return None;
                    }
                };
                // `from all` is the default and goes on the wire as nothing.
                let p = (p.1 > 0).then_some(p);
                if opt == "from" {
                    r.from = p;
                } else {
                    r.to = p;
                }
            }
            "table" | "lookup" => {
                let t = table(c.value(w, "a table", sink)?, sink)?;
                set_action(RuleAction::Table(t), w, sink)?;
            }
            "not" => r.invert = true,
            "preference" | "order" | "priority" | "pref" => {
                let v = c.value(w, "a number", sink)?;
                r.priority = number_in(v, "rule preference", u64::from(u32::MAX), sink)? as u32;
                pref_given = true;
            }
            "tos" | "dsfield" => {
                let v = c.value(w, "a TOS value", sink)?;
                r.tos = number_in(v, "TOS value", 255, sink)? as u8;
            }
            "fwmark" => {
                let v = c.value(w, "a mark", sink)?;
                let (m, k) = match v.text.split_once('/') {
                    Some((m, k)) => (m, Some(k)),
                    None => (v.text.as_str(), None),
                };
                let m = number(m).and_then(|n| u32::try_from(n).ok());
                let k = k.map(|k| number(k).and_then(|n| u32::try_from(n).ok()));
                match (m, k) {
                    (Some(m), None) => r.fwmark = Some((m, None)),
                    (Some(m), Some(Some(k))) => r.fwmark = Some((m, Some(k))),
                    _ => {
                        sink.error(
                            v.pos,
                            format!("'{}' is not a valid fwmark (MARK or MARK/MASK)", v.text),
                        );
                        return None;
                    }
                }
            }
            "dev" | "iif" => {
                let v = c.value(w, "an interface name", sink)?;
                r.iif = Some(ifname(v, sink)?);
            }
            "oif" => {
                let v = c.value(w, "an interface name", sink)?;
                r.oif = Some(ifname(v, sink)?);
            }
            "protocol" | "proto" => {
                proto_given = Some((protocol(c.value(w, "a protocol", sink)?, sink)?, w.pos));
            }
            "suppress_prefixlength" | "sup_pl" => {
                let v = c.value(w, "a prefix length", sink)?;
                r.suppress_prefixlen =
                    Some(number_in(v, "prefix length", i32::MAX as u64, sink)? as u32);
                table_option = Some(w.pos);
            }
            "ipproto" => {
                let v = c.value(w, "an IP protocol", sink)?;
                let p = match v.text.as_str() {
                    "icmp" => Some(1),
                    "tcp" => Some(6),
                    "udp" => Some(17),
                    "gre" => Some(47),
                    "esp" => Some(50),
                    "sctp" => Some(132),
                    t => number(t).and_then(|n| u8::try_from(n).ok()),
                };
                match p {
                    Some(p) => r.ipproto = Some(p),
                    None => {
                        sink.error(
                            v.pos,
                            format!("'{}' is not a valid IP protocol (a number 0-255, tcp, udp, icmp, …)", v.text),
                        );
                        return None;
                    }
                }
            }
            "sport" | "dport" => {
                let v = c.value(w, "a port or a range", sink)?;
                let Some(p) = range::<u16>(&v.text) else {
                    sink.error(
                        v.pos,
                        format!("'{}' is not a valid port range (P or P-Q)", v.text),
                    );
                    return None;
                };
                if opt == "sport" {
                    r.sport = Some(p);
                } else {
                    r.dport = Some(p);
                }
            }
            "uidrange" => {
                let v = c.value(w, "a uid range", sink)?;
                let Some(u) = range::<u32>(&v.text).filter(|_| v.text.contains('-')) else {
                    sink.error(
                        v.pos,
                        format!("'{}' is not a valid uid range (A-B)", v.text),
                    );
                    return None;
                };
                r.uidrange = Some(u);
            }
            "l3mdev" => {
                r.l3mdev = true;
                set_action(RuleAction::Table(0), w, sink)?;
            }
            "no_track" => r.track = false,
            _ if RULE_IGNORED.contains(&opt) => {
                let v = c.value(w, "a value", sink)?;
                sink.warn(
                    w.pos,
                    format!(
                        "'{opt} {}' for a rule is not supported by vrrpd; the rule is installed without it",
                        v.text
                    ),
                );
                if opt != "track_group" {
                    table_option = Some(w.pos);
                }
            }
            _ => {
                let mut w = w;
                if opt == "type" {
                    w = c.value(w, "a rule type", sink)?;
                }
                let a = match w.text.as_str() {
                    "goto" => {
                        let v = c.value(w, "a preference", sink)?;
                        RuleAction::Goto(
                            number_in(v, "goto target", u64::from(u32::MAX), sink)? as u32
                        )
                    }
                    "nop" => RuleAction::Nop,
                    "blackhole" => RuleAction::Blackhole,
                    "unreachable" => RuleAction::Unreachable,
                    "prohibit" => RuleAction::Prohibit,
                    other => {
                        sink.error(w.pos, format!("unknown rule option '{other}'"));
                        return None;
                    }
                };
                set_action(a, w, sink)?;
            }
        }
    }
    let Some(a) = action else {
        sink.error(
            stmt.pos(),
            "a rule needs an action (table, goto, nop, blackhole, unreachable, prohibit or l3mdev)",
        );
        return None;
    };
    r.action = a;
    if let RuleAction::Goto(target) = a {
        if !pref_given {
            sink.error(
                stmt.pos(),
                format!("a rule with 'goto {target}' needs a preference"),
            );
            return None;
        }
        if r.priority >= target {
            sink.error(
                stmt.pos(),
                format!(
                    "preference {} must be below the goto target {target}",
                    r.priority
                ),
            );
            return None;
        }
    }
    if let Some(pos) = table_option {
        if !matches!(a, RuleAction::Table(_)) {
            sink.error(
                pos,
                "suppress_prefixlength and realms only go with a table action",
            );
            return None;
        }
    }
    // As keepalived: an untracked rule carries no protocol unless one is written.
    if !r.track {
        r.protocol = 0;
    }
    match proto_given {
        Some((p, pos)) if r.track && p != PROTO_KEEPALIVED => sink.warn(
            pos,
            format!("a tracked rule is tagged proto keepalived ({PROTO_KEEPALIVED}), not {p}, so that vrrpd can tell it is its own (add no_track to keep {p})"),
        ),
        Some((p, _)) => r.protocol = p,
        None => {}
    }
    Some(RawRule {
        rule: r,
        pos: stmt.pos(),
        pref_given,
    })
}

/// Gives every rule written without a preference keepalived's default, in file order across
/// all the lists: 16384, 16383, … with a warning each.
pub(crate) fn number_rules<'a>(rules: impl IntoIterator<Item = &'a mut RawRule>, sink: &mut Sink) {
    let mut unnumbered: Vec<&mut RawRule> = rules.into_iter().filter(|r| !r.pref_given).collect();
    unnumbered.sort_by_key(|r| (r.pos.file, r.pos.line));
    let mut next = RULE_FIRST_DEFAULT_PREF;
    for r in unnumbered {
        r.rule.priority = next;
        r.pref_given = true;
        sink.warn(
            r.pos,
            format!("rule has no preference; using {next}, as keepalived does (rules need one to be installed in a known order)"),
        );
        next = next.saturating_sub(1);
    }
}

impl fmt::Display for Route {
    /// As `ip route` would show it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((name, _)) = ROUTE_TYPES
            .iter()
            .find(|(_, k)| *k == self.kind && *k != RTN_UNICAST)
        {
            write!(f, "{name} ")?;
        }
        if self.dst_len == 0 {
            f.write_str("default")?;
        } else {
            write!(f, "{}/{}", self.dst, self.dst_len)?;
        }
        if let Some(v) = self.via {
            write!(f, " via {v}")?;
        }
        if let Some(d) = &self.dev {
            write!(f, " dev {d}")?;
        }
        for nh in &self.nexthops {
            f.write_str(" nexthop")?;
            if let Some(v) = nh.via {
                write!(f, " via {v}")?;
            }
            if let Some(d) = &nh.dev {
                write!(f, " dev {d}")?;
            }
        }
        if let Some(s) = self.pref_src {
            write!(f, " src {s}")?;
        }
        if self.table != TABLE_MAIN {
            write!(f, " table {}", self.table)?;
        }
        if let Some(m) = self.metric {
            write!(f, " metric {m}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Rule {
    /// As `ip rule` would show it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.priority)?;
        if self.invert {
            f.write_str(" not")?;
        }
        match self.from {
            Some((a, l)) => write!(f, " from {a}/{l}")?,
            None => f.write_str(" from all")?,
        }
        if let Some((a, l)) = self.to {
            write!(f, " to {a}/{l}")?;
        }
        if let Some((m, k)) = self.fwmark {
            write!(f, " fwmark {m:#x}")?;
            if let Some(k) = k {
                write!(f, "/{k:#x}")?;
            }
        }
        if let Some(i) = &self.iif {
            write!(f, " iif {i}")?;
        }
        if let Some(o) = &self.oif {
            write!(f, " oif {o}")?;
        }
        match self.action {
            RuleAction::Table(_) if self.l3mdev => f.write_str(" lookup [l3mdev-table]"),
            RuleAction::Table(t) => write!(f, " lookup {t}"),
            RuleAction::Goto(t) => write!(f, " goto {t}"),
            RuleAction::Nop => f.write_str(" nop"),
            RuleAction::Blackhole => f.write_str(" blackhole"),
            RuleAction::Unreachable => f.write_str(" unreachable"),
            RuleAction::Prohibit => f.write_str(" prohibit"),
        }
    }
}

/// Addresses, routes and rules vrrpd installs besides the advertised VIPs: an instance's
/// (`virtual_ipaddress_excluded`, `virtual_routes`, `virtual_rules`: while it is master) or the
/// static ones (`static_ipaddress`, `static_routes`, `static_rules`: always).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Extras {
    pub addrs: Vec<super::types::Vip>,
    pub routes: Vec<Route>,
    pub rules: Vec<Rule>,
}

impl Extras {
    pub fn is_empty(&self) -> bool {
        self.addrs.is_empty() && self.routes.is_empty() && self.rules.is_empty()
    }
}

/// The same, as read: positions kept for the limit checks and rule numbering.
#[derive(Debug, Default)]
pub(crate) struct RawExtras {
    pub addrs: Vec<(super::types::Vip, Pos)>,
    pub routes: Vec<(Route, Pos)>,
    pub rules: Vec<RawRule>,
}

impl RawExtras {
    /// Reads the body of one of the six blocks, named `k`. Returns false for another keyword.
    /// An address of the other family is warned about (IPv6 is not supported yet).
    pub fn read_block(&mut self, k: &str, body: &[Stmt], sink: &mut Sink) -> bool {
        match k {
            "virtual_ipaddress_excluded" | "static_ipaddress" => {
                for s in body {
                    match super::vip::read(s, sink) {
                        Some(super::vip::Entry::V4(mut v)) => {
                            if k == "static_ipaddress" && v.dev.is_none() {
                                sink.warn(
                                    s.pos(),
                                    format!("static address {} has no 'dev'; using eth0, keepalived's default_interface", v.addr),
                                );
                                v.dev = Some("eth0".into());
                            }
                            if self.addrs.iter().any(|(o, _)| o.addr == v.addr) {
                                sink.warn(
                                    s.pos(),
                                    format!("address {} is listed twice; ignored", v.addr),
                                );
                            } else {
                                self.addrs.push((v, s.pos()));
                            }
                        }
                        Some(super::vip::Entry::V6) | None => {}
                    }
                }
            }
            "virtual_routes" | "static_routes" => {
                for s in body {
                    if let Some(r) = read_route(s, sink) {
                        if self.routes.iter().any(|(o, _)| o == &r) {
                            sink.warn(s.pos(), format!("route {r} is listed twice; ignored"));
                        } else {
                            self.routes.push((r, s.pos()));
                        }
                    }
                }
            }
            "virtual_rules" | "static_rules" => {
                for s in body {
                    self.rules.extend(read_rule(s, sink));
                }
            }
            _ => return false,
        }
        true
    }

    /// Checks the limits (`[addresses, routes, rules]`, each a capacity and its name in
    /// `crate::limits`) and keeps the values; None after an error (reported).
    pub fn finish(
        &self,
        limits: [(usize, &str); 3],
        what: &str,
        sink: &mut Sink,
    ) -> Option<Extras> {
        let firsts_over = [
            self.addrs.get(limits[0].0).map(|a| a.1),
            self.routes.get(limits[1].0).map(|r| r.1),
            self.rules.get(limits[2].0).map(|r| r.pos),
        ];
        let mut ok = true;
        for ((over, (n, name)), kind) in
            firsts_over
                .into_iter()
                .zip(limits)
                .zip(["addresses", "routes", "rules"])
        {
            if let Some(pos) = over {
                sink.error(pos, format!("more than {n} {what} {kind} (limit {name})"));
                ok = false;
            }
        }
        ok.then(|| Extras {
            addrs: self.addrs.iter().map(|(a, _)| a.clone()).collect(),
            routes: self.routes.iter().map(|(r, _)| r.clone()).collect(),
            rules: self.rules.iter().map(|r| r.rule.clone()).collect(),
        })
    }
}
