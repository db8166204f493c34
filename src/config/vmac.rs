//! `use_vmac [NAME] [MAC]` and `vmac_xmit_base`: the instance's VIPs live on a macvlan with the
//! virtual MAC (RFC 5798 §7.3), so clients keep the gateway's MAC across a failover.

use super::diag::{Pos, Sink};
use super::tree::Stmt;
use super::types::{ExtraIf, Family, Vmac};
use super::value::{ifname, int_in};

/// The IPv4 virtual MAC is this prefix and the VRID (RFC 5798 §7.3).
pub const IPV4_PREFIX: [u8; 5] = [0x00, 0x00, 0x5e, 0x00, 0x01];
/// The IPv6 one.
pub const IPV6_PREFIX: [u8; 5] = [0x00, 0x00, 0x5e, 0x00, 0x02];

/// keepalived's default `vmac_prefix`: macvlans are named `vrrp.VRID`.
pub const DEFAULT_NAME_PREFIX: &str = "vrrp";

/// `use_vmac` as written.
#[derive(Debug)]
pub(crate) struct RawVmac {
    pub pos: Pos,
    pub name: Option<String>,
    /// Five octets (the VRID is the sixth) or six.
    pub mac: Option<Mac>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Mac {
    Prefix([u8; 5]),
    Full([u8; 6]),
}

/// Reads `use_vmac [NAME] [MAC]`. A word with a ':' is the MAC (interface names cannot hold
/// one), as in keepalived; None after an error.
pub(crate) fn read(s: &Stmt, sink: &mut Sink) -> Option<RawVmac> {
    let mut raw = RawVmac {
        pos: s.pos(),
        name: None,
        mac: None,
    };
    for w in &s.args {
        if w.text.contains(':') && raw.mac.is_none() {
            raw.mac = Some(mac(&w.text).or_else(|| {
                sink.error(
                    w.pos,
                    format!(
                        "'{}' is not a unicast MAC address of 5 or 6 octets for 'use_vmac'",
                        w.text
                    ),
                );
                None
            })?);
        } else if raw.name.is_none() && raw.mac.is_none() {
            raw.name = Some(ifname(w, sink)?);
        } else {
            sink.error(
                w.pos,
                format!(
                    "unexpected '{}' after 'use_vmac' (expected [NAME] [MAC])",
                    w.text
                ),
            );
            return None;
        }
    }
    Some(raw)
}

/// The macvlan of instance `vrid`: keepalived's default name `PREFIX.VRID` (`vmac_prefix`,
/// default `vrrp`), and the virtual MAC of the instance's family unless another was given.
pub(crate) fn resolve(
    raw: &RawVmac,
    vrid: u8,
    family: Family,
    name_prefix: &str,
    xmit_base: bool,
) -> Vmac {
    let mut full = [0u8; 6];
    match raw.mac {
        Some(Mac::Full(m)) => full = m,
        Some(Mac::Prefix(p)) => {
            full[..5].copy_from_slice(&p);
            full[5] = vrid;
        }
        None => {
            let prefix = match family {
                Family::V4 => IPV4_PREFIX,
                Family::V6 => IPV6_PREFIX,
            };
            full[..5].copy_from_slice(&prefix);
            full[5] = vrid;
        }
    }
    Vmac {
        name: raw
            .name
            .clone()
            .unwrap_or_else(|| format!("{name_prefix}.{vrid}")),
        mac: full,
        xmit_base,
    }
}

/// `garp_extra_if [all] SECS` and its older names: seconds from `min` to a day, as keepalived.
pub(crate) fn extra_if(s: &Stmt, min: u32, sink: &mut Sink) -> Option<ExtraIf> {
    let kw = s.key.text.as_str();
    let mut x = ExtraIf::default();
    let mut secs = None;
    for w in &s.args {
        if w.text == "all" && !x.all {
            x.all = true;
        } else if secs.is_none() {
            secs = Some(int_in(w, kw, i64::from(min), 86_400, sink)?);
        } else {
            sink.error(
                w.pos,
                format!(
                    "unexpected '{}' after '{kw}' (expected [all] SECONDS)",
                    w.text
                ),
            );
            return None;
        }
    }
    let Some(secs) = secs else {
        sink.error(s.pos(), format!("expected [all] SECONDS after '{kw}'"));
        return None;
    };
    x.secs = u32::try_from(secs).ok()?;
    Some(x)
}

/// `xx:xx:xx:xx:xx[:xx]`, hex octets of one or two digits, not multicast and not all zero.
fn mac(text: &str) -> Option<Mac> {
    let mut octets = [0u8; 6];
    let mut n = 0;
    for part in text.split(':') {
        if n == 6 || part.is_empty() || part.len() > 2 {
            return None;
        }
        octets[n] = u8::from_str_radix(part, 16).ok()?;
        n += 1;
    }
    if octets[0] & 1 != 0 || octets[..n].iter().all(|&b| b == 0) && n == 6 {
        return None;
    }
    match n {
        5 => Some(Mac::Prefix([
            octets[0], octets[1], octets[2], octets[3], octets[4],
        ])),
        6 => Some(Mac::Full(octets)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Loaded, load_str};

    fn diags(l: &Loaded) -> Vec<String> {
        l.diagnostics.iter().map(|d| d.to_string()).collect()
    }

    fn instance(name: &str, iface: &str, vrid: u8, body: &str) -> String {
        format!(
            "vrrp_instance {name} {{\n    interface {iface}\n    virtual_router_id {vrid}\n    virtual_ipaddress {{\n        10.0.0.{vrid}/24\n    }}\n{body}\n}}\n"
        )
    }

    #[test]
    fn default_name_and_mac_are_keepalived_s() {
        let l = load_str(&instance("VI_1", "eth0", 51, "    use_vmac"), "t.conf");
        assert!(l.diagnostics.is_empty(), "{:?}", diags(&l));
        let v = l.config.unwrap().instances[0].vmac.clone().unwrap();
        assert_eq!(v.name, "vrrp.51");
        assert_eq!(v.mac, [0, 0, 0x5e, 0, 1, 51]);
        assert!(!v.xmit_base);
    }

    #[test]
    fn ipv6_instances_get_the_ipv6_virtual_mac() {
        let conf = "vrrp_instance VI_6 {\n    interface eth0\n    virtual_router_id 51\n    use_vmac\n    virtual_ipaddress {\n        fd99::100/64\n    }\n}\n";
        let l = load_str(conf, "t.conf");
        let v = l.config.unwrap().instances[0].vmac.clone().unwrap();
        assert_eq!(
            (v.name.as_str(), v.mac),
            ("vrrp.51", [0, 0, 0x5e, 0, 2, 51])
        );
    }

    #[test]
    fn vmac_prefix_names_the_default_macvlans() {
        let body = format!(
            "global_defs {{\n    vmac_prefix gw\n    vmac_prefix other\n}}\n{}{}",
            instance("A", "eth0", 7, "    use_vmac"),
            instance("B", "eth1", 8, "    use_vmac named")
        );
        let l = load_str(&body, "t.conf");
        assert_eq!(
            diags(&l),
            vec!["t.conf:3: warning: vmac_prefix was given already; 'other' ignored"]
        );
        let c = l.config.unwrap();
        let names: Vec<_> = c
            .instances
            .iter()
            .map(|i| i.vmac.clone().unwrap().name)
            .collect();
        assert_eq!(names, ["gw.7", "named"]);
        let l = load_str("global_defs {\n    vmac_prefix twelve_bytes\n}\n", "t.conf");
        assert_eq!(
            diags(&l),
            vec![
                "t.conf:2: error: 'twelve_bytes' is not a valid vmac_prefix (1-11 bytes of an interface name, no '/' or ':')"
            ]
        );
    }

    #[test]
    fn garp_extra_if_and_its_older_names() {
        let body = "global_defs {\n    vrrp_vmac_garp_intvl all 60\n}\n".to_string()
            + &instance("A", "eth0", 1, "    use_vmac")
            + &instance("B", "eth1", 2, "    use_vmac\n    garp_extra_if 100")
            + &instance("C", "eth2", 3, "    use_vmac\n    vmac_garp_intvl 0");
        let l = load_str(&body, "t.conf");
        assert!(l.diagnostics.is_empty(), "{:?}", diags(&l));
        let got: Vec<_> = l
            .config
            .unwrap()
            .instances
            .iter()
            .map(|i| i.garp_extra_if)
            .collect();
        let x = |secs, all| crate::config::types::ExtraIf { secs, all };
        assert_eq!(got, [x(60, true), x(100, false), x(0, false)]);
        for (body, want) in [
            (
                "    garp_extra_if all",
                "t.conf:7: error: expected [all] SECONDS after 'garp_extra_if'",
            ),
            (
                "    garp_extra_if 86401",
                "t.conf:7: error: garp_extra_if 86401 is out of range (0-86400)",
            ),
            (
                "    garp_extra_if 5 6",
                "t.conf:7: error: unexpected '6' after 'garp_extra_if' (expected [all] SECONDS)",
            ),
        ] {
            let l = load_str(&instance("A", "eth0", 1, body), "t.conf");
            assert!(diags(&l).iter().any(|d| d == want), "{:?}", diags(&l));
        }
    }

    #[test]
    fn name_mac_and_xmit_base() {
        let body = "    use_vmac gw0 02:00:5e:10:00\n    vmac_xmit_base";
        let l = load_str(&instance("VI_1", "eth0", 7, body), "t.conf");
        assert!(l.diagnostics.is_empty(), "{:?}", diags(&l));
        let v = l.config.unwrap().instances[0].vmac.clone().unwrap();
        assert_eq!(
            (v.name.as_str(), v.mac, v.xmit_base),
            ("gw0", [2, 0, 0x5e, 0x10, 0, 7], true)
        );
        let l = load_str(
            &instance("VI_1", "eth0", 7, "    use_vmac 02:00:00:00:00:09"),
            "t.conf",
        );
        let v = l.config.unwrap().instances[0].vmac.clone().unwrap();
        assert_eq!((v.name.as_str(), v.mac), ("vrrp.7", [2, 0, 0, 0, 0, 9]));
    }

    #[test]
    fn bad_macs_and_extra_words_are_errors() {
        for (body, want) in [
            (
                "    use_vmac vrrp.1 01:00:5e:00:01:01",
                "t.conf:7: error: '01:00:5e:00:01:01' is not a unicast MAC address of 5 or 6 octets for 'use_vmac'",
            ),
            (
                "    use_vmac vrrp.1 00:00:5e:zz:01",
                "t.conf:7: error: '00:00:5e:zz:01' is not a unicast MAC address of 5 or 6 octets for 'use_vmac'",
            ),
            (
                "    use_vmac a b",
                "t.conf:7: error: unexpected 'b' after 'use_vmac' (expected [NAME] [MAC])",
            ),
        ] {
            let l = load_str(&instance("VI_1", "eth0", 1, body), "t.conf");
            assert!(l.config.is_none(), "{body}");
            assert!(diags(&l).iter().any(|d| d == want), "{:?}", diags(&l));
        }
    }

    #[test]
    fn names_must_be_unique_and_not_other_interfaces() {
        let two = format!(
            "{}{}",
            instance("A", "eth0", 1, "    use_vmac gw"),
            instance("B", "eth1", 2, "    use_vmac gw")
        );
        let l = load_str(&two, "t.conf");
        assert!(l.config.is_none());
        assert!(
            diags(&l).contains(
                &"t.conf:15: error: use_vmac interface gw is already used by vrrp_instance 'A'"
                    .to_string()
            ),
            "{:?}",
            diags(&l)
        );
        let clash = format!(
            "{}{}",
            instance("A", "eth0", 1, "    use_vmac eth1"),
            instance("B", "eth1", 2, "")
        );
        let l = load_str(&clash, "t.conf");
        assert!(l.config.is_none());
        assert!(
            diags(&l).contains(&"t.conf:7: error: use_vmac interface eth1 is also used as an interface in the configuration".to_string()),
            "{:?}",
            diags(&l)
        );
    }

    #[test]
    fn macvlans_count_against_the_interface_capacity() {
        let limit = crate::limits::MAX_INTERFACES;
        // limit/2 instances on their own interfaces, each with a macvlan, fill the table.
        let fits: String = (1..=limit / 2)
            .map(|i| instance(&format!("V{i}"), &format!("e{i}"), i as u8, "    use_vmac"))
            .collect();
        assert!(load_str(&fits, "t.conf").config.is_some());
        let more = format!("{fits}{}", instance("X", "x0", 200, "    use_vmac"));
        let l = load_str(&more, "t.conf");
        assert!(l.config.is_none());
        assert!(
            diags(&l)
                .iter()
                .any(|d| d.contains("more than 32 interfaces")),
            "{:?}",
            diags(&l)
        );
    }

    #[test]
    fn unicast_sends_from_the_interface() {
        let body = "    use_vmac\n    unicast_src_ip 10.0.0.2\n    unicast_peer {\n        10.0.0.3\n    }";
        let l = load_str(&instance("VI_1", "eth0", 1, body), "t.conf");
        assert_eq!(
            diags(&l),
            vec![
                "t.conf:7: warning: 'use_vmac' with unicast peers: adverts are sent from the interface, as with 'vmac_xmit_base' (which keepalived requires here)"
            ]
        );
        assert!(
            l.config.unwrap().instances[0]
                .vmac
                .as_ref()
                .unwrap()
                .xmit_base
        );
    }

    #[test]
    fn what_is_not_built_is_a_warning() {
        let l = load_str(
            &instance("VI_1", "eth0", 1, "    use_vmac_addr\n    vmac_xmit_base"),
            "t.conf",
        );
        assert!(l.config.is_some());
        assert_eq!(
            diags(&l),
            vec![
                "t.conf:7: warning: 'use_vmac_addr' is not supported by vrrpd; ignored: vrrpd makes one macvlan per instance: addresses on other interfaces keep those interfaces' own MAC, and excluded addresses of the other family go on the instance's macvlan (use_vmac covers the instance's interface)",
                "t.conf:8: warning: 'vmac_xmit_base' without 'use_vmac' has no effect",
            ]
        );
        let per_vip = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1/24 dev eth1 use_vmac\n }\n}\n";
        let l = load_str(per_vip, "t.conf");
        assert!(l.config.is_some());
        assert_eq!(
            diags(&l),
            vec![
                "t.conf:5: warning: 'use_vmac' for a virtual address is not supported by vrrpd; ignored: 10.0.0.1/24 keeps its interface's own MAC (use_vmac in the instance covers addresses on its interface)"
            ]
        );
    }
}
