//! The one specification of a virtual router: what the state machine runs by, what our adverts
//! say and what we accept from others. The daemon builds it once from the configuration; the
//! core, the encoder ([`Spec::advert`]) and the receive checks (`vrrp::rx`) all read it.

use core::time::Duration;
use std::net::IpAddr;

use crate::limits::{MAX_PEERS, MAX_VIPS};
use crate::wire::vrrp as wire;

/// The address family an instance runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(addr: IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}

/// VRRPv2 is IPv4 only (RFC 3768); VRRPv3 runs over either family (RFC 5798).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V2,
    V3(Family),
}

impl Version {
    pub fn family(self) -> Family {
        match self {
            Version::V2 => Family::V4,
            Version::V3(f) => f,
        }
    }

    pub fn is_v3(self) -> bool {
        matches!(self, Version::V3(_))
    }

    pub fn wire(self) -> wire::Version {
        match self {
            Version::V2 => wire::Version::V2,
            Version::V3(_) => wire::Version::V3,
        }
    }
}

/// When the virtual addresses are announced (gratuitous ARP, unsolicited NA) as master.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Garp {
    /// Frames per address in each burst.
    pub repeat: u32,
    /// A second burst this long after the first; zero for none.
    pub delay: Duration,
    /// Bursts of `refresh_repeat` at this period while master; zero for none.
    pub refresh: Duration,
    pub refresh_repeat: u32,
    /// Gap between the frames of a burst (`vrrp_garp_interval`); zero sends a burst at once.
    pub interval: Duration,
    /// Addresses announced after the VIPs that no advert carries (virtual_ipaddress_excluded):
    /// clients must learn where they moved too.
    pub extra_addrs: usize,
    /// `garp_extra_if`: [`Action::AnnounceLinks`] at this period while master; zero for none.
    ///
    /// [`Action::AnnounceLinks`]: crate::vrrp::Action::AnnounceLinks
    pub extra_if: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub vrid: u8,
    pub version: Version,
    /// Configured priority; the effective one may move with trackers.
    pub priority: u8,
    /// Our Advertisement_Interval, in centiseconds.
    pub advert_int_cs: u16,
    pub preempt: bool,
    pub preempt_delay: Duration,
    pub garp: Garp,
    /// v2 PASS authentication; `None` means auth type 0.
    pub auth: Option<[u8; 8]>,
    /// The virtual addresses, in configuration order (announcements follow it).
    pub vips: heapless::Vec<IpAddr, MAX_VIPS>,
    /// Unicast peers; empty for multicast.
    pub peers: heapless::Vec<IpAddr, MAX_PEERS>,
    /// v3 checksum without the pseudo-header (keepalived's `v3_checksum_as_v2`).
    pub checksum_as_v2: bool,
    /// Strict mode (`vrrp_strict`): RFC behaviour only, so a lower-priority master's adverts
    /// are discarded rather than answered with an advert and an announcement burst.
    pub strict: bool,
}

impl Spec {
    pub fn uses_unicast(&self) -> bool {
        !self.peers.is_empty()
    }

    /// The advert we send at `priority`, with the addresses of family `A` (the instance's).
    pub fn advert<A: wire::Address>(&self, priority: u8) -> wire::Repr<A> {
        let auth = match (self.version, self.auth) {
            (Version::V2, Some(p)) => wire::Auth::Pass(p),
            _ => wire::Auth::None,
        };
        wire::Repr {
            version: self.version.wire(),
            vrid: self.vrid,
            priority,
            max_adver_int_cs: self.advert_int_cs,
            auth,
            addrs: self.vips.iter().filter_map(|&a| narrow(a)).collect(),
        }
    }

    /// How the checksum of an advert we send from `src` to `dst` is computed. Over IPv6 it
    /// always covers the pseudo-header (`v3_checksum_as_v2` is an IPv4 matter).
    pub fn tx_checksum<A: wire::Address>(&self, src: A, dst: A) -> wire::Checksum<A> {
        let as_v2 = self.checksum_as_v2 && A::LEN == 4;
        if self.version.is_v3() && !as_v2 {
            wire::Checksum::Pseudo { src, dst }
        } else {
            wire::Checksum::Message
        }
    }
}

/// `a` as an address of family `A`, if it is one.
pub fn narrow<A: wire::Address>(a: IpAddr) -> Option<A> {
    match a {
        IpAddr::V4(a) if A::LEN == 4 => Some(A::read(&a.octets())),
        IpAddr::V6(a) if A::LEN == 16 => Some(A::read(&a.octets())),
        _ => None,
    }
}
