//! The whole IPv4 receive path on arbitrary bytes: an IPv4 packet as the raw socket hands it
//! over, split into metadata and message, then checked. The first byte picks what the instance
//! expects, so every branch of the checks is reachable.

#![no_main]

use core::time::Duration;
use std::net::{IpAddr, Ipv4Addr};

use libfuzzer_sys::fuzz_target;
use vrrpd::vrrp::rx;
use vrrpd::vrrp::{Family, Garp, Spec, Version};

const VIPS: [IpAddr; 2] = [
    IpAddr::V4(Ipv4Addr::new(10, 99, 0, 100)),
    IpAddr::V4(Ipv4Addr::new(10, 99, 0, 101)),
];
const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 12));

fuzz_target!(|data: &[u8]| {
    let Some((&sel, packet)) = data.split_first() else {
        return;
    };
    // Bit 0: v3; bit 1: PASS auth; bit 2: unicast with one peer; bit 3: two VIPs.
    let nvips = if sel & 8 != 0 { 2 } else { 1 };
    let want = Spec {
        vrid: 51,
        version: if sel & 1 != 0 {
            Version::V3(Family::V4)
        } else {
            Version::V2
        },
        priority: 100,
        advert_int_cs: 100,
        preempt: true,
        preempt_delay: Duration::ZERO,
        garp: Garp {
            repeat: 1,
            delay: Duration::ZERO,
            refresh: Duration::ZERO,
            refresh_repeat: 1,
            interval: Duration::ZERO,
            extra_addrs: 0,
            extra_if: Duration::ZERO,
        },
        auth: (sel & 2 != 0).then_some(*b"s3cret\0\0"),
        vips: VIPS[..nvips].iter().copied().collect(),
        peers: (sel & 4 != 0).then_some(PEER).into_iter().collect(),
        checksum_as_v2: false,
        strict: false,
    };
    let Ok((meta, msg)) = rx::split_ipv4(packet) else {
        return;
    };
    let vrid = rx::peek_vrid(msg);
    if let Ok(adv) = rx::check(&meta, msg, &want) {
        // Whatever passes must at least be a packet whose VRID could be found first.
        assert!(vrid.is_ok(), "accepted a packet whose VRID cannot be read");
        assert!(want.peers.is_empty() || want.peers.contains(&adv.src));
    }
});
