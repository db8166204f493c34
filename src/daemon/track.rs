//! Health tracking and sync groups at run time: runs `vrrp_script`s, follows tracked links and
//! files, and turns what they say into `Input::Priority` / `Input::Fault` for the instances
//! (the arithmetic is `crate::track`'s, the group rules `vrrp::sync`'s).
//!
//! Nothing here waits: scripts are forked through `sys::spawn` and reaped on SIGCHLD, their
//! schedule and timeouts run on a timerfd of their own, files are re-read on inotify events, and
//! links come from the daemon's netlink monitor.

use core::time::Duration;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

use log::{debug, error, info, warn};
use mio::Interest;
use mio::unix::SourceFd;

use super::{Daemon, INOTIFY};
use crate::config::{self, Config, Located};
use crate::limits::{MAX_CHILDREN, MAX_INSTANCES};
use crate::sys::clock;
use crate::sys::inotify::Inotify;
use crate::sys::spawn::{self, Creds, Outcome, Program, SpawnError, Spawner};
use crate::time::Instant;
use crate::track::{self, Effect, RiseFall, Status, Verdict};
use crate::vrrp::sync::{self, GroupState};
use crate::vrrp::{Fault, Input, State};

/// The user keepalived runs scripts as when `script_user` is not set and the user exists.
const DEFAULT_SCRIPT_USER: &str = "keepalived_script";

/// What a child is, so its end goes to the right place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tag {
    /// A `vrrp_script` run. `generation` ties it to a configuration, so a run started before a
    /// reload does not count against whatever script now has its index.
    Check {
        script: usize,
        generation: u32,
    },
    Notify,
}

struct CheckScript {
    cfg: config::Script,
    /// None when it cannot run (not found, refused by script security, unknown user): it is then
    /// left out of every verdict; the reason was logged once at load.
    program: Option<Program>,
    creds: Option<Creds>,
    health: RiseFall,
    next_run: Instant,
    running: bool,
}

struct FileTrack {
    cfg: config::TrackFile,
    value: i64,
}

struct Group {
    cfg: config::SyncGroup,
    /// Router indices.
    members: Vec<usize>,
    state: GroupState,
}

pub(super) struct Tracking {
    scripts: Vec<CheckScript>,
    files: Vec<FileTrack>,
    groups: Vec<Group>,
    /// Router index → its sync group.
    group_of: Vec<Option<usize>>,
    pub(super) children: Spawner<Tag>,
    inotify: Option<Inotify>,
    generation: u32,
    /// `enable_script_security`.
    pub(super) security: bool,
    /// `script_user`: Ok(None) runs scripts as the daemon; Err means the user does not exist, and
    /// then no script runs rather than run as root against the configuration's wishes.
    pub(super) script_user: Result<Option<Creds>, ()>,
}

impl Tracking {
    pub(super) fn new() -> io::Result<Tracking> {
        Ok(Tracking {
            scripts: Vec::new(),
            files: Vec::new(),
            groups: Vec::new(),
            group_of: Vec::new(),
            children: Spawner::new(MAX_CHILDREN)?,
            inotify: None,
            generation: 0,
            security: false,
            script_user: Ok(None),
        })
    }

    fn group_name(&self, k: usize) -> Option<&str> {
        let g = self.group_of.get(k).copied().flatten()?;
        Some(self.groups.get(g)?.cfg.name.as_str())
    }
}

/// Resolves `user [group]` for scripts, logging when it cannot.
pub(super) fn creds_of(what: &str, user: &(String, Option<String>)) -> Result<Creds, ()> {
    spawn::lookup_creds(&user.0, user.1.as_deref()).map_err(|e| {
        error!("{what}: cannot run scripts as '{}': {e}", user.0);
    })
}

/// keepalived's default when `script_user` is not set: the user `keepalived_script` if the
/// system has one, otherwise the daemon's own user; logged once per (re)load. A daemon that is
/// not root could not switch users, so it keeps its own.
fn default_script_user() -> Option<Creds> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    match spawn::lookup_creds(DEFAULT_SCRIPT_USER, None) {
        Ok(c) => {
            info!("No script_user: scripts run as {DEFAULT_SCRIPT_USER}, as in keepalived");
            Some(c)
        }
        Err(_) => {
            info!(
                "No script_user and no user {DEFAULT_SCRIPT_USER}: scripts run as the daemon's user"
            );
            None
        }
    }
}

/// Splits, resolves and (with script security) vets a command line; logs why when it cannot run.
pub(super) fn program_of(what: &str, command: &str, security: bool) -> Option<Program> {
    let words = spawn::split_command(command);
    let prog = match Program::new(&words) {
        Ok(p) => p,
        Err(e) => {
            error!("{what}: cannot run '{command}': {e}");
            return None;
        }
    };
    if security {
        if let Some(why) = spawn::insecure(prog.path()) {
            error!(
                "{what}: refusing to run '{command}' (enable_script_security): {why}; a non-root user could change it"
            );
            return None;
        }
    }
    Some(prog)
}

/// The integer in a tracked file: leading blanks, an optional sign, digits (keepalived reads it
/// with strtol). Missing, unreadable, empty or non-numeric files count as 0.
fn read_value(path: &str) -> i64 {
    let Ok(text) = std::fs::read_to_string(path) else {
        return 0;
    };
    let t = text.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut v: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg { -v } else { v }
}

fn state_word(s: State) -> &'static str {
    match s {
        State::Master => "MASTER",
        State::Backup => "BACKUP",
        State::Fault => "FAULT",
        // An instance only returns to Init when it stops.
        State::Init => "STOP",
    }
}

impl Daemon {
    /// Builds the tracking tables from a (new) configuration and applies them. Script health is
    /// kept across a reload for scripts whose definition did not change.
    pub(super) fn track_setup(&mut self, config: &Config, now: Instant) {
        let t = &mut self.track;
        t.generation = t.generation.wrapping_add(1);
        t.security = config.global.enable_script_security;
        t.children
            .set_cap(config.global.max_script_children as usize);
        t.script_user = match &config.global.script_user {
            Some(u) => creds_of("script_user", u).map(Some),
            // Without scripts nothing runs as that user: no lookup (glibc's NSS would map its
            // modules into the daemon for nothing).
            None if !config.runs_scripts() => Ok(None),
            None => Ok(default_script_user()),
        };

        let tracked = |name: &str| {
            self.routers
                .iter()
                .any(|r| r.cfg.track_scripts.iter().any(|s| s.name == name))
        };
        let mut old = std::mem::take(&mut t.scripts);
        for cfg in config.scripts.iter().filter(|s| tracked(&s.name)) {
            let what = format!("VRRP_Script({})", cfg.name);
            let creds = match &cfg.user {
                Some(u) => creds_of(&what, u).map(Some),
                None => t.script_user,
            };
            let (program, creds) = match creds {
                Ok(c) => (program_of(&what, &cfg.script, t.security), c),
                Err(()) => (None, None),
            };
            let health = old
                .iter()
                .position(|o| o.cfg.same_as(cfg))
                .map(|i| old.swap_remove(i).health)
                .unwrap_or_default();
            t.scripts.push(CheckScript {
                cfg: cfg.clone(),
                program,
                creds,
                health,
                next_run: now,
                running: false,
            });
        }

        let file_tracked = |name: &str| {
            self.routers
                .iter()
                .any(|r| r.cfg.track_files.iter().any(|f| f.name == name))
        };
        t.files = config
            .track_files
            .iter()
            .filter(|f| file_tracked(&f.name))
            .map(|cfg| FileTrack {
                value: read_value(&cfg.file),
                cfg: cfg.clone(),
            })
            .collect();
        if !t.files.is_empty() && t.inotify.is_none() {
            match Inotify::new() {
                Ok(n) => {
                    if let Err(e) = self.poll.registry().register(
                        &mut SourceFd(&n.as_raw_fd()),
                        INOTIFY,
                        Interest::READABLE,
                    ) {
                        error!("cannot poll inotify: {e}; track files are read only at reload");
                    }
                    t.inotify = Some(n);
                }
                Err(e) => error!("inotify: {e}; track files are read only at reload"),
            }
        }
        if let Some(n) = &t.inotify {
            for f in &t.files {
                let dir = Path::new(&f.cfg.file)
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                if let Err(e) = n.watch_dir(dir) {
                    warn!(
                        "track file {}: cannot watch {}: {e}; changes are seen only at reload",
                        f.cfg.name,
                        dir.display()
                    );
                }
            }
        }

        t.groups = config
            .sync_groups
            .iter()
            .map(|g| Group {
                cfg: g.clone(),
                members: g
                    .members
                    .iter()
                    .filter_map(|m| self.routers.iter().position(|r| &r.cfg.name == m))
                    .collect(),
                state: GroupState::default(),
            })
            .collect();
        t.group_of = vec![None; self.routers.len()];
        for (g, group) in t.groups.iter().enumerate() {
            for &k in &group.members {
                t.group_of[k] = Some(g);
            }
        }
        self.proc_setup(config, now);
        self.track_apply(now);
        self.track_run_due(now);
    }

    /// Recomputes every instance's effective priority and fault, and feeds the changes.
    pub(super) fn track_apply(&mut self, now: Instant) {
        let n = self.routers.len();
        // Fixed arrays: this runs on every health change, and must not allocate.
        let mut tracker_fault = [false; MAX_INSTANCES];
        let mut prio = [None; MAX_INSTANCES];
        let mut own_fault = [false; MAX_INSTANCES];
        let mut link_down = [false; MAX_INSTANCES];
        let mut no_source = [false; MAX_INSTANCES];
        for k in 0..n {
            match self.verdict_of(k) {
                Verdict::Fault => tracker_fault[k] = true,
                Verdict::Priority(p) => prio[k] = Some(p),
            }
            link_down[k] = !self.ifaces.get(self.routers[k].iface).is_some_and(|f| f.up)
                || self.vmac_broken(k);
            no_source[k] = self.routers[k].source(&self.ifaces).is_none();
            own_fault[k] = tracker_fault[k] || link_down[k] || no_source[k];
        }
        let group_fault: heapless::Vec<bool, MAX_INSTANCES> = self
            .track
            .groups
            .iter()
            .map(|g| sync::group_fault(g.members.iter().map(|&m| own_fault[m])))
            .collect();
        for k in 0..n {
            let g = self.track.group_of.get(k).copied().flatten();
            let grouped = g.is_some_and(|g| group_fault[g]);
            let want = Fault::first_of(link_down[k], no_source[k], tracker_fault[k] || grouped);
            let core = &self.routers[k].core;
            if let Some(p) = prio[k] {
                if p != core.priority() {
                    info!(
                        "({}) Changing effective priority from {} to {}",
                        self.routers[k].cfg.name,
                        core.priority(),
                        p
                    );
                    self.feed(k, now, Input::Priority(p));
                }
            }
            if want != self.routers[k].core.fault() {
                if want == Some(Fault::Track) && !tracker_fault[k] {
                    if let Some(name) = self.track.group_name(k) {
                        info!(
                            "({}) sync group {name} has a faulty member",
                            self.routers[k].cfg.name
                        );
                    }
                }
                self.feed(k, now, Input::Fault(want));
            }
        }
    }

    /// What router `k`'s trackers add up to.
    fn verdict_of(&self, k: usize) -> Verdict {
        let r = &self.routers[k];
        let t = &self.track;
        let scripts = r.cfg.track_scripts.iter().filter_map(|ts| {
            // A script that cannot run was reported at load and is left out, as keepalived
            // disables it: counting it as up would still add a positive weight.
            let s = t
                .scripts
                .iter()
                .find(|s| s.cfg.name == ts.name && s.program.is_some())?;
            // In a sync group the config has set the weights to 0 unless told otherwise.
            let w = ts.weight.unwrap_or(s.cfg.weight);
            Some(track::effect(w, s.health.status()))
        });
        let files = r.cfg.track_files.iter().filter_map(|tf| {
            let f = t.files.iter().find(|f| f.cfg.name == tf.name)?;
            let w = tf.weight.unwrap_or(f.cfg.weight);
            Some(track::effect(w, Status::Value(f.value)))
        });
        let links = r.cfg.track_interfaces.iter().map(|ti| {
            let up = self.ifaces.iter().any(|f| f.name == ti.name && f.up);
            track::effect(ti.weight, if up { Status::Up } else { Status::Down })
        });
        let procs = r
            .cfg
            .track_processes
            .iter()
            .filter_map(|tp| self.procs.effect(tp));
        let effects = scripts.chain(files).chain(links).chain(procs);
        track::verdict(r.cfg.priority, effects.collect::<Vec<Effect>>())
    }

    /// Starts every script whose turn has come and that is not still running.
    fn track_run_due(&mut self, now: Instant) {
        let generation = self.track.generation;
        for i in 0..self.track.scripts.len() {
            let s = &self.track.scripts[i];
            if s.running || s.next_run > now {
                continue;
            }
            let Some(program) = s.program.as_ref() else {
                continue;
            };
            // Without a timeout a run may take up to its interval, so runs never pile up.
            let timeout = s.cfg.timeout.unwrap_or(s.cfg.interval);
            let tag = Tag::Check {
                script: i,
                generation,
            };
            let res = self
                .track
                .children
                .spawn(now, program, s.creds, Some(timeout), tag);
            let s = &mut self.track.scripts[i];
            match res {
                Ok(pid) => {
                    debug!("VRRP_Script({}) started (pid {pid})", s.cfg.name);
                    s.running = true;
                }
                Err(SpawnError::Full) => warn!(
                    "VRRP_Script({}) skipped: {} scripts already running",
                    s.cfg.name,
                    self.track.children.cap()
                ),
                Err(e) => warn!("VRRP_Script({}) cannot start: {e}", s.cfg.name),
            }
            s.next_run = now + s.cfg.interval.max(Duration::from_millis(10));
        }
        self.track_arm();
    }

    /// Puts the next script run or child deadline into the daemon's timer table.
    pub(super) fn track_arm(&mut self) {
        let t = &self.track;
        let next_run = t
            .scripts
            .iter()
            .filter(|s| s.program.is_some() && !s.running)
            .map(|s| s.next_run)
            .min();
        let next = [next_run, t.children.next_deadline()]
            .into_iter()
            .flatten()
            .min();
        self.timers.set(super::TRACK_SLOT, next);
    }

    pub(super) fn on_track_timer(&mut self, now: Instant) {
        self.track.children.expire(now);
        self.track_run_due(now);
    }

    /// SIGCHLD: reap what ended, count script results, re-apply if a script changed state.
    pub(super) fn on_children(&mut self) {
        // At most the spawner's capacity of children can end at once, so nothing is lost.
        let mut done: heapless::Vec<(Tag, i32, Outcome), MAX_CHILDREN> = heapless::Vec::new();
        self.track.children.reap(|tag, pid, outcome| {
            let _ = done.push((tag, pid, outcome));
        });
        let now = clock::now();
        let mut changed = false;
        for (tag, pid, outcome) in done {
            match tag {
                Tag::Check { script, generation } if generation == self.track.generation => {
                    let Some(s) = self.track.scripts.get_mut(script) else {
                        continue;
                    };
                    s.running = false;
                    debug!("VRRP_Script({}) pid {pid} {outcome}", s.cfg.name);
                    if s.health.record(outcome.success(), s.cfg.rise, s.cfg.fall) {
                        changed = true;
                        if s.health.is_up() {
                            info!("VRRP_Script({}) succeeded", s.cfg.name);
                        } else {
                            info!("VRRP_Script({}) failed ({outcome})", s.cfg.name);
                        }
                    }
                }
                Tag::Check { .. } => {}
                Tag::Notify => {
                    if outcome.success() {
                        debug!("notify script pid {pid} {outcome}");
                    } else {
                        warn!("notify script pid {pid} {outcome}");
                    }
                }
            }
        }
        if changed {
            self.track_apply(now);
        }
        self.track_run_due(now);
    }

    /// inotify: re-read the tracked files and apply what changed.
    pub(super) fn on_inotify(&mut self) {
        let Some(n) = &self.track.inotify else { return };
        match n.drain() {
            Ok(false) => return,
            Ok(true) => {}
            Err(e) => warn!("inotify read failed: {e}"),
        }
        let mut changed = false;
        for f in &mut self.track.files {
            let v = read_value(&f.cfg.file);
            if v != f.value {
                info!(
                    "track file {} ({}) now reads {v} (was {})",
                    f.cfg.name, f.cfg.file, f.value
                );
                f.value = v;
                changed = true;
            }
        }
        if changed {
            self.track_apply(clock::now());
        }
    }

    /// Router `k` went from `from` to `to`: its notify scripts, its group's, and the siblings.
    pub(super) fn on_transition(&mut self, k: usize, now: Instant, from: State, to: State) {
        self.notify_instance(k, now, to);
        let Some(g) = self.track.group_of.get(k).copied().flatten() else {
            return;
        };
        if let Some(s) = self.track.groups[g].state.member_entered(to) {
            let name = self.track.groups[g].cfg.name.clone();
            info!(
                "VRRP_Group({name}) Syncing instances to {} state",
                state_word(s)
            );
            let cfg = self.track.groups[g].cfg.clone();
            self.notify_group(&cfg, now, s);
        }
        let members = self.track.groups[g].members.clone();
        for m in members.into_iter().filter(|&m| m != k) {
            let Some(r) = self.routers.get(m) else {
                continue;
            };
            if let Some(input) = sync::follow(from, to, r.core.state()) {
                self.feed(m, now, input);
            }
        }
    }

    /// At shutdown: stop the health checks (notify_stop scripts are left to finish).
    pub(super) fn track_stop(&mut self, now: Instant) {
        self.track
            .children
            .terminate(now, |t| matches!(t, Tag::Check { .. }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_values_read_like_strtol() {
        let dir = std::env::temp_dir().join(format!("vrrpd-trackfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("v");
        let p = f.to_str().unwrap();
        for (text, want) in [
            ("5\n", 5),
            ("  -12 trailing", -12),
            ("+7", 7),
            ("", 0),
            ("abc", 0),
            ("-", 0),
            ("99999999999999999999999", i64::MAX),
        ] {
            std::fs::write(&f, text).unwrap();
            assert_eq!(read_value(p), want, "{text:?}");
        }
        assert_eq!(read_value(dir.join("missing").to_str().unwrap()), 0);
        std::fs::write(&f, [0xff, 0xfe]).unwrap();
        assert_eq!(read_value(p), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
