//! The rtnetlink decoder on arbitrary datagrams, as the monitor socket could hand them over.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vrrpd::sys::netlink::parse_messages;

fuzz_target!(|data: &[u8]| {
    let mut events = 0usize;
    let _ = parse_messages(data, &mut |ev| {
        std::hint::black_box(ev);
        events += 1;
    });
    // Each event needs at least a 16-byte message header.
    assert!(events <= data.len() / 16);
});
