//! `virtual_rules` / `static_rules` entries, in keepalived's syntax (`ip rule add` without
//! abbreviations). As in keepalived, a rule without a preference gets 16384, then 16383, …
//! in file order, with a warning; an untracked rule carries no protocol unless one is written.

use core::fmt;
use std::net::IpAddr;

use super::diag::{Pos, Sink};
use super::ipwords::{
    Cursor, FamilyOf, PROTO_KEEPALIVED, Prefix, number, number_in, prefix, protocol, range, table,
    unspecified, words,
};
use super::tree::{Stmt, Word};
use super::value::ifname;

/// Preference of the first rule written without one (keepalived's RULE_START_PRIORITY).
pub const RULE_FIRST_DEFAULT_PREF: u32 = 16384;

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

/// One policy-routing rule, IPv4 or IPv6: `from` and `to` are of its family, and "all" is
/// the family's unspecified address with length 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub from: (IpAddr, u8),
    pub to: (IpAddr, u8),
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

/// Rule options keepalived accepts that vrrpd does not set; each takes one value.
const RULE_IGNORED: &[&str] = &[
    "realms",
    "tunnel-id",
    "suppress_ifgroup",
    "sup_group",
    "track_group",
];

/// Reads one rule entry; None after an error (reported).
pub(crate) fn read_rule(stmt: &Stmt, sink: &mut Sink) -> Option<RawRule> {
    if stmt.block.is_some() {
        sink.error(stmt.pos(), "unexpected '{' in a rule");
        return None;
    }
    let mut r = Rule {
        from: (unspecified(false), 0),
        to: (unspecified(false), 0),
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
    let mut fam = FamilyOf::default();
    let (mut from, mut to) = (Prefix::Any, Prefix::Any);
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
            "inet" | "inet6" => fam.see(opt == "inet6", w, "rule", sink)?,
            "from" | "to" => {
                let v = c.value(w, "a prefix", sink)?;
                let Some(p) = prefix(&v.text) else {
                    sink.error(
                        v.pos,
                        format!("'{}' is not a valid prefix for '{opt}'", v.text),
                    );
                    return None;
                };
                if let Prefix::Net(a, _) = p {
                    fam.addr(a, v, "rule", sink)?;
                }
                if opt == "from" {
                    from = p;
                } else {
                    to = p;
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
            // `ip_proto` as keepalived.conf(5) spells it, `ipproto` as `ip rule` does.
            "ipproto" | "ip_proto" => {
                let v = c.value(w, "an IP protocol", sink)?;
                let p = match v.text.to_ascii_lowercase().as_str() {
                    "icmp" => Some(1),
                    "tcp" => Some(6),
                    "udp" => Some(17),
                    "gre" => Some(47),
                    "esp" => Some(50),
                    "ipv6-icmp" | "icmpv6" => Some(58),
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
    // `all` (and a /0) is the family's unspecified address with length 0, sent as nothing.
    let v6 = fam.v6();
    let resolve = |p: Prefix| match p {
        Prefix::Net(a, l) if l > 0 => (a, l),
        _ => (unspecified(v6), 0),
    };
    (r.from, r.to) = (resolve(from), resolve(to));
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

impl fmt::Display for Rule {
    /// As `ip rule` would show it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.priority)?;
        if self.invert {
            f.write_str(" not")?;
        }
        match self.from {
            (_, 0) => f.write_str(" from all")?,
            (a, l) => write!(f, " from {a}/{l}")?,
        }
        if let (a, l @ 1..) = self.to {
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
