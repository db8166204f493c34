//! Checks and pieces shared by the block readers.

use super::diag::Sink;
use super::tree::Stmt;
use super::value::command;

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

/// A keepalived keyword vrrpd does not implement: "'X' is not supported by vrrpd; ignored"
/// (saying "block" when it has one). Its arguments and block have already been grouped with
/// it, so skipping the statement skips all of them.
pub(crate) fn unsupported(stmt: &Stmt, sink: &mut Sink) {
    let what = if stmt.block.is_some() { " block" } else { "" };
    sink.warn(
        stmt.pos(),
        format!(
            "'{}'{what} is not supported by vrrpd; ignored",
            stmt.key.text
        ),
    );
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
