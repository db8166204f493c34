//! The VRRP codec without an IP header, both checksum modes. What parses must survive a round
//! trip: emitting it and parsing the result gives the same advert back.

#![no_main]

use std::net::Ipv4Addr;

use libfuzzer_sys::fuzz_target;
use vrrpd::wire::vrrp::{Checksum, Packet, Repr};

fuzz_target!(|data: &[u8]| {
    let Ok(pkt) = Packet::new_checked(data) else {
        return;
    };
    let pseudo = Checksum::Pseudo {
        src: Ipv4Addr::new(10, 99, 0, 11),
        dst: Ipv4Addr::new(224, 0, 0, 18),
    };
    for how in [Checksum::Message, pseudo] {
        let Ok(repr) = Repr::parse(&pkt, how) else {
            continue;
        };
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]), how);
        let again = Packet::new_checked(&buf[..]).and_then(|p| Repr::parse(&p, how));
        assert_eq!(again, Ok(repr), "round trip changed the advert");
    }
});
