//! `use_vmac [NAME] [MAC]` and `vmac_xmit_base`: the instance's VIPs live on a macvlan with the
//! virtual MAC (RFC 5798 §7.3), so clients keep the gateway's MAC across a failover.

use super::diag::{Pos, Sink};
use super::tree::Stmt;
use super::types::{ExtraIf, Family, Vmac};
use super::value::{IFNAME_MAX, ifname, int_in};

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

/// What an instance asks of macvlans, as written.
pub(crate) struct Wants<'a> {
    /// `use_vmac`.
    pub own: Option<&'a RawVmac>,
    /// `use_vmac_addr`.
    pub addr: bool,
    /// `vmac_xmit_base`, or unicast peers: adverts leave from the interface.
    pub xmit_base: bool,
    /// `vmac_prefix`, and `vmac_addr_prefix` (default the same).
    pub prefix: &'a str,
    pub addr_prefix: &'a str,
}

/// Decides which of `inst`'s addresses live on macvlans and makes the list
/// (`Instance::vmacs`): with `use_vmac` the instance's own first (`use_vmac`'s name or
/// `PREFIX.VRID`, on its interface, of its family), then one per other interface and family
/// its covered addresses use. `use_vmac` covers the addresses on the instance's interface,
/// `use_vmac_addr` those on other interfaces or of the other family, and an address's own
/// `use_vmac` that address. keepalived names the others `ADDR_PREFIX.VRID` (IPv6:
/// `ADDR_PREFIX6.VRID`), or `ADDR_PREFIXn.VRID` with the first free n from 1; so does vrrpd.
/// One difference on purpose: with `use_vmac` alone, keepalived puts the other family's
/// addresses on the instance's macvlan, whose MAC is the wrong family's (its man page says
/// so); vrrpd gives them a macvlan of their own family. False after an error (reported at `at`).
pub(crate) fn place(
    inst: &mut super::types::Instance,
    w: &Wants,
    at: Pos,
    sink: &mut Sink,
) -> bool {
    let (vrid, family) = (inst.vrid, inst.family);
    let mut vmacs: Vec<Vmac> = Vec::new();
    if let Some(own) = w.own {
        vmacs.push(Vmac {
            name: own
                .name
                .clone()
                .unwrap_or_else(|| format!("{}.{vrid}", w.prefix)),
            parent: inst.interface.clone(),
            family,
            mac: mac_of(w.own, family, family, vrid),
            adverts: !w.xmit_base,
        });
    }
    let mut ok = true;
    let interface = inst.interface.clone();
    for v in inst.vips.iter_mut().chain(inst.extras.addrs.iter_mut()) {
        let dev = v.dev.clone().unwrap_or_else(|| interface.clone());
        let fam = Family::of(v.addr);
        let on_own = dev == interface;
        v.on_vmac |= (w.own.is_some() && on_own) || (w.addr && (!on_own || fam != family));
        if !v.on_vmac || vmacs.iter().any(|m| m.parent == dev && m.family == fam) {
            continue;
        }
        let taken = |n: &str| vmacs.iter().any(|m| m.name == n);
        let first = match fam {
            Family::V4 => format!("{}.{vrid}", w.addr_prefix),
            Family::V6 => format!("{}6.{vrid}", w.addr_prefix),
        };
        let name = if taken(&first) {
            (1..)
                .map(|n| format!("{}{n}.{vrid}", w.addr_prefix))
                .find(|n| !taken(n))
                .unwrap_or(first)
        } else {
            first
        };
        if name.len() > IFNAME_MAX {
            sink.error(
                at,
                format!(
                    "the macvlan for {} on {dev} would be named {name}, longer than \
                     {IFNAME_MAX} bytes; choose a shorter vmac_addr_prefix",
                    v.addr
                ),
            );
            ok = false;
            continue;
        }
        vmacs.push(Vmac {
            name,
            parent: dev,
            family: fam,
            mac: mac_of(w.own, fam, family, vrid),
            adverts: false,
        });
    }
    inst.vmacs = vmacs;
    ok
}

/// The virtual MAC of `family`'s macvlans: `use_vmac`'s own MAC for the instance's family, else
/// the RFC's for the family and VRID.
fn mac_of(own: Option<&RawVmac>, family: Family, inst_family: Family, vrid: u8) -> [u8; 6] {
    let mut full = [0u8; 6];
    match own.and_then(|o| o.mac).filter(|_| family == inst_family) {
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
    full
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
        let v = l.config.unwrap().instances[0].own_vmac().cloned().unwrap();
        assert_eq!(v.name, "vrrp.51");
        assert_eq!(v.mac, [0, 0, 0x5e, 0, 1, 51]);
        assert!(v.adverts);
    }

    #[test]
    fn ipv6_instances_get_the_ipv6_virtual_mac() {
        let conf = "vrrp_instance VI_6 {\n    interface eth0\n    virtual_router_id 51\n    use_vmac\n    virtual_ipaddress {\n        fd99::100/64\n    }\n}\n";
        let l = load_str(conf, "t.conf");
        let v = l.config.unwrap().instances[0].own_vmac().cloned().unwrap();
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
            .map(|i| i.own_vmac().unwrap().name.clone())
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
        let v = l.config.unwrap().instances[0].own_vmac().cloned().unwrap();
        assert_eq!(
            (v.name.as_str(), v.mac, v.adverts),
            ("gw0", [2, 0, 0x5e, 0x10, 0, 7], false)
        );
        let l = load_str(
            &instance("VI_1", "eth0", 7, "    use_vmac 02:00:00:00:00:09"),
            "t.conf",
        );
        let v = l.config.unwrap().instances[0].own_vmac().cloned().unwrap();
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
        assert!(!l.config.unwrap().instances[0].vmacs[0].adverts);
    }

    /// (name, parent, MAC's last two octets, adverts) of each macvlan, and the link each
    /// address lives on, of the first instance of `conf`.
    type Placed = (Vec<Vm>, Vec<String>, Vec<String>);
    type Vm = (String, String, [u8; 2], bool);

    fn placed(conf: &str) -> Placed {
        let l = load_str(conf, "t.conf");
        let d = diags(&l);
        let Some(c) = l.config else {
            return (Vec::new(), Vec::new(), d);
        };
        let i = &c.instances[0];
        let vmacs = i
            .vmacs
            .iter()
            .map(|m| {
                (
                    m.name.clone(),
                    m.parent.clone(),
                    [m.mac[4], m.mac[5]],
                    m.adverts,
                )
            })
            .collect();
        let on = i
            .vips
            .iter()
            .chain(&i.extras.addrs)
            .map(|v| {
                let dev = i.vmac_of(v).map(|m| m.name.as_str());
                format!(
                    "{} {}",
                    v.addr,
                    dev.or(v.dev.as_deref()).unwrap_or(&i.interface)
                )
            })
            .collect();
        (vmacs, on, d)
    }

    fn vm(name: &str, parent: &str, mac: [u8; 2], adverts: bool) -> Vm {
        (name.into(), parent.into(), mac, adverts)
    }

    const ADDRS: &str = "    virtual_ipaddress {\n        10.99.70.100/24\n        10.99.71.100/24 dev eth1\n    }\n    virtual_ipaddress_excluded {\n        fd99:70::100/64\n        fd99:71::100/64 dev eth1\n    }\n";

    fn with(words: &str, globals: &str) -> String {
        format!(
            "{globals}vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n{words}{ADDRS}}}\n"
        )
    }

    #[test]
    fn use_vmac_addr_makes_one_per_interface_and_family_named_as_keepalived() {
        // keepalived 2.2.7 made vrrp.51@eth0, vrrp1.51@eth1, vrrp6.51@eth0 and vrrp2.51@eth1
        // for this configuration, in this order.
        let (vmacs, on, d) = placed(&with("    use_vmac\n    use_vmac_addr\n", ""));
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(
            vmacs,
            [
                vm("vrrp.51", "eth0", [1, 51], true),
                vm("vrrp1.51", "eth1", [1, 51], false),
                vm("vrrp6.51", "eth0", [2, 51], false),
                vm("vrrp2.51", "eth1", [2, 51], false),
            ]
        );
        assert_eq!(
            on,
            [
                "10.99.70.100 vrrp.51",
                "10.99.71.100 vrrp1.51",
                "fd99:70::100 vrrp6.51",
                "fd99:71::100 vrrp2.51"
            ]
        );
        // Without use_vmac the instance's own family stays on its interface (keepalived's
        // vrrp.51@eth1 and vrrp6.51@eth0), and vmac_addr_prefix names them.
        let (vmacs, on, _) = placed(&with(
            "    use_vmac_addr\n",
            "global_defs {\n    vmac_addr_prefix va\n}\n",
        ));
        assert_eq!(
            vmacs,
            [
                vm("va.51", "eth1", [1, 51], false),
                vm("va6.51", "eth0", [2, 51], false),
                vm("va1.51", "eth1", [2, 51], false),
            ]
        );
        assert_eq!(on[0], "10.99.70.100 eth0");
    }

    #[test]
    fn use_vmac_alone_gives_the_other_family_its_own_mac() {
        // keepalived puts fd99:70::100 on vrrp.51 (an IPv4 virtual MAC); vrrpd on purpose not.
        let (vmacs, on, d) = placed(&with("    use_vmac\n", ""));
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(
            vmacs,
            [
                vm("vrrp.51", "eth0", [1, 51], true),
                vm("vrrp6.51", "eth0", [2, 51], false)
            ]
        );
        assert_eq!(
            on,
            [
                "10.99.70.100 vrrp.51",
                "10.99.71.100 eth1",
                "fd99:70::100 vrrp6.51",
                "fd99:71::100 eth1"
            ]
        );
    }

    #[test]
    fn a_vip_s_own_use_vmac() {
        // keepalived: 10.99.70.101 on vrrp.51@eth0, both eth2 VIPs on vrrp1.51@eth2, the rest
        // on their interfaces; adverts from eth0.
        let conf = "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        10.99.70.100/24\n        10.99.70.101/24 use_vmac\n        10.99.72.100/24 dev eth2 use_vmac\n        10.99.72.101/24 dev eth2 use_vmac\n    }\n}\n";
        let (vmacs, on, d) = placed(conf);
        assert_eq!(
            vmacs,
            [
                vm("vrrp.51", "eth0", [1, 51], false),
                vm("vrrp1.51", "eth2", [1, 51], false)
            ]
        );
        assert_eq!(
            on,
            [
                "10.99.70.100 eth0",
                "10.99.70.101 vrrp.51",
                "10.99.72.100 vrrp1.51",
                "10.99.72.101 vrrp1.51"
            ]
        );
        assert!(d.iter().all(|d| !d.contains("use_vmac")), "{d:?}");
        let statics = "static_ipaddress {\n    10.99.73.1/24 dev eth3 use_vmac\n}\n";
        let l = load_str(statics, "t.conf");
        assert_eq!(
            diags(&l),
            [
                "t.conf:2: warning: 'use_vmac' on static address 10.99.73.1 is ignored: only an instance's addresses live on its macvlans"
            ]
        );
    }

    #[test]
    fn generated_names_must_fit_and_be_unique() {
        let long = "global_defs {\n    vmac_addr_prefix elevenbytes\n}\nvrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 200\n    use_vmac_addr\n    virtual_ipaddress {\n        10.99.70.100/24 dev eth1\n        fd99::1/64\n    }\n}\n";
        let (_, _, d) = placed(long);
        assert_eq!(
            d[..1],
            [
                "t.conf:7: error: the macvlan for fd99::1 on eth0 would be named elevenbytes6.200, longer than 15 bytes; choose a shorter vmac_addr_prefix"
            ]
        );
        // Two instances with the same VRID on different interfaces would make two va.51.
        let two = format!(
            "global_defs {{\n    vmac_addr_prefix va\n}}\n{}{}",
            instance(
                "A",
                "eth0",
                51,
                "    use_vmac_addr\n    virtual_ipaddress_excluded {\n        10.1.0.1/24 dev eth2\n    }"
            ),
            instance(
                "B",
                "eth1",
                51,
                "    use_vmac_addr\n    virtual_ipaddress_excluded {\n        10.2.0.1/24 dev eth3\n    }"
            )
        );
        let l = load_str(&two, "t.conf");
        assert!(l.config.is_none());
        assert!(
            diags(&l).contains(
                &"t.conf:21: error: use_vmac interface va.51 is already used by vrrp_instance 'A'"
                    .to_string()
            ),
            "{:?}",
            diags(&l)
        );
    }

    #[test]
    fn one_macvlan_per_mac_on_an_interface() {
        // An IPv4 instance's IPv6 addresses take 00:00:5e:00:02:33 on eth0, which the IPv6
        // instance of the same VRID there has already.
        let six = "vrrp_instance V6 {\n    interface eth0\n    virtual_router_id 51\n    use_vmac gw6\n    virtual_ipaddress {\n        fd99::1/64\n    }\n}\n";
        let l = load_str(&format!("{six}{}", with("    use_vmac\n", "")), "t.conf");
        assert!(l.config.is_none());
        assert!(
            diags(&l).contains(&"t.conf:12: error: macvlan vrrp6.51 on eth0 would have the MAC of gw6 on it; the kernel allows one macvlan per MAC on an interface".to_string()),
            "{:?}",
            diags(&l)
        );
    }

    #[test]
    fn vmac_xmit_base_alone_is_a_warning() {
        let l = load_str(&instance("VI_1", "eth0", 1, "    vmac_xmit_base"), "t.conf");
        assert!(l.config.is_some());
        assert_eq!(
            diags(&l),
            vec!["t.conf:7: warning: 'vmac_xmit_base' without 'use_vmac' has no effect"]
        );
    }
}
