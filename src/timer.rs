//! Deadlines for the event loop, one slot per key, all driven by a single timerfd.
//!
//! Not a hashed wheel: with a few hundred keys at most, scanning a fixed array of deadlines costs
//! well under a microsecond and keeps every deadline exact, where a wheel would round each one to
//! its tick (and the benchmark holds us to about a millisecond). No allocation after `new`.

use crate::time::Instant;

pub struct Timers<const N: usize> {
    slots: [Option<Instant>; N],
    /// Cached earliest deadline; `None` when no slot is armed.
    earliest: Option<Instant>,
}

impl<const N: usize> Default for Timers<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Timers<N> {
    pub const fn new() -> Self {
        Timers {
            slots: [None; N],
            earliest: None,
        }
    }

    /// Arms (`Some`) or cancels (`None`) the deadline of `key`. Keys at or past `N` are ignored.
    pub fn set(&mut self, key: usize, deadline: Option<Instant>) {
        let Some(slot) = self.slots.get_mut(key) else {
            return;
        };
        let old = core::mem::replace(slot, deadline);
        match (deadline, self.earliest) {
            (Some(d), Some(e)) if d <= e => self.earliest = Some(d),
            (Some(d), None) => self.earliest = Some(d),
            // Only moving or removing the current earliest can make the cache stale.
            _ if old.is_some() && old == self.earliest => self.rescan(),
            _ => {}
        }
    }

    pub fn get(&self, key: usize) -> Option<Instant> {
        self.slots.get(key).copied().flatten()
    }

    /// The earliest armed deadline, what the timerfd should be set to.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.earliest
    }

    /// Disarms every slot due at `now` and calls `f` with its key, earliest first is not promised.
    pub fn expire(&mut self, now: Instant, mut f: impl FnMut(usize)) {
        if self.earliest.is_none_or(|e| e > now) {
            return;
        }
        for (key, slot) in self.slots.iter_mut().enumerate() {
            if slot.is_some_and(|d| d <= now) {
                *slot = None;
                f(key);
            }
        }
        self.rescan();
    }

    fn rescan(&mut self) {
        self.earliest = self.slots.iter().flatten().min().copied();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(us: u64) -> Instant {
        Instant::from_micros(us)
    }

    #[test]
    fn earliest_follows_set_and_cancel() {
        let mut w = Timers::<4>::new();
        assert_eq!(w.next_deadline(), None);
        w.set(0, Some(t(50)));
        w.set(1, Some(t(20)));
        w.set(2, Some(t(30)));
        assert_eq!(w.next_deadline(), Some(t(20)));
        w.set(1, None);
        assert_eq!(w.next_deadline(), Some(t(30)));
        w.set(2, Some(t(60)));
        assert_eq!(w.next_deadline(), Some(t(50)));
        w.set(9, Some(t(1))); // out of range: ignored
        assert_eq!(w.next_deadline(), Some(t(50)));
    }

    #[test]
    fn expire_fires_due_slots_once() {
        let mut w = Timers::<4>::new();
        w.set(0, Some(t(10)));
        w.set(1, Some(t(10)));
        w.set(3, Some(t(40)));
        let mut fired = heapless::Vec::<usize, 4>::new();
        w.expire(t(5), |k| fired.push(k).unwrap_or_default());
        assert!(fired.is_empty());
        w.expire(t(10), |k| fired.push(k).unwrap_or_default());
        assert_eq!(&fired[..], &[0, 1]);
        assert_eq!(w.get(0), None);
        assert_eq!(w.next_deadline(), Some(t(40)));
        fired.clear();
        w.expire(t(100), |k| fired.push(k).unwrap_or_default());
        assert_eq!(&fired[..], &[3]);
        assert_eq!(w.next_deadline(), None);
    }

    #[test]
    fn rearming_the_earliest_later_rescans() {
        let mut w = Timers::<3>::new();
        w.set(0, Some(t(10)));
        w.set(1, Some(t(20)));
        w.set(0, Some(t(30)));
        assert_eq!(w.next_deadline(), Some(t(20)));
    }
}
