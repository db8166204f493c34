//! Health-tracking arithmetic, pure: what a tracked script, interface or file does to an
//! instance's priority, rise/fall counting, and the effective priority they add up to.
//!
//! The daemon (`daemon::track`) runs the scripts and watches links and files; it feeds their
//! results through here and hands the verdict to the instance as `Input::Priority` and
//! `Input::TrackFault`.

pub mod process;

use crate::vrrp::instance::PRIORITY_OWNER;

/// Lowest and highest priority a non-owner may advertise (RFC 5798 §5.2.4: 0 and 255 are
/// reserved for stopping and for the address owner).
pub const PRIORITY_MIN: u8 = 1;
pub const PRIORITY_MAX: u8 = 254;

/// A file value times its weight below this puts the instance in FAULT (as keepalived).
const FILE_FAULT_BELOW: i64 = -253;
/// The largest adjustment one file may make.
const FILE_DELTA_MAX: i64 = 253;

/// What a tracked object currently says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A script that succeeds, an interface that is up.
    Up,
    /// A script that fails, an interface that is down or missing.
    Down,
    /// The integer read from a tracked file.
    Value(i64),
}

/// What one tracker does to an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Fault,
    /// Added to the configured priority (may be negative or zero).
    Delta(i32),
}

/// The effect of one tracker with `weight` in `status`.
///
/// Up/down trackers: weight 0 means FAULT while down; a positive weight is added while up; a
/// negative one is added (so subtracted) while down. Files: weight 0 means FAULT on any non-zero
/// value; otherwise value × weight is added, and below -253 it means FAULT.
pub fn effect(weight: i32, status: Status) -> Effect {
    match status {
        Status::Up if weight > 0 => Effect::Delta(weight),
        Status::Down if weight == 0 => Effect::Fault,
        Status::Down if weight < 0 => Effect::Delta(weight),
        Status::Up | Status::Down => Effect::Delta(0),
        Status::Value(v) if weight == 0 => {
            if v == 0 {
                Effect::Delta(0)
            } else {
                Effect::Fault
            }
        }
        Status::Value(v) => {
            let r = v.saturating_mul(i64::from(weight));
            if r < FILE_FAULT_BELOW {
                Effect::Fault
            } else {
                // In -253..=253 after the clamp, so it fits an i32.
                Effect::Delta(r.min(FILE_DELTA_MAX) as i32)
            }
        }
    }
}

/// What the trackers of an instance add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Fault,
    /// The effective priority to advertise.
    Priority(u8),
}

/// Combines the effects on an instance configured with priority `base`: any fault wins; the
/// address owner keeps 255 (its priority is what makes it the owner); everyone else is clamped to
/// 1..=254 so trackers can neither stop the instance nor make it claim ownership.
pub fn verdict(base: u8, effects: impl IntoIterator<Item = Effect>) -> Verdict {
    let mut sum: i64 = 0;
    for e in effects {
        match e {
            Effect::Fault => return Verdict::Fault,
            Effect::Delta(d) => sum = sum.saturating_add(i64::from(d)),
        }
    }
    if base == PRIORITY_OWNER {
        return Verdict::Priority(PRIORITY_OWNER);
    }
    let p = (i64::from(base) + sum).clamp(i64::from(PRIORITY_MIN), i64::from(PRIORITY_MAX));
    // Clamped to 1..=254 just above.
    Verdict::Priority(p as u8)
}

/// Rise/fall counting for a script: it changes state only after `rise` consecutive successes
/// (down → up) or `fall` consecutive failures (up → down). It starts up, as keepalived's scripts
/// do without `init_fail`, so a daemon start does not fault every instance for `rise` intervals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RiseFall {
    up: bool,
    /// Consecutive results that disagree with `up`.
    streak: u32,
}

impl Default for RiseFall {
    fn default() -> Self {
        Self::new()
    }
}

impl RiseFall {
    pub const fn new() -> Self {
        RiseFall {
            up: true,
            streak: 0,
        }
    }

    pub fn is_up(&self) -> bool {
        self.up
    }

    pub fn status(&self) -> Status {
        if self.up { Status::Up } else { Status::Down }
    }

    /// Records one run's result. True if the state changed. A count of 0 counts as 1.
    pub fn record(&mut self, ok: bool, rise: u32, fall: u32) -> bool {
        if ok == self.up {
            self.streak = 0;
            return false;
        }
        self.streak = self.streak.saturating_add(1);
        let need = if ok { rise } else { fall }.max(1);
        if self.streak >= need {
            self.up = ok;
            self.streak = 0;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_down_weights() {
        assert_eq!(effect(0, Status::Up), Effect::Delta(0));
        assert_eq!(effect(0, Status::Down), Effect::Fault);
        assert_eq!(effect(20, Status::Up), Effect::Delta(20));
        assert_eq!(effect(20, Status::Down), Effect::Delta(0));
        assert_eq!(effect(-30, Status::Up), Effect::Delta(0));
        assert_eq!(effect(-30, Status::Down), Effect::Delta(-30));
    }

    #[test]
    fn file_weights() {
        assert_eq!(effect(0, Status::Value(0)), Effect::Delta(0));
        assert_eq!(effect(0, Status::Value(3)), Effect::Fault);
        assert_eq!(effect(0, Status::Value(-1)), Effect::Fault);
        assert_eq!(effect(1, Status::Value(-10)), Effect::Delta(-10));
        assert_eq!(effect(-5, Status::Value(4)), Effect::Delta(-20));
        assert_eq!(effect(1, Status::Value(-253)), Effect::Delta(-253));
        assert_eq!(effect(1, Status::Value(-254)), Effect::Fault);
        assert_eq!(effect(254, Status::Value(-1)), Effect::Fault);
        assert_eq!(effect(2, Status::Value(1000)), Effect::Delta(253));
        // No overflow at the extremes.
        assert_eq!(
            effect(i32::MAX, Status::Value(i64::MAX)),
            Effect::Delta(253)
        );
        assert_eq!(effect(i32::MAX, Status::Value(i64::MIN)), Effect::Fault);
    }

    #[test]
    fn verdict_clamps_and_faults() {
        use Effect::*;
        assert_eq!(verdict(100, []), Verdict::Priority(100));
        assert_eq!(verdict(100, [Delta(20), Delta(-50)]), Verdict::Priority(70));
        assert_eq!(verdict(100, [Delta(-200)]), Verdict::Priority(1));
        assert_eq!(verdict(200, [Delta(100)]), Verdict::Priority(254));
        assert_eq!(verdict(254, [Delta(1)]), Verdict::Priority(254));
        assert_eq!(verdict(1, [Delta(-1)]), Verdict::Priority(1));
        assert_eq!(verdict(100, [Delta(10), Fault]), Verdict::Fault);
        // The owner stays the owner, but may still fault.
        assert_eq!(verdict(255, [Delta(-100)]), Verdict::Priority(255));
        assert_eq!(verdict(255, [Delta(5)]), Verdict::Priority(255));
        assert_eq!(verdict(255, [Fault]), Verdict::Fault);
        // Many big deltas do not overflow.
        let many = core::iter::repeat_n(Delta(i32::MAX), 10);
        assert_eq!(verdict(10, many), Verdict::Priority(254));
    }

    #[test]
    fn rise_and_fall_count_consecutive_results() {
        let mut h = RiseFall::new();
        assert!(h.is_up());
        // fall 3: two failures, a success resets, then three failures.
        assert!(!h.record(false, 2, 3));
        assert!(!h.record(false, 2, 3));
        assert!(!h.record(true, 2, 3));
        assert!(!h.record(false, 2, 3));
        assert!(!h.record(false, 2, 3));
        assert!(h.is_up());
        assert!(h.record(false, 2, 3));
        assert!(!h.is_up());
        assert_eq!(h.status(), Status::Down);
        // Failures while down change nothing; rise 2 needs two successes in a row.
        assert!(!h.record(false, 2, 3));
        assert!(!h.record(true, 2, 3));
        assert!(!h.record(false, 2, 3));
        assert!(!h.record(true, 2, 3));
        assert!(h.record(true, 2, 3));
        assert!(h.is_up());
    }

    #[test]
    fn rise_fall_zero_means_one() {
        let mut h = RiseFall::new();
        assert!(h.record(false, 0, 0));
        assert!(h.record(true, 0, 0));
    }
}
