//! Checks and pieces shared by the block readers.

use super::diag::{Pos, Sink};
use super::process::ProcessRef;
use super::tree::Stmt;
use super::types::{TrackInterface, TrackRef};
use super::value::{command, ifname, int_in};

/// A value keyword given a `{ }` block is malformed: reported, and the statement is skipped.
pub(crate) fn has_block(stmt: &Stmt, sink: &mut Sink) -> bool {
    if stmt.block.is_some() {
        sink.error(
            stmt.pos(),
            format!("'{}' does not take a '{{' block", stmt.key.text),
        );
        return true;
    }
    false
}

/// A word that is not a keyword of the block at all (probably a typo).
pub(crate) fn unknown_in(stmt: &Stmt, block: &str, sink: &mut Sink) {
    sink.warn(
        stmt.pos(),
        format!("unknown keyword '{}' in {block}; ignored", stmt.key.text),
    );
}

/// keepalived accepts a repeat count of 0 (for old configs) and uses 1; so does vrrpd.
pub(crate) fn at_least_one(stmt: &Stmt, v: u32, sink: &mut Sink) -> u32 {
    if v == 0 {
        sink.warn(
            stmt.pos(),
            format!("{} 0 means 1 (as in keepalived)", stmt.key.text),
        );
        1
    } else {
        v
    }
}

/// The notify scripts of an instance or a sync group.
#[derive(Debug, Default, Clone)]
pub(crate) struct Notify {
    pub master: Option<String>,
    pub backup: Option<String>,
    pub fault: Option<String>,
    pub stop: Option<String>,
    pub any: Option<String>,
}

impl Notify {
    /// Reads `stmt` if it is a notify keyword; returns false if it is not one.
    pub fn read(&mut self, stmt: &Stmt, sink: &mut Sink) -> bool {
        let slot = match stmt.keyword() {
            "notify_master" => &mut self.master,
            "notify_backup" => &mut self.backup,
            "notify_fault" => &mut self.fault,
            "notify_stop" => &mut self.stop,
            "notify" => &mut self.any,
            _ => return false,
        };
        if has_block(stmt, sink) {
            return true;
        }
        if let Some(cmd) = command(stmt, sink) {
            if slot.is_some() {
                // keepalived keeps the first and ignores repeats; say so rather than guess.
                sink.warn(
                    stmt.pos(),
                    format!("'{}' given twice; the first is used", stmt.key.text),
                );
            } else {
                *slot = Some(cmd);
            }
        }
        true
    }
}

/// `track_interface`, `track_script`, `track_file` and `track_process` blocks, of an instance
/// or a sync group.
#[derive(Debug, Default, Clone)]
pub(crate) struct Tracking {
    pub interfaces: Vec<(TrackInterface, Pos)>,
    pub scripts: Vec<(TrackRef, Pos)>,
    pub files: Vec<(TrackRef, Pos)>,
    pub processes: Vec<(ProcessRef, Pos)>,
}

impl Tracking {
    /// Reads the body of the tracking block `k`.
    pub fn block(&mut self, k: &str, body: &[Stmt], sink: &mut Sink) {
        if k == "track_process" {
            self.processes.extend(super::process::refs(body, sink));
            return;
        }
        for s in body {
            match k {
                "track_interface" => {
                    if let Some(weight) = track_weight(s, 253, sink) {
                        if let Some(name) = ifname(&s.key, sink) {
                            let t = TrackInterface {
                                name,
                                weight: weight.unwrap_or(0),
                            };
                            self.interfaces.push((t, s.pos()));
                        }
                    }
                }
                "track_script" => {
                    if let Some(weight) = track_weight(s, 253, sink) {
                        let r = TrackRef {
                            name: s.key.text.clone(),
                            weight,
                        };
                        self.scripts.push((r, s.pos()));
                    }
                }
                _ => {
                    if let Some(weight) = track_weight(s, 254, sink) {
                        let r = TrackRef {
                            name: s.key.text.clone(),
                            weight,
                        };
                        self.files.push((r, s.pos()));
                    }
                }
            }
        }
    }
}

/// The `weight W` of a track line (`NAME [weight W] [reverse|noreverse]`): Some(None) when
/// absent, None after an error.
fn track_weight(s: &Stmt, limit: i64, sink: &mut Sink) -> Option<Option<i32>> {
    if has_block(s, sink) {
        return None;
    }
    let mut weight = None;
    let mut words = s.args.iter();
    while let Some(w) = words.next() {
        match w.text.as_str() {
            "weight" => {
                let Some(v) = words.next() else {
                    sink.error(w.pos, "expected a number after 'weight'");
                    return None;
                };
                let v = int_in(v, "weight", -limit, limit, sink)?;
                weight = i32::try_from(v).ok();
            }
            "reverse" => sink.warn(w.pos, "'reverse' is not supported by vrrpd; ignored"),
            "noreverse" | "no_reverse" => {}
            other => {
                sink.error(
                    w.pos,
                    format!(
                        "unexpected '{other}' after '{}' (expected weight N)",
                        s.key.text
                    ),
                );
                return None;
            }
        }
    }
    Some(weight)
}
