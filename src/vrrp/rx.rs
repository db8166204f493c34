//! Receive checks: from a packet off the raw socket to an [`Advert`] the state machine may see, or
//! the reason it was dropped. The order follows what peers (keepalived) check, so a refusal is
//! counted under the same name on both sides.

use core::fmt;
use std::net::Ipv4Addr;

use crate::limits::MAX_VIPS;
use crate::vrrp::Advert;
use crate::wire::{self, ipv4, vrrp};

/// Why an advertisement was dropped. Each is a counter per instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drop {
    /// IP header or VRRP length wrong (truncated, or longer than its address count says).
    Len,
    /// TTL other than 255 on a multicast advert (RFC 5798 §5.1.1.3): it crossed a router.
    Ttl,
    /// Not the VRRP version this instance runs.
    Version,
    Type,
    Checksum,
    /// v2: authentication type or password differ.
    Auth,
    /// v2: advert interval differs from ours (RFC 3768 §7.1).
    Interval,
    /// The advertised virtual addresses differ from ours.
    Addrs,
    /// Unicast: the source is not one of our peers.
    Peer,
    /// A VRID no instance on this interface runs.
    Vrid,
}

impl Drop {
    pub const ALL: [Drop; 10] = [
        Drop::Len,
        Drop::Ttl,
        Drop::Version,
        Drop::Type,
        Drop::Checksum,
        Drop::Auth,
        Drop::Interval,
        Drop::Addrs,
        Drop::Peer,
        Drop::Vrid,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Drop::Len => "len",
            Drop::Ttl => "ttl",
            Drop::Version => "version",
            Drop::Type => "type",
            Drop::Checksum => "checksum",
            Drop::Auth => "auth",
            Drop::Interval => "interval",
            Drop::Addrs => "addrs",
            Drop::Peer => "peer",
            Drop::Vrid => "vrid",
        }
    }
}

impl From<wire::Error> for Drop {
    fn from(e: wire::Error) -> Drop {
        match e {
            wire::Error::Version => Drop::Version,
            wire::Error::Type => Drop::Type,
            wire::Error::Checksum => Drop::Checksum,
            wire::Error::TooManyAddrs => Drop::Addrs,
            wire::Error::Truncated | wire::Error::Length | wire::Error::Malformed => Drop::Len,
        }
    }
}

/// One counter per [`Drop`] kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters([u64; Drop::ALL.len()]);

impl Counters {
    pub fn count(&mut self, d: Drop) -> u64 {
        let c = &mut self.0[d as usize];
        *c = c.saturating_add(1);
        *c
    }
    pub fn get(&self, d: Drop) -> u64 {
        self.0[d as usize]
    }
}

impl fmt::Display for Counters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("dropped")?;
        for d in Drop::ALL {
            write!(f, " {} {}", d.name(), self.get(d))?;
        }
        Ok(())
    }
}

/// What an instance expects of the adverts it accepts.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    pub version: vrrp::Version,
    /// v2 PASS authentication; `None` means auth type 0.
    pub auth: Option<[u8; 8]>,
    /// v2 only: the interval must match ours exactly.
    pub advert_int_cs: u16,
    pub vips: &'a [Ipv4Addr],
    /// Unicast peers; empty for multicast.
    pub peers: &'a [Ipv4Addr],
    /// v3 over IPv4: send without the pseudo-header. We accept either form on receive, as peers
    /// differ on it (RFC 5798 includes it, RFC 9568 and `v3_checksum_as_v2` leave it out).
    pub checksum_as_v2: bool,
}

/// The VRID of a VRRP packet inside an IPv4 packet, to find the instance before the full checks.
pub fn peek_vrid(ip_packet: &[u8]) -> Result<u8, Drop> {
    let ip = ipv4::Packet::new_checked(ip_packet)?;
    ip.payload().get(1).copied().ok_or(Drop::Len)
}

/// Runs every check on a whole IPv4 packet and returns the advert, or why it was dropped.
pub fn check(ip_packet: &[u8], want: &Expect<'_>) -> Result<Advert, Drop> {
    let ip = ipv4::Packet::new_checked(ip_packet)?;
    if ip.protocol() != ipv4::PROTOCOL_VRRP {
        return Err(Drop::Type);
    }
    let src = ip.src_addr();
    let dst = ip.dst_addr();
    if dst.is_multicast() && ip.ttl() != 255 {
        return Err(Drop::Ttl);
    }
    let pkt = vrrp::Packet::new_checked(ip.payload())?;
    let repr = parse_either_checksum(&pkt, want.version, src, dst)?;
    if repr.version != want.version {
        return Err(Drop::Version);
    }
    if repr.version == vrrp::Version::V2 {
        let ok = match (repr.auth, want.auth) {
            (vrrp::Auth::None, None) => true,
            (vrrp::Auth::Pass(got), Some(ours)) => constant_time_eq(&got, &ours),
            _ => false,
        };
        if !ok {
            return Err(Drop::Auth);
        }
        if repr.max_adver_int_cs != want.advert_int_cs {
            return Err(Drop::Interval);
        }
    }
    if !same_set(&repr.addrs, want.vips) {
        return Err(Drop::Addrs);
    }
    if !want.peers.is_empty() && !want.peers.contains(&src) {
        return Err(Drop::Peer);
    }
    Ok(Advert {
        src,
        priority: repr.priority,
        interval_cs: repr.max_adver_int_cs,
    })
}

fn parse_either_checksum(
    pkt: &vrrp::Packet<&[u8]>,
    version: vrrp::Version,
    src: Ipv4Addr,
    dst: Ipv4Addr,
) -> Result<vrrp::Repr, Drop> {
    let pseudo = vrrp::Checksum::Pseudo { src, dst };
    match vrrp::Repr::parse(pkt, pseudo) {
        Err(wire::Error::Checksum) if version == vrrp::Version::V3 => {
            Ok(vrrp::Repr::parse(pkt, vrrp::Checksum::Message)?)
        }
        other => Ok(other?),
    }
}

/// Compares passwords without an early exit, so timing does not reveal how much matched.
fn constant_time_eq(a: &[u8; 8], b: &[u8; 8]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Order-insensitive comparison of address lists (both at most MAX_VIPS long).
fn same_set(got: &[Ipv4Addr], ours: &[Ipv4Addr]) -> bool {
    let mut seen = [false; MAX_VIPS];
    if got.len() != ours.len() {
        return false;
    }
    got.iter().all(|g| {
        ours.iter()
            .enumerate()
            .position(|(k, o)| o == g && !seen.get(k).copied().unwrap_or(true))
            .map(|k| seen[k] = true)
            .is_some()
    })
}

/// How the checksum of an advert we send is computed.
pub fn tx_checksum(version: vrrp::Version, as_v2: bool, src: Ipv4Addr, dst: Ipv4Addr) -> vrrp::Checksum {
    if version == vrrp::Version::V3 && !as_v2 {
        vrrp::Checksum::Pseudo { src, dst }
    } else {
        vrrp::Checksum::Message
    }
}
