//! Fixed capacities. Every run-time table is sized here, so memory does not grow after start-up.
//! `vrrpd -t` rejects a config that exceeds one of them.

/// VRRP instances per daemon (one per VRID per interface at most; VRIDs are 1..=255).
pub const MAX_INSTANCES: usize = 255;
/// Virtual addresses per instance (also the most an advert may carry and still be compared).
pub const MAX_VIPS: usize = 32;
/// Unicast peers per instance.
pub const MAX_PEERS: usize = 16;
/// Interfaces the daemon watches.
pub const MAX_INTERFACES: usize = 32;
/// Scripts (health checks and notify hooks) running at once, at most; `max_script_children`
/// in global_defs picks a lower cap.
pub const MAX_CHILDREN: usize = 256;
/// `vrrp_track_process` blocks per config (each is one bit of a tracked process's mask).
pub const MAX_TRACK_PROCESSES: usize = 32;
/// Processes followed at once for `track_process`. Matches beyond it (a fork storm) are
/// counted as dropped, not stored.
pub const MAX_TRACKED_PIDS: usize = 1024;
/// Largest packet we read from a raw socket (an IPv4 header with options plus the largest advert).
pub const MAX_PACKET: usize = 1536;
/// Bytes in one config file (the main one or an include). A full config (255 instances with
/// 32 VIPs each, comments and all) is a few hundred KiB; more is a mistake (`include /dev/zero`
/// through a symlink, a log file matched by a wildcard), refused before it costs memory.
pub const MAX_CONFIG_FILE: u64 = 1 << 20;
/// Bytes in the main file and all its includes together.
pub const MAX_CONFIG_TOTAL: u64 = 2 << 20;
/// Diagnostics one config load keeps; a file of nonsense gets these and a count of the rest,
/// not one log line per line of input on every reload.
pub const MAX_DIAGNOSTICS: usize = 200;
/// `virtual_ipaddress_excluded` entries per instance (never in adverts, so not bound by
/// MAX_VIPS; OpenStack routers keep all their addresses there).
pub const MAX_EXCLUDED_VIPS: usize = 256;
/// `virtual_routes` per instance.
pub const MAX_ROUTES: usize = 32;
/// `virtual_rules` per instance.
pub const MAX_RULES: usize = 32;
/// `static_ipaddress` entries.
pub const MAX_STATIC_ADDRS: usize = 64;
/// `static_routes` entries.
pub const MAX_STATIC_ROUTES: usize = 64;
/// `static_rules` entries.
pub const MAX_STATIC_RULES: usize = 64;
/// Next hops of one multipath route.
pub const MAX_NEXTHOPS: usize = 8;
