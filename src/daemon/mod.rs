//! The event loop: the only place that owns file descriptors and knows about mio.
//!
//! Every source is drained until it would block (mio is edge-triggered); every decision is made by
//! the pure core (`vrrp::Instance`), and this module only carries inputs in and actions out.

pub mod control;
mod hotplug;
mod iface;
mod links;
mod notify;
mod process;
mod router;
mod routes;
mod status;
mod track;
mod tx;
mod vmac;

use std::io;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

use log::{error, info, warn};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use crate::config::{self, Config, Located};
use crate::limits::{MAX_INSTANCES, MAX_INTERFACES};
use crate::sys::clock;
use crate::sys::mmsg::{RX_BATCH, RxBatch};
use crate::sys::netlink::{Event, Monitor, Netlink};
use crate::sys::packet::PacketSocket;
use crate::sys::raw6::Vrrp6Socket;
use crate::sys::rxmeta;
use crate::sys::signalfd::Signals;
use crate::sys::timerfd::TimerFd;
use crate::time::Instant;
use crate::timer::Timers;
use crate::vrrp::rx;
use crate::vrrp::{Action, Actions, Family, Input, State};

use iface::{Iface, NO_INSTANCE};
use router::Router;

pub use hotplug::choose as hotplug_program;

const TIMER: Token = Token(0);
const SIGNALS: Token = Token(1);
const NETLINK: Token = Token(2);
/// Track files are watched with inotify.
const INOTIFY: Token = Token(11);
/// The timer slot of health checks and child timeouts (instances use 0..MAX_INSTANCES).
const TRACK_SLOT: usize = MAX_INSTANCES;
/// The timer slot of track_process delays and scans.
const PROC_SLOT: usize = MAX_INSTANCES + 1;
/// Interface `i`'s IPv4 VRRP socket is `Token(IFACE_BASE + i)`, its IPv6 one
/// `Token(IFACE6_BASE + i)`.
const IFACE_BASE: usize = 16;
const IFACE6_BASE: usize = IFACE_BASE + MAX_INTERFACES;

/// The `rx_pending` bit of interface `i`'s socket of `family` (none past 32 interfaces).
fn pending_bit(i: usize, family: Family) -> u64 {
    let bit = i + if family == Family::V6 { 32 } else { 0 };
    if i < 32 { 1 << bit } else { 0 }
}

/// Netlink events handled per drain before we resynchronise with a full dump instead.
const MAX_EVENTS: usize = 256;

/// Packets read from one VRRP socket before the loop looks at its other sources. A flood
/// faster than we read would otherwise keep us in that socket forever, and the timer that
/// sends our adverts would never run (seen in tests/hostile.rs with a slow daemon).
const RX_BUDGET: usize = 64;

/// Packets read at most from a backup's socket when its Master_Down timer runs out, to find
/// a master's advert that arrived in time but waits behind others (a starved backup). More
/// than a default queue holds (net.core.rmem_default: some 300 adverts).
const RX_DRAIN_MAX: usize = 4096;

/// A packet older than this by its kernel stamp is taken to have arrived when read: only a
/// realtime clock set while it was queued makes an age like that (see `rxmeta::arrival`).
const MAX_QUEUE_AGE: core::time::Duration = core::time::Duration::from_secs(5);

pub struct Daemon {
    /// What SIGHUP re-reads (the file and the `-i` config id).
    source: config::Source,
    /// For keepalived.data (router_id, defaults).
    global: config::Global,
    poll: Poll,
    timerfd: TimerFd,
    armed: Option<Instant>,
    signals: Signals,
    netlink: Netlink,
    monitor: Monitor,
    garp: PacketSocket,
    ifaces: Vec<Iface>,
    routers: Vec<Router>,
    /// One slot per instance, plus health checks and child timeouts, plus track_process; one
    /// timerfd.
    timers: Timers<{ MAX_INSTANCES + 2 }>,
    /// What one recvmmsg reads (daemon/mod.rs, `read_packets`). Boxed, as `tx`: some 50 KiB
    /// together, allocated once, which would otherwise be copied with every move of `Daemon`.
    rx: Box<RxBatch>,
    /// What the instances send, sent together (daemon/tx.rs).
    tx: Box<tx::Tx>,
    /// Set while a timer tick feeds every instance due: what they send waits for the last.
    batching: bool,
    /// Health checks, notify scripts, sync groups (daemon/track.rs, daemon/notify.rs).
    track: track::Tracking,
    /// track_process (daemon/process.rs).
    procs: process::ProcTracking,
    /// Interfaces (bit i) whose socket still held packets when their budget ran out.
    rx_pending: u64,
    /// Inputs waiting for `feed`'s loop, and whether that loop is running.
    inputs: heapless::Deque<(usize, Input), INPUT_QUEUE>,
    feeding: bool,
    /// static_ipaddress, static_routes, static_rules (daemon/routes.rs).
    statics: routes::Statics,
    /// `vrrpd -s` and the rpcd plugin (daemon/control.rs).
    control: Option<control::Control>,
    /// OpenWrt's hotplug-call, run on every transition (daemon/hotplug.rs).
    hotplug: Option<PathBuf>,
    /// Interface sysctls the virtual MAC changed, to put back at stop (daemon/vmac.rs).
    saved_sysctls: vmac::SavedSysctls,
}

/// A transition queues an input for each sync-group sibling, at most one per instance.
const INPUT_QUEUE: usize = MAX_INSTANCES + 1;

/// How the loop ended.
pub enum Exit {
    Stopped,
}

impl Daemon {
    /// The signals the loop reads (SIGCHLD reaps script children): every one that can be
    /// blocked. `main` blocks them before anything else, so a reload or dump request during
    /// start-up waits instead of killing us, and one vrrpd has no use for is logged, not fatal.
    pub fn signals() -> heapless::Vec<libc::c_int, 128> {
        control::blocked_signals()
    }

    /// Opens every kernel interface and brings the configured instances up. `hotplug` is run on
    /// every transition, the first included (OpenWrt's hotplug-call; `None` for no events).
    pub fn new(
        source: config::Source,
        config: Config,
        signals: Signals,
        hotplug: Option<PathBuf>,
    ) -> io::Result<Daemon> {
        let mut d = Daemon {
            source,
            global: config.global.clone(),
            poll: Poll::new()?,
            timerfd: TimerFd::new()?,
            armed: None,
            signals,
            netlink: Netlink::open()?,
            monitor: Monitor::open()?,
            garp: PacketSocket::open()?,
            ifaces: Vec::with_capacity(MAX_INTERFACES),
            routers: Vec::with_capacity(MAX_INSTANCES),
            timers: Timers::new(),
            rx: Box::new(RxBatch::new()),
            tx: Box::new(tx::Tx::new()),
            batching: false,
            track: track::Tracking::new()?,
            procs: process::ProcTracking::new(),
            rx_pending: 0,
            inputs: heapless::Deque::new(),
            feeding: false,
            statics: routes::Statics {
                cfg: config.statics.clone(),
                installed: routes::Installed::default(),
            },
            control: None,
            hotplug,
            saved_sysctls: heapless::Vec::new(),
        };
        let reg = d.poll.registry();
        reg.register(
            &mut SourceFd(&d.timerfd.as_raw_fd()),
            TIMER,
            Interest::READABLE,
        )?;
        reg.register(
            &mut SourceFd(&d.signals.as_raw_fd()),
            SIGNALS,
            Interest::READABLE,
        )?;
        reg.register(
            &mut SourceFd(&d.monitor.as_raw_fd()),
            NETLINK,
            Interest::READABLE,
        )?;

        // First of all: a second daemon for the same virtual routers must touch nothing.
        d.routers = config
            .instances
            .iter()
            .map(Router::new)
            .collect::<io::Result<_>>()?;
        d.rebuild_ifaces();
        d.resync();
        d.ensure_vmacs();
        d.remove_stale_vips();
        d.routes_start();
        let now = clock::now();
        d.track_setup(&config, now);
        d.start_all(0..d.routers.len(), now);
        crate::sys::release_free_memory();
        Ok(d)
    }

    pub fn run(&mut self) -> io::Result<Exit> {
        let mut events = Events::with_capacity(64);
        loop {
            self.arm_timer()?;
            // Sockets left with packets are not signalled again (edge-triggered): just look.
            let wait = (self.rx_pending != 0).then_some(std::time::Duration::ZERO);
            if let Err(e) = self.poll.poll(&mut events, wait) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            for ev in events.iter() {
                match ev.token() {
                    TIMER => self.on_timer(),
                    SIGNALS => {
                        if let Some(exit) = self.on_signals() {
                            return Ok(exit);
                        }
                    }
                    NETLINK => self.on_netlink(),
                    INOTIFY => self.on_inotify(),
                    process::CONNECTOR => self.on_connector(),
                    Token(t) if t >= process::PIDFD_BASE => self.on_pidfd(t - process::PIDFD_BASE),
                    Token(t) if t >= IFACE6_BASE => self.on_packets(t - IFACE6_BASE, Family::V6),
                    Token(t) if t >= IFACE_BASE => self.on_packets(t - IFACE_BASE, Family::V4),
                    t => self.on_control(t),
                }
            }
            let pending = std::mem::take(&mut self.rx_pending);
            for i in 0..self.ifaces.len() {
                for family in [Family::V4, Family::V6] {
                    if pending & pending_bit(i, family) != 0 {
                        self.on_packets(i, family);
                    }
                }
            }
        }
    }

    // ---- sources -------------------------------------------------------------------------

    fn on_timer(&mut self) {
        if let Err(e) = self.timerfd.drain() {
            warn!("timerfd read failed: {e}");
        }
        self.armed = None;
        let now = clock::now();
        let mut due: heapless::Vec<usize, { MAX_INSTANCES + 2 }> = heapless::Vec::new();
        self.timers.expire(now, |k| {
            let _ = due.push(k);
        });
        // The instances due now (in phase, they are all of a link's masters) send together.
        self.batching = true;
        for k in due {
            if k == TRACK_SLOT {
                self.on_track_timer(now);
            } else if k == PROC_SLOT {
                self.on_proc_timer(now);
            } else if let Some(r) = self.routers.get(k) {
                let due = r.core.next_deadline().is_some_and(|t| t <= now);
                if due && r.core.state() == State::Backup {
                    // Master_Down ran out, but a backup starved of CPU may not have read the
                    // master's last advert yet: read what is queued, judged by arrival time
                    // (the core then finds its deadline moved, or takes over).
                    let (i, family) = (r.iface, r.cfg.family);
                    self.read_packets(i, family, RX_DRAIN_MAX, Some(now));
                }
                self.feed(k, now, Input::Timer);
            }
        }
        self.batching = false;
        self.flush_tx();
    }

    fn on_signals(&mut self) -> Option<Exit> {
        loop {
            match self.signals.read() {
                Ok(Some(libc::SIGTERM | libc::SIGINT)) => {
                    self.stop_all();
                    return Some(Exit::Stopped);
                }
                Ok(Some(libc::SIGHUP)) => self.reload(),
                Ok(Some(libc::SIGUSR1)) => {
                    self.dump_state();
                    self.write_dump(control::Dump::Data);
                }
                Ok(Some(libc::SIGUSR2)) => self.write_dump(control::Dump::Stats),
                Ok(Some(s)) if s == control::json_signal() => self.write_dump(control::Dump::Json),
                Ok(Some(libc::SIGCHLD)) => self.on_children(),
                // Silent: a log line to a broken pipe would raise the next one.
                Ok(Some(libc::SIGPIPE)) => {}
                Ok(Some(s)) => info!("Ignoring signal {s}"),
                Ok(None) => return None,
                Err(e) => {
                    warn!("signalfd read failed: {e}");
                    return None;
                }
            }
        }
    }

    fn on_netlink(&mut self) {
        let mut batch: heapless::Vec<Event, MAX_EVENTS> = heapless::Vec::new();
        let mut overflow = false;
        let res = self.monitor.recv(&mut |ev| {
            // Our own routes and rules going in need no answer; they must not fill the batch.
            if matches!(ev, Event::RouteAdded(_) | Event::RuleAdded(_)) {
                return;
            }
            if batch.push(ev).is_err() {
                overflow = true;
            }
        });
        match res {
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                warn!(
                    "netlink event queue overflowed; re-reading links and addresses, restoring routes and rules"
                );
                overflow = true;
                // What is still queued predates the dump below; left there it would be
                // replayed over the fresh state at the next wake-up.
                for _ in 0..MAX_EVENTS {
                    match self.monitor.recv(&mut |_| {}) {
                        Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => continue,
                        _ => break,
                    }
                }
            }
            Err(e) => warn!("netlink monitor: {e}"),
            Ok(()) => {}
        }
        let now = clock::now();
        if overflow {
            self.resync_and_follow(now);
            return;
        }
        // A link or an address that appears may make a gateway reachable; a link that comes
        // up has lost its routes while it was down.
        let mut retry = None;
        for ev in batch {
            match ev {
                Event::Link(link) => {
                    retry = Some(retry.unwrap_or(false) | link.up);
                    self.on_link(now, &link)
                }
                Event::LinkRemoved { ifindex } => self.on_link_removed(now, ifindex),
                Event::AddrAdded(a) => {
                    retry.get_or_insert(false);
                    self.on_addr(now, &a, true)
                }
                Event::AddrRemoved(a) => self.on_addr(now, &a, false),
                Event::RouteRemoved(k) => self.on_removed(routes::Removed::Route(&k)),
                Event::RuleRemoved(k) => self.on_removed(routes::Removed::Rule(&k)),
                Event::RouteAdded(_) | Event::RuleAdded(_) => {}
            }
        }
        if let Some(forget) = retry {
            self.routes_retry(forget);
        }
    }

    fn on_packets(&mut self, i: usize, family: Family) {
        self.read_packets(i, family, RX_BUDGET, None);
    }

    /// Reads up to `budget` packets from interface `i`'s socket, a batch (recvmmsg) at a time;
    /// with `until`, stops after the batch holding the first that arrived later (what was
    /// queued by then has been read). Each advert reaches its instance, one by one, with the
    /// time the kernel took it in, not the time we got to it.
    fn read_packets(&mut self, i: usize, family: Family, budget: usize, until: Option<Instant>) {
        let mut left = budget;
        while left > 0 {
            let Some(f) = self.ifaces.get(i) else {
                return;
            };
            let want = left.min(RX_BATCH);
            let got = match family {
                Family::V4 => f.v4.sock.as_ref().map(|s| s.recv_batch(&mut self.rx, want)),
                Family::V6 => f.v6.sock.as_ref().map(|s| s.recv_batch(&mut self.rx, want)),
            };
            let n = match got {
                None => return,
                Some(Ok(n)) => n,
                Some(Err(e)) if e.kind() == io::ErrorKind::WouldBlock => return,
                Some(Err(e)) => {
                    warn!("({}) receive failed: {e}", self.ifaces[i].name);
                    return;
                }
            };
            left = left.saturating_sub(n.max(1));
            let now = clock::now();
            let mut late = false;
            for j in 0..n {
                late |= self
                    .dispatch(i, family, j, now)
                    .is_some_and(|at| until.is_some_and(|t| at > t));
            }
            if n < want {
                // The queue is empty: a packet that comes now is a new edge for mio.
                return;
            }
            if late {
                break;
            }
        }
        // Budget spent, or stopped at `until`, with packets possibly left (mio is
        // edge-triggered and will not say so again): come back after the other sources.
        self.rx_pending |= pending_bit(i, family);
    }

    /// Hands packet `j` of the batch just read from interface `i`'s socket to its instance, or
    /// counts why not. Returns when it arrived.
    fn dispatch(&mut self, i: usize, family: Family, j: usize, now: Instant) -> Option<Instant> {
        // The socket layer's part: metadata, arrival time, and the VRRP message.
        let (split, m) = match family {
            Family::V4 => {
                let (pkt, m) = self.rx.get(j)?;
                (rx::split_ipv4(pkt), m)
            }
            Family::V6 => {
                let (_, m) = self.rx.get(j)?;
                match Vrrp6Socket::meta_of(&self.rx, j)? {
                    Ok((m6, msg)) => {
                        let meta = rx::Meta {
                            src: IpAddr::V6(m6.src),
                            dst: IpAddr::V6(m6.dst),
                            hop_limit: m6.hop_limit,
                        };
                        (Ok((meta, msg)), m)
                    }
                    Err(e) => {
                        warn!("({}) receive failed: {e}", self.ifaces[i].name);
                        return None;
                    }
                }
            }
        };
        let at = rxmeta::arrival(m.stamp, now, MAX_QUEUE_AGE);
        let f = self.ifaces.get_mut(i)?;
        if let Some(count) = m.overflows {
            f.note_overflows(family, count);
        }
        let (meta, msg) = match split {
            Ok(split) => split,
            Err(d) => {
                f.unrouted.count(d);
                return Some(at);
            }
        };
        // Not ours, or too short to tell whose: the link's count, shown by each of its
        // instances in the state dump.
        let vrid = match rx::peek_vrid(msg) {
            Ok(v) => v,
            Err(d) => {
                f.unrouted.count(d);
                return Some(at);
            }
        };
        let k = f.vrids(family)[usize::from(vrid)];
        if k == NO_INSTANCE {
            f.unknown_vrid(now, vrid, meta.src, self.global.log_unknown_vrids);
            return Some(at);
        }
        let r = self.routers.get_mut(usize::from(k))?;
        match rx::check(&meta, msg, r.spec()) {
            Ok(adv) => {
                r.adverts_rx += 1;
                r.stats.heard(&adv);
                self.feed(usize::from(k), at, Input::Advert(adv));
            }
            Err(d) => r.dropped(now, d),
        }
        Some(at)
    }

    // ---- instances -----------------------------------------------------------------------

    /// Starts instance `k`; what holds it in FAULT was fed by `track_apply` already.
    /// Starts instances `ks` in one turn: what they send at once (owners' first adverts and
    /// gratuitous ARPs) leaves in one batch per socket, as on a timer tick.
    fn start_all(&mut self, ks: impl IntoIterator<Item = usize>, now: Instant) {
        self.batching = true;
        for k in ks {
            self.start(k, now);
        }
        self.batching = false;
        self.flush_tx();
    }

    fn start(&mut self, k: usize, now: Instant) {
        if let Some(src) = self.routers[k].source(&self.ifaces) {
            self.feed(k, now, Input::Primary(src));
        }
        self.feed(k, now, Input::Start);
    }

    /// Hands one input to instance `k`, and then what its transitions cause in other instances
    /// (sync-group siblings), in order, from one queue: a reaction never re-enters another.
    fn feed(&mut self, k: usize, now: Instant, input: Input) {
        if self.inputs.push_back((k, input)).is_err() {
            // One entry per instance at most is queued by one reaction; this is a bug.
            error!("input queue full; dropped {input:?} for instance {k}");
            return;
        }
        if self.feeding {
            return;
        }
        self.feeding = true;
        while let Some((k, input)) = self.inputs.pop_front() {
            self.apply(k, now, input);
        }
        self.feeding = false;
        if !self.batching {
            self.flush_tx();
        }
    }

    /// Sends what the instances queued (daemon/tx.rs), and takes back from their counts the
    /// adverts the kernel refused.
    fn flush_tx(&mut self) {
        // Even when empty: a flush on the way (before a VIP removal, a full batch) may have
        // left failures to settle, which must not wait for the table to be renumbered.
        if !self.tx.is_empty() {
            self.tx.flush(&self.ifaces, &self.garp);
        }
        for k in self.tx.take_failed() {
            if let Some(r) = self.routers.get_mut(k) {
                r.adverts_tx = r.adverts_tx.saturating_sub(1);
            }
        }
    }

    /// Hands one input to instance `k`, carries out what it answers, and re-arms its timer.
    fn apply(&mut self, k: usize, now: Instant, input: Input) {
        let Some(r) = self.routers.get_mut(k) else {
            return;
        };
        let mut out = Actions::new();
        r.core.handle(now, input, &mut out);
        r.execute(
            k,
            &out,
            &mut self.netlink,
            &mut self.tx,
            &self.garp,
            &self.ifaces,
        );
        if r.core.wants_phase() {
            self.join_phase(k, now);
        }
        let Some(r) = self.routers.get_mut(k) else {
            return;
        };
        self.timers.set(k, r.core.next_deadline());
        r.stats.count(&out, now);
        // Notify scripts and sync-group siblings follow each transition.
        for a in &out {
            if let Action::Transition { from, to, .. } = *a {
                self.on_transition(k, now, from, to);
            }
        }
    }

    /// Brings master `k`'s adverts into phase with another master on the same link with the same
    /// interval and family, so that they fall due on the same tick (see
    /// `Instance::join_phase`). A scan of the table, but only when an instance has just
    /// scheduled an advert from now (becoming master, answering out of turn), not every tick.
    fn join_phase(&mut self, k: usize, now: Instant) {
        let Some(r) = self.routers.get(k) else {
            return;
        };
        let (via, family, interval) = (r.tx_iface(), r.cfg.family, r.spec().advert_int_cs);
        let anchor = self
            .routers
            .iter()
            .enumerate()
            .filter(|&(j, o)| {
                j != k
                    && o.is_master()
                    && !o.core.wants_phase()
                    && o.tx_iface() == via
                    && o.cfg.family == family
                    && o.spec().advert_int_cs == interval
            })
            .find_map(|(_, o)| o.core.next_advert());
        if let Some(r) = self.routers.get_mut(k) {
            r.core.join_phase(now, anchor);
        }
    }

    fn stop_all(&mut self) {
        info!("Stopping");
        let now = clock::now();
        for k in 0..self.routers.len() {
            self.feed(k, now, Input::Shutdown);
        }
        self.routes_stop();
        self.delete_vmacs(&|_| false);
        self.restore_sysctls();
        self.track_stop(now);
    }

    /// SIGHUP: read the file again and apply it. An instance that is still the same virtual
    /// router (VRID, interface, version, family) takes its new settings in place, keeping its state and
    /// the VIPs it keeps; only the others stop (priority 0, VIPs removed, notify_stop) and start.
    fn reload(&mut self) {
        let began = clock::now();
        info!(
            "Reloading configuration from {}",
            self.source.path.display()
        );
        let loaded = self.source.load();
        for d in &loaded.diagnostics {
            match d.severity {
                config::Severity::Error => error!("{d}"),
                config::Severity::Warning => warn!("{d}"),
            }
        }
        let read = clock::now() - began;
        // Adverts that fell due while the file was read go out now, not after the apply.
        self.on_timer();
        let Some(cfg) = loaded.config else {
            error!("Reload failed: keeping the running configuration");
            return;
        };
        self.global = cfg.global.clone();
        let now = clock::now();
        // Which running instance, if any, each new one continues.
        let mut claimed = vec![false; self.routers.len()];
        let kept: Vec<Option<usize>> = cfg
            .instances
            .iter()
            .map(|c| {
                let k = (0..self.routers.len())
                    .find(|&k| !claimed[k] && self.routers[k].continues_as(c))?;
                claimed[k] = true;
                Some(k)
            })
            .collect();
        // Instances that went away or became another virtual router leave cleanly (priority 0,
        // VIPs removed, notify_stop), through the same path as a stop.
        for k in (0..self.routers.len()).filter(|&k| !claimed[k]) {
            info!(
                "({}) removed or changed by the reload: stopping it",
                self.routers[k].cfg.name
            );
            self.feed(k, now, Input::Shutdown);
        }
        // A master lets go of the VIPs it no longer has, while the interface table still
        // knows where they live.
        for (c, k) in cfg.instances.iter().zip(&kept) {
            let Some(r) = k.and_then(|k| self.routers.get(k)) else {
                continue;
            };
            if r.is_master() {
                let gone = router::vips_missing(&r.cfg, c);
                r.remove_these(gone, &mut self.netlink, &self.ifaces);
            }
        }
        // Macvlans no instance of the new configuration names go with their instances.
        self.delete_vmacs(&|name| {
            cfg.instances
                .iter()
                .any(|c| c.vmacs.iter().any(|v| v.name == name))
        });
        // The stopped ones go now, releasing their claims before anything new takes one.
        let mut old: Vec<Option<Router>> = std::mem::take(&mut self.routers)
            .into_iter()
            .zip(&claimed)
            .map(|(r, &kept)| kept.then_some(r))
            .collect();
        let mut fresh = Vec::with_capacity(MAX_INSTANCES);
        let mut started = Vec::new();
        // Kept routers, the configuration they had (to add the VIPs they gained) and what their
        // core asked for (announcing them).
        let mut changed: Vec<(usize, config::Instance, Actions)> = Vec::new();
        let (mut same, mut in_place) = (0, 0);
        for (c, k) in cfg.instances.iter().zip(kept) {
            match k.and_then(|k| old[k].take()) {
                Some(mut r) if r.cfg.same_as(c) => {
                    same += 1;
                    // Only where it is written moved.
                    r.cfg.location.clone_from(&c.location);
                    fresh.push(r);
                }
                Some(mut r) => {
                    in_place += 1;
                    info!("({}) changed by the reload: applied in place", c.name);
                    let before = r.cfg.clone();
                    let mut out = Actions::new();
                    r.reconfigure(now, c, &mut out);
                    changed.push((fresh.len(), before, out));
                    fresh.push(r);
                }
                None => match Router::new(c) {
                    Ok(r) => {
                        started.push(fresh.len());
                        fresh.push(r);
                    }
                    Err(e) => error!("{e}: not started"),
                },
            }
        }
        self.routers = fresh;
        self.rebuild_ifaces();
        self.resync();
        self.ensure_vmacs();
        // A master adds the VIPs it gained, then announces them.
        for (k, before, out) in &changed {
            let r = &mut self.routers[*k];
            if r.is_master() {
                let new = router::vips_missing(&r.cfg, before);
                r.add_these(new, &mut self.netlink, &self.ifaces);
            }
            r.execute(
                *k,
                out,
                &mut self.netlink,
                &mut self.tx,
                &self.garp,
                &self.ifaces,
            );
            let extras_changed = before.extras != r.cfg.extras;
            self.flush_tx();
            // Excluded addresses, routes and rules: the master applies just the difference.
            if extras_changed {
                self.reload_extras(*k, &before.extras);
            }
        }
        self.timers = Timers::new();
        for k in 0..self.routers.len() {
            self.timers.set(k, self.routers[k].core.next_deadline());
        }
        self.routes_reload(&cfg.statics);
        // Sources may have moved (unicast_src_ip, mcast_src_ip, another primary).
        for (k, _, _) in &changed {
            if let Some(src) = self.routers[*k].source(&self.ifaces) {
                self.feed(*k, now, Input::Primary(src));
            }
        }
        // Trackers, sync groups, faults and the effective priorities (a master advertises a new
        // one at once).
        self.track_setup(&cfg, now);
        let restarted = started.len();
        self.start_all(started, now);
        info!(
            "Reloaded in {:.1} ms (reading and checking {:.1} ms): {same} instance(s) unchanged, {in_place} changed in place, {restarted} (re)started",
            (clock::now() - began).as_secs_f64() * 1e3,
            read.as_secs_f64() * 1e3
        );
    }

    fn dump_state(&self) {
        for r in &self.routers {
            info!(
                "({}) state {} priority {} adverts_rx {} adverts_tx {} queue_overflows {} {}",
                r.cfg.name,
                r.core.state(),
                r.core.priority(),
                r.adverts_rx,
                r.adverts_tx,
                self.ifaces[r.iface].overflows,
                r.drops.plus(&self.ifaces[r.iface].unrouted)
            );
        }
        if let Some(s) = self.procs.summary() {
            info!("{s}");
        }
    }

    fn arm_timer(&mut self) -> io::Result<()> {
        let next = self.timers.next_deadline();
        if next == self.armed {
            return Ok(());
        }
        match next {
            Some(t) => self.timerfd.arm_at(t)?,
            None => self.timerfd.disarm()?,
        }
        self.armed = next;
        Ok(())
    }
}
