//! Routes and policy rules over rtnetlink: RTM_NEWROUTE / RTM_DELROUTE and RTM_NEWRULE /
//! RTM_DELRULE requests, and the keys by which the daemon recognises its own routes and rules in
//! dumps and in deletion events.
//!
//! Requests carry their attributes in the order `ip route prepend` and `ip rule add` send them
//! for the command lines in the tests, so that the encodings can be compared byte for byte with
//! what `ip` was seen sending (tests.rs).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::consts::*;
use super::parse::{Attrs, read_u32};
use super::request::Request;
use super::{Event, ParseError};

/// Only routes and rules tagged with this protocol are reported (RTPROT_KEEPALIVED): those are
/// the ones the daemon may have installed. Everything else on a busy router is noise here.
pub const PROTO_OURS: u8 = 18;

/// One next hop of a multipath route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NexthopSpec {
    pub via: Option<IpAddr>,
    pub ifindex: u32,
    /// 1..=256, as written (`weight`); the kernel stores it minus one.
    pub weight: u16,
    pub onlink: bool,
}

/// A route to add or delete, with interfaces resolved to indexes. Its family is that of `dst`;
/// every other address in it must be of the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteSpec<'a> {
    pub dst: IpAddr,
    pub dst_len: u8,
    /// Source prefix of an IPv6 source-specific route (RTA_SRC); length 0 for none.
    pub src: (IpAddr, u8),
    pub tos: u8,
    pub table: u32,
    pub protocol: u8,
    /// RT_SCOPE_*.
    pub scope: u8,
    /// RTN_*.
    pub kind: u8,
    pub onlink: bool,
    pub pref_src: Option<IpAddr>,
    pub via: Option<IpAddr>,
    pub oif: Option<u32>,
    pub metric: Option<u32>,
    pub nexthops: &'a [NexthopSpec],
    /// Add after matching routes instead of before them (NLM_F_APPEND).
    pub append: bool,
    /// IPv6 router preference (RTA_PREF: 3 low, 0 medium, 1 high).
    pub pref: Option<u8>,
}

impl RouteSpec<'_> {
    /// How the kernel tells this route from others: table, destination, TOS, metric, and
    /// (for ours) the protocol.
    pub fn key(&self) -> RouteKey {
        RouteKey {
            table: self.table,
            dst: self.dst,
            dst_len: self.dst_len,
            src: self.src,
            tos: self.tos,
            metric: metric_of(self.dst, self.metric),
            protocol: self.protocol,
            kind: self.kind,
        }
    }
}

/// The metric the kernel reports for a route with `metric` as written (None: none written).
/// IPv4 keeps 0; IPv6 turns 0 into 1024 (IP6_RT_PRIO_USER).
pub fn metric_of(dst: IpAddr, metric: Option<u32>) -> u32 {
    match (metric, dst) {
        (Some(m @ 1..), _) => m,
        (_, IpAddr::V6(_)) => IP6_RT_PRIO_USER,
        (_, IpAddr::V4(_)) => 0,
    }
}

const IP6_RT_PRIO_USER: u32 = 1024;

/// A route as identified in dumps and events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteKey {
    pub table: u32,
    pub dst: IpAddr,
    pub dst_len: u8,
    /// (unspecified, 0) but for an IPv6 source-specific route.
    pub src: (IpAddr, u8),
    pub tos: u8,
    pub metric: u32,
    pub protocol: u8,
    pub kind: u8,
}

/// A policy rule to add or delete. Its family is that of `from` (length 0 for "all"); `to` is
/// of the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleSpec<'a> {
    pub priority: u32,
    pub from: (IpAddr, u8),
    pub to: (IpAddr, u8),
    /// FR_ACT_*.
    pub action: u8,
    /// For FR_ACT_TO_TBL; 0 for an l3mdev rule.
    pub table: u32,
    pub goto: Option<u32>,
    pub invert: bool,
    pub tos: u8,
    pub fwmark: Option<(u32, Option<u32>)>,
    pub iif: Option<&'a str>,
    pub oif: Option<&'a str>,
    pub protocol: u8,
    pub suppress_prefixlen: Option<u32>,
    pub l3mdev: bool,
    pub ipproto: Option<u8>,
    pub sport: Option<(u16, u16)>,
    pub dport: Option<(u16, u16)>,
    pub uidrange: Option<(u32, u32)>,
}

impl RuleSpec<'_> {
    pub fn key(&self) -> RuleKey {
        RuleKey {
            priority: self.priority,
            from: self.from,
            to: self.to,
            action: self.action,
            table: self.table,
            protocol: self.protocol,
            // The kernel fills in an all-ones mask for a mark given without one.
            fwmark: self
                .fwmark
                .map(|(m, k)| (m, k.unwrap_or(u32::MAX)))
                .unwrap_or((0, 0)),
            iif: name(self.iif),
            oif: name(self.oif),
            invert: self.invert,
        }
    }
}

fn name(n: Option<&str>) -> heapless::String<16> {
    n.and_then(|n| heapless::String::try_from(n).ok())
        .unwrap_or_default()
}

/// A rule as identified in dumps and events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleKey {
    pub priority: u32,
    /// (0.0.0.0, 0) or (::, 0) for "all".
    pub from: (IpAddr, u8),
    pub to: (IpAddr, u8),
    pub action: u8,
    pub table: u32,
    pub protocol: u8,
    /// (mark, mask); (0, 0) for none.
    pub fwmark: (u32, u32),
    /// Empty for none.
    pub iif: heapless::String<16>,
    pub oif: heapless::String<16>,
    pub invert: bool,
}

/// Builds an RTM_NEWROUTE (`add`) or RTM_DELROUTE request. Adding never replaces: like
/// keepalived (and `ip route prepend`), it goes in front of a matching route of another
/// protocol, and an identical one answers EEXIST.
pub(super) fn route_request(r: &RouteSpec, add: bool, seq: u32) -> io::Result<Request> {
    let v6 = r.dst.is_ipv6();
    let gateways = r.nexthops.iter().filter_map(|nh| nh.via);
    let mixed = r
        .pref_src
        .into_iter()
        .chain(r.via)
        .chain(gateways)
        .chain([r.src.0])
        .any(|a| a.is_ipv6() != v6);
    // Linux has source-specific routes for IPv6 only.
    let bad_src = r.src.1 > max_len(r.src.0) || (!v6 && r.src.1 > 0);
    if r.dst_len > max_len(r.dst) || mixed || bad_src {
        return Err(invalid(
            "route: prefix too long or addresses of two families",
        ));
    }
    let (ty, flags) = if add {
        let order = if r.append { NLM_F_APPEND } else { 0 };
        (
            RTM_NEWROUTE,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | order,
        )
    } else {
        (RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK)
    };
    let mut req = Request::new(ty, flags, seq);
    // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags u32.
    let mut m = [0u8; RTMSG_LEN];
    m[0] = family(r.dst);
    m[1] = r.dst_len;
    m[2] = r.src.1;
    m[3] = r.tos;
    m[4] = u8::try_from(r.table).unwrap_or(0);
    m[5] = r.protocol;
    // An IPv4 delete matches any scope with NOWHERE; IPv6 routes have no scope (`ip` sends 0).
    m[6] = match (add, v6) {
        (true, _) => r.scope,
        (false, false) => RT_SCOPE_NOWHERE,
        (false, true) => 0,
    };
    m[7] = r.kind;
    let flags = if r.onlink {
        u32::from(RTNH_F_ONLINK)
    } else {
        0
    };
    m[8..].copy_from_slice(&flags.to_ne_bytes());
    req.push(&m)?;
    if r.table > 255 {
        req.attr(RTA_TABLE, &r.table.to_ne_bytes())?;
    }
    if r.dst_len > 0 {
        req.attr(RTA_DST, &octets(r.dst))?;
    }
    if r.src.1 > 0 {
        req.attr(RTA_SRC, &octets(r.src.0))?;
    }
    if let Some(src) = r.pref_src {
        req.attr(RTA_PREFSRC, &octets(src))?;
    }
    if let Some(via) = r.via {
        req.attr(RTA_GATEWAY, &octets(via))?;
    }
    if let Some(metric) = r.metric {
        req.attr(RTA_PRIORITY, &metric.to_ne_bytes())?;
    }
    if let Some(pref) = r.pref.filter(|_| v6) {
        req.attr(RTA_PREF, &[pref])?;
    }
    if let Some(oif) = r.oif {
        req.attr(RTA_OIF, &oif.to_ne_bytes())?;
    }
    if !r.nexthops.is_empty() {
        // struct rtnexthop (len u16, flags u8, hops u8, ifindex i32), then its attributes.
        let mut mp = [0u8; 8 * (RTNEXTHOP_LEN + RTA_HDRLEN + 16)];
        let mut len = 0;
        for nh in r.nexthops {
            let gw = nh.via.map(octets);
            let gw_len = gw.as_ref().map_or(0, |g| RTA_HDRLEN + g.len());
            let nh_len = RTNEXTHOP_LEN + gw_len;
            let out = mp
                .get_mut(len..len + nh_len)
                .ok_or_else(|| invalid("too many next hops"))?;
            out[..2].copy_from_slice(&(nh_len as u16).to_ne_bytes());
            out[2] = if nh.onlink { RTNH_F_ONLINK } else { 0 };
            out[3] = u8::try_from(nh.weight.clamp(1, 256) - 1).unwrap_or(255);
            out[4..8].copy_from_slice(&nh.ifindex.to_ne_bytes());
            if let Some(g) = gw {
                out[8..10].copy_from_slice(&(gw_len as u16).to_ne_bytes());
                out[10..12].copy_from_slice(&RTA_GATEWAY.to_ne_bytes());
                out[12..nh_len].copy_from_slice(&g);
            }
            len += nh_len;
        }
        req.attr(RTA_MULTIPATH, &mp[..len])?;
    }
    Ok(req)
}

/// Builds an RTM_NEWRULE (`add`, exclusive: an identical rule answers EEXIST, as with
/// `ip rule add`) or RTM_DELRULE request.
pub(super) fn rule_request(r: &RuleSpec, add: bool, seq: u32) -> io::Result<Request> {
    let (from, to) = (r.from.0, r.to.0);
    if from.is_ipv6() != to.is_ipv6() || r.from.1 > max_len(from) || r.to.1 > max_len(to) {
        return Err(invalid(
            "rule: prefix too long or addresses of two families",
        ));
    }
    let (ty, flags) = if add {
        (
            RTM_NEWRULE,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        )
    } else {
        (RTM_DELRULE, NLM_F_REQUEST | NLM_F_ACK)
    };
    let mut req = Request::new(ty, flags, seq);
    // struct fib_rule_hdr: family, dst_len, src_len, tos, table, res1, res2, action, flags u32.
    let mut h = [0u8; RTMSG_LEN];
    h[0] = family(from);
    h[1] = r.to.1;
    h[2] = r.from.1;
    h[3] = r.tos;
    h[4] = u8::try_from(r.table).unwrap_or(0);
    h[7] = r.action;
    let flags = if r.invert { FIB_RULE_INVERT } else { 0 };
    h[8..].copy_from_slice(&flags.to_ne_bytes());
    req.push(&h)?;
    req.attr(FRA_PRIORITY, &r.priority.to_ne_bytes())?;
    if r.from.1 > 0 {
        req.attr(FRA_SRC, &octets(from))?;
    }
    if r.to.1 > 0 {
        req.attr(FRA_DST, &octets(to))?;
    }
    if let Some((mark, mask)) = r.fwmark {
        req.attr(FRA_FWMARK, &mark.to_ne_bytes())?;
        if let Some(mask) = mask {
            req.attr(FRA_FWMASK, &mask.to_ne_bytes())?;
        }
    }
    for (ty, n) in [(FRA_IIFNAME, r.iif), (FRA_OIFNAME, r.oif)] {
        if let Some(n) = n {
            let mut buf = [0u8; libc::IFNAMSIZ];
            let b = buf
                .get_mut(..n.len())
                .ok_or_else(|| invalid("interface name too long"))?;
            b.copy_from_slice(n.as_bytes());
            req.attr(ty, &buf[..=n.len()])?;
        }
    }
    if r.table > 255 {
        req.attr(FRA_TABLE, &r.table.to_ne_bytes())?;
    }
    if let Some(g) = r.goto {
        req.attr(FRA_GOTO, &g.to_ne_bytes())?;
    }
    if let Some(p) = r.suppress_prefixlen {
        req.attr(FRA_SUPPRESS_PREFIXLEN, &p.to_ne_bytes())?;
    }
    if r.l3mdev {
        req.attr(FRA_L3MDEV, &[1])?;
    }
    req.attr(FRA_PROTOCOL, &[r.protocol])?;
    if let Some(p) = r.ipproto {
        req.attr(FRA_IP_PROTO, &[p])?;
    }
    for (ty, range) in [(FRA_SPORT_RANGE, r.sport), (FRA_DPORT_RANGE, r.dport)] {
        if let Some((a, b)) = range {
            let mut v = [0u8; 4];
            v[..2].copy_from_slice(&a.to_ne_bytes());
            v[2..].copy_from_slice(&b.to_ne_bytes());
            req.attr(ty, &v)?;
        }
    }
    if let Some((a, b)) = r.uidrange {
        let mut v = [0u8; 8];
        v[..4].copy_from_slice(&a.to_ne_bytes());
        v[4..].copy_from_slice(&b.to_ne_bytes());
        req.attr(FRA_UID_RANGE, &v)?;
    }
    Ok(req)
}

fn invalid(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what)
}

fn family(a: IpAddr) -> u8 {
    if a.is_ipv6() { AF_INET6 } else { AF_INET }
}

fn max_len(a: IpAddr) -> u8 {
    if a.is_ipv6() { 128 } else { 32 }
}

fn octets(a: IpAddr) -> heapless::Vec<u8, 16> {
    super::addr_octets(&a)
}

/// The unspecified address of address family `af` (AF_INET or AF_INET6); None for another.
fn unspecified(af: u8) -> Option<IpAddr> {
    match af {
        AF_INET => Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        AF_INET6 => Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
        _ => None,
    }
}

/// An address attribute of the family of `like`.
fn address(like: IpAddr, data: &[u8]) -> Result<IpAddr, ParseError> {
    Ok(match like {
        IpAddr::V4(_) => {
            let o: [u8; 4] = data.try_into().map_err(|_| ParseError::BadValue)?;
            IpAddr::V4(Ipv4Addr::from(o))
        }
        IpAddr::V6(_) => {
            let o: [u8; 16] = data.try_into().map_err(|_| ParseError::BadValue)?;
            IpAddr::V6(Ipv6Addr::from(o))
        }
    })
}

/// An IPv4 or IPv6 route message of ours (protocol 18) as an event; None for any other.
pub(super) fn decode_route(ty: u16, p: &[u8]) -> Result<Option<Event>, ParseError> {
    let h = p.get(..RTMSG_LEN).ok_or(ParseError::Truncated)?;
    let Some(any) = unspecified(h[0]) else {
        return Ok(None);
    };
    if h[5] != PROTO_OURS {
        return Ok(None);
    }
    let mut key = RouteKey {
        table: u32::from(h[4]),
        dst: any,
        dst_len: h[1],
        src: (any, h[2]),
        tos: h[3],
        metric: 0,
        protocol: h[5],
        kind: h[7],
    };
    if key.dst_len > max_len(any) || key.src.1 > max_len(any) {
        return Err(ParseError::BadValue);
    }
    for attr in Attrs::new(&p[RTMSG_LEN..]) {
        match attr? {
            (RTA_TABLE, d) => key.table = read_u32(d, 0).ok_or(ParseError::BadValue)?,
            (RTA_DST, d) => key.dst = address(any, d)?,
            (RTA_SRC, d) => key.src.0 = address(any, d)?,
            (RTA_PRIORITY, d) => key.metric = read_u32(d, 0).ok_or(ParseError::BadValue)?,
            _ => {}
        }
    }
    Ok(Some(if ty == RTM_NEWROUTE {
        Event::RouteAdded(key)
    } else {
        Event::RouteRemoved(key)
    }))
}

/// An IPv4 or IPv6 rule message of ours (protocol 18) as an event; None for any other.
pub(super) fn decode_rule(ty: u16, p: &[u8]) -> Result<Option<Event>, ParseError> {
    let h = p.get(..RTMSG_LEN).ok_or(ParseError::Truncated)?;
    let Some(any) = unspecified(h[0]) else {
        return Ok(None);
    };
    if h[1] > max_len(any) || h[2] > max_len(any) {
        return Err(ParseError::BadValue);
    }
    let mut key = RuleKey {
        priority: 0,
        from: (any, h[2]),
        to: (any, h[1]),
        action: h[7],
        table: u32::from(h[4]),
        protocol: 0,
        fwmark: (0, 0),
        iif: heapless::String::new(),
        oif: heapless::String::new(),
        invert: read_u32(h, 8).unwrap_or(0) & FIB_RULE_INVERT != 0,
    };
    let c_name = |d: &[u8]| -> Result<heapless::String<16>, ParseError> {
        let end = d.iter().position(|&b| b == 0).unwrap_or(d.len());
        let s = core::str::from_utf8(&d[..end]).map_err(|_| ParseError::BadValue)?;
        heapless::String::try_from(s).map_err(|_| ParseError::BadValue)
    };
    for attr in Attrs::new(&p[RTMSG_LEN..]) {
        let u32_of = |d: &[u8]| read_u32(d, 0).ok_or(ParseError::BadValue);
        match attr? {
            (FRA_PRIORITY, d) => key.priority = u32_of(d)?,
            (FRA_SRC, d) => key.from.0 = address(any, d)?,
            (FRA_DST, d) => key.to.0 = address(any, d)?,
            (FRA_TABLE, d) => key.table = u32_of(d)?,
            (FRA_PROTOCOL, d) => key.protocol = *d.first().ok_or(ParseError::BadValue)?,
            (FRA_FWMARK, d) => key.fwmark.0 = u32_of(d)?,
            (FRA_FWMASK, d) => key.fwmark.1 = u32_of(d)?,
            (FRA_IIFNAME, d) => key.iif = c_name(d)?,
            (FRA_OIFNAME, d) => key.oif = c_name(d)?,
            _ => {}
        }
    }
    if key.protocol != PROTO_OURS {
        return Ok(None);
    }
    Ok(Some(if ty == RTM_NEWRULE {
        Event::RuleAdded(key)
    } else {
        Event::RuleRemoved(key)
    }))
}
