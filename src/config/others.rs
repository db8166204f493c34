//! The smaller top-level blocks: `vrrp_script`, `vrrp_track_file`, `vrrp_sync_group`.

use std::time::Duration;

use super::common::{Notify, Tracking, has_block, unknown_in};
use super::diag::{Pos, Sink};
use super::keywords::{self, Ctx};
use super::tree::Stmt;
use super::types::{Script, TrackFile};
use super::value::{arg, command, extra_words, int_in, no_args, stmt_int, user_group};

/// keepalived's ceiling for script interval/timeout (UINT_MAX microseconds, in seconds).
const SCRIPT_SECONDS_MAX: i64 = 4294;

/// The NAME of `KEYWORD NAME {`.
fn block_name(stmt: &Stmt, sink: &mut Sink) -> Option<String> {
    let Some(name) = stmt.args.first() else {
        sink.error(stmt.pos(), format!("{} needs a name", stmt.key.text));
        return None;
    };
    extra_words(stmt, 1, sink);
    Some(name.text.clone())
}

/// `weight W [reverse]`, with W in -limit..=limit.
fn weight(s: &Stmt, limit: i64, sink: &mut Sink) -> Option<i32> {
    let w = s.args.first().or_else(|| {
        sink.error(s.pos(), "expected a number after 'weight'");
        None
    })?;
    match s.args.get(1).map(|r| r.text.as_str()) {
        Some("reverse") => {
            sink.warn(s.pos(), "'reverse' is not supported by vrrpd; ignored");
            extra_words(s, 2, sink);
        }
        Some("noreverse") => extra_words(s, 2, sink),
        _ => extra_words(s, 1, sink),
    }
    let v = int_in(w, "weight", -limit, limit, sink)?;
    i32::try_from(v).ok()
}

/// `vrrp_script NAME { … }`; None if unusable (reported).
pub(crate) fn script(stmt: &Stmt, body: &[Stmt], sink: &mut Sink) -> Option<(Script, Pos)> {
    let name = block_name(stmt, sink)?;
    let mut script = None;
    let mut interval = Duration::from_secs(1);
    let mut timeout = None;
    let mut weight_v = 0;
    let mut rise = 1;
    let mut fall = 1;
    let mut user = None;
    for s in body {
        if !keywords::check(Ctx::Script, s, sink) || has_block(s, sink) {
            continue;
        }
        let seconds = |s: &Stmt, sink: &mut Sink| {
            stmt_int(s, 1, SCRIPT_SECONDS_MAX, sink)
                .and_then(|v| u64::try_from(v).ok())
                .map(Duration::from_secs)
        };
        let count = |s: &Stmt, sink: &mut Sink| {
            stmt_int(s, 1, i64::from(i32::MAX), sink).and_then(|v| u32::try_from(v).ok())
        };
        match s.keyword() {
            "script" => script = command(s, sink).or(script),
            "interval" => interval = seconds(s, sink).unwrap_or(interval),
            "timeout" => timeout = seconds(s, sink).or(timeout),
            "weight" => weight_v = weight(s, 253, sink).unwrap_or(weight_v),
            "rise" => rise = count(s, sink).unwrap_or(rise),
            "fall" => fall = count(s, sink).unwrap_or(fall),
            "user" => user = user_group(s, sink).or(user),
            _ => unknown_in(s, "vrrp_script", sink),
        }
    }
    if script.is_none() {
        sink.error(stmt.pos(), format!("vrrp_script '{name}' has no 'script'"));
    }
    let script = Script {
        name,
        location: sink.location(stmt.pos()),
        script: script.unwrap_or_default(),
        interval,
        timeout,
        weight: weight_v,
        rise,
        fall,
        user,
    };
    // Returned even after a value error (already reported, so the config is rejected),
    // so that instances tracking it are not also told it is undefined.
    Some((script, stmt.pos()))
}

/// `vrrp_track_file NAME { file PATH  weight W }` (also spelled `track_file`).
pub(crate) fn track_file(stmt: &Stmt, body: &[Stmt], sink: &mut Sink) -> Option<(TrackFile, Pos)> {
    let name = block_name(stmt, sink)?;
    let mut file = None;
    let mut weight_v = 1;
    for s in body {
        if !keywords::check(Ctx::TrackFile, s, sink) || has_block(s, sink) {
            continue;
        }
        match s.keyword() {
            "file" => {
                if let Some(w) = arg(s, "a file name", sink) {
                    file = Some(w.text.clone());
                }
            }
            "weight" => weight_v = weight(s, i64::from(i32::MAX), sink).unwrap_or(weight_v),
            _ => unknown_in(s, &stmt.key.text, sink),
        }
    }
    if file.is_none() {
        sink.error(
            stmt.pos(),
            format!("{} '{name}' has no 'file'", stmt.key.text),
        );
    }
    let track = TrackFile {
        name,
        location: sink.location(stmt.pos()),
        file: file.unwrap_or_default(),
        weight: weight_v,
    };
    Some((track, stmt.pos()))
}

/// A sync group as written; members keep their positions for the reference check.
#[derive(Debug)]
pub(crate) struct RawSyncGroup {
    pub name: String,
    pub pos: Pos,
    pub members: Vec<(String, Pos)>,
    pub notify: Notify,
    /// Applies to every member.
    pub track: Tracking,
    /// `sync_group_tracking_weight`: the members' tracking weights count (else they are 0).
    pub tracking_weight: bool,
}

/// `vrrp_sync_group NAME { group { I1 I2 … } notify… }`.
pub(crate) fn sync_group(stmt: &Stmt, body: &[Stmt], sink: &mut Sink) -> Option<RawSyncGroup> {
    let name = block_name(stmt, sink)?;
    let mut group = RawSyncGroup {
        name,
        pos: stmt.pos(),
        members: Vec::new(),
        notify: Notify::default(),
        track: Tracking::default(),
        tracking_weight: false,
    };
    let mut seen_group = false;
    for s in body {
        if !keywords::check(Ctx::SyncGroup, s, sink) {
            continue;
        }
        let k = s.keyword();
        if let Some(block) = &s.block {
            match k {
                "group" => {
                    no_args(s, sink);
                    if seen_group {
                        sink.warn(s.pos(), "second 'group' in a vrrp_sync_group; ignored");
                        continue;
                    }
                    seen_group = true;
                    for line in block {
                        if has_block(line, sink) {
                            continue;
                        }
                        // Members may be one per line or several to a line.
                        for w in std::iter::once(&line.key).chain(line.args.iter()) {
                            group.members.push((w.text.clone(), w.pos));
                        }
                    }
                }
                "track_interface" | "track_script" | "track_file" | "track_process" => {
                    no_args(s, sink);
                    group.track.block(k, block, sink);
                }
                _ => {
                    has_block(s, sink);
                }
            }
            continue;
        }
        // A block keyword without its block: the tree builder has reported the missing '{'.
        if keywords::opens_block(k, !s.args.is_empty()) || group.notify.read(s, sink) {
            continue;
        }
        match k {
            "sync_group_tracking_weight" => {
                no_args(s, sink);
                group.tracking_weight = true;
            }
            "global_tracking" => {
                no_args(s, sink);
                sink.warn(
                    s.pos(),
                    "'global_tracking' is deprecated (as in keepalived 2): read as 'sync_group_tracking_weight'",
                );
                group.tracking_weight = true;
            }
            _ => unknown_in(s, "vrrp_sync_group", sink),
        }
    }
    Some(group)
}
