//! One virtual router: the RFC 5798 §6.4 state machine (and RFC 3768's for v2), plus Fault.
//!
//! Pure: it is fed the time and an [`Input`] and answers with [`Action`]s. It owns its deadlines
//! and reports the earliest through [`Instance::next_deadline`]; the daemon arms the timerfd and
//! sends [`Input::Timer`] when it fires.

use core::fmt;
use core::time::Duration;
use std::net::IpAddr;

use super::spec::Spec;
use crate::time::Instant;

/// Priority of the router that owns the virtual addresses (RFC 5798 §5.2.4).
pub const PRIORITY_OWNER: u8 = 255;
/// Priority a master advertises when it stops (RFC 5798 §5.2.4).
pub const PRIORITY_STOP: u8 = 0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Init,
    Backup,
    Master,
    Fault,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Init => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
        })
    }
}

/// An advertisement that passed every receive check (see `vrrp::rx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advert {
    pub src: IpAddr,
    pub priority: u8,
    pub interval_cs: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// Leave Init: the interface is up and we may run.
    Start,
    Advert(Advert),
    /// A deadline from `next_deadline` has passed.
    Timer,
    /// What holds the instance in FAULT now (its link, a tracker or its sync group), or
    /// nothing. The daemon works it out from its tables and sends it when it changes.
    Fault(Option<Fault>),
    /// Graceful stop: leave with priority 0.
    Shutdown,
    /// The effective priority after trackers moved it (clamped to 1..=254 unless owner).
    Priority(u8),
    /// Our primary address changed (it breaks priority ties).
    Primary(IpAddr),
    /// A sync-group sibling became master: a backup follows at once.
    SyncMaster,
    /// A sync-group sibling fell back to backup: a master follows at once.
    SyncBackup,
}

/// Why an instance must sit in FAULT. With several causes at once, the first listed wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Its interface is down or missing.
    Link,
    /// It has no usable source address of its family, so it cannot send adverts (and must
    /// not hold addresses it cannot defend).
    Source,
    /// A tracked script, interface or file, or a sync-group sibling.
    Track,
}

impl Fault {
    /// The cause that holds an instance in FAULT, the first in the order above, if any.
    pub fn first_of(link_down: bool, no_source: bool, track: bool) -> Option<Fault> {
        [
            (link_down, Fault::Link),
            (no_source, Fault::Source),
            (track, Fault::Track),
        ]
        .into_iter()
        .find_map(|(on, f)| on.then_some(f))
    }
}

/// Why a transition happened, for the log line that precedes `Entering … STATE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Startup,
    Owner,
    MasterDown,
    HigherPriority {
        src: IpAddr,
        theirs: u8,
        ours: u8,
    },
    /// Entering FAULT for this cause.
    Fault(Fault),
    /// Leaving FAULT: this was the last cause, and it cleared.
    Recovered(Fault),
    Shutdown,
    Sync,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Reason::Startup => f.write_str("Starting"),
            Reason::Owner => f.write_str("Address owner (priority 255): taking over at once"),
            Reason::MasterDown => f.write_str("Receive advertisement timeout"),
            Reason::HigherPriority { src, theirs, ours } if theirs == ours => write!(
                f,
                "Received advert from {src} with same priority {theirs} but higher IP address"
            ),
            Reason::HigherPriority { src, theirs, ours } => write!(
                f,
                "Received advert from {src} with higher priority {theirs}, ours {ours}"
            ),
            Reason::Fault(Fault::Link) => f.write_str("Interface down"),
            Reason::Recovered(Fault::Link) => f.write_str("Interface up"),
            Reason::Fault(Fault::Source) => {
                f.write_str("No address of its own to send adverts from")
            }
            Reason::Recovered(Fault::Source) => {
                f.write_str("An address to send adverts from is back")
            }
            Reason::Shutdown => f.write_str("Stopping"),
            Reason::Fault(Fault::Track) => {
                f.write_str("Tracked script, interface, file or process reports a fault")
            }
            Reason::Recovered(Fault::Track) => {
                f.write_str("Tracked scripts, interfaces, files and processes are healthy")
            }
            Reason::Sync => f.write_str("Following its sync group"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Transition {
        from: State,
        to: State,
        reason: Reason,
    },
    /// Send one advertisement with this priority and our interval.
    SendAdvert {
        priority: u8,
    },
    AddVips,
    RemoveVips,
    /// Send frames `first..end` of an announcement burst (gratuitous ARP for an IPv4 address,
    /// unsolicited neighbour advertisement for IPv6): frame `f` announces VIP `f / repeat`.
    Announce {
        first: u32,
        end: u32,
        repeat: u32,
    },
    /// Send one announcement on each link that holds VIPs but sends no adverts, so that
    /// switches keep its MAC (`garp_extra_if`; which links is the daemon's to know).
    AnnounceLinks,
}

/// Enough for the longest reaction (become master: transition, advert, VIPs, GARP).
pub type Actions = heapless::Vec<Action, 8>;

#[derive(Debug, Clone)]
pub struct Instance {
    spec: Spec,
    state: State,
    priority: u8,
    primary: IpAddr,
    fault: Option<Fault>,
    /// The master's interval as last heard (v3); ours otherwise.
    master_adver_int_cs: u16,
    adver_at: Option<Instant>,
    /// `adver_at` was set from now (a first advert, one out of turn, a new interval, a restart
    /// after a stall), not one interval after the last one was due: see [`Instance::join_phase`].
    phase_free: bool,
    master_down_at: Option<Instant>,
    /// The next announcement burst (the delayed second one, or a refresh).
    garp_at: Option<Instant>,
    /// The burst being sent, one frame per `Garp::interval`.
    burst: Option<Burst>,
    /// The next `Action::AnnounceLinks`.
    links_at: Option<Instant>,
    /// With preempt_delay: when we first heard a lower-priority master since becoming backup.
    lower_seen_at: Option<Instant>,
    /// Last time we answered another router's advert out of turn (a lower master, or one
    /// leaving with priority 0), to bound such answers to one per interval.
    answered_at: Option<Instant>,
}

/// Frames `sent..` of a burst of `repeat` frames per VIP are still to go, the next at `next_at`.
#[derive(Debug, Clone, Copy)]
struct Burst {
    next_at: Instant,
    sent: u32,
    repeat: u32,
}

impl Instance {
    pub fn new(spec: Spec, primary: IpAddr) -> Self {
        Instance {
            priority: spec.priority,
            master_adver_int_cs: spec.advert_int_cs,
            spec,
            state: State::Init,
            primary,
            fault: None,
            adver_at: None,
            phase_free: false,
            master_down_at: None,
            garp_at: None,
            burst: None,
            links_at: None,
            lower_seen_at: None,
            answered_at: None,
        }
    }

    pub fn spec(&self) -> &Spec {
        &self.spec
    }
    pub fn state(&self) -> State {
        self.state
    }
    pub fn priority(&self) -> u8 {
        self.priority
    }
    pub fn master_adver_int_cs(&self) -> u16 {
        self.master_adver_int_cs
    }
    /// What holds the instance in FAULT, as last told.
    pub fn fault(&self) -> Option<Fault> {
        self.fault
    }

    fn faulty(&self) -> bool {
        self.fault.is_some()
    }

    /// The earliest instant at which this instance wants [`Input::Timer`].
    pub fn next_deadline(&self) -> Option<Instant> {
        let burst = self.burst.map(|b| b.next_at);
        [
            self.adver_at,
            self.master_down_at,
            self.garp_at,
            burst,
            self.links_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn interval(&self) -> Duration {
        cs(self.spec.advert_int_cs)
    }

    /// When a master's next advert is due.
    pub fn next_advert(&self) -> Option<Instant> {
        self.adver_at
    }

    /// Whether the next advert was scheduled from now rather than from the last one's deadline:
    /// the moment for the daemon to bring it into phase with the other masters of its link
    /// ([`Instance::join_phase`]).
    pub fn wants_phase(&self) -> bool {
        self.phase_free && self.adver_at.is_some()
    }

    /// Sends in phase with another master of the same interval on the same link, whose next
    /// advert is due at `anchor`: the next advert moves to the first instant after `now` that
    /// is a whole number of intervals from `anchor`. That is never later than it was (one
    /// interval from now at most), so no gap between two adverts grows; only the one gap after
    /// the move shrinks. The RFC fixes the interval, not the phase, and instances in phase are
    /// due on the same tick: one wake-up and one `sendmmsg` for all of them. Without an anchor
    /// (the first master of its kind on the link) the instance keeps its own phase, which
    /// later ones join. Either way it is settled until it next schedules from now.
    pub fn join_phase(&mut self, now: Instant, anchor: Option<Instant>) {
        self.phase_free = false;
        let (Some(at), Some(anchor)) = (self.adver_at, anchor) else {
            return;
        };
        let step = self.interval().as_micros() as u64;
        if step == 0 {
            return;
        }
        let (n, a) = (now.as_micros(), anchor.as_micros());
        // The first n + d, 0 < d <= step, with n + d ≡ a (mod step).
        let d = if a > n {
            (a - n - 1) % step + 1
        } else {
            step - (n - a) % step
        };
        let t = Instant::from_micros(n + d);
        if t < at {
            self.adver_at = Some(t);
        }
    }

    /// Skew_Time: v3 scales it by the master's interval, v2 by one second (RFC 3768 §6.1).
    pub fn skew_time(&self) -> Duration {
        let unit = if self.spec.version.is_v3() {
            cs(self.master_adver_int_cs)
        } else {
            Duration::from_secs(1)
        };
        unit * (256 - u32::from(self.priority)) / 256
    }

    /// Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time.
    pub fn master_down_interval(&self) -> Duration {
        cs(self.master_adver_int_cs) * 3 + self.skew_time()
    }

    pub fn handle(&mut self, now: Instant, input: Input, out: &mut Actions) {
        match input {
            Input::Start => {
                if self.state == State::Init {
                    self.come_up(now, Reason::Startup, out);
                }
            }
            Input::Fault(fault) => {
                let was = self.fault;
                self.fault = fault;
                match (was, fault, self.state) {
                    (_, Some(f), State::Backup | State::Master) => {
                        self.leave(State::Fault, Reason::Fault(f), out)
                    }
                    (Some(f), None, State::Fault) => self.come_up(now, Reason::Recovered(f), out),
                    _ => {}
                }
            }
            Input::Shutdown => {
                if self.state != State::Init {
                    self.leave(State::Init, Reason::Shutdown, out);
                }
            }
            Input::Timer => self.on_timer(now, out),
            Input::Advert(adv) => match self.state {
                State::Backup => self.backup_heard(now, adv),
                State::Master => self.master_heard(now, adv, out),
                State::Init | State::Fault => {}
            },
            Input::Priority(p) => {
                // A backup that becomes the better router preempts through the master-down
                // timer as RFC 5798 prescribes. A master says its new priority at once, so a
                // better backup preempts now rather than an advert interval later.
                let changed = p != self.priority;
                self.priority = p;
                if changed && self.state == State::Master {
                    self.send_advert(now, out);
                }
            }
            Input::Primary(addr) => self.primary = addr,
            // Sync-group siblings move backup and master together.
            Input::SyncMaster => {
                if self.state == State::Backup {
                    self.become_master(now, Reason::Sync, out);
                }
            }
            Input::SyncBackup => {
                if self.state == State::Master {
                    // Priority 0 so this link's backups take over after Skew_Time rather than
                    // a whole Master_Down_Interval without a master.
                    push(
                        out,
                        Action::SendAdvert {
                            priority: PRIORITY_STOP,
                        },
                    );
                    self.leave(State::Backup, Reason::Sync, out);
                    self.master_adver_int_cs = self.spec.advert_int_cs;
                    self.master_down_at = Some(now + self.master_down_interval());
                }
            }
        }
    }

    /// A reload changed the specification: take it without a new election. `vrid` and
    /// `version` must be the same (otherwise it is another virtual router, restarted). The
    /// effective priority follows through [`Input::Priority`], as trackers may move it from the
    /// configured one. A new interval applies from now: a master's next advert comes no later
    /// than one new interval away, and a v2 backup (which does not learn the master's) times out
    /// by it. A master whose VIPs changed announces them all again.
    pub fn reconfigure(&mut self, now: Instant, spec: Spec, out: &mut Actions) {
        debug_assert!(spec.vrid == self.spec.vrid && spec.version == self.spec.version);
        let interval_changed = spec.advert_int_cs != self.spec.advert_int_cs;
        let vips_changed = spec.vips != self.spec.vips;
        self.spec = spec;
        match self.state {
            State::Master => {
                if interval_changed {
                    self.master_adver_int_cs = self.spec.advert_int_cs;
                    let next = now + self.interval();
                    self.adver_at = self.adver_at.map(|t| t.min(next));
                    self.phase_free = true;
                }
                if vips_changed {
                    self.start_burst(now, self.spec.garp.repeat);
                    self.send_due_frames(now, out);
                }
            }
            State::Backup if interval_changed && !self.spec.version.is_v3() => {
                self.master_adver_int_cs = self.spec.advert_int_cs;
                let down = now + self.master_down_interval();
                self.master_down_at = self.master_down_at.map(|t| t.min(down));
            }
            _ => {}
        }
    }

    /// Leave Init or Fault: owner goes straight to Master, everyone else listens first.
    fn come_up(&mut self, now: Instant, reason: Reason, out: &mut Actions) {
        if self.faulty() {
            self.enter(State::Fault, reason, out);
            return;
        }
        if self.priority == PRIORITY_OWNER {
            self.become_master(now, Reason::Owner, out);
            return;
        }
        self.master_adver_int_cs = self.spec.advert_int_cs;
        // `state MASTER` changes nothing here, as in keepalived 2.x: a non-owner always listens
        // for a Master_Down_Interval first, so a restarted router cannot steal the role.
        self.enter(State::Backup, reason, out);
        self.master_down_at = Some(now + self.master_down_interval());
    }

    fn on_timer(&mut self, now: Instant, out: &mut Actions) {
        if self.master_down_at.is_some_and(|t| t <= now) {
            self.master_down_at = None;
            if self.state == State::Backup {
                self.become_master(now, Reason::MasterDown, out);
                return;
            }
        }
        if let Some(due) = self.adver_at.filter(|&t| t <= now) {
            self.send_advert(now, out);
            // Keep the cadence: the next advert is one interval after this one was due, not
            // after the wake-up, which is always a little late; otherwise every period grows by
            // that lateness. After a stall longer than an interval, start again from now
            // rather than send a catch-up burst.
            let next = due + self.interval();
            if next > now {
                self.adver_at = Some(next);
                self.phase_free = false;
            }
        }
        if self.garp_at.is_some_and(|t| t <= now) {
            self.garp_at = None;
            let refresh = self.spec.garp.refresh;
            self.start_burst(now, self.spec.garp.refresh_repeat);
            if !refresh.is_zero() {
                self.garp_at = Some(now + refresh);
            }
        }
        self.send_due_frames(now, out);
        if self.links_at.is_some_and(|t| t <= now) {
            push(out, Action::AnnounceLinks);
            self.links_at = Some(now + self.spec.garp.extra_if);
        }
    }

    /// Starts announcing every VIP `repeat` times. A spaced burst waits for the timer, which is
    /// due at once: its first frame then leaves after the VIPs were added, and the gaps are
    /// measured from there rather than from before those netlink round trips.
    fn start_burst(&mut self, now: Instant, repeat: u32) {
        self.burst = Some(Burst {
            next_at: now,
            sent: 0,
            repeat: repeat.max(1),
        });
    }

    /// Sends what is due of the burst: all of it without an interval, else one frame.
    fn send_due_frames(&mut self, now: Instant, out: &mut Actions) {
        let Some(mut b) = self.burst.filter(|b| b.next_at <= now) else {
            return;
        };
        let addrs = self
            .spec
            .vips
            .len()
            .saturating_add(self.spec.garp.extra_addrs);
        let total = b
            .repeat
            .saturating_mul(u32::try_from(addrs).unwrap_or(u32::MAX));
        let interval = self.spec.garp.interval;
        let end = if interval.is_zero() {
            total
        } else {
            (b.sent + 1).min(total)
        };
        if end > b.sent {
            push(
                out,
                Action::Announce {
                    first: b.sent,
                    end,
                    repeat: b.repeat,
                },
            );
        }
        b.sent = end;
        b.next_at = now + interval;
        self.burst = (b.sent < total).then_some(b);
    }

    fn backup_heard(&mut self, now: Instant, adv: Advert) {
        if adv.priority == PRIORITY_STOP {
            // The master is leaving: take over after Skew_Time so the best backup wins.
            self.master_down_at = Some(now + self.skew_time());
            return;
        }
        if !self.spec.preempt || adv.priority >= self.priority || self.preempt_held(now) {
            if self.spec.version.is_v3() {
                self.master_adver_int_cs = adv.interval_cs;
            }
            self.master_down_at = Some(now + self.master_down_interval());
        }
        // Otherwise a lower-priority master: ignore it and let Master_Down expire (preemption).
    }

    /// With preempt_delay, a lower-priority master is tolerated for that long after we first
    /// hear it, so a rebooting router settles before it takes the addresses back.
    fn preempt_held(&mut self, now: Instant) -> bool {
        let delay = self.spec.preempt_delay;
        if delay.is_zero() {
            return false;
        }
        let since = *self.lower_seen_at.get_or_insert(now);
        now < since + delay
    }

    fn master_heard(&mut self, now: Instant, adv: Advert, out: &mut Actions) {
        if adv.priority == PRIORITY_STOP {
            // Another master is leaving; assert ourselves at once so backups do not take over.
            if self.may_answer(now) {
                self.send_advert(now, out);
            }
            return;
        }
        let ours = self.priority;
        let wins = adv.priority > ours || (adv.priority == ours && adv.src > self.primary);
        if wins {
            self.leave(
                State::Backup,
                Reason::HigherPriority {
                    src: adv.src,
                    theirs: adv.priority,
                    ours,
                },
                out,
            );
            if self.spec.version.is_v3() {
                self.master_adver_int_cs = adv.interval_cs;
            }
            self.master_down_at = Some(now + self.master_down_interval());
        } else if adv.src != self.primary && !self.spec.strict && self.may_answer(now) {
            // A lesser master (a healed partition): answer at once and refresh the LAN's ARP
            // caches, since its gratuitous ARPs may have pointed them away from us.
            self.send_advert(now, out);
            self.start_burst(now, self.spec.garp.refresh_repeat);
            self.send_due_frames(now, out);
        }
    }

    /// Whether a master may answer an advert out of turn now: once per interval at most, so a
    /// stream of forged adverts (priority 0 or a lesser master) cannot make us flood the LAN.
    fn may_answer(&mut self, now: Instant) -> bool {
        if self.answered_at.is_some_and(|t| now < t + self.interval()) {
            return false;
        }
        self.answered_at = Some(now);
        true
    }

    fn become_master(&mut self, now: Instant, reason: Reason, out: &mut Actions) {
        self.enter(State::Master, reason, out);
        self.master_down_at = None;
        self.lower_seen_at = None;
        self.master_adver_int_cs = self.spec.advert_int_cs;
        self.send_advert(now, out);
        push(out, Action::AddVips);
        self.start_burst(now, self.spec.garp.repeat);
        if self.spec.garp.interval.is_zero() {
            self.send_due_frames(now, out);
        }
        let g = self.spec.garp;
        self.links_at = (!g.extra_if.is_zero()).then(|| now + g.extra_if);
        self.garp_at = if !g.delay.is_zero() {
            Some(now + g.delay)
        } else if !g.refresh.is_zero() {
            Some(now + g.refresh)
        } else {
            None
        };
    }

    /// Leave Backup or Master for Backup, Fault or Init (stopped).
    fn leave(&mut self, to: State, reason: Reason, out: &mut Actions) {
        let was_master = self.state == State::Master;
        self.adver_at = None;
        self.master_down_at = None;
        self.garp_at = None;
        self.burst = None;
        self.links_at = None;
        self.lower_seen_at = None;
        if was_master && to != State::Backup && self.fault != Some(Fault::Source) {
            // Tell the backups now rather than after Master_Down_Interval (if we can).
            push(
                out,
                Action::SendAdvert {
                    priority: PRIORITY_STOP,
                },
            );
        }
        if was_master {
            push(out, Action::RemoveVips);
        }
        self.enter(to, reason, out);
    }

    fn send_advert(&mut self, now: Instant, out: &mut Actions) {
        push(
            out,
            Action::SendAdvert {
                priority: self.priority,
            },
        );
        self.adver_at = Some(now + self.interval());
        self.phase_free = true;
    }

    fn enter(&mut self, to: State, reason: Reason, out: &mut Actions) {
        let from = self.state;
        self.state = to;
        if from != to {
            push(out, Action::Transition { from, to, reason });
        }
    }
}

fn cs(centis: u16) -> Duration {
    Duration::from_millis(u64::from(centis) * 10)
}

/// `Actions` is sized for the longest reaction; overflowing it is a bug in this file.
fn push(out: &mut Actions, a: Action) {
    if out.push(a).is_err() {
        debug_assert!(false, "Actions capacity too small");
    }
}
