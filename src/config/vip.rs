//! One `virtual_ipaddress` line: `ADDR[/LEN] [dev IF] [label L] [scope S] [brd B] …`.

use std::net::{IpAddr, Ipv4Addr};

use super::diag::Sink;
use super::tree::{Stmt, Word};
use super::types::Vip;
use super::value::{IFNAME_MAX, ifname};

/// `ip address` options keepalived accepts that vrrpd ignores (flag, takes a value).
const IGNORED: &[(&str, bool)] = &[
    ("home", false),
    ("-nodad", false),
    ("nodad", false),
    ("mngtmpaddr", false),
    ("noprefixroute", false),
    ("autojoin", false),
    ("no_track", false),
    ("peer", true),
    ("preferred_lft", true),
    ("track_group", true),
];

/// Parses one entry, IPv4 or IPv6; None after an error (already reported).
pub(crate) fn read(stmt: &Stmt, sink: &mut Sink) -> Option<Vip> {
    if stmt.block.is_some() {
        sink.error(stmt.pos(), "unexpected '{' in virtual_ipaddress");
        return None;
    }
    let text = stmt.key.text.as_str();
    let (addr_text, len_text) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let Ok(addr) = addr_text.parse::<IpAddr>() else {
        sink.error(
            stmt.pos(),
            format!("'{text}' is not a valid IPv4 or IPv6 address in virtual_ipaddress"),
        );
        return None;
    };
    // A host route's length by default, as `ip address add` and keepalived.
    let max = if addr.is_ipv6() { 128 } else { 32 };
    let prefix_len = match len_text {
        None => max,
        Some(l) => match l.parse::<u8>() {
            Ok(n) if n <= max => n,
            _ => {
                sink.error(
                    stmt.pos(),
                    format!("'{l}' is not a valid prefix length (0-{max}) in '{text}'"),
                );
                return None;
            }
        },
    };
    let mut vip = Vip {
        addr,
        prefix_len,
        dev: None,
        label: None,
        scope: 0,
        brd: None,
        on_vmac: false,
    };
    let mut ok = true;
    let mut args = stmt.args.iter();
    while let Some(opt) = args.next() {
        let name = opt.text.as_str();
        match name {
            "dev" | "label" | "scope" | "brd" | "broadcast" => {
                let Some(value) = args.next() else {
                    sink.error(opt.pos, format!("expected a value after '{name}'"));
                    ok = false;
                    break;
                };
                ok &= option(&mut vip, name, value, sink);
            }
            "use_vmac" => vip.on_vmac = true,
            _ => match IGNORED.iter().find(|(n, _)| *n == name) {
                Some((_, takes_value)) => {
                    sink.warn(
                        opt.pos,
                        format!(
                            "'{name}' for a virtual address is not supported by vrrpd; ignored"
                        ),
                    );
                    if *takes_value {
                        args.next();
                    }
                }
                None => {
                    sink.error(
                        opt.pos,
                        format!("unknown option '{name}' for virtual address '{text}'"),
                    );
                    ok = false;
                }
            },
        }
    }
    if vip.label.is_some() && addr.is_ipv6() {
        // Labels are an IPv4 notion (ifconfig aliases); the kernel has none for IPv6.
        sink.warn(
            stmt.pos(),
            format!("'label' has no meaning for IPv6 address '{text}'; ignored"),
        );
        vip.label = None;
    }
    ok.then_some(vip)
}

/// Applies one `NAME VALUE` option; false after an error.
fn option(vip: &mut Vip, name: &str, value: &Word, sink: &mut Sink) -> bool {
    match name {
        "dev" => match ifname(value, sink) {
            Some(n) => vip.dev = Some(n),
            None => return false,
        },
        "label" => {
            if value.text.is_empty() || value.text.len() > IFNAME_MAX {
                sink.error(
                    value.pos,
                    format!("label '{}' is not valid (1-{IFNAME_MAX} bytes)", value.text),
                );
                return false;
            }
            vip.label = Some(value.text.clone());
        }
        "scope" => match scope(&value.text) {
            Some(s) => vip.scope = s,
            None => {
                sink.error(
                    value.pos,
                    format!(
                        "unknown scope '{}' (global, site, link, host, nowhere or 0-255)",
                        value.text
                    ),
                );
                return false;
            }
        },
        _ if vip.addr.is_ipv6() => {
            sink.error(
                value.pos,
                format!("'{name}' is for IPv4 addresses only, not {}", vip.addr),
            );
            return false;
        }
        _ => match broadcast(vip, &value.text) {
            Some(b) => vip.brd = Some(b),
            None => {
                sink.error(
                    value.pos,
                    format!(
                        "'{}' is not a valid broadcast address (an IPv4 address, + or -)",
                        value.text
                    ),
                );
                return false;
            }
        },
    }
    true
}

/// rtnetlink scope numbers, by `ip` name (RT_SCOPE_*).
pub(crate) fn scope(text: &str) -> Option<u8> {
    match text {
        "global" | "universe" => Some(0),
        "site" => Some(200),
        "link" => Some(253),
        "host" => Some(254),
        "nowhere" => Some(255),
        _ => text.parse().ok(),
    }
}

/// `brd ADDR`, or `+` / `-` for the address with all host bits set / clear (as `ip` does).
fn broadcast(vip: &Vip, text: &str) -> Option<Ipv4Addr> {
    let mask = u32::MAX
        .checked_shl(32 - u32::from(vip.prefix_len))
        .unwrap_or(0);
    let IpAddr::V4(addr) = vip.addr else {
        return None;
    };
    let addr = u32::from(addr);
    match text {
        "+" => Some(Ipv4Addr::from(addr | !mask)),
        "-" => Some(Ipv4Addr::from(addr & mask)),
        _ => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::diag::Pos;
    use super::*;

    fn stmt(line: &str) -> Stmt {
        let pos = Pos { file: 0, line: 1 };
        let mut words = line.split_whitespace().map(|t| Word {
            text: t.to_string(),
            quoted: false,
            pos,
        });
        let key = words.next().unwrap();
        Stmt {
            key,
            args: words.collect(),
            block: None,
        }
    }

    fn parse(line: &str) -> (Option<Vip>, Vec<String>) {
        let mut sink = Sink::default();
        sink.add_file("t");
        let vip = read(&stmt(line), &mut sink);
        let d = sink
            .into_diagnostics()
            .iter()
            .map(|d| d.to_string())
            .collect();
        (vip, d)
    }

    #[test]
    fn full_entry() {
        let (vip, d) = parse("10.99.0.100/24 dev eth0 label eth0:vip scope link brd 10.99.0.255");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(
            vip,
            Some(Vip {
                addr: IpAddr::V4(Ipv4Addr::new(10, 99, 0, 100)),
                prefix_len: 24,
                dev: Some("eth0".into()),
                label: Some("eth0:vip".into()),
                scope: 253,
                brd: Some(Ipv4Addr::new(10, 99, 0, 255)),
                on_vmac: false,
            })
        );
    }

    #[test]
    fn defaults_and_brd_plus_minus() {
        let (vip, _) = parse("10.0.0.1");
        let vip = vip.unwrap();
        assert_eq!((vip.prefix_len, vip.scope, vip.dev), (32, 0, None));
        assert_eq!(
            parse("10.1.2.3/16 brd +").0.unwrap().brd,
            Some(Ipv4Addr::new(10, 1, 255, 255))
        );
        assert_eq!(
            parse("10.1.2.3/16 brd -").0.unwrap().brd,
            Some(Ipv4Addr::new(10, 1, 0, 0))
        );
        assert_eq!(
            parse("10.1.2.3/0 brd +").0.unwrap().brd,
            Some(Ipv4Addr::BROADCAST)
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse("10.0.0.300/24").1,
            vec![
                "t:1: error: '10.0.0.300/24' is not a valid IPv4 or IPv6 address in virtual_ipaddress"
            ]
        );
        assert_eq!(
            parse("10.0.0.1/33").1,
            vec!["t:1: error: '33' is not a valid prefix length (0-32) in '10.0.0.1/33'"]
        );
        assert_eq!(
            parse("10.0.0.1 dev").1,
            vec!["t:1: error: expected a value after 'dev'"]
        );
        assert_eq!(
            parse("10.0.0.1 bogus").1,
            vec!["t:1: error: unknown option 'bogus' for virtual address '10.0.0.1'"]
        );
    }

    #[test]
    fn ignored_options_and_ipv6() {
        let (vip, d) = parse("10.0.0.1/24 no_track preferred_lft forever dev eth1");
        assert_eq!(vip.unwrap().dev.as_deref(), Some("eth1"));
        assert_eq!(d.len(), 2);
        assert!(d[0].contains("'no_track' for a virtual address is not supported"));
        let (vip, d) = parse("fd00::1/64 dev eth0");
        assert!(d.is_empty(), "{d:?}");
        let vip = vip.unwrap();
        assert_eq!((vip.addr, vip.prefix_len), ("fd00::1".parse().unwrap(), 64));
        assert_eq!(parse("fe80::1").0.unwrap().prefix_len, 128);
        let (vip, d) = parse("fe80::1 label eth0:6");
        assert_eq!(vip.unwrap().label, None);
        assert_eq!(
            d,
            vec!["t:1: warning: 'label' has no meaning for IPv6 address 'fe80::1'; ignored"]
        );
        assert_eq!(
            parse("fe80::1/129").1,
            vec!["t:1: error: '129' is not a valid prefix length (0-128) in 'fe80::1/129'"]
        );
        assert_eq!(
            parse("fe80::1 brd +").1,
            vec!["t:1: error: 'brd' is for IPv4 addresses only, not fe80::1"]
        );
    }
}
