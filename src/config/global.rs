//! `global_defs { … }`.

use std::time::Duration;

use super::common::{at_least_one, has_block, unknown_in, unsupported};
use super::diag::Sink;
use super::tree::Stmt;
use super::types::{Global, Sched};
use super::value::{arg, no_args, stmt_bool, stmt_int, stmt_micros, stmt_u32, user_group};

/// keepalived global_defs keywords vrrpd does not implement: warned about and skipped.
/// (Anything else is reported as unknown.)
const UNSUPPORTED: &[&str] = &[
    "bfd_cpu_affinity",
    "bfd_no_swap",
    "bfd_priority",
    "bfd_process_name",
    "bfd_rlimit_rttime",
    "bfd_rt_priority",
    "checker_cpu_affinity",
    "checker_log_all_failures",
    "checker_no_swap",
    "checker_priority",
    "checker_process_name",
    "checker_rlimit_rttime",
    "checker_rt_priority",
    "child_wait_time",
    "config_save_dir",
    "data_use_instance",
    "dbus_service_name",
    "default_interface",
    "disable_local_igmp",
    "dynamic_interfaces",
    "enable_dbus",
    "enable_snmp_checker",
    "enable_snmp_rfc",
    "enable_snmp_rfcv2",
    "enable_snmp_rfcv3",
    "enable_snmp_vrrp",
    "enable_traps",
    "fifo_write_vrrp_states_on_reload",
    "include_check",
    "instance",
    "linkbeat_use_polling",
    "log_unknown_vrids",
    "lvs_flush",
    "lvs_flush_on_stop",
    "lvs_netlink_cmd_rcv_bufs",
    "lvs_netlink_cmd_rcv_bufs_force",
    "lvs_netlink_monitor_rcv_bufs",
    "lvs_netlink_monitor_rcv_bufs_force",
    "lvs_notify_fifo",
    "lvs_notify_fifo_script",
    "lvs_sync_daemon",
    "lvs_timeouts",
    "max_auto_priority",
    "min_auto_priority_delay",
    "namespace_with_ipsets",
    "net_namespace",
    "net_namespace_ipvs",
    "nftables",
    "nftables_counters",
    "nftables_ifindex",
    "nftables_ipvs",
    "nftables_ipvs_priority",
    "nftables_ipvs_start_fwmark",
    "nftables_priority",
    "no_checker_emails",
    "no_email_faults",
    "notification_email",
    "notification_email_from",
    "notify_fifo",
    "notify_fifo_script",
    "process_monitor_rcv_bufs",
    "process_monitor_rcv_bufs_force",
    "process_name",
    "process_names",
    "random_seed",
    "reload_check_config",
    "reload_file",
    "reload_repeat",
    "reload_time_file",
    "rs_init_notifies",
    "shutdown_script",
    "shutdown_script_timeout",
    "smtp_alert",
    "smtp_alert_checker",
    "smtp_alert_vrrp",
    "smtp_connect_timeout",
    "smtp_helo_name",
    "smtp_server",
    "snmp_socket",
    "startup_script",
    "startup_script_timeout",
    "tmp_config_directory",
    "umask",
    "use_pid_dir",
    "vmac_addr_prefix",
    "vmac_prefix",
    "vrrp_check_unicast_src",
    "vrrp_cpu_affinity",
    "vrrp_down_timer_adverts",
    "vrrp_garp_extra_if",
    "vrrp_garp_lower_prio_delay",
    "vrrp_garp_lower_prio_repeat",
    "vrrp_gna_interval",
    "vrrp_higher_prio_send_advert",
    "vrrp_ipsets",
    "vrrp_iptables",
    "vrrp_lower_prio_no_advert",
    "vrrp_mcast_group4",
    "vrrp_mcast_group6",
    "vrrp_netlink_cmd_rcv_bufs",
    "vrrp_netlink_cmd_rcv_bufs_force",
    "vrrp_netlink_monitor_rcv_bufs",
    "vrrp_netlink_monitor_rcv_bufs_force",
    "vrrp_notify_fifo",
    "vrrp_notify_fifo_script",
    "vrrp_notify_priority_changes",
    "vrrp_process_name",
    "vrrp_rx_bufs_multiplier",
    "vrrp_rx_bufs_policy",
    "vrrp_skip_check_adv_addr",
    "vrrp_startup_delay",
    "vrrp_strict",
];

/// The global_defs keywords vrrpd implements.
const KEYWORDS: &[&str] = &[
    "router_id",
    "vrrp_version",
    "vrrp_garp_master_delay",
    "vrrp_garp_master_repeat",
    "vrrp_garp_master_refresh",
    "vrrp_garp_master_refresh_repeat",
    "vrrp_garp_interval",
    "vrrp_min_garp",
    "script_user",
    "enable_script_security",
    "v3_checksum_as_v2",
    "max_script_children",
    "vrrp_priority",
    "vrrp_rt_priority",
    "vrrp_rlimit_rttime",
    "vrrp_no_swap",
];

/// Longest `vrrp_garp_interval` accepted. keepalived only logs that a second or more is "very
/// large"; vrrpd refuses it, since a gap that long would stretch a 5-GARP burst past several
/// advert intervals.
const GARP_INTERVAL_MAX_US: u64 = 1_000_000;

/// global_defs values as read, before defaults are applied (several global_defs blocks merge,
/// and `vrrp_min_garp` changes only the defaults).
#[derive(Debug, Default)]
pub(crate) struct GlobalBuilder {
    router_id: Option<String>,
    vrrp_version: Option<u8>,
    garp_master_delay: Option<u32>,
    garp_master_repeat: Option<u32>,
    garp_master_refresh: Option<u32>,
    garp_master_refresh_repeat: Option<u32>,
    garp_interval: Option<Duration>,
    script_user: Option<(String, Option<String>)>,
    enable_script_security: bool,
    v3_checksum_as_v2: Option<bool>,
    max_script_children: Option<u32>,
    sched: Sched,
    min_garp: bool,
}

impl GlobalBuilder {
    pub fn finish(self) -> Global {
        let d = Global::default();
        // vrrp_min_garp: one GARP, no second burst, unless set explicitly.
        let (delay, repeat) = if self.min_garp {
            (0, 1)
        } else {
            (d.garp_master_delay, d.garp_master_repeat)
        };
        Global {
            router_id: self.router_id,
            vrrp_version: self.vrrp_version.unwrap_or(d.vrrp_version),
            garp_master_delay: self.garp_master_delay.unwrap_or(delay),
            garp_master_repeat: self.garp_master_repeat.unwrap_or(repeat),
            garp_master_refresh: self.garp_master_refresh.unwrap_or(d.garp_master_refresh),
            garp_master_refresh_repeat: self
                .garp_master_refresh_repeat
                .unwrap_or(d.garp_master_refresh_repeat),
            garp_interval: self.garp_interval.unwrap_or(d.garp_interval),
            script_user: self.script_user,
            enable_script_security: self.enable_script_security,
            v3_checksum_as_v2: self.v3_checksum_as_v2.unwrap_or(d.v3_checksum_as_v2),
            max_script_children: self.max_script_children.unwrap_or(d.max_script_children),
            sched: self.sched,
        }
    }

    /// Reads one global_defs block into `self`.
    pub fn read(&mut self, body: &[Stmt], sink: &mut Sink) {
        for stmt in body {
            let k = stmt.keyword();
            if UNSUPPORTED.contains(&k) {
                unsupported(stmt, sink);
                continue;
            }
            if KEYWORDS.contains(&k) && has_block(stmt, sink) {
                continue;
            }
            match k {
                "router_id" => {
                    if let Some(w) = arg(stmt, "a name", sink) {
                        self.router_id = Some(w.text.clone());
                    }
                }
                "vrrp_version" => {
                    if let Some(v) = stmt_int(stmt, 2, 3, sink) {
                        self.vrrp_version = u8::try_from(v).ok();
                    }
                }
                "vrrp_garp_master_delay" => {
                    if let Some(v) = stmt_u32(stmt, 0, sink) {
                        self.garp_master_delay = Some(v);
                    }
                }
                "vrrp_garp_master_repeat" => {
                    if let Some(v) = stmt_u32(stmt, 0, sink) {
                        self.garp_master_repeat = Some(at_least_one(stmt, v, sink));
                    }
                }
                "vrrp_garp_master_refresh" => {
                    if let Some(v) = stmt_u32(stmt, 0, sink) {
                        self.garp_master_refresh = Some(v);
                    }
                }
                "vrrp_garp_master_refresh_repeat" => {
                    if let Some(v) = stmt_u32(stmt, 0, sink) {
                        self.garp_master_refresh_repeat = Some(at_least_one(stmt, v, sink));
                    }
                }
                "vrrp_garp_interval" => {
                    if let Some(us) = stmt_micros(stmt, GARP_INTERVAL_MAX_US, sink) {
                        self.garp_interval = Some(Duration::from_micros(us));
                    }
                }
                "vrrp_min_garp" => {
                    if let Some(on) = stmt_bool(stmt, sink) {
                        self.min_garp = on;
                    }
                }
                "script_user" => {
                    if let Some(ug) = user_group(stmt, sink) {
                        self.script_user = Some(ug);
                    }
                }
                "enable_script_security" => {
                    no_args(stmt, sink);
                    self.enable_script_security = true;
                }
                "v3_checksum_as_v2" => {
                    if let Some(on) = stmt_bool(stmt, sink) {
                        self.v3_checksum_as_v2 = Some(on);
                    }
                }
                "vrrp_priority" => {
                    if let Some(n) = stmt_int(stmt, -20, 19, sink) {
                        self.sched.nice = i8::try_from(n).ok();
                    }
                }
                "vrrp_rt_priority" => {
                    if let Some(n) = stmt_int(stmt, 1, 99, sink) {
                        self.sched.rt_priority = u8::try_from(n).ok();
                    }
                }
                "vrrp_rlimit_rttime" => {
                    if let Some(n) = stmt_int(stmt, 2, i64::from(u32::MAX), sink) {
                        self.sched.rlimit_rttime_us = u32::try_from(n).unwrap_or(u32::MAX);
                    }
                }
                "vrrp_no_swap" => {
                    no_args(stmt, sink);
                    self.sched.no_swap = true;
                }
                "max_script_children" => {
                    let max = crate::limits::MAX_CHILDREN as i64;
                    if let Some(n) = stmt_int(stmt, 1, max, sink) {
                        self.max_script_children = u32::try_from(n).ok();
                    }
                }
                _ => unknown(stmt, sink),
            }
        }
    }
}

fn unknown(stmt: &Stmt, sink: &mut Sink) {
    unknown_in(stmt, "global_defs", sink);
}
