//! The config reader (lexer, block tree, keywords, validation) on arbitrary text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vrrpd::config::{Severity, load_str};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // `include` reads files named by the input (the fuzzer would find /dev/zero or / quickly);
    // the include machinery has its own tests, so such inputs are not interesting here.
    if text.contains("include") {
        return;
    }
    let loaded = load_str(text, "fuzz.conf");
    let has_error = loaded
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error);
    assert_eq!(
        loaded.config.is_some(),
        !has_error,
        "config present iff no error"
    );
});
