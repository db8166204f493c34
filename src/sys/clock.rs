//! The monotonic clock, in the core's `Instant` units (microseconds).

use crate::time::Instant;

/// Reads CLOCK_MONOTONIC.
pub fn now() -> Instant {
    from_timespec(&monotonic())
}

fn monotonic() -> libc::timespec {
    let mut ts = zero_timespec();
    // SAFETY: `ts` is a live, writable timespec. CLOCK_MONOTONIC always exists on Linux and the
    // pointer is valid, so the call cannot fail; were it to, `ts` stays zero rather than garbage.
    let _ = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts
}

/// Microseconds from a timespec; negative fields (never seen on the monotonic clock) count as 0.
pub(super) fn from_timespec(ts: &libc::timespec) -> Instant {
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(ts.tv_nsec).unwrap_or(0);
    Instant::from_micros(secs.saturating_mul(1_000_000).saturating_add(nanos / 1_000))
}

/// The timespec of an `Instant`, for the timer.
pub(super) fn to_timespec(t: Instant) -> libc::timespec {
    let us = t.as_micros();
    let mut ts = zero_timespec();
    // u64::MAX / 10^6 fits in a 64-bit time_t; a 32-bit one only matters past 2038 of uptime.
    ts.tv_sec = (us / 1_000_000) as _;
    // Below 10^9, so it fits whatever integer type the target uses.
    ts.tv_nsec = ((us % 1_000_000) * 1_000) as _;
    ts
}

/// An all-zero timespec. Built this way because some 32-bit musl targets add a private padding
/// field, which rules out a struct literal.
pub(super) fn zero_timespec() -> libc::timespec {
    // SAFETY: timespec is plain integers (plus padding), for which all-zero bytes are valid.
    unsafe { std::mem::zeroed() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_monotonic_and_nonzero() {
        let a = now();
        let b = now();
        assert!(a.as_micros() > 0);
        assert!(b >= a);
    }

    #[test]
    fn timespec_round_trip() {
        for us in [0, 1, 999_999, 1_000_000, 1_234_567_891, u64::MAX] {
            let t = Instant::from_micros(us);
            assert_eq!(from_timespec(&to_timespec(t)), t);
        }
        let mut neg = zero_timespec();
        neg.tv_sec = -5;
        neg.tv_nsec = -1;
        assert_eq!(from_timespec(&neg).as_micros(), 0);
    }
}
