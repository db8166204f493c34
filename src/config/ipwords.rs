//! Words shared by route and rule entries (`ip route` / `ip rule` syntax): prefixes, numbers
//! in decimal or hex, routing tables and protocols by number or name, ranges, and a cursor
//! over an entry's words.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::diag::Sink;
use super::tree::{Stmt, Word};

/// rtnetlink's number for routes and rules keepalived installs (RTPROT_KEEPALIVED).
pub const PROTO_KEEPALIVED: u8 = 18;

pub const TABLE_MAIN: u32 = 254;

/// The words of an entry: the statement's key and its arguments.
pub(super) fn words(stmt: &Stmt) -> Vec<&Word> {
    std::iter::once(&stmt.key).chain(stmt.args.iter()).collect()
}

/// Walks an entry's words, reporting a missing value after an option.
pub(super) struct Cursor<'a> {
    pub words: Vec<&'a Word>,
    pub at: usize,
}

impl<'a> Cursor<'a> {
    pub fn next(&mut self) -> Option<&'a Word> {
        let w = self.words.get(self.at).copied();
        self.at += 1;
        w
    }

    pub fn peek(&self) -> Option<&'a Word> {
        self.words.get(self.at).copied()
    }

    /// The value after option `opt`; None (reported) if the line ends.
    pub fn value(&mut self, opt: &Word, what: &str, sink: &mut Sink) -> Option<&'a Word> {
        let v = self.next();
        if v.is_none() {
            sink.error(opt.pos, format!("expected {what} after '{}'", opt.text));
        }
        v
    }
}

/// A prefix as written: `default`/`all`/`any` (of no family yet) or an address and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Prefix {
    Any,
    Net(IpAddr, u8),
}

/// `ADDR[/LEN]`, `default`, `all` or `any`, of either family; None if it is none of those.
pub(super) fn prefix(text: &str) -> Option<Prefix> {
    if matches!(text, "default" | "all" | "any") {
        return Some(Prefix::Any);
    }
    let (a, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let addr = a.parse::<IpAddr>().ok()?;
    let max = if addr.is_ipv6() { 128 } else { 32 };
    let len = match len {
        None => max,
        Some(l) if !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()) => {
            l.parse().ok().filter(|n| *n <= max)?
        }
        Some(_) => return None,
    };
    Some(Prefix::Net(addr, len))
}

/// The unspecified address of a family: what `default` and `all` stand for.
pub(super) fn unspecified(v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    }
}

/// `addr` with the bits past `len` cleared.
pub(super) fn network(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let m = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & m))
        }
        IpAddr::V6(a) => {
            let m = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & m))
        }
    }
}

/// The address family an entry settles on, as keepalived decides it: `inet6` or any IPv6
/// address in it makes it IPv6, `inet` or an IPv4 address IPv4; with neither (`default dev
/// eth0`) it is IPv4, as keepalived.conf(5) says. Words of both families are an error.
#[derive(Default)]
pub(super) struct FamilyOf {
    /// The family and the word that decided it.
    seen: Option<(bool, String)>,
}

impl FamilyOf {
    /// Records that word `w` is of family `v6`; None (reported) if the entry has another.
    pub fn see(&mut self, v6: bool, w: &Word, what: &str, sink: &mut Sink) -> Option<()> {
        match &self.seen {
            None => {
                self.seen = Some((v6, w.text.clone()));
                Some(())
            }
            Some((f, _)) if *f == v6 => Some(()),
            Some((_, first)) => {
                let name = |v6: bool| if v6 { "IPv6" } else { "IPv4" };
                sink.error(
                    w.pos,
                    format!(
                        "'{}' is {}, but '{first}' made the {what} {}: a {what} is of one address family",
                        w.text,
                        name(v6),
                        name(!v6)
                    ),
                );
                None
            }
        }
    }

    /// Records an address.
    pub fn addr(&mut self, a: IpAddr, w: &Word, what: &str, sink: &mut Sink) -> Option<()> {
        self.see(a.is_ipv6(), w, what, sink)
    }

    pub fn v6(&self) -> bool {
        self.seen.as_ref().is_some_and(|(v6, _)| *v6)
    }
}

/// A number in decimal or `0x` hex, as `ip` and keepalived read them.
pub(super) fn number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) if !hex.is_empty() => u64::from_str_radix(hex, 16).ok(),
        Some(_) => None,
        None if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => text.parse().ok(),
        None => None,
    }
}

pub(super) fn number_in(w: &Word, what: &str, max: u64, sink: &mut Sink) -> Option<u64> {
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
pub(super) fn iproute2_name(file: &str, name: &str) -> Option<u32> {
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
pub(super) fn table(w: &Word, sink: &mut Sink) -> Option<u32> {
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
pub(super) fn protocol(w: &Word, sink: &mut Sink) -> Option<u8> {
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
pub(super) fn range<T: core::str::FromStr + Copy + PartialOrd>(text: &str) -> Option<(T, T)> {
    let (a, b) = text.split_once('-').unwrap_or((text, text));
    let (a, b) = (a.parse().ok()?, b.parse().ok()?);
    (a <= b).then_some((a, b))
}
