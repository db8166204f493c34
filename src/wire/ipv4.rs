//! IPv4 header (RFC 791), as read from and written to a raw protocol-112 socket.

use core::net::Ipv4Addr;

use super::be;
use super::checksum;
use super::{Error, Result};

/// Length of a header without options (what we emit).
pub const HEADER_LEN: usize = 20;
/// IANA protocol number of VRRP.
pub const PROTOCOL_VRRP: u8 = 112;
/// Type of service we send: precedence 6, internetwork control (0xc0), as VRRP senders use.
pub const TOS_INTERNETWORK_CONTROL: u8 = 0xc0;

mod field {
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const LENGTH: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLG_OFF: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: usize = 10;
    pub const SRC: usize = 12;
    pub const DST: usize = 16;
}

/// A view of an IPv4 header and its payload.
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

    /// After this returns Ok, no getter indexes outside the buffer. Bytes after `total_len`
    /// (Ethernet padding) are allowed and ignored.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.version() != 4 {
            return Err(Error::Version);
        }
        let hl = self.header_len();
        if hl < HEADER_LEN || hl > len {
            return Err(Error::Malformed);
        }
        let total = self.total_len();
        if total < hl {
            return Err(Error::Malformed);
        }
        if total > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Header length in bytes (IHL * 4), options included.
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[field::TOS]
    }

    /// Total length in bytes (header plus payload) as the header states it.
    pub fn total_len(&self) -> usize {
        usize::from(be::u16_at(self.buffer.as_ref(), field::LENGTH))
    }

    pub fn ident(&self) -> u16 {
        be::u16_at(self.buffer.as_ref(), field::IDENT)
    }

    pub fn dont_frag(&self) -> bool {
        be::u16_at(self.buffer.as_ref(), field::FLG_OFF) & 0x4000 != 0
    }

    pub fn more_frags(&self) -> bool {
        be::u16_at(self.buffer.as_ref(), field::FLG_OFF) & 0x2000 != 0
    }

    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u16 {
        (be::u16_at(self.buffer.as_ref(), field::FLG_OFF) & 0x1fff) << 3
    }

    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[field::PROTOCOL]
    }

    pub fn checksum(&self) -> u16 {
        be::u16_at(self.buffer.as_ref(), field::CHECKSUM)
    }

    pub fn src_addr(&self) -> Ipv4Addr {
        be::ipv4_at(self.buffer.as_ref(), field::SRC)
    }

    pub fn dst_addr(&self) -> Ipv4Addr {
        be::ipv4_at(self.buffer.as_ref(), field::DST)
    }

    /// The bytes between the header (options included) and `total_len`.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..self.total_len()]
    }

    /// True if the header checksum (over the header and its options) is right.
    pub fn verify_checksum(&self) -> bool {
        checksum::fold(checksum::sum(&self.buffer.as_ref()[..self.header_len()])) == 0
    }
}

impl<'a> Packet<&'a [u8]> {
    /// The payload, borrowed from the underlying buffer rather than from the view, so it can
    /// outlive the `Packet` (e.g. to hand the VRRP bytes on).
    pub fn into_payload(self) -> &'a [u8] {
        let (hl, total) = (self.header_len(), self.total_len());
        &self.buffer[hl..total]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Set version 4 and the header length in bytes (a multiple of 4, 20..=60).
    pub fn set_version_and_header_len(&mut self, header_len: usize) {
        let ihl = ((header_len / 4) & 0x0f) as u8;
        self.buffer.as_mut()[field::VER_IHL] = 0x40 | ihl;
    }

    pub fn set_tos(&mut self, tos: u8) {
        self.buffer.as_mut()[field::TOS] = tos;
    }

    pub fn set_total_len(&mut self, len: u16) {
        be::set_u16_at(self.buffer.as_mut(), field::LENGTH, len);
    }

    pub fn set_ident(&mut self, ident: u16) {
        be::set_u16_at(self.buffer.as_mut(), field::IDENT, ident);
    }

    /// Clear the flags and fragment offset: an unfragmented packet, DF clear.
    pub fn clear_flags(&mut self) {
        be::set_u16_at(self.buffer.as_mut(), field::FLG_OFF, 0);
    }

    pub fn set_dont_frag(&mut self, df: bool) {
        let b = self.buffer.as_mut();
        let v = be::u16_at(b, field::FLG_OFF);
        let v = if df { v | 0x4000 } else { v & !0x4000 };
        be::set_u16_at(b, field::FLG_OFF, v);
    }

    pub fn set_ttl(&mut self, ttl: u8) {
        self.buffer.as_mut()[field::TTL] = ttl;
    }

    pub fn set_protocol(&mut self, protocol: u8) {
        self.buffer.as_mut()[field::PROTOCOL] = protocol;
    }

    pub fn set_checksum(&mut self, checksum: u16) {
        be::set_u16_at(self.buffer.as_mut(), field::CHECKSUM, checksum);
    }

    pub fn set_src_addr(&mut self, addr: Ipv4Addr) {
        be::set_ipv4_at(self.buffer.as_mut(), field::SRC, addr);
    }

    pub fn set_dst_addr(&mut self, addr: Ipv4Addr) {
        be::set_ipv4_at(self.buffer.as_mut(), field::DST, addr);
    }

    /// Recompute the header checksum from the header as it stands.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let hl = self.header_len();
        let c = checksum::fold(checksum::sum(&self.buffer.as_ref()[..hl]));
        self.set_checksum(c);
    }

    /// The payload, for writing the VRRP message in place.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (hl, total) = (self.header_len(), self.total_len());
        &mut self.buffer.as_mut()[hl..total]
    }
}

/// The IPv4 header fields vrrpd cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: u8,
    pub ttl: u8,
    pub payload_len: usize,
}

impl Repr {
    /// Read the header. Options are skipped (`payload_len` excludes them); fragments are not
    /// rejected here because a raw socket only ever hands us reassembled datagrams.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        // Re-check so that a packet made with `new_unchecked` cannot make us panic.
        packet.check_len()?;
        if !packet.verify_checksum() {
            return Err(Error::Checksum);
        }
        Ok(Repr {
            src: packet.src_addr(),
            dst: packet.dst_addr(),
            protocol: packet.protocol(),
            ttl: packet.ttl(),
            payload_len: packet.total_len() - packet.header_len(),
        })
    }

    /// Bytes `emit` writes: a 20-byte header plus the payload.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }

    /// Write a 20-byte header (no options): TOS 0xc0, id 0, DF clear, checksum filled. The
    /// payload is left for the caller to write with `payload_mut`, which needs a buffer of
    /// `buffer_len()` bytes. Panics if the buffer is shorter than the header (our own buffer, so
    /// a programming error). A `payload_len` over 65515 cannot be sent and is clamped.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_version_and_header_len(HEADER_LEN);
        packet.set_tos(TOS_INTERNETWORK_CONTROL);
        let total = u16::try_from(self.buffer_len()).unwrap_or(u16::MAX);
        packet.set_total_len(total);
        packet.set_ident(0);
        packet.clear_flags();
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src_addr(self.src);
        packet.set_dst_addr(self.dst);
        packet.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::*;

    const ETH: usize = 14;

    struct Vector {
        frame: &'static [u8],
        dst: Ipv4Addr,
        ident: u16,
        vrrp_len: usize,
    }

    const H1: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 11);
    const H2: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 12);
    const MCAST: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

    fn vectors() -> [Vector; 14] {
        let v = |frame: &'static [u8], dst, ident, vrrp_len| Vector {
            frame,
            dst,
            ident,
            vrrp_len,
        };
        [
            v(&V2_PASS_1, MCAST, 1, 20),
            v(&V2_PASS_2, MCAST, 2, 20),
            v(&V2_PASS_3, MCAST, 3, 20),
            v(&V2_PRIO0_1, MCAST, 4, 20),
            v(&V2_PRIO0_2, MCAST, 5, 20),
            v(&V2_UNICAST_1, H2, 2, 20),
            v(&V2_UNICAST_2, H2, 3, 20),
            v(&V3_ADVERT_1, MCAST, 2, 16),
            v(&V3_ADVERT_2, MCAST, 3, 16),
            v(&V3_10MS_1, MCAST, 0x45, 12),
            v(&V3_10MS_2, MCAST, 0x46, 12),
            v(&V3_10MS_3, MCAST, 0x47, 12),
            v(&V3_PRIO0_1, MCAST, 0x8f, 12),
            v(&V3_PRIO0_2, MCAST, 0x90, 12),
        ]
    }

    #[test]
    fn parse_captured_headers() {
        for v in vectors() {
            let bytes = &v.frame[ETH..];
            let p = Packet::new_checked(bytes).unwrap();
            assert_eq!(p.version(), 4);
            assert_eq!(p.header_len(), 20);
            assert_eq!(p.total_len(), bytes.len());
            assert_eq!(p.tos(), 0xc0);
            assert_eq!(p.ident(), v.ident);
            assert!(!p.dont_frag() && !p.more_frags());
            assert_eq!(p.frag_offset(), 0);
            assert_eq!(p.ttl(), 255);
            assert_eq!(p.protocol(), PROTOCOL_VRRP);
            assert_eq!(p.src_addr(), H1);
            assert_eq!(p.dst_addr(), v.dst);
            assert!(p.verify_checksum());
            assert_eq!(p.payload(), &bytes[20..]);
            assert_eq!(p.payload().len(), v.vrrp_len);
            assert_eq!(p.clone().into_payload(), &bytes[20..]);

            let r = Repr::parse(&p).unwrap();
            assert_eq!(
                r,
                Repr {
                    src: H1,
                    dst: v.dst,
                    protocol: PROTOCOL_VRRP,
                    ttl: 255,
                    payload_len: v.vrrp_len,
                }
            );
        }
    }

    #[test]
    fn emit_round_trips() {
        for v in vectors() {
            let bytes = &v.frame[ETH..];
            let r = Repr::parse(&Packet::new_checked(bytes).unwrap()).unwrap();
            let mut out = [0u8; 64];
            let out = &mut out[..r.buffer_len()];
            assert_eq!(out.len(), bytes.len());
            let mut p = Packet::new_unchecked(&mut *out);
            r.emit(&mut p);
            p.payload_mut().copy_from_slice(&bytes[20..]);
            assert!(p.verify_checksum());
            // We send id 0; keepalived counts up. With the id put back the bytes are identical.
            assert_eq!(p.ident(), 0);
            p.set_ident(v.ident);
            p.fill_checksum();
            assert_eq!(&out[..], bytes);
        }
    }

    #[test]
    fn ethernet_padding_is_ignored() {
        let mut padded = [0u8; 46];
        let bytes = &V3_10MS_1[ETH..];
        padded[..bytes.len()].copy_from_slice(bytes);
        let p = Packet::new_checked(&padded[..]).unwrap();
        assert_eq!(p.payload(), &bytes[20..]);
        assert_eq!(Repr::parse(&p).unwrap().payload_len, 12);
    }

    #[test]
    fn options_are_skipped() {
        // A header with a 4-byte Router Alert option (IHL 6) in front of the same payload.
        let src = &V3_10MS_1[ETH..];
        let mut buf = [0u8; 36];
        buf[..20].copy_from_slice(&src[..20]);
        buf[20..24].copy_from_slice(&[0x94, 0x04, 0x00, 0x00]);
        buf[24..].copy_from_slice(&src[20..]);
        let mut p = Packet::new_unchecked(&mut buf[..]);
        p.set_version_and_header_len(24);
        p.set_total_len(36);
        p.fill_checksum();
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.header_len(), 24);
        assert_eq!(p.payload(), &src[20..]);
        assert_eq!(Repr::parse(&p).unwrap().payload_len, 12);
    }

    #[test]
    fn rejects_bad_headers() {
        let good = &V2_PASS_1[ETH..];
        let with = |f: &dyn Fn(&mut [u8])| {
            let mut b = [0u8; 40];
            b.copy_from_slice(good);
            f(&mut b);
            Packet::new_checked(&b[..]).map(|_| ())
        };
        assert_eq!(
            Packet::new_checked(&good[..19]).err(),
            Some(Error::Truncated)
        );
        assert_eq!(Packet::new_checked(&[][..]).err(), Some(Error::Truncated));
        assert_eq!(with(&|b| b[0] = 0x65), Err(Error::Version));
        assert_eq!(with(&|b| b[0] = 0x44), Err(Error::Malformed)); // IHL below 5
        assert_eq!(with(&|b| b[0] = 0x4f), Err(Error::Malformed)); // 60-byte header in 40 bytes
        assert_eq!(with(&|b| b[3] = 19), Err(Error::Malformed)); // total below header
        assert_eq!(with(&|b| b[3] = 41), Err(Error::Truncated)); // total past buffer
        assert_eq!(
            Packet::new_checked(&good[..39]).err(),
            Some(Error::Truncated)
        );

        let mut b = [0u8; 40];
        b.copy_from_slice(good);
        b[8] = 1; // TTL changed without fixing the checksum
        let p = Packet::new_checked(&b[..]).unwrap();
        assert!(!p.verify_checksum());
        assert_eq!(Repr::parse(&p), Err(Error::Checksum));
        // An unchecked view of junk is re-checked by parse rather than trusted.
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(&b[..5])),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn never_panics_on_junk() {
        for v in vectors() {
            let bytes = &v.frame[ETH..];
            for n in 0..=bytes.len() {
                let _ =
                    Packet::new_checked(&bytes[..n]).map(|p| (p.payload().len(), Repr::parse(&p)));
            }
        }
        super::super::testdata::for_each_mutation(&V2_PASS_1[ETH..], |b| {
            if let Ok(p) = Packet::new_checked(b) {
                let _ = (p.payload().len(), p.verify_checksum(), Repr::parse(&p));
            }
        });
    }
}
