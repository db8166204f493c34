//! Gratuitous ARP (RFC 5227 section 3 calls it an ARP Announcement) as a whole Ethernet frame,
//! ready for an AF_PACKET SOCK_RAW socket.
//!
//! We send what keepalived sends: a broadcast request whose sender and target protocol
//! addresses are both the virtual IP, with the target hardware address all ones.

use core::net::Ipv4Addr;

use super::be;
use super::{Error, Result};

/// Ethernet header (14) plus an Ethernet/IPv4 ARP body (28). Shorter than the 60-byte minimum;
/// the NIC pads it.
pub const FRAME_LEN: usize = 42;
pub const ETHERTYPE_ARP: u16 = 0x0806;
pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const HTYPE_ETHERNET: u16 = 1;
pub const OP_REQUEST: u16 = 1;
pub const OP_REPLY: u16 = 2;
pub const BROADCAST: [u8; 6] = [0xff; 6];

mod field {
    // Ethernet header
    pub const DST: usize = 0;
    pub const SRC: usize = 6;
    pub const ETHERTYPE: usize = 12;
    // ARP body
    pub const HTYPE: usize = 14;
    pub const PTYPE: usize = 16;
    pub const HLEN: usize = 18;
    pub const PLEN: usize = 19;
    pub const OPER: usize = 20;
    pub const SHA: usize = 22;
    pub const SPA: usize = 28;
    pub const THA: usize = 32;
    pub const TPA: usize = 38;
}

/// A view of an Ethernet frame carrying an ARP packet for IPv4.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap a buffer without checking it. Getters may panic unless it holds `FRAME_LEN` bytes.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Packet::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Enough bytes for every field; anything after them (padding, FCS) is ignored.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < FRAME_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn mac(&self, at: usize) -> [u8; 6] {
        let mut m = [0u8; 6];
        m.copy_from_slice(&self.buffer.as_ref()[at..at + 6]);
        m
    }

    pub fn dst_mac(&self) -> [u8; 6] {
        self.mac(field::DST)
    }

    pub fn src_mac(&self) -> [u8; 6] {
        self.mac(field::SRC)
    }

    pub fn ethertype(&self) -> u16 {
        be::u16_at(self.buffer.as_ref(), field::ETHERTYPE)
    }

    pub fn htype(&self) -> u16 {
        be::u16_at(self.buffer.as_ref(), field::HTYPE)
    }

    pub fn ptype(&self) -> u16 {
        be::u16_at(self.buffer.as_ref(), field::PTYPE)
    }

    pub fn hlen(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    pub fn plen(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    pub fn operation(&self) -> u16 {
        be::u16_at(self.buffer.as_ref(), field::OPER)
    }

    pub fn sender_hw(&self) -> [u8; 6] {
        self.mac(field::SHA)
    }

    pub fn sender_ip(&self) -> Ipv4Addr {
        be::ipv4_at(self.buffer.as_ref(), field::SPA)
    }

    pub fn target_hw(&self) -> [u8; 6] {
        self.mac(field::THA)
    }

    pub fn target_ip(&self) -> Ipv4Addr {
        be::ipv4_at(self.buffer.as_ref(), field::TPA)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_mac(&mut self, at: usize, mac: &[u8; 6]) {
        self.buffer.as_mut()[at..at + 6].copy_from_slice(mac);
    }

    pub fn set_dst_mac(&mut self, mac: &[u8; 6]) {
        self.set_mac(field::DST, mac);
    }

    pub fn set_src_mac(&mut self, mac: &[u8; 6]) {
        self.set_mac(field::SRC, mac);
    }

    pub fn set_ethertype(&mut self, t: u16) {
        be::set_u16_at(self.buffer.as_mut(), field::ETHERTYPE, t);
    }

    /// Write the fixed Ethernet/IPv4 ARP preamble: htype 1, ptype 0x0800, hlen 6, plen 4.
    pub fn set_ethernet_ipv4_types(&mut self) {
        let b = self.buffer.as_mut();
        be::set_u16_at(b, field::HTYPE, HTYPE_ETHERNET);
        be::set_u16_at(b, field::PTYPE, ETHERTYPE_IPV4);
        b[field::HLEN] = 6;
        b[field::PLEN] = 4;
    }

    pub fn set_operation(&mut self, op: u16) {
        be::set_u16_at(self.buffer.as_mut(), field::OPER, op);
    }

    pub fn set_sender_hw(&mut self, mac: &[u8; 6]) {
        self.set_mac(field::SHA, mac);
    }

    pub fn set_sender_ip(&mut self, ip: Ipv4Addr) {
        be::set_ipv4_at(self.buffer.as_mut(), field::SPA, ip);
    }

    pub fn set_target_hw(&mut self, mac: &[u8; 6]) {
        self.set_mac(field::THA, mac);
    }

    pub fn set_target_ip(&mut self, ip: Ipv4Addr) {
        be::set_ipv4_at(self.buffer.as_mut(), field::TPA, ip);
    }
}

/// A gratuitous ARP: "`ip` is at `sender_mac`".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    pub sender_mac: [u8; 6],
    pub ip: Ipv4Addr,
}

impl Repr {
    /// Read a gratuitous ARP frame (request or reply). `Truncated` if short, `Type` for another
    /// ethertype or operation, `Malformed` for other hardware/protocol types or when the sender
    /// and target IPs differ (then it is ordinary ARP, not an announcement).
    pub fn parse(frame: &[u8]) -> Result<Repr> {
        let p = Packet::new_checked(frame)?;
        if p.ethertype() != ETHERTYPE_ARP {
            return Err(Error::Type);
        }
        if p.htype() != HTYPE_ETHERNET
            || p.ptype() != ETHERTYPE_IPV4
            || p.hlen() != 6
            || p.plen() != 4
        {
            return Err(Error::Malformed);
        }
        if p.operation() != OP_REQUEST && p.operation() != OP_REPLY {
            return Err(Error::Type);
        }
        if p.sender_ip() != p.target_ip() {
            return Err(Error::Malformed);
        }
        Ok(Repr {
            sender_mac: p.sender_hw(),
            ip: p.sender_ip(),
        })
    }

    /// Write the frame into the start of `buf` and return its length (`FRAME_LEN`): broadcast
    /// from `sender_mac`, an ARP request with target hardware address ff:ff:ff:ff:ff:ff.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let frame = buf.get_mut(..FRAME_LEN).ok_or(Error::Truncated)?;
        let mut p = Packet::new_unchecked(frame);
        p.set_dst_mac(&BROADCAST);
        p.set_src_mac(&self.sender_mac);
        p.set_ethertype(ETHERTYPE_ARP);
        p.set_ethernet_ipv4_types();
        p.set_operation(OP_REQUEST);
        p.set_sender_hw(&self.sender_mac);
        p.set_sender_ip(self.ip);
        p.set_target_hw(&BROADCAST);
        p.set_target_ip(self.ip);
        Ok(FRAME_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testdata::{FRR_GARP, GARP, for_each_mutation};
    use super::*;

    const MAC: [u8; 6] = [0x02, 0x99, 0x00, 0x00, 0x00, 0x01];
    const VIP: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 100);

    #[test]
    fn parse_keepalived_garp() {
        let p = Packet::new_checked(&GARP[..]).unwrap();
        assert_eq!(p.dst_mac(), BROADCAST);
        assert_eq!(p.src_mac(), MAC);
        assert_eq!(p.ethertype(), ETHERTYPE_ARP);
        assert_eq!(
            (p.htype(), p.ptype(), p.hlen(), p.plen()),
            (1, 0x0800, 6, 4)
        );
        assert_eq!(p.operation(), OP_REQUEST);
        assert_eq!(p.sender_hw(), MAC);
        assert_eq!(p.sender_ip(), VIP);
        assert_eq!(p.target_hw(), BROADCAST);
        assert_eq!(p.target_ip(), VIP);
        assert_eq!(
            Repr::parse(&GARP),
            Ok(Repr {
                sender_mac: MAC,
                ip: VIP
            })
        );
    }

    #[test]
    fn emit_matches_keepalived() {
        let r = Repr {
            sender_mac: MAC,
            ip: VIP,
        };
        let mut buf = [0x5au8; 64];
        assert_eq!(r.emit(&mut buf), Ok(FRAME_LEN));
        assert_eq!(buf[..FRAME_LEN], GARP[..]);
        assert!(buf[FRAME_LEN..].iter().all(|&b| b == 0x5a));
        assert_eq!(r.emit(&mut buf[..41]), Err(Error::Truncated));
    }

    #[test]
    fn frr_garp_from_the_virtual_mac() {
        let vmac = [0x00, 0x00, 0x5e, 0x00, 0x01, 0x33];
        let want = Repr {
            sender_mac: vmac,
            ip: VIP,
        };
        assert_eq!(Repr::parse(&FRR_GARP), Ok(want));
        // FRR's frame is byte for byte what we emit for the same MAC.
        let mut buf = [0u8; FRAME_LEN];
        assert_eq!(want.emit(&mut buf), Ok(FRAME_LEN));
        assert_eq!(buf, FRR_GARP);
    }

    #[test]
    fn parse_accepts_padding_and_replies() {
        let mut f = [0u8; 60];
        f[..FRAME_LEN].copy_from_slice(&GARP);
        assert!(Repr::parse(&f).is_ok());
        f[21] = 2; // reply
        assert!(Repr::parse(&f).is_ok());
    }

    #[test]
    fn parse_rejects() {
        let with = |at: usize, v: u8| {
            let mut f = GARP;
            f[at] = v;
            Repr::parse(&f)
        };
        assert_eq!(Repr::parse(&GARP[..41]), Err(Error::Truncated));
        assert_eq!(with(13, 0x00), Err(Error::Type)); // ethertype 0x0800
        assert_eq!(with(15, 6), Err(Error::Malformed)); // htype
        assert_eq!(with(17, 0xdd), Err(Error::Malformed)); // ptype
        assert_eq!(with(18, 8), Err(Error::Malformed)); // hlen
        assert_eq!(with(19, 16), Err(Error::Malformed)); // plen
        assert_eq!(with(21, 3), Err(Error::Type)); // RARP request
        assert_eq!(with(41, 1), Err(Error::Malformed)); // target ip differs: not gratuitous
    }

    #[test]
    fn never_panics_on_junk() {
        for n in 0..=GARP.len() {
            let _ = Repr::parse(&GARP[..n]);
        }
        for_each_mutation(&GARP, |b| {
            let _ = Repr::parse(b);
        });
    }
}
