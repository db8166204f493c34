//! Words shared by route and rule entries (`ip route` / `ip rule` syntax): prefixes, numbers
//! in decimal or hex, routing tables and protocols by number or name, ranges, and a cursor
//! over an entry's words.

use std::net::{Ipv4Addr, Ipv6Addr};

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

/// The family an entry's address belongs to, when it is not IPv4.
pub(super) enum NotV4 {
    V6,
    Bad,
}

/// `ADDR[/LEN]`, `default`, `all` or `any`: an IPv4 prefix.
pub(super) fn prefix(text: &str) -> Result<(Ipv4Addr, u8), NotV4> {
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
