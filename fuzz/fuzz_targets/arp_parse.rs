//! The gratuitous ARP codec on arbitrary frames; what parses must round-trip.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vrrpd::wire::arp::{FRAME_LEN, Repr};

fuzz_target!(|data: &[u8]| {
    let Ok(repr) = Repr::parse(data) else {
        return;
    };
    let mut frame = [0u8; FRAME_LEN];
    let n = repr
        .emit(&mut frame)
        .expect("a frame buffer of FRAME_LEN fits");
    assert_eq!(
        Repr::parse(&frame[..n]),
        Ok(repr),
        "round trip changed the ARP"
    );
});
