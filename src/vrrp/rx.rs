//! Receive checks: from a packet off the raw socket to an [`Advert`] the state machine may see, or
//! the reason it was dropped. The order follows what peers (keepalived) check, so a refusal is
//! counted under the same name on both sides.

use core::fmt;
use std::net::IpAddr;

use crate::limits::MAX_VIPS;
use crate::vrrp::{Advert, Family, Spec, Version};
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
    /// v2: the password differs (both sides use auth_type PASS).
    Auth,
    /// v2: advert interval differs from ours (RFC 3768 §7.1).
    Interval,
    /// The advertised virtual addresses differ from ours.
    Addrs,
    /// Unicast: the source is not one of our peers.
    Peer,
    /// A VRID no instance on this interface runs.
    Vrid,
    /// v2: the authentication type differs from ours (PASS on one side only, or another type).
    AuthType,
}

impl Drop {
    pub const ALL: [Drop; 11] = [
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
        Drop::AuthType,
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
            Drop::AuthType => "authtype",
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

/// What the socket layer knows of a packet besides its VRRP message: from the IPv4 header, or
/// from an IPv6 socket's control messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// TTL (IPv4) or hop limit (IPv6).
    pub hop_limit: u8,
}

/// Splits a whole IPv4 packet, as the IPv4 raw socket reads it, into its metadata and its VRRP
/// message.
pub fn split_ipv4(ip_packet: &[u8]) -> Result<(Meta, &[u8]), Drop> {
    let ip = ipv4::Packet::new_checked(ip_packet)?;
    if ip.protocol() != ipv4::PROTOCOL_VRRP {
        return Err(Drop::Type);
    }
    let meta = Meta {
        src: IpAddr::V4(ip.src_addr()),
        dst: IpAddr::V4(ip.dst_addr()),
        hop_limit: ip.ttl(),
    };
    // Up to the total length: a cut or padded read is not part of the message.
    let msg = ip_packet
        .get(ip.header_len()..ip.total_len())
        .ok_or(Drop::Len)?;
    Ok((meta, msg))
}

/// The VRID of a VRRP message, to find the instance before the full checks.
pub fn peek_vrid(msg: &[u8]) -> Result<u8, Drop> {
    msg.get(1).copied().ok_or(Drop::Len)
}

/// Runs every check on a VRRP message and its metadata, the same for both families, and
/// returns the advert, or why it was dropped.
pub fn check(meta: &Meta, msg: &[u8], want: &Spec) -> Result<Advert, Drop> {
    // RFC 5798 section 5.1.1.3 / 5.1.2.3: TTL or hop limit 255, or it crossed a router.
    if meta.dst.is_multicast() && meta.hop_limit != 255 {
        return Err(Drop::Ttl);
    }
    match (meta.src, meta.dst, want.version.family()) {
        (IpAddr::V4(src), IpAddr::V4(dst), Family::V4) => check_as(src, dst, msg, want),
        (IpAddr::V6(src), IpAddr::V6(dst), Family::V6) => check_as(src, dst, msg, want),
        // Sockets are per family, so this is an instance of the other family's VRID.
        _ => Err(Drop::Version),
    }
}

fn check_as<A: vrrp::Address>(src: A, dst: A, msg: &[u8], want: &Spec) -> Result<Advert, Drop> {
    let pkt = vrrp::Packet::<&[u8], A>::checked(msg)?;
    let repr = parse_either_checksum(&pkt, want.version, src, dst)?;
    if repr.version != want.version.wire() {
        return Err(Drop::Version);
    }
    if repr.version == vrrp::Version::V2 {
        // keepalived counts the two apart (auth_failure, authtype_mismatch).
        match (repr.auth, want.auth) {
            (vrrp::Auth::None, None) => {}
            (vrrp::Auth::Pass(got), Some(ours)) if constant_time_eq(&got, &ours) => {}
            (vrrp::Auth::Pass(_), Some(_)) => return Err(Drop::Auth),
            _ => return Err(Drop::AuthType),
        }
        if repr.max_adver_int_cs != want.advert_int_cs {
            return Err(Drop::Interval);
        }
    }
    let got = repr.addrs.iter().map(|&a| a.into());
    if !same_set(got, &want.vips) {
        return Err(Drop::Addrs);
    }
    let src: IpAddr = src.into();
    if want.uses_unicast() && !want.peers.contains(&src) {
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
/// Over IPv6 every implementation includes it.
fn parse_either_checksum<A: vrrp::Address>(
    pkt: &vrrp::Packet<&[u8], A>,
    version: Version,
    src: A,
    dst: A,
) -> Result<vrrp::Repr<A>, Drop> {
    match vrrp::Repr::parse(pkt, vrrp::Checksum::Pseudo { src, dst }) {
        Err(wire::Error::Checksum) if version == Version::V3(Family::V4) => {
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
fn same_set(got: impl ExactSizeIterator<Item = IpAddr>, ours: &[IpAddr]) -> bool {
    if got.len() != ours.len() || ours.len() > MAX_VIPS {
        return false;
    }
    let mut used = [false; MAX_VIPS];
    let mut got = got;
    got.all(|g| {
        let hit = (0..ours.len()).find(|&k| !used[k] && ours[k] == g);
        hit.map(|k| used[k] = true).is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testdata::*;

    use crate::vrrp::Garp;
    use core::time::Duration;
    use std::net::Ipv4Addr;

    const VIP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 100));
    const VIP2: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 101));
    const PASS: [u8; 8] = *b"s3cret\0\0";

    /// The captures are Ethernet frames; the raw socket hands us the IP packet.
    fn ip(frame: &[u8]) -> &[u8] {
        &frame[14..]
    }

    /// The IPv4 path end to end: split the packet, then the checks.
    fn check(ip_packet: &[u8], want: &Spec) -> Result<Advert, Drop> {
        let (meta, msg) = split_ipv4(ip_packet)?;
        super::check(&meta, msg, want)
    }

    fn spec(version: Version, auth: Option<[u8; 8]>, vips: &[IpAddr]) -> Spec {
        Spec {
            vrid: 51,
            version,
            priority: 100,
            advert_int_cs: 100,
            preempt: true,
            preempt_delay: Duration::ZERO,
            garp: Garp {
                repeat: 1,
                delay: Duration::ZERO,
                refresh: Duration::ZERO,
                refresh_repeat: 1,
                interval: Duration::ZERO,
                extra_addrs: 0,
                extra_if: Duration::ZERO,
            },
            auth,
            vips: vips.iter().copied().collect(),
            peers: heapless::Vec::new(),
            checksum_as_v2: false,
            strict: false,
        }
    }

    fn v2(auth: Option<[u8; 8]>) -> Spec {
        spec(Version::V2, auth, &[VIP])
    }

    fn v3() -> Spec {
        spec(Version::V3(Family::V4), None, &[VIP, VIP2])
    }

    #[test]
    fn keepalived_v2_pass_advert_is_accepted() {
        let adv = check(ip(&V2_PASS_1), &v2(Some(PASS))).unwrap();
        assert_eq!(adv.src, IpAddr::V4(Ipv4Addr::new(10, 99, 0, 11)));
        assert_eq!(adv.priority, 150);
        assert_eq!(adv.interval_cs, 100);
        assert_eq!(peek_vrid(&ip(&V2_PASS_1)[20..]), Ok(51));
    }

    #[test]
    fn keepalived_v3_advert_is_accepted_with_reversed_vip_order() {
        let want = spec(Version::V3(Family::V4), None, &[VIP2, VIP]);
        let adv = check(ip(&V3_ADVERT_1), &want).unwrap();
        assert_eq!(adv.priority, 150);
    }

    #[test]
    fn each_mismatch_has_its_own_reason() {
        assert_eq!(
            check(ip(&V2_PASS_1), &v2(Some(*b"wrong\0\0\0"))),
            Err(Drop::Auth)
        );
        assert_eq!(check(ip(&V2_PASS_1), &v2(None)), Err(Drop::AuthType));
        let slow = Spec {
            advert_int_cs: 200,
            ..v2(Some(PASS))
        };
        assert_eq!(check(ip(&V2_PASS_1), &slow), Err(Drop::Interval));
        let other = spec(Version::V2, Some(PASS), &[VIP2]);
        assert_eq!(check(ip(&V2_PASS_1), &other), Err(Drop::Addrs));
        assert_eq!(check(ip(&V2_PASS_1), &v3()), Err(Drop::Version));
        let mut unicast = v2(Some(PASS));
        let _ = unicast.peers.push(IpAddr::V4(Ipv4Addr::new(10, 99, 0, 12)));
        assert_eq!(check(ip(&V2_PASS_1), &unicast), Err(Drop::Peer));
    }

    #[test]
    fn v3_interval_may_differ_and_is_reported() {
        let want = Spec {
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
        assert_eq!(peek_vrid(&p[20..21]), Err(Drop::Len));
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
                let _ = split_ipv4(&p);
                p[i] = old;
            }
        }
    }

    /// What the IPv6 socket reports for a captured frame: addresses and hop limit from the
    /// IPv6 header (which the kernel strips), and the VRRP message.
    fn v6(frame: &[u8]) -> (Meta, &[u8]) {
        let ip = &frame[14..];
        let addr = |at: usize| {
            let b: [u8; 16] = ip[at..at + 16].try_into().unwrap();
            IpAddr::V6(std::net::Ipv6Addr::from(b))
        };
        let meta = Meta {
            src: addr(8),
            dst: addr(24),
            hop_limit: ip[7],
        };
        (meta, &ip[40..])
    }

    fn v6_spec(vips: &[&str]) -> Spec {
        let vips: Vec<IpAddr> = vips.iter().map(|a| a.parse().unwrap()).collect();
        spec(Version::V3(Family::V6), None, &vips)
    }

    #[test]
    fn keepalived_and_frr_ipv6_adverts_are_accepted() {
        let (meta, msg) = v6(&V3_V6_ADVERT);
        let want = v6_spec(&["fd00:99::100", "fe80::1:100"]);
        let adv = super::check(&meta, msg, &want).unwrap();
        assert_eq!(adv.src, "fe80::99:ff:fe00:1".parse::<IpAddr>().unwrap());
        assert_eq!((adv.priority, adv.interval_cs), (150, 100));
        assert_eq!(peek_vrid(msg), Ok(51));

        let (meta, msg) = v6(&FRR_V3_V6_ADVERT);
        let adv = super::check(&meta, msg, &v6_spec(&["fd99::100"])).unwrap();
        assert_eq!((adv.priority, adv.interval_cs), (200, 100));
        let (meta, msg) = v6(&FRR_V3_V6_PRIO0);
        let adv = super::check(&meta, msg, &v6_spec(&["fd99::100"])).unwrap();
        assert_eq!(adv.priority, 0);
    }

    #[test]
    fn our_ipv6_advert_passes_our_checks() {
        use std::net::Ipv6Addr;
        let want = v6_spec(&["fe80::1:100", "fd00:99::100"]);
        let src: Ipv6Addr = "fe80::99:ff:fe00:2".parse().unwrap();
        let dst = vrrp::MULTICAST_V6;
        let repr = want.advert::<Ipv6Addr>(120);
        let mut buf = [0u8; 64];
        let len = repr.buffer_len();
        repr.emit(
            &mut vrrp::Packet::unchecked(&mut buf[..len]),
            want.tx_checksum(src, dst),
        );
        let meta = Meta {
            src: src.into(),
            dst: dst.into(),
            hop_limit: 255,
        };
        let adv = super::check(&meta, &buf[..len], &want).unwrap();
        assert_eq!((adv.priority, adv.src), (120, IpAddr::V6(src)));
        // Byte for byte what keepalived sends for the same router (its capture, VRID 51,
        // priority 150): our encoder matches theirs.
        let (kmeta, kmsg) = v6(&V3_V6_ADVERT);
        let (IpAddr::V6(ksrc), IpAddr::V6(kdst)) = (kmeta.src, kmeta.dst) else {
            panic!("not IPv6");
        };
        let ours = v6_spec(&["fe80::1:100", "fd00:99::100"]);
        let repr = Spec {
            vrid: 51,
            ..ours.clone()
        }
        .advert::<Ipv6Addr>(150);
        let mut buf = [0u8; 64];
        repr.emit(
            &mut vrrp::Packet::unchecked(&mut buf[..kmsg.len()]),
            ours.tx_checksum(ksrc, kdst),
        );
        assert_eq!(&buf[..kmsg.len()], kmsg);
    }

    #[test]
    fn ipv6_checks_drop_what_they_should() {
        let (meta, msg) = v6(&FRR_V3_V6_ADVERT);
        let want = v6_spec(&["fd99::100"]);
        let hopped = Meta {
            hop_limit: 254,
            ..meta
        };
        assert_eq!(super::check(&hopped, msg, &want), Err(Drop::Ttl));
        // The pseudo-header is always part of an IPv6 checksum: another source breaks it.
        let spoofed = Meta {
            src: "fe80::666".parse().unwrap(),
            ..meta
        };
        assert_eq!(super::check(&spoofed, msg, &want), Err(Drop::Checksum));
        assert_eq!(
            super::check(&meta, msg, &v6_spec(&["fd99::101"])),
            Err(Drop::Addrs)
        );
        // An IPv4 instance never accepts an IPv6 packet, nor the other way round.
        assert_eq!(super::check(&meta, msg, &v3()), Err(Drop::Version));
        let (meta4, msg4) = split_ipv4(ip(&V3_ADVERT_1)).unwrap();
        assert_eq!(super::check(&meta4, msg4, &want), Err(Drop::Version));
        let mut unicast = want.clone();
        let _ = unicast.peers.push("fe80::12".parse().unwrap());
        assert_eq!(super::check(&meta, msg, &unicast), Err(Drop::Peer));
        for len in 0..msg.len() {
            assert!(super::check(&meta, &msg[..len], &want).is_err());
        }
    }

    /// The socket filter lets a sample of what it drops through (`bpf::SAMPLE`), so whatever
    /// it drops must be refused here too: a sample is counted, and changes nothing. Every
    /// byte of real adverts changed, with and without the checksum made right again, and
    /// every cut: dropped by the filter means another VRID or refused by the checks.
    #[test]
    fn what_the_socket_filter_drops_the_checks_refuse() {
        use crate::sys::bpf::{self, Rule};
        let rule = Rule {
            vrid: 51,
            pass: Some(PASS),
        };
        let prog = bpf::program(bpf::Start::AfterIpv4Header, &[rule]);
        let want = v2(Some(PASS));
        let mut dropped = 0;
        let mut agree = |pkt: &[u8]| {
            if bpf::tests::run(&prog, pkt) == Some(0) {
                dropped += 1;
                let vrid = pkt.get(20 + 1).copied();
                assert!(
                    vrid != Some(51) || check(pkt, &want).is_err(),
                    "the filter drops what the checks accept: {pkt:02x?}"
                );
            }
        };
        let fix = |p: &mut [u8]| {
            p[26..28].fill(0);
            let c = wire::checksum::fold(wire::checksum::sum(&p[20..]));
            p[26..28].copy_from_slice(&c.to_be_bytes());
        };
        let mut same = ip(&V2_PASS_1).to_vec();
        fix(&mut same);
        assert!(check(&same, &want).is_ok(), "the checksum fix-up");
        for frame in [&V2_PASS_1[..], &V2_UNICAST_1, &V3_ADVERT_1] {
            let pkt = ip(frame);
            for at in 0..pkt.len() {
                for flip in [0x01, 0x80, 0xff] {
                    let mut p = pkt.to_vec();
                    p[at] ^= flip;
                    agree(&p);
                    if at >= 20 {
                        // The VRRP checksum made right again, so the later checks decide.
                        fix(&mut p);
                        agree(&p);
                    }
                }
                agree(&pkt[..at]);
            }
        }
        assert!(dropped > 300, "only {dropped} dropped");
    }

    #[test]
    fn counters_display_every_reason() {
        let mut c = Counters::default();
        c.count(Drop::Auth);
        c.count(Drop::Auth);
        assert_eq!(
            c.to_string(),
            "dropped len 0 ttl 0 version 0 type 0 checksum 0 auth 2 interval 0 addrs 0 peer 0 vrid 0 authtype 0"
        );
    }
}
