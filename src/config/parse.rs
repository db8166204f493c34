//! The top level of the file: dispatches each block to its reader.

use super::common::unsupported;
use super::diag::{Pos, Sink};
use super::global::GlobalBuilder;
use super::instance::{self, RawInstance};
use super::others::{self, RawSyncGroup};
use super::tree::Stmt;
use super::types::{Script, TrackFile};
use super::value::no_args;

/// keepalived top-level keywords and blocks vrrpd does not implement.
const UNSUPPORTED: &[&str] = &[
    "bfd_instance",
    "child_wait_time",
    "garp_group",
    "instance",
    "interface_up_down_delays",
    "linkbeat_interfaces",
    "linkbeat_use_polling",
    "namespace_with_ipsets",
    "net_namespace",
    "net_namespace_ipvs",
    "static_ipaddress",
    "static_routes",
    "static_rules",
    "track_group",
    "use_pid_dir",
    "virtual_server",
    "virtual_server_group",
    "vrrp_track_process",
];

/// Everything read from the file, before cross-checks and defaults.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub global: GlobalBuilder,
    pub instances: Vec<RawInstance>,
    pub scripts: Vec<(Script, Pos)>,
    pub track_files: Vec<(TrackFile, Pos)>,
    pub sync_groups: Vec<RawSyncGroup>,
}

pub(crate) fn document(stmts: &[Stmt], sink: &mut Sink) -> Parsed {
    let mut parsed = Parsed::default();
    for s in stmts {
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
            ("vrrp_sync_group", Some(body)) => {
                parsed.sync_groups.extend(others::sync_group(s, body, sink));
            }
            // Block keywords without a block: the missing '{' is already reported.
            (
                "global_defs" | "vrrp_instance" | "vrrp_script" | "vrrp_track_file" | "track_file"
                | "vrrp_sync_group",
                None,
            ) => {}
            _ if UNSUPPORTED.contains(&k) => unsupported(s, sink),
            _ if instance::KEYWORDS.contains(&k) => sink.warn(
                s.pos(),
                format!(
                    "'{}' is outside any vrrp_instance; ignored (was a block closed too early?)",
                    s.key.text
                ),
            ),
            _ => sink.warn(
                s.pos(),
                format!("unknown top-level keyword '{}'; ignored", s.key.text),
            ),
        }
    }
    parsed
}
