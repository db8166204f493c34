//! `track_process`, pure: which processes match a `vrrp_track_process`, how many run, whether
//! that meets the quorum, and the fork/terminate debounce, on a clock the caller passes in.
//!
//! The daemon (`daemon::process`) feeds it what the kernel says (fork, exec, name change, exit,
//! or a whole /proc scan) and applies the statuses through `track::effect`. The rules follow
//! keepalived's track_process.c: a forked child counts for what its parent counts for (no /proc
//! read, which keeps fork storms cheap); exec and name changes re-match; a change that crosses
//! the quorum waits `fork_delay` after a fork and `terminate_delay` after an exit, and a change
//! back before then cancels it.

use crate::config::{ParamMatch, TrackProcess};
use crate::limits::{MAX_TRACK_PROCESSES, MAX_TRACKED_PIDS};
use crate::time::Instant;

use super::{Effect, Status, effect};

/// The kernel's length limit for a process name.
const COMM_MAX: usize = 15;

/// Whether `p` matches a process named `comm` with command line `cmdline` (NUL-separated, as
/// /proc/PID/cmdline; ignored unless `p.uses_cmdline()`).
pub fn matches(p: &TrackProcess, comm: &[u8], cmdline: &[u8]) -> bool {
    if !p.uses_cmdline() {
        let want = p.process.as_bytes();
        return comm == &want[..want.len().min(COMM_MAX)];
    }
    let line = cmdline.strip_suffix(&[0]).unwrap_or(cmdline);
    let mut args = line.split(|&b| b == 0);
    if args.next() != Some(p.process.as_bytes()) {
        return false;
    }
    let Some(params) = &p.params else {
        return true;
    };
    let mut got = args.filter(|_| !line.is_empty());
    let n = params.len();
    for (i, want) in params.iter().enumerate() {
        let Some(have) = got.next() else {
            return false;
        };
        let last = i + 1 == n;
        let ok = if last && p.param_match == ParamMatch::Initial {
            have.starts_with(want.as_bytes())
        } else {
            have == want.as_bytes()
        };
        if !ok {
            return false;
        }
    }
    p.param_match != ParamMatch::Exact || got.next().is_none()
}

/// What set a count change off, which picks the debounce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// A tracked process forked: `fork_delay`.
    Fork,
    /// A tracked process ended: `terminate_delay`.
    Exit,
    /// Exec, a name change, a scan: at once.
    Seen,
}

/// The quorum of one `vrrp_track_process`: how many match, and the status in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quorum {
    pub count: u32,
    up: bool,
    /// When a crossing that is waiting for its delay takes effect.
    pending: Option<Instant>,
}

impl Quorum {
    /// Starts from what a scan found, with no delay (as keepalived at start-up).
    pub fn new(p: &TrackProcess, count: u32) -> Quorum {
        Quorum {
            count,
            up: in_range(p, count),
            pending: None,
        }
    }

    pub fn is_up(&self) -> bool {
        self.up
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.pending
    }

    /// Sets the count after `cause`. True if the status changed now.
    pub fn set(&mut self, p: &TrackProcess, now: Instant, count: u32, cause: Cause) -> bool {
        self.count = count;
        let raw = in_range(p, count);
        if raw == self.up {
            // Back where it was before the delay ran out: nothing happened.
            self.pending = None;
            return false;
        }
        if self.pending.is_some() {
            return false;
        }
        let delay = match cause {
            Cause::Fork => p.fork_delay,
            Cause::Exit => p.terminate_delay,
            Cause::Seen => core::time::Duration::ZERO,
        };
        if delay.is_zero() {
            self.up = raw;
            return true;
        }
        self.pending = Some(now + delay);
        false
    }

    /// A pending crossing whose delay has passed takes effect. True if the status changed.
    pub fn expire(&mut self, p: &TrackProcess, now: Instant) -> bool {
        if self.pending.is_none_or(|d| d > now) {
            return false;
        }
        self.pending = None;
        let raw = in_range(p, self.count);
        let changed = raw != self.up;
        self.up = raw;
        changed
    }
}

fn in_range(p: &TrackProcess, count: u32) -> bool {
    count >= p.quorum && count <= p.quorum_max
}

/// What one process tracker does to an instance with `weight` and `reverse` in force:
/// keepalived's rule, where `reverse` flips both the status and the sign ("the priority is
/// decreased when up and increased when down"; `weight 0 reverse` faults while up).
pub fn process_effect(weight: i32, reverse: bool, up: bool) -> Effect {
    let (w, up) = if reverse {
        (weight.saturating_neg(), !up)
    } else {
        (weight, up)
    };
    effect(w, if up { Status::Up } else { Status::Down })
}

/// Counters for the state dump and the fork-storm test.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Kernel events (fork, exec, comm, exit) handled.
    pub events: u64,
    /// Matching processes not followed because the table was full.
    pub dropped: u64,
    /// Full /proc scans.
    pub scans: u64,
    /// Times the kernel dropped events for us (the connector's queue overflowed: ENOBUFS).
    pub overflows: u64,
}

/// One followed process: which trackers (bit i = `specs[i]`) it counts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    pid: i32,
    mask: u32,
}

/// What a call did to the table, so the caller can follow or forget the pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    /// Some tracker's status changed now.
    pub changed: bool,
    /// The pid entered the table.
    pub added: bool,
    /// The pid left the table.
    pub removed: bool,
}

/// Every `vrrp_track_process` in use, and the processes that match them.
#[derive(Debug)]
pub struct Processes {
    specs: Vec<TrackProcess>,
    quorum: Vec<Quorum>,
    table: heapless::Vec<Entry, MAX_TRACKED_PIDS>,
    pub counters: Counters,
}

impl Processes {
    /// `specs` beyond MAX_TRACK_PROCESSES are ignored (the config reader refuses them).
    pub fn new(mut specs: Vec<TrackProcess>) -> Processes {
        specs.truncate(MAX_TRACK_PROCESSES);
        let quorum = specs.iter().map(|p| Quorum::new(p, 0)).collect();
        Processes {
            specs,
            quorum,
            table: heapless::Vec::new(),
            counters: Counters::default(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    pub fn specs(&self) -> &[TrackProcess] {
        &self.specs
    }

    pub fn quorum(&self, i: usize) -> Option<&Quorum> {
        self.quorum.get(i)
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.specs.iter().position(|p| p.name == name)
    }

    /// Whether matching needs /proc/PID/cmdline (it is only read when it does).
    pub fn needs_cmdline(&self) -> bool {
        self.specs.iter().any(TrackProcess::uses_cmdline)
    }

    /// Whether `pid` is followed.
    pub fn tracks(&self, pid: i32) -> bool {
        self.table.iter().any(|e| e.pid == pid)
    }

    pub fn pids(&self) -> impl Iterator<Item = i32> + '_ {
        self.table.iter().map(|e| e.pid)
    }

    /// Which trackers a process matches.
    pub fn mask_of(&self, comm: &[u8], cmdline: &[u8]) -> u32 {
        self.specs
            .iter()
            .enumerate()
            .filter(|(_, p)| matches(p, comm, cmdline))
            .fold(0, |m, (i, _)| m | 1 << i)
    }

    /// How many followed processes count for each tracker.
    fn counts(&self) -> [u32; MAX_TRACK_PROCESSES] {
        let mut n = [0u32; MAX_TRACK_PROCESSES];
        for e in &self.table {
            for (i, c) in n.iter_mut().enumerate() {
                if e.mask & (1 << i) != 0 {
                    *c += 1;
                }
            }
        }
        n
    }

    /// One process went from counting for `old` to counting for `new`; true if a status
    /// changed. Only the trackers whose bit differs are touched, so a fork costs the same
    /// however many processes are followed.
    fn settle(&mut self, now: Instant, old: u32, new: u32, cause: Cause) -> bool {
        let mut changed = false;
        let diff = old ^ new;
        for (i, q) in self.quorum.iter_mut().enumerate() {
            if diff & (1 << i) == 0 {
                continue;
            }
            let n = if new & (1 << i) != 0 {
                q.count.saturating_add(1)
            } else {
                q.count.saturating_sub(1)
            };
            changed |= q.set(&self.specs[i], now, n, cause);
        }
        changed
    }

    /// A process was seen with this name and command line: at exec, at a name change, or
    /// found by a scan or a first look. It counts for exactly the trackers it now matches.
    pub fn seen(&mut self, now: Instant, pid: i32, comm: &[u8], cmdline: &[u8]) -> Outcome {
        let mask = self.mask_of(comm, cmdline);
        self.set_mask(now, pid, mask, Cause::Seen)
    }

    fn set_mask(&mut self, now: Instant, pid: i32, mask: u32, cause: Cause) -> Outcome {
        let mut out = Outcome::default();
        let old = match self.table.iter().position(|e| e.pid == pid) {
            Some(k) if mask == 0 => {
                out.removed = true;
                self.table.swap_remove(k).mask
            }
            Some(k) => core::mem::replace(&mut self.table[k].mask, mask),
            None if mask == 0 => return out,
            None => {
                if self.table.push(Entry { pid, mask }).is_err() {
                    self.counters.dropped += 1;
                    return out;
                }
                out.added = true;
                0
            }
        };
        out.changed = self.settle(now, old, mask, cause);
        out
    }

    /// `parent` forked the process `child`: it counts for what the parent counts for.
    pub fn fork(&mut self, now: Instant, parent: i32, child: i32) -> Outcome {
        let Some(mask) = self.table.iter().find(|e| e.pid == parent).map(|e| e.mask) else {
            return Outcome::default();
        };
        if self.tracks(child) {
            return Outcome::default();
        }
        self.set_mask(now, child, mask, Cause::Fork)
    }

    /// The process `pid` ended.
    pub fn exit(&mut self, now: Instant, pid: i32) -> Outcome {
        self.set_mask(now, pid, 0, Cause::Exit)
    }

    /// A full scan found exactly `found` (pid and mask): what is gone ended, what is new was
    /// seen. Returns whether a status changed.
    pub fn rescan(&mut self, now: Instant, found: &[(i32, u32)]) -> bool {
        self.counters.scans += 1;
        let before: heapless::Vec<u32, MAX_TRACK_PROCESSES> =
            self.quorum.iter().map(|q| q.count).collect();
        self.table.clear();
        for &(pid, mask) in found.iter().filter(|f| f.1 != 0) {
            if self.table.push(Entry { pid, mask }).is_err() {
                self.counters.dropped += 1;
            }
        }
        let after = self.counts();
        let mut changed = false;
        for (i, q) in self.quorum.iter_mut().enumerate() {
            let cause = if after[i] < before[i] {
                Cause::Exit
            } else {
                Cause::Seen
            };
            if after[i] != before[i] {
                changed |= q.set(&self.specs[i], now, after[i], cause);
            }
        }
        changed
    }

    /// The first scan: counts as found, statuses at once, no delays.
    pub fn start(&mut self, found: &[(i32, u32)]) {
        self.counters.scans += 1;
        self.table.clear();
        for &(pid, mask) in found.iter().filter(|f| f.1 != 0) {
            if self.table.push(Entry { pid, mask }).is_err() {
                self.counters.dropped += 1;
            }
        }
        let n = self.counts();
        for (i, p) in self.specs.iter().enumerate() {
            self.quorum[i] = Quorum::new(p, n[i]);
        }
    }

    /// Delays that have run out take effect. True if a status changed.
    pub fn expire(&mut self, now: Instant) -> bool {
        let mut changed = false;
        for (q, p) in self.quorum.iter_mut().zip(&self.specs) {
            changed |= q.expire(p, now);
        }
        changed
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.quorum.iter().filter_map(Quorum::deadline).min()
    }
}

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use super::*;
    use crate::config::Location;

    fn spec(process: &str) -> TrackProcess {
        TrackProcess {
            name: process.into(),
            location: Location {
                file: "t".into(),
                line: 1,
            },
            process: process.into(),
            params: None,
            param_match: ParamMatch::Exact,
            full_command: false,
            weight: 0,
            reverse: false,
            quorum: 1,
            quorum_max: u32::MAX,
            fork_delay: Duration::ZERO,
            terminate_delay: Duration::ZERO,
        }
    }

    fn t(ms: u64) -> Instant {
        Instant::from_micros(ms * 1000)
    }

    #[test]
    fn names_paths_and_parameters() {
        let p = spec("haproxy");
        assert!(matches(&p, b"haproxy", b""));
        assert!(!matches(&p, b"haproxy2", b""));
        assert!(!matches(&p, b"hap", b""));
        // Names are compared as the kernel keeps them: 15 bytes.
        let long = spec("a-very-long-process-name");
        assert!(matches(&long, b"a-very-long-pro", b""));

        let mut f = spec("/usr/sbin/haproxy");
        f.full_command = true;
        assert!(matches(
            &f,
            b"haproxy",
            b"/usr/sbin/haproxy\0-f\0/etc/h.cfg\0"
        ));
        assert!(!matches(&f, b"haproxy", b"haproxy\0-f\0"));
        assert!(!matches(&f, b"x", b""));

        let mut e = f.clone();
        e.params = Some(vec!["-f".into(), "/etc/h".into()]);
        assert!(matches(&e, b"", b"/usr/sbin/haproxy\0-f\0/etc/h\0"));
        assert!(!matches(&e, b"", b"/usr/sbin/haproxy\0-f\0/etc/h.cfg\0"));
        assert!(!matches(&e, b"", b"/usr/sbin/haproxy\0-f\0/etc/h\0-D\0"));
        assert!(!matches(&e, b"", b"/usr/sbin/haproxy\0-f\0"));
        e.param_match = ParamMatch::Partial;
        assert!(matches(&e, b"", b"/usr/sbin/haproxy\0-f\0/etc/h\0-D\0"));
        assert!(!matches(&e, b"", b"/usr/sbin/haproxy\0-f\0/etc/h.cfg\0"));
        e.param_match = ParamMatch::Initial;
        assert!(matches(&e, b"", b"/usr/sbin/haproxy\0-f\0/etc/h.cfg\0-D\0"));
        assert!(!matches(&e, b"", b"/usr/sbin/haproxy\0-g\0/etc/h.cfg\0"));

        // param_match without parameters: the command must have none.
        let mut none = spec("/bin/sleep");
        none.params = Some(vec![]);
        assert!(matches(&none, b"", b"/bin/sleep\0"));
        assert!(!matches(&none, b"", b"/bin/sleep\x0030\0"));
    }

    #[test]
    fn weights_and_reverse() {
        use Effect::*;
        assert_eq!(process_effect(0, false, false), Fault);
        assert_eq!(process_effect(0, false, true), Delta(0));
        assert_eq!(process_effect(-50, false, false), Delta(-50));
        assert_eq!(process_effect(-50, false, true), Delta(0));
        assert_eq!(process_effect(10, false, true), Delta(10));
        // reverse: decreased when up, increased when down, FAULT while up for weight 0.
        assert_eq!(process_effect(10, true, true), Delta(-10));
        assert_eq!(process_effect(10, true, false), Delta(0));
        assert_eq!(process_effect(-10, true, false), Delta(10));
        assert_eq!(process_effect(0, true, true), Fault);
        assert_eq!(process_effect(0, true, false), Delta(0));
    }

    #[test]
    fn quorum_and_quorum_max() {
        let mut p = spec("w");
        p.quorum = 2;
        p.quorum_max = 3;
        let mut set = Processes::new(vec![p]);
        set.start(&[(10, 1)]);
        assert!(!set.quorum(0).unwrap().is_up(), "one of two");
        let o = set.seen(t(0), 11, b"w", b"");
        assert!(o.changed && o.added);
        assert!(set.quorum(0).unwrap().is_up());
        assert!(!set.seen(t(0), 12, b"w", b"").changed);
        // A fourth is one too many.
        assert!(set.seen(t(0), 13, b"w", b"").changed);
        assert!(!set.quorum(0).unwrap().is_up());
        assert!(set.exit(t(0), 13).changed);
        assert!(set.quorum(0).unwrap().is_up());
        // Unrelated exits and a non-matching exec change nothing.
        assert_eq!(set.exit(t(0), 99), Outcome::default());
        assert_eq!(set.seen(t(0), 98, b"x", b""), Outcome::default());
        // A tracked process exec'ing into something else stops counting, at once.
        let o = set.seen(t(0), 12, b"x", b"");
        assert!(o.removed && !o.changed);
        let o = set.seen(t(0), 11, b"x", b"");
        assert!(o.removed && o.changed);
        assert!(!set.quorum(0).unwrap().is_up());
        // quorum_max 0: up only while none runs.
        let mut z = spec("z");
        z.quorum = 0;
        z.quorum_max = 0;
        let mut set = Processes::new(vec![z]);
        set.start(&[]);
        assert!(set.quorum(0).unwrap().is_up());
        assert!(set.seen(t(0), 5, b"z", b"").changed);
        assert!(!set.quorum(0).unwrap().is_up());
    }

    #[test]
    fn terminate_delay_rides_out_a_restart() {
        let mut p = spec("svc");
        p.terminate_delay = Duration::from_millis(500);
        let mut set = Processes::new(vec![p]);
        set.start(&[(10, 1)]);
        assert!(set.quorum(0).unwrap().is_up());
        // Exit: still up until the delay has passed.
        assert!(!set.exit(t(1000), 10).changed);
        assert_eq!(set.next_deadline(), Some(t(1500)));
        assert!(!set.expire(t(1499)));
        assert!(set.quorum(0).unwrap().is_up());
        // Back before the deadline: the pending change is cancelled.
        assert!(!set.seen(t(1200), 11, b"svc", b"").changed);
        assert_eq!(set.next_deadline(), None);
        assert!(!set.expire(t(2000)));
        assert!(set.quorum(0).unwrap().is_up());
        // Gone for good: down when the delay runs out, not before.
        assert!(!set.exit(t(3000), 11).changed);
        assert!(!set.expire(t(3499)));
        assert!(set.expire(t(3500)));
        assert!(!set.quorum(0).unwrap().is_up());
        // Coming back by exec is at once.
        assert!(set.seen(t(4000), 12, b"svc", b"").changed);
    }

    #[test]
    fn fork_delay_waits_for_a_forked_child_to_settle() {
        let mut p = spec("svc");
        p.quorum = 2;
        p.fork_delay = Duration::from_millis(300);
        let mut set = Processes::new(vec![p]);
        set.start(&[(10, 1), (20, 0)]);
        assert!(!set.quorum(0).unwrap().is_up());
        // An untracked parent's child is not ours.
        assert_eq!(set.fork(t(0), 20, 21), Outcome::default());
        // A tracked parent's child counts, after fork_delay.
        let o = set.fork(t(0), 10, 11);
        assert!(o.added && !o.changed);
        assert_eq!(set.quorum(0).unwrap().count, 2);
        assert!(set.expire(t(300)));
        assert!(set.quorum(0).unwrap().is_up());
        // A short-lived child (fork then exit within the delay) never moves the status.
        let mut q = spec("svc");
        q.quorum = 2;
        q.fork_delay = Duration::from_millis(300);
        let mut set = Processes::new(vec![q]);
        set.start(&[(10, 1)]);
        assert!(!set.fork(t(0), 10, 11).changed);
        assert!(!set.exit(t(100), 11).changed);
        assert_eq!(set.next_deadline(), None);
        assert!(!set.expire(t(1000)));
        assert!(!set.quorum(0).unwrap().is_up());
    }

    #[test]
    fn several_trackers_share_a_process() {
        let a = spec("x");
        let mut b = spec("/bin/x");
        b.full_command = true;
        let mut set = Processes::new(vec![a, b]);
        assert!(set.needs_cmdline());
        set.start(&[]);
        assert_eq!(set.mask_of(b"x", b"/bin/x\0"), 0b11);
        assert!(set.seen(t(0), 7, b"x", b"/bin/x\0").changed);
        assert!(set.quorum(0).unwrap().is_up() && set.quorum(1).unwrap().is_up());
        // A name change keeps the command line: only the name tracker lets go.
        assert!(set.seen(t(0), 7, b"y", b"/bin/x\0").changed);
        assert!(!set.quorum(0).unwrap().is_up() && set.quorum(1).unwrap().is_up());
        assert_eq!(set.index("/bin/x"), Some(1));
    }

    #[test]
    fn rescan_counts_what_vanished_as_exits() {
        let mut p = spec("svc");
        p.terminate_delay = Duration::from_millis(200);
        let mut set = Processes::new(vec![p]);
        set.start(&[(1, 1)]);
        // The process vanished between scans: an exit, with its delay.
        assert!(!set.rescan(t(0), &[]));
        assert!(set.expire(t(200)));
        // Found by a scan: at once.
        assert!(set.rescan(t(300), &[(2, 1), (3, 0)]));
        assert!(set.tracks(2) && !set.tracks(3));
        assert_eq!(set.counters.scans, 3);
    }

    #[test]
    fn a_fork_storm_fills_the_table_and_no_more() {
        let p = spec("storm");
        let mut set = Processes::new(vec![p]);
        set.start(&[(1, 1)]);
        for child in 2..(MAX_TRACKED_PIDS as i32 + 500) {
            set.fork(t(0), 1, child);
        }
        assert_eq!(set.pids().count(), MAX_TRACKED_PIDS);
        assert_eq!(set.counters.dropped, 500 - 1);
        assert_eq!(set.quorum(0).unwrap().count, MAX_TRACKED_PIDS as u32);
        // The children end; the parent still runs.
        for child in 2..(MAX_TRACKED_PIDS as i32 + 500) {
            set.exit(t(1), child);
        }
        assert_eq!(set.quorum(0).unwrap().count, 1);
        assert!(set.quorum(0).unwrap().is_up());
    }
}
