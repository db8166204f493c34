//! The whole receive path on arbitrary bytes: an IPv4 packet as the raw socket hands it over.
//! The first byte picks what the instance expects, so every branch of the checks is reachable.

#![no_main]

use std::net::Ipv4Addr;

use libfuzzer_sys::fuzz_target;
use vrrpd::vrrp::rx::{self, Expect};
use vrrpd::wire::vrrp::Version;

const VIPS: [Ipv4Addr; 2] = [Ipv4Addr::new(10, 99, 0, 100), Ipv4Addr::new(10, 99, 0, 101)];
const PEERS: [Ipv4Addr; 1] = [Ipv4Addr::new(10, 99, 0, 12)];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, packet)) = data.split_first() else {
        return;
    };
    // Bit 0: v3; bit 1: PASS auth; bit 2: unicast with one peer; bit 3: two VIPs.
    let want = Expect {
        version: if sel & 1 != 0 {
            Version::V3
        } else {
            Version::V2
        },
        auth: (sel & 2 != 0).then_some(*b"s3cret\0\0"),
        advert_int_cs: 100,
        vips: if sel & 8 != 0 { &VIPS[..] } else { &VIPS[..1] },
        peers: if sel & 4 != 0 { &PEERS[..] } else { &[] },
    };
    let vrid = rx::peek_vrid(packet);
    if let Ok(adv) = rx::check(packet, &want) {
        // Whatever passes must at least be a packet whose VRID could be found first.
        assert!(vrid.is_ok(), "accepted a packet whose VRID cannot be read");
        assert!(want.peers.is_empty() || want.peers.contains(&adv.src));
    }
});
