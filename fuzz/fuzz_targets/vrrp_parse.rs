//! The VRRP codec without an IP header: IPv4 in both checksum modes, and IPv6 with its
//! pseudo-header. What parses must survive a round trip: emitting it and parsing the result
//! gives the same advert back.

#![no_main]

use std::net::{Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use vrrpd::wire::vrrp::{Address, Checksum, MULTICAST_V4, MULTICAST_V6, Packet, Repr};

/// Parses `data` as a message of family `A` in each checksum mode and checks the round trip.
fn round_trip<A: Address>(data: &[u8], modes: &[Checksum<A>]) {
    let Ok(pkt) = Packet::<_, A>::checked(data) else {
        return;
    };
    for &how in modes {
        let Ok(repr) = Repr::parse(&pkt, how) else {
            continue;
        };
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Packet::unchecked(&mut buf[..]), how);
        let again = Packet::<_, A>::checked(&buf[..]).and_then(|p| Repr::parse(&p, how));
        assert_eq!(again, Ok(repr), "round trip changed the advert");
    }
}

fuzz_target!(|data: &[u8]| {
    let v4 = Checksum::Pseudo {
        src: Ipv4Addr::new(10, 99, 0, 11),
        dst: MULTICAST_V4,
    };
    round_trip(data, &[Checksum::Message, v4]);
    let v6 = Checksum::Pseudo {
        src: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0x99, 0xff, 1),
        dst: MULTICAST_V6,
    };
    round_trip(data, &[v6]);
});
