//! The interfaces the daemon uses: what the kernel says about them, and their VRRP sockets.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::sys::netlink::{AddrInfo, LinkInfo};
use crate::sys::raw::VrrpSocket;
use crate::sys::raw6::Vrrp6Socket;
use crate::time::Instant;
use crate::vrrp::Family;
use crate::vrrp::rx::{Counters, Drop};

/// No instance runs this VRID on the interface.
pub const NO_INSTANCE: u16 = u16::MAX;

/// One address family's side of an interface: its socket and who uses it.
pub struct Side<S> {
    /// Open while the link exists and some instance of the family runs on it.
    pub sock: Option<S>,
    /// Some instance of the family runs here.
    pub used: bool,
    /// Some instance here sends multicast, so the socket joins 224.0.0.18 or ff02::12.
    pub multicast: bool,
    /// VRID → index of the instance running it here, for dispatch without a scan.
    pub vrids: [u16; 256],
}

impl<S> Side<S> {
    fn new() -> Self {
        Side {
            sock: None,
            used: false,
            multicast: false,
            vrids: [NO_INSTANCE; 256],
        }
    }
}

pub struct Iface {
    pub name: String,
    /// Zero until the kernel has told us about the link (it may appear later).
    pub ifindex: u32,
    pub mac: [u8; 6],
    pub up: bool,
    /// The driver ("macvlan", …) and the lower device's index, to recognise our macvlans.
    pub kind: heapless::String<16>,
    pub parent: u32,
    /// The address IPv4 adverts come from when no `unicast_src_ip`/`mcast_src_ip` is given.
    pub primary: Option<Ipv4Addr>,
    /// The same for IPv6: the lowest usable link-local address.
    pub link_local: Option<Ipv6Addr>,
    pub v4: Side<VrrpSocket>,
    pub v6: Side<Vrrp6Socket>,
    /// Packets dropped before any instance could be named (unknown VRID, too short). Counted
    /// once here rather than on every instance, so a flood costs O(1) per packet.
    pub unrouted: Counters,
    /// When an unknown VRID was last logged.
    unknown_logged: Option<Instant>,
    /// Packets the kernel dropped because a VRRP socket's queue was full (SO_RXQ_OVFL), over
    /// every such socket of both families this interface had, as of the last packet read.
    pub overflows: u64,
    /// The current sockets' own counts (IPv4, IPv6), which start at 0 with each socket.
    pub sock_overflows: [u32; 2],
}

impl Iface {
    pub fn new(name: &str) -> Iface {
        Iface {
            name: name.to_string(),
            ifindex: 0,
            mac: [0; 6],
            up: false,
            kind: heapless::String::new(),
            parent: 0,
            primary: None,
            link_local: None,
            v4: Side::new(),
            v6: Side::new(),
            unrouted: Counters::default(),
            unknown_logged: None,
            overflows: 0,
            sock_overflows: [0; 2],
        }
    }

    /// Counts an advert for a VRID no instance runs here and, with `log_unknown_vrids`, logs it
    /// in keepalived's words, at most once per `DROP_LOG_PERIOD`. Most of them never get here:
    /// the socket filter passes a sample (`sys::bpf::SAMPLE`), so the counts are of that sample.
    pub fn unknown_vrid(&mut self, now: Instant, vrid: u8, src: IpAddr, log: bool) {
        let total = self.unrouted.count(Drop::Vrid);
        let last = &mut self.unknown_logged;
        if !log || last.is_some_and(|t| now < t + super::router::DROP_LOG_PERIOD) {
            return;
        }
        log::info!(
            "Unknown VRID({vrid}) received on interface({}) from {src}. ignoring... ({total} in all)",
            self.name
        );
        *last = Some(now);
    }

    /// The dispatch table of `family`.
    pub fn vrids(&self, family: Family) -> &[u16; 256] {
        match family {
            Family::V4 => &self.v4.vrids,
            Family::V6 => &self.v6.vrids,
        }
    }

    /// Takes what a link dump or event says. Returns true if the up/down state changed.
    pub fn update_link(&mut self, link: &LinkInfo) -> bool {
        if self.ifindex != link.ifindex {
            // A new link under the old name: the old sockets are bound to a dead device.
            self.close();
        }
        self.ifindex = link.ifindex;
        self.mac = link.mac;
        self.kind.clone_from(&link.kind);
        self.parent = link.parent;
        let changed = self.up != link.up;
        self.up = link.up;
        changed
    }

    /// Takes the overflow count a packet of `family` came with.
    pub fn note_overflows(&mut self, family: Family, count: u32) {
        let own = &mut self.sock_overflows[usize::from(family == Family::V6)];
        self.overflows += u64::from(count.wrapping_sub(*own));
        *own = count;
    }

    pub fn forget_link(&mut self) {
        self.ifindex = 0;
        self.parent = 0;
        self.up = false;
        self.close();
    }

    fn close(&mut self) {
        self.v4.sock = None;
        self.v6.sock = None;
        self.primary = None;
        self.link_local = None;
    }
}

/// Picks a link's primary IPv4 address from a dump, one address at a time, so that no table of
/// a router's addresses (which may be thousands) is needed: the first non-secondary address,
/// else the first at all. The caller offers only the link's own addresses that are not VIPs
/// (a /32 VIP is never marked secondary by the kernel); other families are passed over.
#[derive(Debug, Default, Clone, Copy)]
pub struct PrimaryPick {
    primary: Option<Ipv4Addr>,
    first: Option<Ipv4Addr>,
}

impl PrimaryPick {
    pub fn offer(&mut self, a: &AddrInfo) {
        let IpAddr::V4(v4) = a.addr else {
            return;
        };
        if !a.secondary {
            self.primary.get_or_insert(v4);
        }
        self.first.get_or_insert(v4);
    }

    pub fn pick(&self) -> Option<Ipv4Addr> {
        self.primary.or(self.first)
    }
}

/// Picks a link's IPv6 source the same way: the lowest link-local address that has passed
/// duplicate address detection, so the choice is the same whatever order the kernel lists them
/// in (RFC 5798 section 5.1.2.1 wants a link-local source). The caller offers no VIPs.
#[derive(Debug, Default, Clone, Copy)]
pub struct LinkLocalPick {
    lowest: Option<Ipv6Addr>,
}

impl LinkLocalPick {
    pub fn offer(&mut self, a: &AddrInfo) {
        match a.addr {
            IpAddr::V6(v6) if is_link_local(v6) && !a.tentative => {
                self.lowest = Some(self.lowest.map_or(v6, |l| l.min(v6)));
            }
            _ => {}
        }
    }

    pub fn pick(&self) -> Option<Ipv6Addr> {
        self.lowest
    }
}

/// fe80::/10.
pub fn is_link_local(a: Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(a: &str, tentative: bool) -> AddrInfo {
        AddrInfo {
            ifindex: 2,
            addr: a.parse().unwrap(),
            prefix_len: 64,
            secondary: false,
            tentative,
            label: heapless::String::new(),
        }
    }

    #[test]
    fn link_local_is_the_lowest_usable_one() {
        let addrs = [
            addr("fe80::9", false),
            addr("fd99::1", false),
            addr("fe80::5", true),
            addr("fe80::7", false),
            addr("10.99.0.1", false),
        ];
        let (mut ll, mut v4) = (LinkLocalPick::default(), PrimaryPick::default());
        for a in &addrs {
            ll.offer(a);
            v4.offer(a);
        }
        assert_eq!(ll.pick(), Some("fe80::7".parse().unwrap()));
        assert_eq!(v4.pick(), Some(Ipv4Addr::new(10, 99, 0, 1)));
        let mut tentative = LinkLocalPick::default();
        tentative.offer(&addrs[2]);
        assert_eq!(tentative.pick(), None);
    }
}
