//! Notify scripts: `notify_master` / `notify_backup` / `notify_fault` / `notify_stop` and the
//! generic `notify`, for instances and sync groups, run without waiting for them.
//!
//! The generic script gets keepalived's four extra arguments: `INSTANCE`|`GROUP`, the name, the
//! new state (`MASTER`, `BACKUP`, `FAULT`, `STOP`) and the priority (0 for a group, which has
//! none of its own). It is started after the state-specific one, as in keepalived.

use core::time::Duration;

use log::{debug, warn};

use super::Daemon;
use super::track::{Tag, program_of};
use crate::config;
use crate::sys::spawn::SpawnError;
use crate::time::Instant;
use crate::vrrp::State;

/// A notify script still running after this is killed: a hung one must not hold a slot of
/// the bounded child table (and so the health checks) forever.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(60);

/// The state-specific script for `to`, and the word the generic one gets.
fn pick<'a>(
    to: State,
    master: &'a Option<String>,
    backup: &'a Option<String>,
    fault: &'a Option<String>,
    stop: &'a Option<String>,
) -> (Option<&'a str>, &'static str) {
    match to {
        State::Master => (master.as_deref(), "MASTER"),
        State::Backup => (backup.as_deref(), "BACKUP"),
        State::Fault => (fault.as_deref(), "FAULT"),
        // An instance only returns to Init when it stops.
        State::Init => (stop.as_deref(), "STOP"),
    }
}

impl Daemon {
    /// Router `k` entered `to`.
    pub(super) fn notify_instance(&mut self, k: usize, now: Instant, to: State) {
        let Some(r) = self.routers.get(k) else {
            return;
        };
        let c = &r.cfg;
        let (specific, word) = pick(
            to,
            &c.notify_master,
            &c.notify_backup,
            &c.notify_fault,
            &c.notify_stop,
        );
        let specific = specific.map(str::to_owned);
        let generic = c.notify.clone();
        let name = c.name.clone();
        let prio = r.core.priority().to_string();
        let what = format!("({name})");
        if let Some(cmd) = specific {
            self.run_notify(&what, now, &cmd, &[]);
        }
        if let Some(cmd) = generic {
            self.run_notify(&what, now, &cmd, &["INSTANCE", &name, word, &prio]);
        }
        self.hotplug(now, "INSTANCE", &name, to);
    }

    /// Sync group `g` entered `s`. The generic script is not called for STOP, which keepalived
    /// defines for instances only.
    pub(super) fn notify_group(&mut self, g: &config::SyncGroup, now: Instant, s: State) {
        let (specific, word) = pick(
            s,
            &g.notify_master,
            &g.notify_backup,
            &g.notify_fault,
            &g.notify_stop,
        );
        let what = format!("VRRP_Group({})", g.name);
        if let Some(cmd) = specific {
            self.run_notify(&what, now, cmd, &[]);
        }
        if let (Some(cmd), false) = (&g.notify, s == State::Init) {
            self.run_notify(&what, now, cmd, &["GROUP", &g.name, word, "0"]);
        }
        if s != State::Init {
            self.hotplug(now, "GROUP", &g.name, s);
        }
    }

    /// Starts one notify command. Problems are logged, never fatal.
    fn run_notify(&mut self, what: &str, now: Instant, command: &str, extra: &[&str]) {
        let creds = match self.track.script_user {
            Ok(c) => c,
            Err(()) => {
                warn!("{what}: notify '{command}' not run: script_user is unknown");
                return;
            }
        };
        let Some(prog) = program_of(what, command, self.track.security) else {
            return;
        };
        let prog = match prog.with_args(extra) {
            Ok(p) => p,
            Err(e) => {
                warn!("{what}: notify '{command}': {e}");
                return;
            }
        };
        match self
            .track
            .children
            .spawn(now, &prog, creds, Some(NOTIFY_TIMEOUT), Tag::Notify)
        {
            Ok(pid) => debug!("{what}: notify '{command} {}' (pid {pid})", extra.join(" ")),
            Err(SpawnError::Full) => warn!(
                "{what}: notify '{command}' skipped: {} scripts already running",
                self.track.children.cap()
            ),
            Err(e) => warn!("{what}: notify '{command}' cannot start: {e}"),
        }
        // Its timeout must be on the tracking timer even when no health check re-arms it.
        self.track_arm();
    }
}
