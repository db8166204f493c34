//! VRRP messages: version 2 (RFC 3768), and version 3 (RFC 5798) over IPv4 or IPv6.
//!
//! ```text
//!  0       4       8              16              24             32
//! +-------+-------+---------------+---------------+---------------+
//! |Version| Type  |     VRID      |   Priority    |  Count IPvX   |
//! +-------+-------+---------------+---------------+---------------+
//! v2: | Auth Type | Adver Int |     v3: |(rsvd)| Max Adver Int (12 bits, cs) |
//! +-------------------------------+-------------------------------+
//! |  ...first 16 bits above...    |           Checksum            |
//! +-------------------------------+-------------------------------+
//! |    IPvX addresses, Count of them (4 or 16 bytes each)        |
//! +---------------------------------------------------------------+
//! |       v2 only: Authentication Data (8 bytes)                  |
//! +---------------------------------------------------------------+
//! ```
//!
//! The bytes do not say which family the addresses are: the socket the message came from
//! does. So the view, the checksum mode and the `Repr` take the address type as a parameter
//! (`Ipv4Addr` or `Ipv6Addr`, see `Address`); it defaults to `Ipv4Addr`, and
//! `Packet::new_checked`/`new_unchecked` make IPv4 views. For IPv6:
//!
//! ```
//! # use std::net::Ipv6Addr;
//! # use vrrpd::wire::vrrp::{Checksum, Packet, Repr};
//! # fn f(payload: &[u8], src: Ipv6Addr, dst: Ipv6Addr) -> vrrpd::wire::Result<()> {
//! let p = Packet::<_, Ipv6Addr>::checked(payload)?;
//! let advert: Repr<Ipv6Addr> = Repr::parse(&p, Checksum::Pseudo { src, dst })?;
//! # Ok(()) }
//! ```

use core::marker::PhantomData;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::be;
use super::checksum;
use super::ipv4::PROTOCOL_VRRP;
use super::{Error, Result};
use crate::limits::MAX_VIPS;

/// The group adverts are sent to (RFC 5798 section 5.1.1.2).
pub const MULTICAST_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// The IPv6 group adverts are sent to (RFC 5798 section 5.1.2.2).
pub const MULTICAST_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// The only message type VRRP defines.
pub const TYPE_ADVERTISEMENT: u8 = 1;
/// Fixed part in front of the addresses.
pub const HEADER_LEN: usize = 8;
/// Authentication data trailing a v2 message.
pub const AUTH_DATA_LEN: usize = 8;
/// v2 auth type: none.
pub const AUTH_TYPE_NONE: u8 = 0;
/// v2 auth type: simple text password (RFC 2338; RFC 3768 keeps it only for compatibility).
pub const AUTH_TYPE_PASS: u8 = 1;
/// Largest value the 12-bit v3 Max Adver Int field holds (centiseconds).
pub const MAX_ADVER_INT_CS: u16 = 0x0fff;

mod field {
    pub const VER_TYPE: usize = 0;
    pub const VRID: usize = 1;
    pub const PRIORITY: usize = 2;
    pub const COUNT: usize = 3;
    pub const AUTH_TYPE: usize = 4; // v2
    pub const ADVER_INT: usize = 5; // v2
    pub const MAX_ADVER_INT: usize = 4; // v3, 16 bits: 4 reserved + 12
    pub const CHECKSUM: usize = 6;
    pub const ADDRS: usize = 8;
}

/// Protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V2,
    V3,
}

impl Version {
    /// The value in the version nibble.
    pub const fn wire(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }

    pub const fn from_wire(v: u8) -> Option<Version> {
        match v {
            2 => Some(Version::V2),
            3 => Some(Version::V3),
            _ => None,
        }
    }
}

/// The address family of a VRRP message: how long its addresses are, how they read and
/// write, and which pseudo-header its v3 checksum covers. Sealed: `Ipv4Addr` and `Ipv6Addr`.
pub trait Address: Copy + Eq + core::fmt::Debug + Into<IpAddr> + sealed::Sealed {
    /// Bytes per address in the message.
    const LEN: usize;
    /// Reads an address from exactly `LEN` bytes.
    fn read(b: &[u8]) -> Self;
    /// Writes the address into exactly `LEN` bytes.
    fn write(self, b: &mut [u8]);
    /// The pseudo-header's partial sum for a VRRP message of `len` bytes from `src` to `dst`.
    fn pseudo_header(src: Self, dst: Self, len: u16) -> u32;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for core::net::Ipv4Addr {}
    impl Sealed for core::net::Ipv6Addr {}
}

impl Address for Ipv4Addr {
    const LEN: usize = 4;
    fn read(b: &[u8]) -> Ipv4Addr {
        be::ipv4_at(b, 0)
    }
    fn write(self, b: &mut [u8]) {
        be::set_ipv4_at(b, 0, self);
    }
    fn pseudo_header(src: Ipv4Addr, dst: Ipv4Addr, len: u16) -> u32 {
        checksum::pseudo_header_v4(src, dst, PROTOCOL_VRRP, len)
    }
}

impl Address for Ipv6Addr {
    const LEN: usize = 16;
    fn read(b: &[u8]) -> Ipv6Addr {
        be::ipv6_at(b, 0)
    }
    fn write(self, b: &mut [u8]) {
        be::set_ipv6_at(b, 0, self);
    }
    fn pseudo_header(src: Ipv6Addr, dst: Ipv6Addr, len: u16) -> u32 {
        checksum::pseudo_header_v6(src, dst, PROTOCOL_VRRP, u32::from(len))
    }
}

/// What a v3 checksum covers. v2 always sums the message alone and ignores this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum<A: Address = Ipv4Addr> {
    /// The message only: keepalived's `v3_checksum_as_v2` mode (IPv4 only in practice: over
    /// IPv6 every implementation includes the pseudo-header).
    Message,
    /// The pseudo-header (IPv4: src, dst, 0, 112, length; IPv6: src, dst, 32-bit length, 0, 112)
    /// and the message, per RFC 5798 section 5.2.8; what keepalived and FRR send by default.
    /// `src`/`dst` are the IP header's.
    Pseudo { src: A, dst: A },
}

/// v2 authentication. v3 has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Auth type 0.
    None,
    /// Auth type 1: the 8 data bytes, a password padded with zeros.
    Pass([u8; 8]),
    /// Any other auth type (2 was IP AH, removed by RFC 3768); the data is not kept.
    Other(u8),
}

/// A view of one VRRP message, exactly the IP payload, whose addresses are `A`s.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>, A: Address = Ipv4Addr> {
    buffer: T,
    family: PhantomData<A>,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// `unchecked` for an IPv4 message (the name every IPv4 caller uses).
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet::unchecked(buffer)
    }

    /// `checked` for an IPv4 message.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        Packet::checked(buffer)
    }
}

impl<T: AsRef<[u8]>, A: Address> Packet<T, A> {
    /// Wrap a buffer without checking it. Getters may panic until `check_len` has passed; use
    /// this only to emit into a buffer of at least `Repr::buffer_len()` bytes.
    pub const fn unchecked(buffer: T) -> Packet<T, A> {
        Packet {
            buffer,
            family: PhantomData,
        }
    }

    /// Wrap an IP payload from outside, checking every length a getter relies on.
    pub fn checked(buffer: T) -> Result<Packet<T, A>> {
        let p = Packet::unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// The buffer must hold exactly the message the header describes: shorter is `Truncated`,
    /// longer is `Length` (the caller hands over the IP payload, and VRRP has nothing after it).
    /// VRRPv2 exists only over IPv4: a version-2 message in an IPv6 view is `Version`.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        match Version::from_wire(self.version()) {
            None => return Err(Error::Version),
            Some(Version::V2) if A::LEN != Ipv4Addr::LEN => return Err(Error::Version),
            Some(_) => {}
        }
        let want = self.msg_len();
        if len < want {
            Err(Error::Truncated)
        } else if len > want {
            Err(Error::Length)
        } else {
            Ok(())
        }
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The message length the header implies: fixed part, addresses, v2 auth data.
    fn msg_len(&self) -> usize {
        let auth = if self.version() == 2 {
            AUTH_DATA_LEN
        } else {
            0
        };
        HEADER_LEN + A::LEN * usize::from(self.addr_count()) + auth
    }

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE] >> 4
    }

    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE] & 0x0f
    }

    pub fn vrid(&self) -> u8 {
        self.buffer.as_ref()[field::VRID]
    }

    pub fn priority(&self) -> u8 {
        self.buffer.as_ref()[field::PRIORITY]
    }

    pub fn addr_count(&self) -> u8 {
        self.buffer.as_ref()[field::COUNT]
    }

    /// v2 only (in v3 this byte is the top of Max Adver Int).
    pub fn auth_type(&self) -> u8 {
        self.buffer.as_ref()[field::AUTH_TYPE]
    }

    /// v2 only: advertisement interval in seconds.
    pub fn adver_int_v2(&self) -> u8 {
        self.buffer.as_ref()[field::ADVER_INT]
    }

    /// v3 only: advertisement interval in centiseconds. The 4 reserved bits are dropped.
    pub fn max_adver_int(&self) -> u16 {
        be::u16_at(self.buffer.as_ref(), field::MAX_ADVER_INT) & MAX_ADVER_INT_CS
    }

    pub fn checksum(&self) -> u16 {
        be::u16_at(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Address `i`, or None if `i` is not below `addr_count` or outside the buffer.
    pub fn addr(&self, i: usize) -> Option<A> {
        if i >= usize::from(self.addr_count()) {
            return None;
        }
        let at = field::ADDRS + A::LEN * i;
        let b = self.buffer.as_ref().get(at..at + A::LEN)?;
        Some(A::read(b))
    }

    /// The addresses in order.
    pub fn addrs(&self) -> impl Iterator<Item = A> + '_ {
        (0..usize::from(self.addr_count())).filter_map(move |i| self.addr(i))
    }

    /// v2 only: the 8 authentication data bytes; all zero when absent (as in v3).
    pub fn auth_data(&self) -> [u8; 8] {
        let at = field::ADDRS + A::LEN * usize::from(self.addr_count());
        let mut out = [0u8; AUTH_DATA_LEN];
        if let Some(b) = self.buffer.as_ref().get(at..at + AUTH_DATA_LEN) {
            out.copy_from_slice(b);
        }
        out
    }

    /// True if the checksum field is right, summed as `how` says (v2 ignores `how`).
    pub fn verify_checksum(&self, how: Checksum<A>) -> bool {
        checksum::fold(self.checksum_sum(how)) == 0
    }

    /// Sum of the message as the header describes it (never past the buffer), plus the
    /// pseudo-header when asked for on a v3 message.
    fn checksum_sum(&self, how: Checksum<A>) -> u32 {
        let buf = self.buffer.as_ref();
        let msg = &buf[..self.msg_len().min(buf.len())];
        let mut s = checksum::sum(msg);
        if let (3, Checksum::Pseudo { src, dst }) = (self.version(), how) {
            // A VRRP message is at most 8 + 16 * 255 bytes, so this always fits.
            let len = u16::try_from(msg.len()).unwrap_or(u16::MAX);
            s += A::pseudo_header(src, dst, len);
        }
        s
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>, A: Address> Packet<T, A> {
    pub fn set_version(&mut self, version: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_TYPE];
        *b = (version << 4) | (*b & 0x0f);
    }

    pub fn set_msg_type(&mut self, msg_type: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_TYPE];
        *b = (*b & 0xf0) | (msg_type & 0x0f);
    }

    pub fn set_vrid(&mut self, vrid: u8) {
        self.buffer.as_mut()[field::VRID] = vrid;
    }

    pub fn set_priority(&mut self, priority: u8) {
        self.buffer.as_mut()[field::PRIORITY] = priority;
    }

    /// Set this before the addresses and auth data: it decides where they go.
    pub fn set_addr_count(&mut self, count: u8) {
        self.buffer.as_mut()[field::COUNT] = count;
    }

    pub fn set_auth_type(&mut self, auth_type: u8) {
        self.buffer.as_mut()[field::AUTH_TYPE] = auth_type;
    }

    pub fn set_adver_int_v2(&mut self, secs: u8) {
        self.buffer.as_mut()[field::ADVER_INT] = secs;
    }

    /// Write the 12-bit interval (values above 4095 are clamped) with the reserved bits zero.
    pub fn set_max_adver_int(&mut self, cs: u16) {
        be::set_u16_at(
            self.buffer.as_mut(),
            field::MAX_ADVER_INT,
            cs.min(MAX_ADVER_INT_CS),
        );
    }

    pub fn set_checksum(&mut self, checksum: u16) {
        be::set_u16_at(self.buffer.as_mut(), field::CHECKSUM, checksum);
    }

    pub fn set_addr(&mut self, i: usize, addr: A) {
        let at = field::ADDRS + A::LEN * i;
        addr.write(&mut self.buffer.as_mut()[at..at + A::LEN]);
    }

    pub fn set_auth_data(&mut self, data: &[u8; 8]) {
        let at = field::ADDRS + A::LEN * usize::from(self.addr_count());
        self.buffer.as_mut()[at..at + AUTH_DATA_LEN].copy_from_slice(data);
    }

    /// Compute and store the checksum as `how` says (v2 ignores `how`).
    pub fn fill_checksum(&mut self, how: Checksum<A>) {
        self.set_checksum(0);
        let c = checksum::fold(self.checksum_sum(how));
        self.set_checksum(c);
    }
}

/// One advertisement, decoded; its addresses are `A`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repr<A: Address = Ipv4Addr> {
    pub version: Version,
    pub vrid: u8,
    pub priority: u8,
    /// The advertisement interval in centiseconds (v2: Adver Int seconds * 100).
    pub max_adver_int_cs: u16,
    /// Always `Auth::None` for v3.
    pub auth: Auth,
    pub addrs: heapless::Vec<A, MAX_VIPS>,
}

impl<A: Address> Repr<A> {
    /// Decode and validate an advertisement: type 1 (`Type`), checksum as `how` says
    /// (`Checksum`; v2 always sums the message alone), at most `MAX_VIPS` addresses
    /// (`TooManyAddrs`). VRID, priority and interval values are left to the caller to judge.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T, A>, how: Checksum<A>) -> Result<Repr<A>> {
        // Re-check so that a packet made with `new_unchecked` cannot make us panic.
        packet.check_len()?;
        let version = Version::from_wire(packet.version()).ok_or(Error::Version)?;
        if packet.msg_type() != TYPE_ADVERTISEMENT {
            return Err(Error::Type);
        }
        if !packet.verify_checksum(how) {
            return Err(Error::Checksum);
        }
        if usize::from(packet.addr_count()) > MAX_VIPS {
            return Err(Error::TooManyAddrs);
        }
        let mut addrs = heapless::Vec::new();
        for a in packet.addrs() {
            addrs.push(a).map_err(|_| Error::TooManyAddrs)?;
        }
        let (max_adver_int_cs, auth) = match version {
            Version::V2 => {
                let auth = match packet.auth_type() {
                    AUTH_TYPE_NONE => Auth::None,
                    AUTH_TYPE_PASS => Auth::Pass(packet.auth_data()),
                    other => Auth::Other(other),
                };
                (u16::from(packet.adver_int_v2()) * 100, auth)
            }
            Version::V3 => (packet.max_adver_int(), Auth::None),
        };
        Ok(Repr {
            version,
            vrid: packet.vrid(),
            priority: packet.priority(),
            max_adver_int_cs,
            auth,
            addrs,
        })
    }

    /// Bytes `emit` writes.
    pub fn buffer_len(&self) -> usize {
        let auth = match self.version {
            Version::V2 => AUTH_DATA_LEN,
            Version::V3 => 0,
        };
        HEADER_LEN + A::LEN * self.addrs.len() + auth
    }

    /// Write the message and its checksum into the first `buffer_len()` bytes (the buffer must
    /// be at least that long, or this panics). v2 writes Adver Int = `max_adver_int_cs / 100`
    /// (at most 255) and ignores `how`; v3 clamps the interval to 4095 cs and ignores `auth`.
    /// `Auth::Other` writes its type with zero data. (A v2 `Repr<Ipv6Addr>` is emitted as told,
    /// and no parser takes it back: VRRPv2 has no IPv6.)
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T, A>, how: Checksum<A>) {
        packet.set_version(self.version.wire());
        packet.set_msg_type(TYPE_ADVERTISEMENT);
        packet.set_vrid(self.vrid);
        packet.set_priority(self.priority);
        // addrs holds at most MAX_VIPS (32), so this always fits.
        packet.set_addr_count(u8::try_from(self.addrs.len()).unwrap_or(u8::MAX));
        match self.version {
            Version::V2 => {
                let (auth_type, data) = match self.auth {
                    Auth::None => (AUTH_TYPE_NONE, [0; 8]),
                    Auth::Pass(d) => (AUTH_TYPE_PASS, d),
                    Auth::Other(t) => (t, [0; 8]),
                };
                packet.set_auth_type(auth_type);
                let secs = (self.max_adver_int_cs / 100).min(u16::from(u8::MAX));
                packet.set_adver_int_v2(secs as u8);
                packet.set_auth_data(&data);
            }
            Version::V3 => packet.set_max_adver_int(self.max_adver_int_cs),
        }
        for (i, a) in self.addrs.iter().enumerate() {
            packet.set_addr(i, *a);
        }
        packet.fill_checksum(how);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testdata::*;
    use super::super::{ipv4, ipv6};
    use super::*;

    const VIP: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 100);
    const VIP2: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 101);
    const PASS: [u8; 8] = *b"s3cret\0\0";

    /// The IPv4 header (checked: TTL 255, protocol 112) and the VRRP bytes of a captured frame.
    fn split(frame: &[u8]) -> (ipv4::Repr, &[u8]) {
        let ip = ipv4::Packet::new_checked(&frame[14..]).unwrap();
        let r = ipv4::Repr::parse(&ip).unwrap();
        assert_eq!((r.ttl, r.protocol), (255, PROTOCOL_VRRP));
        let payload = ip.into_payload();
        assert_eq!(payload.len(), r.payload_len);
        (r, payload)
    }

    fn pseudo(ip: &ipv4::Repr) -> Checksum {
        Checksum::Pseudo {
            src: ip.src,
            dst: ip.dst,
        }
    }

    fn addrs(a: &[Ipv4Addr]) -> heapless::Vec<Ipv4Addr, MAX_VIPS> {
        heapless::Vec::from_slice(a).unwrap()
    }

    /// Emit `repr` and compare with the captured bytes.
    fn assert_round_trip(repr: &Repr, how: Checksum, wire: &[u8]) {
        assert_eq!(repr.buffer_len(), wire.len());
        let mut buf = [0u8; 64];
        let mut p = Packet::new_unchecked(&mut buf[..repr.buffer_len()]);
        repr.emit(&mut p, how);
        assert_eq!(p.into_inner(), wire);
    }

    #[test]
    fn v2_pass_adverts() {
        for frame in [&V2_PASS_1, &V2_PASS_2, &V2_PASS_3, &V2_PRIO0_1] {
            let (ip, wire) = split(frame);
            assert_eq!(ip.dst, MULTICAST_V4);
            let p = Packet::new_checked(wire).unwrap();
            assert_eq!(p.version(), 2);
            assert_eq!(p.msg_type(), TYPE_ADVERTISEMENT);
            assert_eq!(p.vrid(), 51);
            assert_eq!(p.priority(), 150);
            assert_eq!(p.addr_count(), 1);
            assert_eq!(p.auth_type(), AUTH_TYPE_PASS);
            assert_eq!(p.adver_int_v2(), 1);
            assert_eq!(p.checksum(), 0x00e9);
            assert_eq!(p.addr(0), Some(VIP));
            assert_eq!(p.addr(1), None);
            assert_eq!(p.auth_data(), PASS);
            // v2 sums the message alone, whatever it is told.
            assert!(p.verify_checksum(Checksum::Message));
            assert!(p.verify_checksum(pseudo(&ip)));

            let want = Repr {
                version: Version::V2,
                vrid: 51,
                priority: 150,
                max_adver_int_cs: 100,
                auth: Auth::Pass(PASS),
                addrs: addrs(&[VIP]),
            };
            assert_eq!(Repr::parse(&p, Checksum::Message), Ok(want.clone()));
            assert_eq!(Repr::parse(&p, pseudo(&ip)), Ok(want.clone()));
            assert_round_trip(&want, Checksum::Message, wire);
        }
    }

    #[test]
    fn v2_priority_zero() {
        let (_, wire) = split(&V2_PRIO0_2);
        let p = Packet::new_checked(wire).unwrap();
        assert_eq!(p.priority(), 0);
        assert_eq!(p.checksum(), 0x96e9);
        let r = Repr::parse(&p, Checksum::Message).unwrap();
        assert_eq!(r.priority, 0);
        assert_eq!(r.auth, Auth::Pass(PASS));
        assert_eq!(r.addrs, addrs(&[VIP]));
        assert_round_trip(&r, Checksum::Message, wire);
    }

    #[test]
    fn v2_unicast() {
        for frame in [&V2_UNICAST_1, &V2_UNICAST_2] {
            let (ip, wire) = split(frame);
            assert_eq!(ip.src, Ipv4Addr::new(10, 99, 0, 11));
            assert_eq!(ip.dst, Ipv4Addr::new(10, 99, 0, 12));
            let p = Packet::new_checked(wire).unwrap();
            let r = Repr::parse(&p, pseudo(&ip)).unwrap();
            assert_eq!((r.version, r.vrid, r.priority), (Version::V2, 51, 150));
            assert_eq!(r.max_adver_int_cs, 100);
            assert_eq!(r.auth, Auth::Pass(PASS));
            assert_eq!(r.addrs, addrs(&[VIP]));
            assert_round_trip(&r, Checksum::Message, wire);
        }
    }

    #[test]
    fn v3_two_vips_uses_pseudo_header() {
        for frame in [&V3_ADVERT_1, &V3_ADVERT_2] {
            let (ip, wire) = split(frame);
            assert_eq!(ip.dst, MULTICAST_V4);
            let p = Packet::new_checked(wire).unwrap();
            assert_eq!(p.version(), 3);
            assert_eq!(p.msg_type(), TYPE_ADVERTISEMENT);
            assert_eq!(p.vrid(), 51);
            assert_eq!(p.priority(), 150);
            assert_eq!(p.addr_count(), 2);
            assert_eq!(p.max_adver_int(), 100);
            assert_eq!(p.checksum(), 0x37d6);
            assert_eq!(
                p.addrs().collect::<heapless::Vec<_, 4>>(),
                addrs(&[VIP, VIP2])
            );
            assert_eq!(p.auth_data(), [0; 8]);
            // keepalived 2.2.7 includes the pseudo-header; the message alone does not verify.
            assert!(p.verify_checksum(pseudo(&ip)));
            assert!(!p.verify_checksum(Checksum::Message));
            assert_eq!(Repr::parse(&p, Checksum::Message), Err(Error::Checksum));

            let want = Repr {
                version: Version::V3,
                vrid: 51,
                priority: 150,
                max_adver_int_cs: 100,
                auth: Auth::None,
                addrs: addrs(&[VIP, VIP2]),
            };
            assert_eq!(Repr::parse(&p, pseudo(&ip)), Ok(want.clone()));
            assert_round_trip(&want, pseudo(&ip), wire);
        }
    }

    #[test]
    fn v3_ten_ms_and_shutdown() {
        let frames = [&V3_10MS_1, &V3_10MS_2, &V3_10MS_3, &V3_PRIO0_1, &V3_PRIO0_2];
        for (i, frame) in frames.into_iter().enumerate() {
            let (ip, wire) = split(frame);
            let p = Packet::new_checked(wire).unwrap();
            let prio = if i == 4 { 0 } else { 150 };
            assert_eq!(p.checksum(), if i == 4 { 0xd906 } else { 0x4306 });
            assert_eq!(p.max_adver_int(), 1);
            let r = Repr::parse(&p, pseudo(&ip)).unwrap();
            assert_eq!(
                r,
                Repr {
                    version: Version::V3,
                    vrid: 51,
                    priority: prio,
                    max_adver_int_cs: 1,
                    auth: Auth::None,
                    addrs: addrs(&[VIP]),
                }
            );
            assert_round_trip(&r, pseudo(&ip), wire);
        }
    }

    #[test]
    fn v3_message_only_mode() {
        let (ip, wire) = split(&V3_ADVERT_1);
        let r = Repr::parse(&Packet::new_checked(wire).unwrap(), pseudo(&ip)).unwrap();
        let mut buf = [0u8; 16];
        r.emit(&mut Packet::new_unchecked(&mut buf[..]), Checksum::Message);
        // Only the checksum differs from keepalived's default.
        assert_eq!(buf[..6], wire[..6]);
        assert_eq!(buf[8..], wire[8..]);
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert!(p.verify_checksum(Checksum::Message));
        assert!(!p.verify_checksum(pseudo(&ip)));
        assert_eq!(Repr::parse(&p, Checksum::Message), Ok(r));
    }

    #[test]
    fn v3_reserved_bits_ignored() {
        let (ip, wire) = split(&V3_ADVERT_1);
        let mut buf = [0u8; 16];
        buf.copy_from_slice(wire);
        buf[4] |= 0xf0;
        let mut p = Packet::new_unchecked(&mut buf[..]);
        p.fill_checksum(pseudo(&ip));
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.max_adver_int(), 100);
        assert_eq!(Repr::parse(&p, pseudo(&ip)).unwrap().max_adver_int_cs, 100);
    }

    #[test]
    fn v2_emit_limits_and_auth_kinds() {
        let mut r = Repr {
            version: Version::V2,
            vrid: 7,
            priority: 255,
            max_adver_int_cs: 60_000,
            auth: Auth::None,
            addrs: addrs(&[VIP]),
        };
        let mut buf = [0xaau8; 20];
        r.emit(&mut Packet::new_unchecked(&mut buf[..]), Checksum::Message);
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.adver_int_v2(), 255);
        assert_eq!(p.auth_type(), AUTH_TYPE_NONE);
        assert_eq!(p.auth_data(), [0; 8]);
        let back = Repr::parse(&p, Checksum::Message).unwrap();
        assert_eq!((back.max_adver_int_cs, back.auth), (25_500, Auth::None));

        r.auth = Auth::Other(2);
        r.max_adver_int_cs = 300;
        r.emit(&mut Packet::new_unchecked(&mut buf[..]), Checksum::Message);
        let p = Packet::new_checked(&buf[..]).unwrap();
        let back = Repr::parse(&p, Checksum::Message).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn v3_emit_clamps_interval_and_fits_larger_buffer() {
        let r = Repr {
            version: Version::V3,
            vrid: 1,
            priority: 100,
            max_adver_int_cs: 5000,
            auth: Auth::Pass(PASS), // ignored for v3
            addrs: addrs(&[VIP]),
        };
        // A buffer longer than the message: the checksum must cover only the message.
        let mut buf = [0x55u8; 40];
        let how = Checksum::Pseudo {
            src: Ipv4Addr::new(10, 99, 0, 1),
            dst: MULTICAST_V4,
        };
        r.emit(&mut Packet::new_unchecked(&mut buf[..]), how);
        let p = Packet::new_checked(&buf[..r.buffer_len()]).unwrap();
        assert_eq!(p.max_adver_int(), MAX_ADVER_INT_CS);
        let back = Repr::parse(&p, how).unwrap();
        assert_eq!(back.auth, Auth::None);
        assert_eq!(back.max_adver_int_cs, 4095);
    }

    #[test]
    fn rejects_bad_messages() {
        let (_, wire) = split(&V2_PASS_1);
        let m = Checksum::Message;
        let mut long = [0u8; 21];
        long[..20].copy_from_slice(wire);
        assert_eq!(Packet::new_checked(&long[..]).err(), Some(Error::Length));
        assert_eq!(
            Packet::new_checked(&wire[..19]).err(),
            Some(Error::Truncated)
        );
        assert_eq!(
            Packet::new_checked(&wire[..7]).err(),
            Some(Error::Truncated)
        );

        let edit = |f: &dyn Fn(&mut Packet<&mut [u8]>)| {
            let mut b = [0u8; 20];
            b.copy_from_slice(wire);
            let mut p = Packet::new_unchecked(&mut b[..]);
            f(&mut p);
            p.fill_checksum(m);
            Packet::new_checked(&b[..]).and_then(|p| Repr::parse(&p, m))
        };
        assert_eq!(edit(&|p| p.set_version(1)), Err(Error::Version));
        assert_eq!(edit(&|p| p.set_version(4)), Err(Error::Version));
        assert_eq!(edit(&|p| p.set_msg_type(2)), Err(Error::Type));
        assert_eq!(edit(&|p| p.set_addr_count(2)), Err(Error::Truncated));
        assert_eq!(edit(&|p| p.set_addr_count(0)), Err(Error::Length));

        let mut b = [0u8; 20];
        b.copy_from_slice(wire);
        b[2] = 100; // priority changed without fixing the checksum
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Repr::parse(&p, m), Err(Error::Checksum));

        // An unchecked view of junk is re-checked by parse rather than trusted.
        assert_eq!(
            Repr::parse(&Packet::new_unchecked(&wire[..12]), m),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn too_many_addrs() {
        // 33 addresses: a well-formed v3 message we still refuse to hold.
        let n = MAX_VIPS + 1;
        let mut b = [0u8; HEADER_LEN + 4 * (MAX_VIPS + 1)];
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_version(3);
        p.set_msg_type(TYPE_ADVERTISEMENT);
        p.set_vrid(1);
        p.set_priority(100);
        p.set_addr_count(n as u8);
        p.set_max_adver_int(100);
        for i in 0..n {
            p.set_addr(i, Ipv4Addr::new(10, 99, 1, i as u8));
        }
        p.fill_checksum(Checksum::Message);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.addrs().count(), n);
        assert_eq!(p.addr(n - 1), Some(Ipv4Addr::new(10, 99, 1, 32)));
        assert_eq!(Repr::parse(&p, Checksum::Message), Err(Error::TooManyAddrs));
    }

    #[test]
    fn never_panics_on_junk() {
        let how = Checksum::Pseudo {
            src: Ipv4Addr::new(10, 99, 0, 11),
            dst: MULTICAST_V4,
        };
        for frame in [&V2_PASS_1[..], &V3_ADVERT_1[..]] {
            let (_, wire) = split(frame);
            for n in 0..=wire.len() {
                let _ = Repr::parse(&Packet::new_unchecked(&wire[..n]), how);
            }
            for_each_mutation(wire, |b| {
                let _ = Repr::parse(&Packet::new_unchecked(b), how);
                if let Ok(p) = Packet::new_checked(b) {
                    let _ = (p.addrs().count(), p.auth_data(), p.verify_checksum(how));
                    let _ = Repr::parse(&p, Checksum::Message);
                }
            });
        }
    }

    /// The IPv6 header (checked: hop limit 255, next header 112) and the VRRP bytes.
    fn split6(frame: &[u8]) -> (ipv6::Repr, &[u8]) {
        let ip = ipv6::Packet::new_checked(&frame[14..]).unwrap();
        let r = ipv6::Repr::parse(&ip).unwrap();
        assert_eq!((r.hop_limit, r.next_header), (255, PROTOCOL_VRRP));
        assert_eq!(r.dst, MULTICAST_V6);
        (r, ip.into_payload())
    }

    fn v6(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn v3_ipv6_keepalived() {
        let (ip, wire) = split6(&V3_V6_ADVERT);
        let how = Checksum::Pseudo {
            src: ip.src,
            dst: ip.dst,
        };
        let p = Packet::<_, Ipv6Addr>::checked(wire).unwrap();
        assert_eq!((p.version(), p.vrid(), p.priority()), (3, 51, 150));
        assert_eq!((p.addr_count(), p.max_adver_int()), (2, 100));
        assert_eq!(p.checksum(), 0x3c82);
        assert_eq!(p.addr(0), Some(v6("fe80::1:100")));
        assert_eq!(p.addr(1), Some(v6("fd00:99::100")));
        assert_eq!(p.addr(2), None);
        assert!(p.verify_checksum(how));
        assert!(!p.verify_checksum(Checksum::Message));
        let want = Repr {
            version: Version::V3,
            vrid: 51,
            priority: 150,
            max_adver_int_cs: 100,
            auth: Auth::None,
            addrs: heapless::Vec::from_slice(&[v6("fe80::1:100"), v6("fd00:99::100")]).unwrap(),
        };
        assert_eq!(Repr::parse(&p, how), Ok(want.clone()));
        assert_eq!(Repr::parse(&p, Checksum::Message), Err(Error::Checksum));
        assert_eq!(want.buffer_len(), 40);
        let mut buf = [0u8; 40];
        want.emit(&mut Packet::unchecked(&mut buf[..]), how);
        assert_eq!(&buf[..], wire);
        // The same bytes read as IPv4 are 2 addresses of 4 bytes and 32 bytes too many.
        assert_eq!(Packet::new_checked(wire).err(), Some(Error::Length));
    }

    #[test]
    fn v3_ipv6_frr() {
        for (frame, prio, sum) in [
            (&FRR_V3_V6_ADVERT, 200, 0xe7cf),
            (&FRR_V3_V6_PRIO0, 0, 0xafd0),
        ] {
            let (ip, wire) = split6(frame);
            assert_eq!(ip.src, v6("fe80::e462:740d:5144:782a"));
            let how = Checksum::Pseudo {
                src: ip.src,
                dst: ip.dst,
            };
            let p = Packet::<_, Ipv6Addr>::checked(wire).unwrap();
            assert_eq!(p.checksum(), sum);
            let r = Repr::parse(&p, how).unwrap();
            assert_eq!(
                r,
                Repr {
                    version: Version::V3,
                    vrid: 51,
                    priority: prio,
                    max_adver_int_cs: 100,
                    auth: Auth::None,
                    addrs: heapless::Vec::from_slice(&[v6("fd99::100")]).unwrap(),
                }
            );
            let mut buf = [0u8; 24];
            r.emit(&mut Packet::unchecked(&mut buf[..]), how);
            assert_eq!(&buf[..], wire);
        }
    }

    #[test]
    fn frr_ipv4_adverts_decode() {
        let vip = addrs(&[VIP]);
        for (frame, version, prio, cs) in [
            (&FRR_V3_V4_ADVERT[..], Version::V3, 200, 100),
            (&FRR_V3_V4_PRIO0[..], Version::V3, 0, 100),
            (&FRR_V2_ADVERT[..], Version::V2, 200, 100),
            (&FRR_V2_PRIO0[..], Version::V2, 0, 100),
        ] {
            let (ip, wire) = split(frame);
            assert_eq!(
                (ip.src, ip.dst),
                (Ipv4Addr::new(10, 99, 0, 11), MULTICAST_V4)
            );
            let p = Packet::new_checked(wire).unwrap();
            let r = Repr::parse(&p, pseudo(&ip)).unwrap();
            let want = Repr {
                version,
                vrid: 51,
                priority: prio,
                max_adver_int_cs: cs,
                auth: Auth::None,
                addrs: vip.clone(),
            };
            assert_eq!(r, want);
            // FRR 8.4 always includes the pseudo-header in v3 (it has no knob to leave it out).
            if version == Version::V3 {
                assert!(!p.verify_checksum(Checksum::Message));
            }
            assert_round_trip(&r, pseudo(&ip), wire);
        }
    }

    #[test]
    fn v2_does_not_exist_over_ipv6() {
        let (_, wire) = split(&V2_PASS_1);
        // 20 bytes: a v2 header with one 4-byte address and auth data; as IPv6 it is refused
        // for its version before its length.
        assert_eq!(
            Packet::<_, Ipv6Addr>::checked(wire).err(),
            Some(Error::Version)
        );
        let mut b = [0u8; 32];
        let mut p = Packet::<_, Ipv6Addr>::unchecked(&mut b[..]);
        p.set_version(2);
        p.set_msg_type(TYPE_ADVERTISEMENT);
        p.set_addr_count(1);
        let how = Checksum::Pseudo {
            src: v6("fe80::1"),
            dst: MULTICAST_V6,
        };
        assert_eq!(
            Repr::parse(&Packet::<_, Ipv6Addr>::unchecked(&b[..24]), how),
            Err(Error::Version)
        );
    }

    #[test]
    fn ipv6_never_panics_on_junk() {
        let (ip, wire) = split6(&V3_V6_ADVERT);
        let how = Checksum::Pseudo {
            src: ip.src,
            dst: ip.dst,
        };
        for n in 0..=wire.len() {
            let _ = Repr::parse(&Packet::<_, Ipv6Addr>::unchecked(&wire[..n]), how);
        }
        for_each_mutation(wire, |b| {
            let _ = Repr::parse(&Packet::<_, Ipv6Addr>::unchecked(b), how);
            if let Ok(p) = Packet::<_, Ipv6Addr>::checked(b) {
                let _ = (p.addrs().count(), p.auth_data(), p.verify_checksum(how));
            }
        });
    }
}
