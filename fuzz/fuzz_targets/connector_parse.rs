//! The process connector decoder on arbitrary datagrams, as the connector socket could hand
//! them over.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vrrpd::sys::connector::parse;

fuzz_target!(|data: &[u8]| {
    let mut events = 0usize;
    let _ = parse(data, &mut |ev| {
        std::hint::black_box(ev);
        events += 1;
    });
    // Each event needs a netlink header and a connector header at least.
    assert!(events <= data.len() / 36);
});
