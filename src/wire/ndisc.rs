//! Neighbour advertisements (RFC 4861 section 4.4), and the unsolicited one a new IPv6 master
//! sends for each VIP (section 7.2.6, RFC 5798 section 6.4.2) as a whole Ethernet frame, ready
//! for an AF_PACKET SOCK_RAW socket like `wire::arp`'s gratuitous ARP.
//!
//! ```text
//!  0       8       16              32
//! +-------+-------+---------------+
//! | 136   |   0   |   Checksum    |
//! +-+-+-+---------+---------------+
//! |R|S|O|      Reserved (29)      |
//! +-+-+-+-------------------------+
//! |   Target Address (16 bytes)   |
//! +-------------------------------+
//! | 2 | 1 | link-layer address (6)|   Target Link-Layer Address option
//! +-------------------------------+
//! ```
//!
//! We send what keepalived and FRR send: from the VIP to ff02::1 (all nodes), hop limit 255,
//! Override set, Solicited clear, Router set when the interface forwards, the target
//! link-layer option holding the sending MAC, to Ethernet 33:33:00:00:00:01.

use core::net::Ipv6Addr;

use super::checksum;
use super::ipv6;
use super::{Error, Result};

/// ICMPv6 type of a neighbour advertisement.
pub const TYPE_NEIGHBOR_ADVERT: u8 = 136;
/// Option type: target link-layer address.
pub const OPT_TARGET_LL_ADDR: u8 = 2;
/// Fixed part of the message: type, code, checksum, flags + reserved, target.
pub const HEADER_LEN: usize = 24;
/// A target link-layer option for Ethernet: type, length 1 (× 8 bytes), MAC.
pub const TLLA_LEN: usize = 8;
/// What we emit: the fixed part and the TLLA option.
pub const MESSAGE_LEN: usize = HEADER_LEN + TLLA_LEN;
/// Ethernet (14) + IPv6 (40) + message (32).
pub const FRAME_LEN: usize = ETH_HEADER_LEN + ipv6::HEADER_LEN + MESSAGE_LEN;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// The Ethernet address of ff02::1 (RFC 2464 section 7: 33:33 and the group's low 32 bits).
pub const ALL_NODES_MAC: [u8; 6] = [0x33, 0x33, 0, 0, 0, 1];
/// Every neighbour discovery message is sent and must arrive with hop limit 255.
pub const HOP_LIMIT: u8 = 255;

const ETH_HEADER_LEN: usize = 14;
const FLAG_ROUTER: u8 = 0x80;
const FLAG_SOLICITED: u8 = 0x40;
const FLAG_OVERRIDE: u8 = 0x20;

mod field {
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: usize = 2;
    pub const FLAGS: usize = 4;
    pub const TARGET: usize = 8;
    pub const OPTIONS: usize = 24;
}

/// A view of one neighbour advertisement message, exactly the ICMPv6 payload of its packet.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap a buffer without checking it. Getters may panic unless it holds `HEADER_LEN` bytes.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Packet::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// The fixed part must be there; options are checked as they are read.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    pub fn checksum(&self) -> u16 {
        super::be::u16_at(self.buffer.as_ref(), field::CHECKSUM)
    }

    pub fn router(&self) -> bool {
        self.buffer.as_ref()[field::FLAGS] & FLAG_ROUTER != 0
    }

    pub fn solicited(&self) -> bool {
        self.buffer.as_ref()[field::FLAGS] & FLAG_SOLICITED != 0
    }

    pub fn override_flag(&self) -> bool {
        self.buffer.as_ref()[field::FLAGS] & FLAG_OVERRIDE != 0
    }

    pub fn target(&self) -> Ipv6Addr {
        super::be::ipv6_at(self.buffer.as_ref(), field::TARGET)
    }

    /// The MAC in the first target link-layer address option. `Malformed` if an option has
    /// length 0 or runs past the buffer (RFC 4861 section 7.1.2 drops such messages), or a
    /// TLLA option is not 8 bytes (not Ethernet).
    pub fn target_mac(&self) -> Result<Option<[u8; 6]>> {
        let mut rest = &self.buffer.as_ref()[field::OPTIONS..];
        let mut found = None;
        while !rest.is_empty() {
            let [kind, units, ..] = *rest else {
                return Err(Error::Malformed);
            };
            let len = usize::from(units) * 8;
            if len == 0 || len > rest.len() {
                return Err(Error::Malformed);
            }
            if kind == OPT_TARGET_LL_ADDR && found.is_none() {
                if len != TLLA_LEN {
                    return Err(Error::Malformed);
                }
                let mut mac = [0u8; 6];
                mac.copy_from_slice(&rest[2..8]);
                found = Some(mac);
            }
            rest = &rest[len..];
        }
        Ok(found)
    }

    /// True if the checksum over the IPv6 pseudo-header (`src`, `dst`, next header 58) and the
    /// whole message is right.
    pub fn verify_checksum(&self, src: Ipv6Addr, dst: Ipv6Addr) -> bool {
        checksum::fold(self.checksum_sum(src, dst)) == 0
    }

    fn checksum_sum(&self, src: Ipv6Addr, dst: Ipv6Addr) -> u32 {
        let msg = self.buffer.as_ref();
        // A frame-sized buffer always fits in 32 bits.
        let len = u32::try_from(msg.len()).unwrap_or(u32::MAX);
        checksum::sum(msg) + checksum::pseudo_header_v6(src, dst, ipv6::NEXT_HEADER_ICMPV6, len)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Type 136, code 0, and the flags; the reserved bits zero.
    pub fn set_header(&mut self, router: bool, solicited: bool, override_flag: bool) {
        let b = self.buffer.as_mut();
        b[field::TYPE] = TYPE_NEIGHBOR_ADVERT;
        b[field::CODE] = 0;
        let mut flags = 0;
        for (on, bit) in [
            (router, FLAG_ROUTER),
            (solicited, FLAG_SOLICITED),
            (override_flag, FLAG_OVERRIDE),
        ] {
            if on {
                flags |= bit;
            }
        }
        b[field::FLAGS..field::FLAGS + 4].copy_from_slice(&[flags, 0, 0, 0]);
    }

    pub fn set_target(&mut self, a: Ipv6Addr) {
        super::be::set_ipv6_at(self.buffer.as_mut(), field::TARGET, a);
    }

    /// Write a TLLA option with `mac` right after the fixed part.
    pub fn set_target_mac(&mut self, mac: &[u8; 6]) {
        let o = &mut self.buffer.as_mut()[field::OPTIONS..field::OPTIONS + TLLA_LEN];
        o[0] = OPT_TARGET_LL_ADDR;
        o[1] = 1;
        o[2..].copy_from_slice(mac);
    }

    /// Compute and store the checksum of the whole buffer (the message, exactly).
    pub fn fill_checksum(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        super::be::set_u16_at(self.buffer.as_mut(), field::CHECKSUM, 0);
        let c = checksum::fold(self.checksum_sum(src, dst));
        super::be::set_u16_at(self.buffer.as_mut(), field::CHECKSUM, c);
    }
}

/// A neighbour advertisement, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    pub router: bool,
    pub solicited: bool,
    pub override_flag: bool,
    pub target: Ipv6Addr,
    /// The target link-layer address option, when present.
    pub target_mac: Option<[u8; 6]>,
}

impl Repr {
    /// Decode an advertisement that arrived in a packet from `src` to `dst`, validated as RFC
    /// 4861 section 7.1.2 asks of the message itself: type 136 (`Type`), code 0 and options
    /// well formed (`Malformed`), checksum (`Checksum`), a unicast target and, when sent to a
    /// group, Solicited clear (`Malformed`). The hop limit is the caller's to check.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>, src: Ipv6Addr, dst: Ipv6Addr) -> Result<Repr> {
        packet.check_len()?;
        if packet.msg_type() != TYPE_NEIGHBOR_ADVERT {
            return Err(Error::Type);
        }
        if packet.code() != 0 {
            return Err(Error::Malformed);
        }
        if !packet.verify_checksum(src, dst) {
            return Err(Error::Checksum);
        }
        if packet.target().is_multicast() || (dst.is_multicast() && packet.solicited()) {
            return Err(Error::Malformed);
        }
        Ok(Repr {
            router: packet.router(),
            solicited: packet.solicited(),
            override_flag: packet.override_flag(),
            target: packet.target(),
            target_mac: packet.target_mac()?,
        })
    }

    /// Bytes `emit` writes: the fixed part, and the option when there is a MAC.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.target_mac.map_or(0, |_| TLLA_LEN)
    }

    /// Write the message and its checksum for a packet from `src` to `dst` into a buffer of
    /// exactly `buffer_len()` bytes (shorter panics; longer is summed as message).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        src: Ipv6Addr,
        dst: Ipv6Addr,
    ) {
        packet.set_header(self.router, self.solicited, self.override_flag);
        packet.set_target(self.target);
        if let Some(mac) = &self.target_mac {
            packet.set_target_mac(mac);
        }
        packet.fill_checksum(src, dst);
    }
}

/// An unsolicited neighbour advertisement as a whole Ethernet frame: "`vip` is at `mac`",
/// from `vip` to all nodes, Override set, Solicited clear, Router as the interface forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsolicited {
    /// Sending MAC: the Ethernet source and the target link-layer option.
    pub mac: [u8; 6],
    pub vip: Ipv6Addr,
    /// The Router flag: set when the interface forwards IPv6 (net.ipv6.conf.IF.forwarding).
    pub router: bool,
}

impl Unsolicited {
    /// Write the frame into the start of `buf` and return its length (`FRAME_LEN`).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let frame = buf.get_mut(..FRAME_LEN).ok_or(Error::Truncated)?;
        let (eth, rest) = frame.split_at_mut(ETH_HEADER_LEN);
        eth[0..6].copy_from_slice(&ALL_NODES_MAC);
        eth[6..12].copy_from_slice(&self.mac);
        eth[12..14].copy_from_slice(&ETHERTYPE_IPV6.to_be_bytes());
        let (head, msg) = rest.split_at_mut(ipv6::HEADER_LEN);
        let ip = ipv6::Repr {
            src: self.vip,
            dst: ipv6::ALL_NODES,
            next_header: ipv6::NEXT_HEADER_ICMPV6,
            hop_limit: HOP_LIMIT,
            payload_len: MESSAGE_LEN,
        };
        ip.emit(&mut ipv6::Packet::new_unchecked(head));
        let na = Repr {
            router: self.router,
            solicited: false,
            override_flag: true,
            target: self.vip,
            target_mac: Some(self.mac),
        };
        na.emit(&mut Packet::new_unchecked(msg), ip.src, ip.dst);
        Ok(FRAME_LEN)
    }

    /// Read an unsolicited advertisement frame (as a capture or a listener sees it): IPv6 to
    /// ff02::1 with hop limit 255 (`Malformed` otherwise), a valid advertisement whose target
    /// is its source, Override set, Solicited clear, and a TLLA option (`Malformed`
    /// otherwise). `Type` for another ethertype, next header or ICMPv6 type. The MAC returned
    /// is the option's.
    pub fn parse(frame: &[u8]) -> Result<Unsolicited> {
        let eth = frame.get(..ETH_HEADER_LEN).ok_or(Error::Truncated)?;
        if u16::from_be_bytes([eth[12], eth[13]]) != ETHERTYPE_IPV6 {
            return Err(Error::Type);
        }
        let ip = ipv6::Packet::new_checked(&frame[ETH_HEADER_LEN..])?;
        let head = ipv6::Repr::parse(&ip)?;
        if head.next_header != ipv6::NEXT_HEADER_ICMPV6 {
            return Err(Error::Type);
        }
        if head.hop_limit != HOP_LIMIT || head.dst != ipv6::ALL_NODES {
            return Err(Error::Malformed);
        }
        let na = Repr::parse(&Packet::new_checked(ip.into_payload())?, head.src, head.dst)?;
        match na.target_mac {
            Some(mac) if na.target == head.src && na.override_flag && !na.solicited => {
                Ok(Unsolicited {
                    mac,
                    vip: na.target,
                    router: na.router,
                })
            }
            _ => Err(Error::Malformed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;

    const KEEPALIVED_MAC: [u8; 6] = [0x02, 0x99, 0, 0, 0, 1];
    const FRR_MAC: [u8; 6] = [0x00, 0x00, 0x5e, 0x00, 0x02, 0x33];

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn keepalived_and_frr_frames() {
        // keepalived 2.2.7 leaves Router clear (its interfaces did not forward); FRR sets it.
        let cases = [
            (
                &NA_LINK_LOCAL[..],
                KEEPALIVED_MAC,
                "fe80::1:100",
                false,
                0x5502,
            ),
            (
                &NA_GLOBAL[..],
                KEEPALIVED_MAC,
                "fd00:99::100",
                false,
                0x56d2,
            ),
            (&FRR_NA[..], FRR_MAC, "fd99::100", true, 0x7938),
        ];
        for (frame, mac, vip, router, sum) in cases {
            let want = Unsolicited {
                mac,
                vip: a(vip),
                router,
            };
            assert_eq!(Unsolicited::parse(frame), Ok(want));
            assert_eq!(&frame[..6], &ALL_NODES_MAC);
            assert_eq!(&frame[6..12], &mac);

            let msg = Packet::new_checked(&frame[54..]).unwrap();
            assert_eq!((msg.msg_type(), msg.code()), (136, 0));
            assert_eq!(msg.checksum(), sum);
            assert_eq!(
                (msg.router(), msg.solicited(), msg.override_flag()),
                (router, false, true)
            );
            assert_eq!(msg.target(), a(vip));
            assert_eq!(msg.target_mac(), Ok(Some(mac)));
            assert!(msg.verify_checksum(a(vip), ipv6::ALL_NODES));
            assert!(!msg.verify_checksum(a("fe80::2"), ipv6::ALL_NODES));

            let mut buf = [0x5au8; 100];
            assert_eq!(want.emit(&mut buf), Ok(FRAME_LEN));
            assert_eq!(&buf[..FRAME_LEN], frame);
            assert!(buf[FRAME_LEN..].iter().all(|&b| b == 0x5a));
            assert_eq!(want.emit(&mut buf[..FRAME_LEN - 1]), Err(Error::Truncated));
        }
    }

    #[test]
    fn message_repr_without_option() {
        let r = Repr {
            router: false,
            solicited: true,
            override_flag: false,
            target: a("fd99::7"),
            target_mac: None,
        };
        let (src, dst) = (a("fd99::7"), a("fd99::1"));
        let mut buf = [0u8; HEADER_LEN];
        assert_eq!(r.buffer_len(), HEADER_LEN);
        r.emit(&mut Packet::new_unchecked(&mut buf[..]), src, dst);
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(Repr::parse(&p, src, dst), Ok(r));
        // The pseudo-header counts: the same bytes to another destination fail the checksum.
        assert_eq!(Repr::parse(&p, src, ipv6::ALL_NODES), Err(Error::Checksum));
        // With the checksum right, a solicited advertisement to a group is still invalid.
        let mut m = Packet::new_unchecked(&mut buf[..]);
        m.fill_checksum(src, ipv6::ALL_NODES);
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(Repr::parse(&p, src, ipv6::ALL_NODES), Err(Error::Malformed));
    }

    #[test]
    fn rejects() {
        let with = |at: usize, v: u8, fix: bool| {
            let mut f = FRR_NA;
            f[at] = v;
            if fix {
                let (src, dst) = (a("fd99::100"), ipv6::ALL_NODES);
                Packet::new_unchecked(&mut f[54..]).fill_checksum(src, dst);
            }
            Unsolicited::parse(&f)
        };
        assert_eq!(Unsolicited::parse(&FRR_NA[..85]), Err(Error::Truncated));
        assert_eq!(Unsolicited::parse(&FRR_NA[..10]), Err(Error::Truncated));
        assert_eq!(with(13, 0x00, false), Err(Error::Type)); // ethertype 0x8600
        assert_eq!(with(20, 17, false), Err(Error::Type)); // UDP
        assert_eq!(with(21, 64, false), Err(Error::Malformed)); // hop limit 64
        assert_eq!(with(53, 2, false), Err(Error::Malformed)); // to ff02::2
        assert_eq!(with(54, 135, true), Err(Error::Type)); // a solicitation
        assert_eq!(with(55, 1, true), Err(Error::Malformed)); // code 1
        assert_eq!(with(57, 0, false), Err(Error::Checksum));
        assert_eq!(with(58, 0x80, true), Err(Error::Malformed)); // Override clear
        assert_eq!(with(58, 0xe0, true), Err(Error::Malformed)); // Solicited to a group
        assert_eq!(with(62, 0xff, true), Err(Error::Malformed)); // multicast target
        assert_eq!(with(77, 0x01, true), Err(Error::Malformed)); // target is not the source
        assert_eq!(with(79, 0, true), Err(Error::Malformed)); // option length 0
        assert_eq!(with(79, 2, true), Err(Error::Malformed)); // option past the end
        assert_eq!(with(78, 1, true), Err(Error::Malformed)); // only a source LL option
        // Router clear is still an unsolicited advertisement.
        assert!(with(58, 0x20, true).is_ok_and(|u| !u.router));
    }

    #[test]
    fn never_panics_on_junk() {
        for n in 0..=FRR_NA.len() {
            let _ = Unsolicited::parse(&FRR_NA[..n]);
        }
        for_each_mutation(&FRR_NA[..], |b| {
            let _ = Unsolicited::parse(b);
            if let Ok(p) = Packet::new_checked(b) {
                let _ = p.target_mac();
                let _ = Repr::parse(&p, a("fe80::1"), ipv6::ALL_NODES);
            }
        });
    }
}
