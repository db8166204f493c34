//! The internet checksum (RFC 1071): ones-complement sum of 16-bit big-endian words.
//!
//! Partial sums from `sum`, `pseudo_header_v4` and `pseudo_header_v6` can be added together and then `fold`ed; each
//! is kept below 2^17, so adding a handful of them never overflows a `u32`.

use core::net::{Ipv4Addr, Ipv6Addr};

/// Sum `data` as 16-bit big-endian words, padding an odd last byte with zero. The result is
/// already partly folded (at most 0xffff), so it is safe to add to other partial sums.
pub fn sum(data: &[u8]) -> u32 {
    // A u64 cannot overflow for any slice that fits in memory.
    let mut acc: u64 = 0;
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        acc += u64::from(*last) << 8;
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u32
}

/// Fold the carries of a partial sum back in and complement it: the value for the checksum
/// field. Summing a message that holds a correct checksum and folding gives 0.
pub fn fold(sum: u32) -> u16 {
    let mut s = sum;
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// Partial sum of the IPv4 pseudo-header (RFC 768 layout): source, destination, a zero byte,
/// the protocol and the upper-layer length.
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, len: u16) -> u32 {
    let mut b = [0u8; 12];
    b[0..4].copy_from_slice(&src.octets());
    b[4..8].copy_from_slice(&dst.octets());
    b[9] = protocol;
    b[10..12].copy_from_slice(&len.to_be_bytes());
    sum(&b)
}

/// Partial sum of the IPv6 pseudo-header (RFC 8200 section 8.1): source, destination, the
/// 32-bit upper-layer length, three zero bytes and the next header.
pub fn pseudo_header_v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, len: u32) -> u32 {
    let mut b = [0u8; 40];
    b[0..16].copy_from_slice(&src.octets());
    b[16..32].copy_from_slice(&dst.octets());
    b[32..36].copy_from_slice(&len.to_be_bytes());
    b[39] = next_header;
    sum(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // The worked example in RFC 1071 section 3: the sum is 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(sum(&data), 0xddf2);
        assert_eq!(fold(sum(&data)), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(sum(&[0x12, 0x34, 0x56]), 0x1234 + 0x5600);
        assert_eq!(sum(&[]), 0);
        assert_eq!(fold(0), 0xffff);
    }

    #[test]
    fn large_input_does_not_overflow() {
        let data = [0xffu8; 70_000];
        assert_eq!(sum(&data), 0xffff);
        assert_eq!(fold(sum(&data)), 0);
        assert_eq!(fold(u32::MAX), 0);
    }

    #[test]
    fn pseudo_header_layout() {
        let a = Ipv4Addr::new(10, 99, 0, 11);
        let b = Ipv4Addr::new(224, 0, 0, 18);
        let expect = sum(&[10, 99, 0, 11, 224, 0, 0, 18, 0, 112, 0, 16]);
        assert_eq!(pseudo_header_v4(a, b, 112, 16), expect);
    }

    #[test]
    fn pseudo_header_v6_layout() {
        let a: Ipv6Addr = "fe80::1".parse().unwrap();
        let b: Ipv6Addr = "ff02::12".parse().unwrap();
        let mut want = [0u8; 40];
        want[0] = 0xfe;
        want[1] = 0x80;
        want[15] = 1;
        want[16] = 0xff;
        want[17] = 0x02;
        want[31] = 0x12;
        want[35] = 40;
        want[39] = 112;
        assert_eq!(pseudo_header_v6(a, b, 112, 40), sum(&want));
        // The length is 32 bits wide: its high half is summed too.
        assert_ne!(
            pseudo_header_v6(a, b, 112, 0x1_0000),
            pseudo_header_v6(a, b, 112, 0)
        );
    }
}
