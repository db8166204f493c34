//! OpenWrt's hotplug events on every transition, as its keepalived package sends them: runs
//! `hotplug-call vrrpd` with `ACTION=NOTIFY_MASTER|NOTIFY_BACKUP|NOTIFY_FAULT|NOTIFY_STOP`,
//! `TYPE=INSTANCE|GROUP` and `NAME=…`, so the scripts in /etc/hotplug.d/vrrpd/ react (firewall,
//! dnsmasq, odhcpd). Run as root (the scripts restart services), never waited for.

use core::time::Duration;
use std::path::{Path, PathBuf};

use log::{debug, warn};

use super::Daemon;
use super::track::Tag;
use crate::sys::spawn::{Program, SpawnError};
use crate::time::Instant;
use crate::vrrp::State;

/// Where OpenWrt has it; used when it exists and no other program was asked for.
pub const DEFAULT: &str = "/sbin/hotplug-call";

/// The hotplug subsystem: scripts live in /etc/hotplug.d/SUBSYSTEM/.
const SUBSYSTEM: &str = "vrrpd";

/// A hung hotplug script is killed after this, like a notify script.
const TIMEOUT: Duration = Duration::from_secs(60);

/// `--hotplug-call`: `none` turns the events off; without it, [`DEFAULT`] when it exists.
pub fn choose(arg: Option<&str>) -> Option<PathBuf> {
    match arg {
        Some("none") => None,
        Some(p) => Some(PathBuf::from(p)),
        None => Some(PathBuf::from(DEFAULT)).filter(|p| Path::new(p).exists()),
    }
}

fn action(s: State) -> &'static str {
    match s {
        State::Master => "NOTIFY_MASTER",
        State::Backup => "NOTIFY_BACKUP",
        State::Fault => "NOTIFY_FAULT",
        // An instance only returns to Init when it stops.
        State::Init => "NOTIFY_STOP",
    }
}

impl Daemon {
    /// `kind` is `INSTANCE` or `GROUP`.
    pub(super) fn hotplug(&mut self, now: Instant, kind: &str, name: &str, to: State) {
        let Some(path) = self.hotplug.as_ref() else {
            return;
        };
        let words = [path.display().to_string(), SUBSYSTEM.to_string()];
        let env = [("ACTION", action(to)), ("TYPE", kind), ("NAME", name)];
        let prog = match Program::new(&words).and_then(|p| p.with_env(&env)) {
            Ok(p) => p,
            Err(e) => {
                warn!("hotplug: cannot run {}: {e}", path.display());
                return;
            }
        };
        match self
            .track
            .children
            .spawn(now, &prog, None, Some(TIMEOUT), Tag::Notify)
        {
            Ok(pid) => debug!("hotplug: {} {kind} {name} (pid {pid})", action(to)),
            Err(SpawnError::Full) => warn!(
                "hotplug: {} for {name} skipped: {} scripts already running",
                action(to),
                self.track.children.cap()
            ),
            Err(e) => warn!("hotplug: cannot start {}: {e}", path.display()),
        }
        self.track_arm();
    }
}
