//! IPv6 fixed header (RFC 8200 section 3): enough to build the unsolicited neighbour
//! advertisements we send from an AF_PACKET socket and to read captured frames in tests.
//!
//! VRRP over IPv6 does not need it on the wire path: the raw IPv6 socket hands us the payload
//! and reports source, destination and hop limit in control messages. Extension headers are
//! not walked; `next_header` is the first one.

use core::net::Ipv6Addr;

use super::be;
use super::{Error, Result};

/// The fixed header; what we emit (no extension headers).
pub const HEADER_LEN: usize = 40;
/// Next-header value of ICMPv6.
pub const NEXT_HEADER_ICMPV6: u8 = 58;
/// Next-header value of VRRP.
pub const NEXT_HEADER_VRRP: u8 = 112;
/// The all-nodes group (RFC 4291 section 2.7.1).
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

mod field {
    pub const VER_TC_FLOW: usize = 0;
    pub const PAYLOAD_LEN: usize = 4;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: usize = 8;
    pub const DST: usize = 24;
}

/// A view of an IPv6 header and its payload.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap a buffer without checking it. Getters may panic until `check_len` has passed; use
    /// this only to emit into a buffer of at least `Repr::buffer_len()` bytes.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wrap a buffer that came from outside, checking every length a getter relies on.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Packet::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// After this returns Ok, no getter indexes outside the buffer. Bytes after the payload
    /// length (Ethernet padding) are allowed and ignored. A zero payload length with a
    /// hop-by-hop jumbogram is not supported (the payload is then empty).
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.version() != 6 {
            return Err(Error::Version);
        }
        if HEADER_LEN + self.payload_len() > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn word0(&self) -> u32 {
        let b = self.buffer.as_ref();
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TC_FLOW] >> 4
    }

    pub fn traffic_class(&self) -> u8 {
        (self.word0() >> 20) as u8
    }

    pub fn flow_label(&self) -> u32 {
        self.word0() & 0x000f_ffff
    }

    /// Payload length in bytes, as the header states it.
    pub fn payload_len(&self) -> usize {
        usize::from(be::u16_at(self.buffer.as_ref(), field::PAYLOAD_LEN))
    }

    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_HEADER]
    }

    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    pub fn src_addr(&self) -> Ipv6Addr {
        be::ipv6_at(self.buffer.as_ref(), field::SRC)
    }

    pub fn dst_addr(&self) -> Ipv6Addr {
        be::ipv6_at(self.buffer.as_ref(), field::DST)
    }

    /// The bytes the payload length covers.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..HEADER_LEN + self.payload_len()]
    }
}

impl<'a> Packet<&'a [u8]> {
    /// The payload, borrowed from the underlying buffer so it can outlive the view.
    pub fn into_payload(self) -> &'a [u8] {
        let end = HEADER_LEN + self.payload_len();
        &self.buffer[HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Version 6 with `traffic_class` and a zero flow label.
    pub fn set_version_and_class(&mut self, traffic_class: u8) {
        let w = (6u32 << 28) | (u32::from(traffic_class) << 20);
        self.buffer.as_mut()[..4].copy_from_slice(&w.to_be_bytes());
    }

    pub fn set_payload_len(&mut self, len: u16) {
        be::set_u16_at(self.buffer.as_mut(), field::PAYLOAD_LEN, len);
    }

    pub fn set_next_header(&mut self, nh: u8) {
        self.buffer.as_mut()[field::NEXT_HEADER] = nh;
    }

    pub fn set_hop_limit(&mut self, hl: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = hl;
    }

    pub fn set_src_addr(&mut self, a: Ipv6Addr) {
        be::set_ipv6_at(self.buffer.as_mut(), field::SRC, a);
    }

    pub fn set_dst_addr(&mut self, a: Ipv6Addr) {
        be::set_ipv6_at(self.buffer.as_mut(), field::DST, a);
    }

    /// The bytes after the fixed header, up to the end of the buffer.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// The header fields we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub next_header: u8,
    pub hop_limit: u8,
    pub payload_len: usize,
}

impl Repr {
    /// Read a header (re-checked, so an unchecked view cannot make this panic).
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        Ok(Repr {
            src: packet.src_addr(),
            dst: packet.dst_addr(),
            next_header: packet.next_header(),
            hop_limit: packet.hop_limit(),
            payload_len: packet.payload_len(),
        })
    }

    /// Bytes `emit` writes: the fixed header.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Write the header with traffic class 0 and flow label 0 into the first `HEADER_LEN`
    /// bytes (the buffer must be at least that long, or this panics). A payload length above
    /// 65535 is clamped; ours are tens of bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_version_and_class(0);
        packet.set_payload_len(u16::try_from(self.payload_len).unwrap_or(u16::MAX));
        packet.set_next_header(self.next_header);
        packet.set_hop_limit(self.hop_limit);
        packet.set_src_addr(self.src);
        packet.set_dst_addr(self.dst);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn parse_captured_headers() {
        // (frame, src, dst, next header, payload length, traffic class, flow label)
        let cases = [
            (
                &V3_V6_ADVERT[..],
                "fe80::99:ff:fe00:1",
                "ff02::12",
                112,
                40,
                0xc0,
                0xca816,
            ),
            (
                &FRR_V3_V6_ADVERT[..],
                "fe80::e462:740d:5144:782a",
                "ff02::12",
                112,
                24,
                0xc0,
                0x01def,
            ),
            (&NA_GLOBAL[..], "fd00:99::100", "ff02::1", 58, 32, 0, 0),
            (&FRR_NA[..], "fd99::100", "ff02::1", 58, 32, 0, 0),
        ];
        for (frame, src, dst, nh, plen, tc, flow) in cases {
            let p = Packet::new_checked(&frame[14..]).unwrap();
            assert_eq!(p.version(), 6);
            assert_eq!((p.traffic_class(), p.flow_label()), (tc, flow));
            let r = Repr::parse(&p).unwrap();
            assert_eq!(
                r,
                Repr {
                    src: a(src),
                    dst: a(dst),
                    next_header: nh,
                    hop_limit: 255,
                    payload_len: plen,
                }
            );
            assert_eq!(p.into_payload().len(), plen);
        }
    }

    #[test]
    fn emit_matches_keepalived_na_header() {
        // keepalived's NA header has traffic class 0 and flow label 0, as we emit.
        let want = &NA_LINK_LOCAL[14..54];
        let r = Repr::parse(&Packet::new_checked(&NA_LINK_LOCAL[14..]).unwrap()).unwrap();
        let mut buf = [0xa5u8; 40];
        r.emit(&mut Packet::new_unchecked(&mut buf[..]));
        assert_eq!(&buf[..], want);
    }

    #[test]
    fn rejects_bad_headers() {
        let ip = &FRR_NA[14..];
        assert_eq!(Packet::new_checked(&ip[..39]).err(), Some(Error::Truncated));
        assert_eq!(
            Packet::new_checked(&ip[..ip.len() - 1]).err(),
            Some(Error::Truncated)
        );
        let mut b = [0u8; 72];
        b.copy_from_slice(ip);
        b[0] = 0x45;
        assert_eq!(Packet::new_checked(&b[..]).err(), Some(Error::Version));
        // Trailing padding is fine.
        let mut padded = [0u8; 100];
        padded[..72].copy_from_slice(ip);
        let p = Packet::new_checked(&padded[..]).unwrap();
        assert_eq!(p.payload().len(), 32);
    }

    #[test]
    fn never_panics_on_junk() {
        let ip = &V3_V6_ADVERT[14..];
        for n in 0..=ip.len() {
            let _ = Repr::parse(&Packet::new_unchecked(&ip[..n]));
        }
        for_each_mutation(ip, |b| {
            if let Ok(p) = Packet::new_checked(b) {
                let _ = (p.payload().len(), p.src_addr(), p.flow_label());
            }
            let _ = Repr::parse(&Packet::new_unchecked(b));
        });
    }
}
