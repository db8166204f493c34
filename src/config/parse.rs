//! The top level of the file: dispatches each block to its reader.

use super::diag::{Pos, Sink};
use super::extras::RawExtras;
use super::global::GlobalBuilder;
use super::instance::{self, RawInstance};
use super::keywords::{self, Ctx};
use super::others::{self, RawSyncGroup};
use super::process::{self, TrackProcess};
use super::tree::Stmt;
use super::types::{Script, TrackFile};
use super::value::no_args;

/// Everything read from the file, before cross-checks and defaults.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub global: GlobalBuilder,
    pub instances: Vec<RawInstance>,
    pub scripts: Vec<(Script, Pos)>,
    pub track_files: Vec<(TrackFile, Pos)>,
    pub track_processes: Vec<(TrackProcess, Pos)>,
    pub sync_groups: Vec<RawSyncGroup>,
    /// static_ipaddress, static_routes, static_rules.
    pub statics: RawExtras,
}

pub(crate) fn document(stmts: &[Stmt], sink: &mut Sink) -> Parsed {
    let mut parsed = Parsed::default();
    for s in stmts {
        if !keywords::check(Ctx::Top, s, sink) {
            continue;
        }
        let k = s.keyword();
        let block = s.block.as_deref();
        match (k, block) {
            ("global_defs", Some(body)) => {
                no_args(s, sink);
                parsed.global.read(body, sink);
            }
            ("vrrp_instance", Some(body)) => {
                parsed.instances.extend(instance::read(s, body, sink));
            }
            ("vrrp_script", Some(body)) => {
                parsed.scripts.extend(others::script(s, body, sink));
            }
            ("vrrp_track_file" | "track_file", Some(body)) => {
                parsed.track_files.extend(others::track_file(s, body, sink));
            }
            ("vrrp_track_process", Some(body)) => {
                parsed.track_processes.extend(process::block(s, body, sink));
            }
            ("vrrp_sync_group", Some(body)) => {
                parsed.sync_groups.extend(others::sync_group(s, body, sink));
            }
            ("static_ipaddress" | "static_routes" | "static_rules", Some(body)) => {
                no_args(s, sink);
                parsed.statics.read_block(k, body, sink);
            }
            // Block keywords without a block: the missing '{' is already reported.
            _ => {}
        }
    }
    parsed
}
