//! `track_process` at run time: the kernel's process events (or, where the connector cannot be
//! used, pidfds and a /proc scan on a timer) fed into `track::process`, whose statuses
//! `daemon::track` folds into each instance's verdict in the same loop turn.
//!
//! Sources: one /proc scan at start-up and reload; then either the process connector (fork,
//! exec, comm, exit; another scan only after the kernel dropped events, ENOBUFS) or, outside
//! the initial namespaces, a pidfd per matched process (its exit wakes the loop at once) and a
//! scan every `track_process_scan_interval` to find new ones.

use core::time::Duration;

use log::{debug, info, warn};
use mio::unix::SourceFd;
use mio::{Interest, Token};
use std::os::fd::AsRawFd;

use super::{Daemon, PROC_SLOT};
use crate::config::{self, Config};
use crate::limits::MAX_TRACKED_PIDS;
use crate::sys::clock;
use crate::sys::connector::{Connector, ProcEvent};
use crate::sys::pidfd::PidFd;
use crate::sys::procfs::{self, ProcInfo};
use crate::time::Instant;
use crate::track::Effect;
use crate::track::process::{Processes, process_effect};

/// The connector's token; pidfd `i` is `Token(PIDFD_BASE + i)`.
pub(super) const CONNECTOR: Token = Token(12);
pub(super) const PIDFD_BASE: usize = 1 << 16;

/// Connector datagrams handled per wake-up; past it the loop serves its other sources first,
/// so a fork storm cannot hold back adverts.
const EVENT_BUDGET: usize = 256;

pub(super) struct ProcTracking {
    set: Processes,
    connector: Option<Connector>,
    /// The connector was tried and failed: pidfds and scans instead (logged once).
    fallback: bool,
    /// pidfd slots (fallback only); fixed size, so tokens stay stable.
    pidfds: Vec<Option<PidFd>>,
    info: ProcInfo,
    found: Vec<(i32, u32)>,
    scan_interval: Duration,
    /// When the next scan is due: every interval in fallback, after an overflow otherwise.
    next_scan: Option<Instant>,
    last_scan: Option<Instant>,
    /// The connector still held events when the budget ran out.
    more: bool,
    /// Bit i: tracker i was last reported up (so each change is logged once).
    reported: u32,
    /// pidfd_open failed with ENOSYS (logged once; exits then wait for a scan).
    no_pidfd: bool,
}

impl ProcTracking {
    pub(super) fn new() -> ProcTracking {
        ProcTracking {
            set: Processes::new(Vec::new()),
            connector: None,
            fallback: false,
            pidfds: Vec::new(),
            info: ProcInfo::default(),
            found: Vec::new(),
            scan_interval: Duration::from_secs(1),
            next_scan: None,
            last_scan: None,
            more: false,
            reported: 0,
            no_pidfd: false,
        }
    }

    fn up_mask(&self) -> u32 {
        (0..self.set.specs().len())
            .filter(|&i| self.set.quorum(i).is_some_and(|q| q.is_up()))
            .fold(0, |m, i| m | 1 << i)
    }

    /// The effect of an instance's `track_process` line; None if it names nothing in use.
    /// (In a sync group the config reader has already set the weight to 0.)
    pub(super) fn effect(&self, r: &config::ProcessRef) -> Option<Effect> {
        let i = self.set.index(&r.name)?;
        let (w, reverse) = r.weight_of(&self.set.specs()[i]);
        Some(process_effect(w, reverse, self.set.quorum(i)?.is_up()))
    }

    /// For the state dump.
    pub(super) fn summary(&self) -> Option<String> {
        if self.set.is_empty() {
            return None;
        }
        let c = self.set.counters;
        let mut s = format!(
            "track_process via {}: events {} dropped {} overflows {} scans {}",
            if self.connector.is_some() {
                "connector"
            } else {
                "pidfd+scan"
            },
            c.events,
            c.dropped,
            c.overflows,
            c.scans
        );
        for (i, p) in self.set.specs().iter().enumerate() {
            if let Some(q) = self.set.quorum(i) {
                s.push_str(&format!(
                    "; {} {} running {}",
                    p.name,
                    q.count,
                    if q.is_up() { "up" } else { "down" }
                ));
            }
        }
        Some(s)
    }
}

impl Daemon {
    /// Builds the process trackers the instances use, opens the event source once, and scans.
    pub(super) fn proc_setup(&mut self, config: &Config, now: Instant) {
        let used = |name: &str| {
            self.routers
                .iter()
                .any(|r| r.cfg.track_processes.iter().any(|t| t.name == name))
        };
        let specs: Vec<config::TrackProcess> = config
            .track_processes
            .iter()
            .filter(|p| used(&p.name))
            .cloned()
            .collect();
        self.procs.scan_interval = config.global.process_scan_interval;
        self.procs.set = Processes::new(specs);
        self.proc_forget_all();
        if self.procs.set.is_empty() {
            self.proc_close();
            self.timers.set(PROC_SLOT, None);
            return;
        }
        self.proc_open();
        self.proc_start_scan(now);
        self.proc_arm(now);
    }

    fn proc_open(&mut self) {
        let p = &mut self.procs;
        if p.connector.is_some() || p.fallback {
            return;
        }
        match Connector::open() {
            Ok(c) => {
                if let Err(e) = self.poll.registry().register(
                    &mut SourceFd(&c.as_raw_fd()),
                    CONNECTOR,
                    Interest::READABLE,
                ) {
                    warn!("track_process: cannot poll the process connector: {e}");
                } else {
                    info!("track_process: following processes with the kernel's process connector");
                    p.connector = Some(c);
                    return;
                }
            }
            Err(e) => warn!(
                "track_process: process connector unavailable: {e}; following tracked processes with pidfds and a /proc scan every {:?} instead",
                p.scan_interval
            ),
        }
        p.fallback = true;
        p.pidfds = (0..MAX_TRACKED_PIDS).map(|_| None).collect();
    }

    fn proc_close(&mut self) {
        if let Some(c) = self.procs.connector.take() {
            let _ = self
                .poll
                .registry()
                .deregister(&mut SourceFd(&c.as_raw_fd()));
        }
        self.procs.fallback = false;
        self.procs.pidfds = Vec::new();
        self.procs.next_scan = None;
        self.procs.more = false;
    }

    /// Reads every process in /proc into `found` as (pid, matching trackers).
    fn proc_read_all(&mut self) {
        let p = &mut self.procs;
        p.found.clear();
        let want_cmdline = p.set.needs_cmdline();
        let (set, info, found) = (&p.set, &mut p.info, &mut p.found);
        let res = procfs::each_pid(|pid| {
            if found.len() >= MAX_TRACKED_PIDS || !info.read(pid, want_cmdline) {
                return;
            }
            let mask = set.mask_of(&info.comm, info.cmdline());
            if mask != 0 {
                found.push((pid, mask));
            }
        });
        if let Err(e) = res {
            warn!("track_process: cannot read /proc: {e}");
        }
    }

    fn proc_start_scan(&mut self, now: Instant) {
        self.proc_read_all();
        let found = std::mem::take(&mut self.procs.found);
        self.procs.set.start(&found);
        self.procs.found = found;
        self.procs.reported = self.procs.up_mask();
        self.proc_after_scan(now);
        for (i, p) in self.procs.set.specs().iter().enumerate() {
            if let Some(q) = self.procs.set.quorum(i) {
                info!(
                    "VRRP_Track_Process({}) {} running, {}",
                    p.name,
                    q.count,
                    if q.is_up() { "up" } else { "down" }
                );
            }
        }
    }

    fn proc_rescan(&mut self, now: Instant) -> bool {
        self.proc_read_all();
        let found = std::mem::take(&mut self.procs.found);
        let changed = self.procs.set.rescan(now, &found);
        self.procs.found = found;
        self.proc_after_scan(now);
        changed
    }

    fn proc_after_scan(&mut self, now: Instant) {
        self.procs.last_scan = Some(now);
        self.procs.next_scan = self.procs.fallback.then(|| now + self.procs.scan_interval);
        self.proc_sync_pidfds();
    }

    /// Fallback: a pidfd for every followed process, none for the others.
    fn proc_sync_pidfds(&mut self) {
        if !self.procs.fallback {
            return;
        }
        let reg = self.poll.registry();
        let p = &mut self.procs;
        for slot in p.pidfds.iter_mut() {
            if slot.as_ref().is_some_and(|f| !p.set.tracks(f.pid())) {
                if let Some(f) = slot.take() {
                    let _ = reg.deregister(&mut SourceFd(&f.as_raw_fd()));
                }
            }
        }
        for pid in p.set.pids() {
            if p.pidfds.iter().flatten().any(|f| f.pid() == pid) {
                continue;
            }
            let Some(k) = p.pidfds.iter().position(Option::is_none) else {
                break;
            };
            match PidFd::open(pid) {
                Ok(f) => {
                    if let Err(e) = reg.register(
                        &mut SourceFd(&f.as_raw_fd()),
                        Token(PIDFD_BASE + k),
                        Interest::READABLE,
                    ) {
                        warn!("track_process: cannot poll pidfd of {pid}: {e}");
                    }
                    p.pidfds[k] = Some(f);
                }
                Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
                    if !p.no_pidfd {
                        warn!(
                            "track_process: pidfd_open is not available (Linux before 5.3): exits are seen by the /proc scan, within {:?}",
                            p.scan_interval
                        );
                        p.no_pidfd = true;
                    }
                    break;
                }
                // Gone already: the next scan will not find it.
                Err(e) => debug!("track_process: pidfd_open({pid}): {e}"),
            }
        }
    }

    fn proc_forget_all(&mut self) {
        let reg = self.poll.registry();
        for f in self.procs.pidfds.iter_mut().filter_map(Option::take) {
            let _ = reg.deregister(&mut SourceFd(&f.as_raw_fd()));
        }
    }

    /// Logs the trackers whose status changed and hands the new verdicts to the instances.
    fn proc_apply(&mut self, now: Instant) {
        let p = &mut self.procs;
        for (i, spec) in p.set.specs().iter().enumerate() {
            let Some(q) = p.set.quorum(i) else { continue };
            let was = p.reported & (1 << i) != 0;
            if q.is_up() != was {
                info!(
                    "VRRP_Track_Process({}) is now {} ({} running)",
                    spec.name,
                    if q.is_up() { "up" } else { "down" },
                    q.count
                );
            }
        }
        p.reported = p.up_mask();
        self.track_apply(now);
    }

    /// The next thing the process trackers wait for: a delay, a scan, or more events.
    fn proc_arm(&mut self, now: Instant) {
        let p = &self.procs;
        let more = p.more.then_some(now);
        let next = [p.set.next_deadline(), p.next_scan, more]
            .into_iter()
            .flatten()
            .min();
        self.timers.set(PROC_SLOT, next);
    }

    /// The connector has events.
    pub(super) fn on_connector(&mut self) {
        let now = clock::now();
        let changed = self.proc_drain(now);
        if changed {
            self.proc_apply(now);
        }
        self.proc_arm(now);
    }

    fn proc_drain(&mut self, now: Instant) -> bool {
        let Some(c) = self.procs.connector.as_mut() else {
            return false;
        };
        let mut batch: heapless::Vec<ProcEvent, EVENT_BUDGET> = heapless::Vec::new();
        let res = c.recv_some(EVENT_BUDGET, &mut |ev| {
            // A datagram holds one event; the budget counts datagrams, so this fits.
            let _ = batch.push(ev);
        });
        self.procs.more = false;
        let mut overflow = false;
        match res {
            Ok(more) => self.procs.more = more,
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => overflow = true,
            Err(e) => warn!("track_process: process connector: {e}"),
        }
        let mut changed = false;
        let want_cmdline = self.procs.set.needs_cmdline();
        let p = &mut self.procs;
        for ev in batch {
            p.set.counters.events += 1;
            let out = match ev {
                ProcEvent::Fork {
                    parent_tgid,
                    child_pid,
                    child_tgid,
                } if child_pid == child_tgid => p.set.fork(now, parent_tgid, child_tgid),
                ProcEvent::Exec { pid, tgid } if pid == tgid => {
                    if !p.info.read(tgid, want_cmdline) {
                        continue;
                    }
                    p.set.seen(now, tgid, &p.info.comm, p.info.cmdline())
                }
                ProcEvent::Comm { pid, tgid, comm } if pid == tgid => {
                    if want_cmdline && !p.info.read(tgid, true) {
                        continue;
                    }
                    let cmdline = if want_cmdline { p.info.cmdline() } else { &[] };
                    p.set.seen(now, tgid, ProcEvent::comm_bytes(&comm), cmdline)
                }
                ProcEvent::Exit { pid, tgid } if pid == tgid => p.set.exit(now, tgid),
                // Threads, and the ack of our subscription.
                _ => continue,
            };
            changed |= out.changed;
        }
        if overflow {
            p.set.counters.overflows += 1;
            // Rescan once the queue is drained, at most once per scan interval, so a storm
            // that keeps overflowing the queue does not turn into a storm of scans.
            let due = p.last_scan.map_or(now, |t| (t + p.scan_interval).max(now));
            if p.next_scan.is_none() {
                warn!("track_process: process events were lost (ENOBUFS); rescanning /proc");
            }
            p.next_scan = Some(due);
            p.more = true;
        }
        changed
    }

    /// PROC_SLOT: delays that ran out, a scan that is due, events left over.
    pub(super) fn on_proc_timer(&mut self, now: Instant) {
        let mut changed = false;
        if self.procs.more {
            changed |= self.proc_drain(now);
        }
        if self.procs.next_scan.is_some_and(|t| t <= now) && !self.procs.more {
            changed |= self.proc_rescan(now);
        }
        changed |= self.procs.set.expire(now);
        if changed {
            self.proc_apply(now);
        }
        self.proc_arm(now);
    }

    /// Pidfd slot `k` is readable: that process ended.
    pub(super) fn on_pidfd(&mut self, k: usize) {
        let Some(f) = self.procs.pidfds.get_mut(k).and_then(Option::take) else {
            return;
        };
        if !f.ended() {
            // Spurious: keep following it.
            self.procs.pidfds[k] = Some(f);
            return;
        }
        let _ = self
            .poll
            .registry()
            .deregister(&mut SourceFd(&f.as_raw_fd()));
        let now = clock::now();
        self.procs.set.counters.events += 1;
        if self.procs.set.exit(now, f.pid()).changed {
            self.proc_apply(now);
        }
        self.proc_arm(now);
    }
}
