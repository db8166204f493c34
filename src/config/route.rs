//! `virtual_routes` / `static_routes` entries, in keepalived's syntax (`ip route add` without
//! abbreviations).
//!
//! What keepalived accepts and vrrpd does not carry out is a warning naming the word and what
//! the route loses; what keepalived refuses is an error. Defaults are keepalived's: table main,
//! scope universe, type unicast, and `proto keepalived` unless `no_track` names another one.

use core::fmt;
use std::net::IpAddr;

use super::diag::Sink;
use super::ipwords::{
    Cursor, FamilyOf, PROTO_KEEPALIVED, Prefix, TABLE_MAIN, network, number, number_in, prefix,
    protocol, table, unspecified, words,
};
use super::tree::{Stmt, Word};
use super::value::ifname;
use super::vip::scope;

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
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    /// `weight W` (1..=256), as written; the kernel stores W - 1.
    pub weight: u16,
    pub onlink: bool,
}

/// One route, IPv4 or IPv6: every address in it is of the family of `dst` (`default` is the
/// unspecified address of its family).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub dst: IpAddr,
    pub dst_len: u8,
    /// `from PREFIX`: an IPv6 source-specific route (RTA_SRC); length 0 for none.
    pub from: (IpAddr, u8),
    /// `src`: the preferred source address (RTA_PREFSRC).
    pub pref_src: Option<IpAddr>,
    pub via: Option<IpAddr>,
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
    /// `pref low|medium|high` of an IPv6 route (RTA_PREF: 3, 0, 1); None sends none.
    pub pref: Option<u8>,
    /// Restored when someone deletes it; false with `no_track`.
    pub track: bool,
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
    ("expires", false),
    ("ttl-propagate", false),
    ("fastopen_no_cookie", false),
    ("track_group", false),
];

/// Reads one route entry; None after an error (reported).
pub(crate) fn read_route(stmt: &Stmt, sink: &mut Sink) -> Option<Route> {
    if stmt.block.is_some() {
        sink.error(stmt.pos(), "unexpected '{' in a route");
        return None;
    }
    let mut r = Route {
        dst: unspecified(false),
        dst_len: 0,
        from: (unspecified(false), 0),
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
        pref: None,
        track: true,
    };
    let mut dst: Option<Prefix> = None;
    let mut from = Prefix::Any;
    let mut from_at = None;
    let mut pref_at = None;
    let mut fam = FamilyOf::default();
    let mut tos_at = None;
    let mut proto_given = None;
    let mut c = Cursor {
        words: words(stmt),
        at: 0,
    };
    while let Some(w) = c.next() {
        let opt = w.text.as_str();
        match opt {
            "inet" | "inet6" => fam.see(opt == "inet6", w, "route", sink)?,
            "src" | "via" | "gw" | "or" => {
                let what = if opt == "src" {
                    "a source address"
                } else {
                    "a gateway address"
                };
                let mut v = c.value(w, what, sink)?;
                if (opt == "via" || opt == "gw") && matches!(v.text.as_str(), "inet" | "inet6") {
                    fam.see(v.text == "inet6", v, "route", sink)?;
                    v = c.value(w, what, sink)?;
                }
                let a = address(v, opt, &mut fam, sink)?;
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
                tos_at = Some((w.pos, v.text.clone()));
            }
            "from" => {
                let v = c.value(w, "a source prefix", sink)?;
                let Some(p) = prefix(&v.text) else {
                    sink.error(
                        v.pos,
                        format!("'{}' is not a valid prefix for 'from'", v.text),
                    );
                    return None;
                };
                if let Prefix::Net(a, _) = p {
                    fam.addr(a, v, "route", sink)?;
                }
                from = p;
                from_at = Some(w.pos);
            }
            "pref" => {
                let v = c.value(w, "low, medium or high", sink)?;
                r.pref = Some(match v.text.as_str() {
                    "low" => 3,
                    "medium" => 0,
                    "high" => 1,
                    _ => {
                        sink.error(
                            v.pos,
                            format!(
                                "'{}' is not a route preference (low, medium or high)",
                                v.text
                            ),
                        );
                        return None;
                    }
                });
                pref_at = Some((w.pos, v.text.clone()));
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
                read_nexthops(&mut c, &mut r, &mut fam, sink)?;
            }
            "encap" | "as" => {
                sink.error(
                    w.pos,
                    format!(
                        "'{opt}' in a route is not supported by vrrpd (encapsulation and MPLS)"
                    ),
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
                if dst.is_some() {
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
                    Some(p) => {
                        if let Prefix::Net(a, _) = p {
                            fam.addr(a, w, "route", sink)?;
                        }
                        dst = Some(p);
                    }
                    None => {
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
    let v6 = fam.v6();
    (r.dst, r.dst_len) = match dst {
        None => {
            sink.error(
                stmt.pos(),
                "a route needs a destination (PREFIX or default)",
            );
            return None;
        }
        Some(Prefix::Any) => (unspecified(v6), 0),
        Some(Prefix::Net(a, l)) => (a, l),
    };
    let net = network(r.dst, r.dst_len);
    if net != r.dst {
        sink.error(
            stmt.pos(),
            format!(
                "route destination {}/{} has host bits set (did you mean {net}/{}?)",
                r.dst, r.dst_len, r.dst_len
            ),
        );
        return None;
    }
    if v6 {
        r.from = match from {
            Prefix::Net(a, l @ 1..) if network(a, l) != a => {
                sink.error(
                    stmt.pos(),
                    format!(
                        "route source {a}/{l} has host bits set (did you mean {}/{l}?)",
                        network(a, l)
                    ),
                );
                return None;
            }
            Prefix::Net(a, l @ 1..) => (a, l),
            _ => (unspecified(true), 0),
        };
        ipv6_checks(&mut r, tos_at, stmt, sink)?;
    } else {
        // Linux has source-specific routes for IPv6 only; without `from` the route would
        // match every source, which is not what was written.
        if let Some(pos) = from_at {
            sink.error(
                pos,
                "'from' (a source-specific route) is for IPv6 routes only",
            );
            return None;
        }
        if let Some((pos, text)) = pref_at {
            sink.warn(
                pos,
                format!("'pref {text}' is for IPv6 routes only; the route is installed without it"),
            );
            r.pref = None;
        }
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

/// The value of an address option (`src`, `via`, `gw`, `or`), of the route's family.
fn address(v: &Word, opt: &str, fam: &mut FamilyOf, sink: &mut Sink) -> Option<IpAddr> {
    let Ok(a) = v.text.parse::<IpAddr>() else {
        sink.error(
            v.pos,
            format!("'{}' is not a valid IP address for '{opt}'", v.text),
        );
        return None;
    };
    fam.addr(a, v, "route", sink)?;
    Some(a)
}

/// What Linux refuses or needs in an IPv6 route: no TOS (the kernel answers "option not
/// available for IPv6"), and a link-local gateway is only meaningful with its interface.
fn ipv6_checks(
    r: &mut Route,
    tos_at: Option<(super::diag::Pos, String)>,
    stmt: &Stmt,
    sink: &mut Sink,
) -> Option<()> {
    if let Some((pos, text)) = tos_at {
        sink.warn(
            pos,
            format!("'tos {text}' is not available for IPv6 routes in Linux; the route is installed without it"),
        );
        r.tos = 0;
    }
    // A next hop without its own `dev` uses the route's.
    let no_dev = std::iter::once((r.via, r.dev.is_none())).chain(
        r.nexthops
            .iter()
            .map(|nh| (nh.via, nh.dev.is_none() && r.dev.is_none())),
    );
    let bare = no_dev
        .filter(|(_, no_dev)| *no_dev)
        .find_map(|(via, _)| match via {
            Some(IpAddr::V6(g)) if g.is_unicast_link_local() => Some(g),
            _ => None,
        });
    if let Some(g) = bare {
        sink.error(
            stmt.pos(),
            format!("link-local gateway {g} needs 'dev' (the interface it is on)"),
        );
        return None;
    }
    Some(())
}

/// `nexthop [via A] [dev D] [weight W] [onlink] nexthop …` to the end of the entry.
fn read_nexthops(
    c: &mut Cursor<'_>,
    r: &mut Route,
    fam: &mut FamilyOf,
    sink: &mut Sink,
) -> Option<()> {
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
                    if matches!(v.text.as_str(), "inet" | "inet6") {
                        fam.see(v.text == "inet6", v, "route", sink)?;
                        v = c.value(w, "a gateway address", sink)?;
                    }
                    nh.via = Some(address(v, "via", fam, sink)?);
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
        if let (a, l @ 1..) = self.from {
            write!(f, " from {a}/{l}")?;
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
