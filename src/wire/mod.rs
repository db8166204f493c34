//! Packet codecs: IPv4 and IPv6 headers, VRRP v2/v3 message (IPv4 and IPv6), gratuitous ARP
//! frame, unsolicited neighbour advertisement frame.
//!
//! Each codec follows the same shape: a `Packet<T>` view over a byte buffer whose getters and
//! setters read and write fields in place, and a plain `Repr` that `parse`s from a checked
//! `Packet` and `emit`s into one. No I/O, no allocation, and no input can make them panic: every
//! length is checked in `Packet::check_len` before a getter touches the bytes.

pub mod arp;
pub mod checksum;
pub mod ipv4;
pub mod ipv6;
pub mod ndisc;
pub mod vrrp;

#[cfg(test)]
pub(crate) mod testdata;

/// Why a packet was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The buffer is shorter than the packet says it is.
    Truncated,
    /// The buffer is longer than the packet says it is (VRRP must fill its IP payload exactly).
    Length,
    /// Unknown protocol version.
    Version,
    /// Unknown message type, ethertype or ARP operation.
    Type,
    /// The checksum does not verify.
    Checksum,
    /// More addresses than `limits::MAX_VIPS`.
    TooManyAddrs,
    /// A field holds a value the format does not allow.
    Malformed,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let s = match self {
            Error::Truncated => "truncated packet",
            Error::Length => "packet longer than its fields say",
            Error::Version => "unknown version",
            Error::Type => "unknown type",
            Error::Checksum => "bad checksum",
            Error::TooManyAddrs => "too many addresses",
            Error::Malformed => "malformed packet",
        };
        f.write_str(s)
    }
}

impl core::error::Error for Error {}

pub type Result<T> = core::result::Result<T, Error>;

/// Big-endian reads and writes on slices whose length the caller has already checked.
mod be {
    pub fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_be_bytes([b[at], b[at + 1]])
    }
    pub fn set_u16_at(b: &mut [u8], at: usize, v: u16) {
        b[at..at + 2].copy_from_slice(&v.to_be_bytes());
    }
    pub fn ipv4_at(b: &[u8], at: usize) -> core::net::Ipv4Addr {
        core::net::Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3])
    }
    pub fn set_ipv4_at(b: &mut [u8], at: usize, a: core::net::Ipv4Addr) {
        b[at..at + 4].copy_from_slice(&a.octets());
    }
    pub fn ipv6_at(b: &[u8], at: usize) -> core::net::Ipv6Addr {
        let mut o = [0u8; 16];
        o.copy_from_slice(&b[at..at + 16]);
        core::net::Ipv6Addr::from(o)
    }
    pub fn set_ipv6_at(b: &mut [u8], at: usize, a: core::net::Ipv6Addr) {
        b[at..at + 16].copy_from_slice(&a.octets());
    }
}
