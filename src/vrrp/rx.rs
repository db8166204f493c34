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
    /// Both sets of counts added up.
    pub fn plus(&self, other: &Counters) -> Counters {
        let mut sum = self.clone();
        for (s, o) in sum.0.iter_mut().zip(other.0) {
            *s = s.saturating_add(o);
        }
        sum
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

/// v3 over IPv4 is accepted with or without the pseudo-header in its checksum, as peers differ
/// on it (RFC 5798 includes it; RFC 9568 and keepalived's `v3_checksum_as_v2` leave it out).
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

/// Order-insensitive comparison of address lists (each at most MAX_VIPS long).
fn same_set(got: &[Ipv4Addr], ours: &[Ipv4Addr]) -> bool {
    if got.len() != ours.len() || ours.len() > MAX_VIPS {
        return false;
    }
    let mut used = [false; MAX_VIPS];
    got.iter().all(|g| {
        let hit = (0..ours.len()).find(|&k| !used[k] && ours[k] == *g);
        hit.map(|k| used[k] = true).is_some()
    })
}

/// How the checksum of an advert we send is computed.
pub fn tx_checksum(
    version: vrrp::Version,
    as_v2: bool,
    src: Ipv4Addr,
    dst: Ipv4Addr,
) -> vrrp::Checksum {
    if version == vrrp::Version::V3 && !as_v2 {
        vrrp::Checksum::Pseudo { src, dst }
    } else {
        vrrp::Checksum::Message
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testdata::*;

    const VIP: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 100);
    const VIP2: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 101);
    const PASS: [u8; 8] = *b"s3cret\0\0";

    /// The captures are Ethernet frames; the raw socket hands us the IP packet.
    fn ip(frame: &[u8]) -> &[u8] {
        &frame[14..]
    }

    fn v2(auth: Option<[u8; 8]>) -> Expect<'static> {
        Expect {
            version: vrrp::Version::V2,
            auth,
            advert_int_cs: 100,
            vips: &[VIP],
            peers: &[],
        }
    }

    fn v3() -> Expect<'static> {
        Expect {
            version: vrrp::Version::V3,
            auth: None,
            advert_int_cs: 100,
            vips: &[VIP, VIP2],
            peers: &[],
        }
    }

    #[test]
    fn keepalived_v2_pass_advert_is_accepted() {
        let adv = check(ip(&V2_PASS_1), &v2(Some(PASS))).unwrap();
        assert_eq!(adv.src, Ipv4Addr::new(10, 99, 0, 11));
        assert_eq!(adv.priority, 150);
        assert_eq!(adv.interval_cs, 100);
        assert_eq!(peek_vrid(ip(&V2_PASS_1)), Ok(51));
    }

    #[test]
    fn keepalived_v3_advert_is_accepted_with_reversed_vip_order() {
        let want = Expect {
            vips: &[VIP2, VIP],
            ..v3()
        };
        let adv = check(ip(&V3_ADVERT_1), &want).unwrap();
        assert_eq!(adv.priority, 150);
    }

    #[test]
    fn each_mismatch_has_its_own_reason() {
        assert_eq!(
            check(ip(&V2_PASS_1), &v2(Some(*b"wrong\0\0\0"))),
            Err(Drop::Auth)
        );
        assert_eq!(check(ip(&V2_PASS_1), &v2(None)), Err(Drop::Auth));
        assert_eq!(
            check(
                ip(&V2_PASS_1),
                &Expect {
                    advert_int_cs: 200,
                    ..v2(Some(PASS))
                }
            ),
            Err(Drop::Interval)
        );
        assert_eq!(
            check(
                ip(&V2_PASS_1),
                &Expect {
                    vips: &[VIP2],
                    ..v2(Some(PASS))
                }
            ),
            Err(Drop::Addrs)
        );
        assert_eq!(check(ip(&V2_PASS_1), &v3()), Err(Drop::Version));
        let peers = [Ipv4Addr::new(10, 99, 0, 12)];
        assert_eq!(
            check(
                ip(&V2_PASS_1),
                &Expect {
                    peers: &peers,
                    ..v2(Some(PASS))
                }
            ),
            Err(Drop::Peer)
        );
    }

    #[test]
    fn v3_interval_may_differ_and_is_reported() {
        let want = Expect {
            advert_int_cs: 10,
            ..v3()
        };
        assert_eq!(
            check(ip(&V3_ADVERT_1), &want).map(|a| a.interval_cs),
            Ok(100)
        );
    }

    #[test]
    fn ttl_below_255_on_multicast_is_dropped() {
        let mut p = ip(&V2_PASS_1).to_vec();
        p[8] = 254;
        // Keep the IP header checksum right so only the TTL is wrong.
        let mut view = ipv4::Packet::new_unchecked(&mut p[..]);
        view.fill_checksum();
        assert_eq!(check(&p, &v2(Some(PASS))), Err(Drop::Ttl));
    }

    #[test]
    fn corrupted_bytes_are_checksum_or_length_drops() {
        let mut p = ip(&V3_ADVERT_1).to_vec();
        p[20 + 2] ^= 1; // priority
        assert_eq!(check(&p, &v3()), Err(Drop::Checksum));
        let p = ip(&V3_ADVERT_1);
        assert_eq!(check(&p[..p.len() - 1], &v3()), Err(Drop::Len));
        assert_eq!(check(&p[..10], &v3()), Err(Drop::Len));
        assert_eq!(peek_vrid(&p[..10]), Err(Drop::Len));
    }

    #[test]
    fn v3_message_only_checksum_is_accepted_too() {
        let mut p = ip(&V3_ADVERT_1).to_vec();
        let mut view = vrrp::Packet::new_unchecked(&mut p[20..]);
        view.fill_checksum(vrrp::Checksum::Message);
        assert!(check(&p, &v3()).is_ok());
    }

    #[test]
    fn no_input_panics() {
        let base = ip(&V2_PASS_1);
        for len in 0..base.len() {
            let _ = check(&base[..len], &v2(Some(PASS)));
        }
        let mut p = base.to_vec();
        for i in 0..p.len() {
            for b in [0u8, 1, 0x7f, 0xff] {
                let old = p[i];
                p[i] = b;
                let _ = check(&p, &v2(Some(PASS)));
                let _ = peek_vrid(&p);
                p[i] = old;
            }
        }
    }

    #[test]
    fn counters_display_every_reason() {
        let mut c = Counters::default();
        c.count(Drop::Auth);
        c.count(Drop::Auth);
        assert_eq!(
            c.to_string(),
            "dropped len 0 ttl 0 version 0 type 0 checksum 0 auth 2 interval 0 addrs 0 peer 0 vrid 0"
        );
    }
}
