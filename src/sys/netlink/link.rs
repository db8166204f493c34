//! Link requests for the virtual MAC: create a macvlan (bridge mode) on a parent, set its
//! mode, bring a link up or down, turn off its IPv6 address generation, delete it. Each request
//! is built by a pure function so that its bytes can be compared with what `ip link` sends.

use std::io;

use super::consts::*;
use super::request::Request;
use super::{Netlink, check_name};

impl Netlink {
    /// Creates macvlan `name` (bridge mode) on `parent` with hardware address `mac`, down.
    /// A link of that name already there is an error (EEXIST): the caller decides about it.
    pub fn add_macvlan(&mut self, name: &str, parent: u32, mac: [u8; 6]) -> io::Result<()> {
        let seq = self.next_seq();
        let mut req = new_macvlan(seq, name, parent, mac)?;
        self.transact(&mut req, seq, 0)
    }

    /// Puts macvlan `ifindex` in bridge mode (one made by someone else may be private).
    pub fn set_macvlan_bridge(&mut self, ifindex: u32) -> io::Result<()> {
        let seq = self.next_seq();
        let mut req = macvlan_bridge(seq, ifindex)?;
        self.transact(&mut req, seq, 0)
    }

    /// Sets the administrative state of link `ifindex` (IFF_UP), leaving the other flags.
    pub fn set_link_up(&mut self, ifindex: u32, up: bool) -> io::Result<()> {
        let seq = self.next_seq();
        let mut req = set_up(seq, ifindex, up)?;
        self.transact(&mut req, seq, 0)
    }

    /// `ip link set dev X addrgenmode none`: the link makes no IPv6 link-local of its own.
    pub fn set_addrgenmode_none(&mut self, ifindex: u32) -> io::Result<()> {
        let seq = self.next_seq();
        let mut req = addrgenmode_none(seq, ifindex)?;
        self.transact(&mut req, seq, 0)
    }

    /// Deletes link `ifindex`. Already gone (ENODEV) counts as success.
    pub fn del_link(&mut self, ifindex: u32) -> io::Result<()> {
        let seq = self.next_seq();
        let mut req = Request::new(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
        req.push(&ifinfomsg(ifindex, 0, 0)?)?;
        self.transact(&mut req, seq, libc::ENODEV)
    }
}

/// RTM_NEWLINK creating a macvlan, attributes in iproute2's order.
pub(super) fn new_macvlan(seq: u32, name: &str, parent: u32, mac: [u8; 6]) -> io::Result<Request> {
    check_name(name)?;
    let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    let mut req = Request::new(RTM_NEWLINK, flags, seq);
    req.push(&ifinfomsg(0, 0, 0)?)?;
    req.attr(IFLA_ADDRESS, &mac)?;
    req.attr(IFLA_LINK, &parent.to_ne_bytes())?;
    let mut ifname = [0u8; libc::IFNAMSIZ];
    ifname[..name.len()].copy_from_slice(name.as_bytes());
    req.attr(IFLA_IFNAME, &ifname[..=name.len()])?;
    macvlan_info(&mut req)?;
    Ok(req)
}

/// IFLA_LINKINFO { IFLA_INFO_KIND "macvlan", IFLA_INFO_DATA { IFLA_MACVLAN_MODE bridge } }.
fn macvlan_info(req: &mut Request) -> io::Result<()> {
    let info = req.begin_nested(IFLA_LINKINFO)?;
    // The kind goes without its NUL, as iproute2 sends it; the kernel compares the bytes.
    req.attr(IFLA_INFO_KIND, b"macvlan")?;
    let data = req.begin_nested(IFLA_INFO_DATA)?;
    req.attr(IFLA_MACVLAN_MODE, &MACVLAN_MODE_BRIDGE.to_ne_bytes())?;
    req.end_nested(data)?;
    req.end_nested(info)
}

/// RTM_NEWLINK changing macvlan `ifindex` to bridge mode.
pub(super) fn macvlan_bridge(seq: u32, ifindex: u32) -> io::Result<Request> {
    let mut req = Request::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
    req.push(&ifinfomsg(ifindex, 0, 0)?)?;
    macvlan_info(&mut req)?;
    Ok(req)
}

/// RTM_NEWLINK changing only IFF_UP of `ifindex`.
pub(super) fn set_up(seq: u32, ifindex: u32, up: bool) -> io::Result<Request> {
    let mut req = Request::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
    let flags = if up { IFF_UP } else { 0 };
    req.push(&ifinfomsg(ifindex, flags, IFF_UP)?)?;
    Ok(req)
}

/// RTM_NEWLINK with IFLA_AF_SPEC / AF_INET6 / IFLA_INET6_ADDR_GEN_MODE = none.
pub(super) fn addrgenmode_none(seq: u32, ifindex: u32) -> io::Result<Request> {
    let mut req = Request::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
    req.push(&ifinfomsg(ifindex, 0, 0)?)?;
    let spec = req.begin_nested(IFLA_AF_SPEC)?;
    let inet6 = req.begin_nested(u16::from(AF_INET6))?;
    req.attr(IFLA_INET6_ADDR_GEN_MODE, &[IN6_ADDR_GEN_MODE_NONE])?;
    req.end_nested(inet6)?;
    req.end_nested(spec)?;
    Ok(req)
}

/// struct ifinfomsg: family AF_UNSPEC, type 0, index, flags, change mask.
fn ifinfomsg(ifindex: u32, flags: u32, change: u32) -> io::Result<[u8; IFINFOMSG_LEN]> {
    let index = i32::try_from(ifindex)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface index too large"))?;
    let mut m = [0u8; IFINFOMSG_LEN];
    m[4..8].copy_from_slice(&index.to_ne_bytes());
    m[8..12].copy_from_slice(&flags.to_ne_bytes());
    m[12..16].copy_from_slice(&change.to_ne_bytes());
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `ip link add link mparent name vrrp.51 address 00:00:5e:00:01:33 type macvlan mode
    /// bridge` sent (iproute2 6.1, parent index 3), captured with `strace -e write=3` in a
    /// namespace; sequence numbers are set to 0x6b0ea5aa in all of them. Native endian: x86_64.
    const IP_LINK_ADD: [u8; 92] = [
        0x5c, 0x00, 0x00, 0x00, 0x10, 0x00, 0x05, 0x06, 0xaa, 0xa5, 0x0e, 0x6b, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x0a, 0x00, 0x01, 0x00, 0x00, 0x00, 0x5e, 0x00, 0x01, 0x33, 0x00, 0x00, 0x08,
        0x00, 0x05, 0x00, 0x03, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x03, 0x00, b'v', b'r', b'r', b'p',
        b'.', b'5', b'1', 0x00, 0x1c, 0x00, 0x12, 0x00, 0x0b, 0x00, 0x01, 0x00, b'm', b'a', b'c',
        b'v', b'l', b'a', b'n', 0x00, 0x0c, 0x00, 0x02, 0x00, 0x08, 0x00, 0x01, 0x00, 0x04, 0x00,
        0x00, 0x00,
    ];
    /// `ip link set dev vrrp.51 addrgenmode none` (index 5).
    const IP_LINK_ADDRGENMODE_NONE: [u8; 48] = [
        0x30, 0x00, 0x00, 0x00, 0x10, 0x00, 0x05, 0x00, 0xaa, 0xa5, 0x0e, 0x6b, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x10, 0x00, 0x1a, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x05, 0x00, 0x08, 0x00, 0x01,
        0x00, 0x00, 0x00,
    ];
    /// `ip link set dev vrrp.51 type macvlan mode bridge` (index 4).
    const IP_LINK_SET_BRIDGE: [u8; 60] = [
        0x3c, 0x00, 0x00, 0x00, 0x10, 0x00, 0x05, 0x00, 0xaa, 0xa5, 0x0e, 0x6b, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x1c, 0x00, 0x12, 0x00, 0x0b, 0x00, 0x01, 0x00, b'm', b'a', b'c', b'v', b'l',
        b'a', b'n', 0x00, 0x0c, 0x00, 0x02, 0x00, 0x08, 0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00,
    ];
    /// `ip link set dev vrrp.51 up`, then `down`.
    const IP_LINK_UP: [u8; 32] = [
        0x20, 0x00, 0x00, 0x00, 0x10, 0x00, 0x05, 0x00, 0xaa, 0xa5, 0x0e, 0x6b, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00,
        0x00, 0x00,
    ];
    const IP_LINK_DOWN: [u8; 32] = [
        0x20, 0x00, 0x00, 0x00, 0x10, 0x00, 0x05, 0x00, 0xaa, 0xa5, 0x0e, 0x6b, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
        0x00, 0x00,
    ];
    const SEQ: u32 = 0x6b0e_a5aa;
    const VMAC: [u8; 6] = [0x00, 0x00, 0x5e, 0x00, 0x01, 0x33];

    #[test]
    #[cfg(target_endian = "little")]
    fn macvlan_request_is_what_ip_link_sends() {
        let mut req = new_macvlan(SEQ, "vrrp.51", 3, VMAC).unwrap();
        assert_eq!(req.bytes(), &IP_LINK_ADD[..]);
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn link_flag_and_addrgenmode_requests_are_what_ip_link_sends() {
        assert_eq!(set_up(SEQ, 5, true).unwrap().bytes(), &IP_LINK_UP[..]);
        assert_eq!(set_up(SEQ, 5, false).unwrap().bytes(), &IP_LINK_DOWN[..]);
        let mut req = addrgenmode_none(SEQ, 5).unwrap();
        assert_eq!(req.bytes(), &IP_LINK_ADDRGENMODE_NONE[..]);
        let mut req = macvlan_bridge(SEQ, 4).unwrap();
        assert_eq!(req.bytes(), &IP_LINK_SET_BRIDGE[..]);
    }

    #[test]
    fn bad_names_are_refused_before_any_syscall() {
        for name in ["", "sixteen-bytes-xx", "a/b", "a b", "a:b", "a\0b"] {
            let err = new_macvlan(1, name, 3, VMAC).err().unwrap();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{name:?}");
        }
        assert!(new_macvlan(1, "fifteen-bytes-x", 3, VMAC).is_ok());
    }

    /// The kernel's answer to `ip -d link show dev vrrp.51` for that macvlan (index 6 on parent
    /// 3, down), captured with `strace -e read=3`: kind and parent come out of it.
    #[test]
    #[cfg(target_endian = "little")]
    fn kernel_macvlan_message_decodes_with_kind_and_parent() {
        let bytes = include_bytes!("testdata/macvlan_newlink.bin");
        let mut links = Vec::new();
        super::super::parse_messages(bytes, &mut |ev| links.push(ev)).unwrap();
        let [super::super::Event::Link(l)] = &links[..] else {
            panic!("{links:?}");
        };
        assert_eq!(
            (
                l.ifindex,
                l.name.as_str(),
                l.mac,
                l.kind.as_str(),
                l.parent,
                l.up
            ),
            (6, "vrrp.51", VMAC, "macvlan", 3, false)
        );
    }
}
