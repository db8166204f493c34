//! The interfaces the daemon uses: what the kernel says about them, and their VRRP sockets.

use std::net::Ipv4Addr;

use crate::sys::netlink::{AddrInfo, LinkInfo};
use crate::sys::raw::VrrpSocket;
use crate::vrrp::rx::Counters;

/// No instance runs this VRID on the interface.
pub const NO_INSTANCE: u16 = u16::MAX;

pub struct Iface {
    pub name: String,
    /// Zero until the kernel has told us about the link (it may appear later).
    pub ifindex: u32,
    pub mac: [u8; 6],
    pub up: bool,
    /// The driver ("macvlan", …) and the lower device's index, to recognise our macvlans.
    pub kind: heapless::String<16>,
    pub parent: u32,
    /// The address adverts come from when no `unicast_src_ip`/`mcast_src_ip` is given.
    pub primary: Option<Ipv4Addr>,
    /// Open while the link exists and some instance runs on it.
    pub sock: Option<VrrpSocket>,
    /// Some instance here sends multicast, so the socket joins 224.0.0.18.
    pub multicast: bool,
    /// VRID → index of the instance running it here, for dispatch without a scan.
    pub vrids: [u16; 256],
    /// Packets dropped before any instance could be named (unknown VRID, too short). Counted
    /// once here rather than on every instance, so a flood costs O(1) per packet.
    pub unrouted: Counters,
    /// Packets the kernel dropped because the socket's queue was full (SO_RXQ_OVFL), over
    /// every socket this interface had, as of the last packet read.
    pub overflows: u64,
    /// The current socket's own count, which starts at 0 with each socket.
    pub sock_overflows: u32,
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
            sock: None,
            multicast: false,
            vrids: [NO_INSTANCE; 256],
            unrouted: Counters::default(),
            overflows: 0,
            sock_overflows: 0,
        }
    }

    /// Takes what a link dump or event says. Returns true if the up/down state changed.
    pub fn update_link(&mut self, link: &LinkInfo) -> bool {
        if self.ifindex != link.ifindex {
            // A new link under the old name: the old socket is bound to a dead device.
            self.sock = None;
            self.primary = None;
        }
        self.ifindex = link.ifindex;
        self.mac = link.mac;
        self.kind.clone_from(&link.kind);
        self.parent = link.parent;
        let changed = self.up != link.up;
        self.up = link.up;
        changed
    }

    /// Takes the overflow count a packet came with.
    pub fn note_overflows(&mut self, count: u32) {
        self.overflows += u64::from(count.wrapping_sub(self.sock_overflows));
        self.sock_overflows = count;
    }

    pub fn forget_link(&mut self) {
        self.ifindex = 0;
        self.parent = 0;
        self.up = false;
        self.sock = None;
        self.primary = None;
    }
}

/// Picks a link's primary address from a dump, one address at a time, so that no table of a
/// router's addresses (which may be thousands) is needed: the first non-secondary address,
/// else the first at all. The caller offers only the link's own addresses that are not VIPs
/// (a /32 VIP is never marked secondary by the kernel).
#[derive(Debug, Default, Clone, Copy)]
pub struct PrimaryPick {
    primary: Option<Ipv4Addr>,
    first: Option<Ipv4Addr>,
}

impl PrimaryPick {
    pub fn offer(&mut self, a: &AddrInfo) {
        if !a.secondary {
            self.primary.get_or_insert(a.addr);
        }
        self.first.get_or_insert(a.addr);
    }

    pub fn pick(&self) -> Option<Ipv4Addr> {
        self.primary.or(self.first)
    }
}
