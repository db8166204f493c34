//! `vrrp_track_process NAME { … }` and the `track_process { … }` lines of an instance, with
//! keepalived's keywords, defaults and ranges (keepalived.conf(5), "VRRP track processes").

use std::time::Duration;

use super::Located;
use super::common::{has_block, unknown_in};
use super::diag::Location;
use super::diag::{Pos, Sink};
use super::keywords::{self, Ctx};
use super::tree::Stmt;
use super::value::{extra_words, int_in, no_args, stmt_duration, stmt_int};

/// The kernel keeps 15 bytes of a process name (TASK_COMM_LEN - 1).
pub const COMM_MAX: usize = 15;
/// keepalived's weight range for processes.
const WEIGHT_MAX: i64 = 254;
/// Longest delay accepted (keepalived takes fractions of a second; an hour is plenty).
const DELAY_MAX_US: u64 = 3_600_000_000;
/// Longest `track_process_scan_interval`.
const SCAN_MAX_US: u64 = 3_600_000_000;

/// How the parameters after the process name are compared with a command line's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamMatch {
    /// Exactly these parameters, no more (the default when parameters are given).
    Exact,
    /// These first, more may follow.
    Partial,
    /// These first, and the last one may be longer than written.
    Initial,
}

/// One `vrrp_track_process`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackProcess {
    pub name: String,
    pub location: Location,
    /// The process name (comm), or with `full_command` or parameters, the command (argv[0]).
    pub process: String,
    /// Some when parameters (or `param_match`) are given: the command line is then compared.
    pub params: Option<Vec<String>>,
    pub param_match: ParamMatch,
    pub full_command: bool,
    /// -254..=254, default 0: FAULT while the quorum is not met. (keepalived.conf(5) says the
    /// default is 1, but keepalived's parser starts from 0, and configs rely on that.)
    pub weight: i32,
    pub reverse: bool,
    /// Fewest matching processes for "up", default 1.
    pub quorum: u32,
    /// Most matching processes for "up", default no limit.
    pub quorum_max: u32,
    pub fork_delay: Duration,
    pub terminate_delay: Duration,
}

impl TrackProcess {
    /// Whether matching reads /proc/PID/cmdline rather than just the name.
    pub fn uses_cmdline(&self) -> bool {
        self.full_command || self.params.is_some()
    }
}

impl Located for TrackProcess {
    fn location(&self) -> &Location {
        &self.location
    }
    fn location_mut(&mut self) -> &mut Location {
        &mut self.location
    }
}

/// A `track_process` line: `NAME [weight W [reverse|noreverse]]`; None means the block's own.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessRef {
    pub name: String,
    pub weight: Option<i32>,
    pub reverse: Option<bool>,
}

impl ProcessRef {
    /// The weight and direction in force for `p`.
    pub fn weight_of(&self, p: &TrackProcess) -> (i32, bool) {
        (
            self.weight.unwrap_or(p.weight),
            self.reverse.unwrap_or(p.reverse),
        )
    }
}

/// `weight W [reverse|noreverse]` starting at `words[0]` == "weight".
fn weight_words(s: &Stmt, from: usize, sink: &mut Sink) -> Option<(i32, Option<bool>, usize)> {
    let Some(w) = s.args.get(from) else {
        sink.error(s.pos(), "expected a number after 'weight'");
        return None;
    };
    let v = int_in(w, "weight", -WEIGHT_MAX, WEIGHT_MAX, sink)?;
    let reverse = match s.args.get(from + 1).map(|r| r.text.as_str()) {
        Some("reverse") => Some(true),
        Some("noreverse" | "no_reverse") => Some(false),
        _ => None,
    };
    let used = from + 1 + usize::from(reverse.is_some());
    Some((i32::try_from(v).ok()?, reverse, used))
}

/// `vrrp_track_process NAME { … }`; None if it has no name.
pub(crate) fn block(stmt: &Stmt, body: &[Stmt], sink: &mut Sink) -> Option<(TrackProcess, Pos)> {
    let Some(name) = stmt.args.first() else {
        sink.error(stmt.pos(), "vrrp_track_process needs a name");
        return None;
    };
    extra_words(stmt, 1, sink);
    let mut t = TrackProcess {
        name: name.text.clone(),
        location: sink.location(stmt.pos()),
        process: String::new(),
        params: None,
        param_match: ParamMatch::Exact,
        full_command: false,
        weight: 0,
        reverse: false,
        quorum: 1,
        quorum_max: u32::MAX,
        fork_delay: Duration::ZERO,
        terminate_delay: Duration::ZERO,
    };
    let mut process_at = None;
    let mut param_match_set = false;
    for s in body {
        if !keywords::check(Ctx::TrackProcess, s, sink) || has_block(s, sink) {
            continue;
        }
        let count = |s: &Stmt, min: i64, sink: &mut Sink| {
            stmt_int(s, min, i64::from(u32::MAX), sink).and_then(|v| u32::try_from(v).ok())
        };
        match s.keyword() {
            "process" => {
                let Some(first) = s.args.first() else {
                    sink.error(s.pos(), "expected a process name after 'process'");
                    continue;
                };
                t.process = first.text.clone();
                process_at = Some(s.pos());
                let params: Vec<String> = s.args[1..].iter().map(|w| w.text.clone()).collect();
                t.params = (!params.is_empty()).then_some(params);
            }
            "param_match" => {
                let Some(w) = super::value::arg(s, "initial or partial", sink) else {
                    continue;
                };
                param_match_set = true;
                t.param_match = match w.text.as_str() {
                    "initial" => ParamMatch::Initial,
                    "partial" => ParamMatch::Partial,
                    other => {
                        sink.error(
                            w.pos,
                            format!("param_match must be initial or partial, not '{other}'"),
                        );
                        ParamMatch::Exact
                    }
                };
            }
            "weight" => {
                if let Some((w, reverse, used)) = weight_words(s, 0, sink) {
                    extra_words(s, used, sink);
                    t.weight = w;
                    t.reverse = reverse.unwrap_or(false);
                }
            }
            "quorum" => t.quorum = count(s, 1, sink).unwrap_or(t.quorum),
            "quorum_max" => t.quorum_max = count(s, 0, sink).unwrap_or(t.quorum_max),
            "delay" => {
                if let Some(d) = stmt_duration(s, DELAY_MAX_US, sink) {
                    t.fork_delay = d;
                    t.terminate_delay = d;
                }
            }
            "fork_delay" => {
                t.fork_delay = stmt_duration(s, DELAY_MAX_US, sink).unwrap_or(t.fork_delay)
            }
            "terminate_delay" => {
                t.terminate_delay =
                    stmt_duration(s, DELAY_MAX_US, sink).unwrap_or(t.terminate_delay)
            }
            "full_command" => {
                no_args(s, sink);
                t.full_command = true;
            }
            _ => unknown_in(s, "vrrp_track_process", sink),
        }
    }
    // "To specify that a command must have no parameters, … specify param_match."
    if param_match_set && t.params.is_none() {
        t.params = Some(Vec::new());
    }
    match process_at {
        None => sink.error(
            stmt.pos(),
            format!("vrrp_track_process '{}' has no 'process'", t.name),
        ),
        Some(at) if !t.uses_cmdline() && t.process.len() > COMM_MAX => sink.warn(
            at,
            format!(
                "process name '{}' is longer than the kernel's {COMM_MAX}-byte process name; only its first {COMM_MAX} bytes are compared (use full_command to match the command)",
                t.process
            ),
        ),
        Some(_) => {}
    }
    if t.quorum_max < t.quorum {
        sink.error(
            stmt.pos(),
            format!(
                "vrrp_track_process '{}': quorum_max {} is below quorum {}",
                t.name, t.quorum_max, t.quorum
            ),
        );
    }
    Some((t, stmt.pos()))
}

/// The lines of an instance's `track_process { … }` block.
pub(crate) fn refs(body: &[Stmt], sink: &mut Sink) -> Vec<(ProcessRef, Pos)> {
    let mut out = Vec::new();
    for s in body {
        if has_block(s, sink) {
            continue;
        }
        let mut r = ProcessRef {
            name: s.key.text.clone(),
            weight: None,
            reverse: None,
        };
        let ok = match s.args.first().map(|w| w.text.as_str()) {
            None => true,
            Some("weight") => match weight_words(s, 1, sink) {
                Some((w, reverse, used)) => {
                    r.weight = Some(w);
                    r.reverse = reverse;
                    extra_words(s, used, sink);
                    true
                }
                None => false,
            },
            Some("reverse") => {
                r.reverse = Some(true);
                extra_words(s, 1, sink);
                true
            }
            Some(other) => {
                sink.error(
                    s.args[0].pos,
                    format!(
                        "unexpected '{other}' after '{}' (expected weight N)",
                        s.key.text
                    ),
                );
                false
            }
        };
        if ok {
            out.push((r, s.pos()));
        }
    }
    out
}

/// global_defs `track_process_scan_interval SECS` (vrrpd's own): how often /proc is scanned
/// for tracked processes when the kernel's process connector is not available.
pub(crate) fn scan_interval(s: &Stmt, sink: &mut Sink) -> Option<Duration> {
    let d = stmt_duration(s, SCAN_MAX_US, sink)?;
    if d < Duration::from_millis(10) {
        sink.error(
            s.pos(),
            "track_process_scan_interval must be at least 0.01 s",
        );
        return None;
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use crate::config::{Severity, load_str};

    use super::*;

    fn conf(body: &str, refs: &str) -> crate::config::Loaded {
        load_str(
            &format!(
                "vrrp_track_process p {{\n{body}\n}}\nvrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 1\n priority 100\n virtual_ipaddress {{\n  10.0.0.1\n }}\n track_process {{\n{refs}\n }}\n}}\n"
            ),
            "t.conf",
        )
    }

    fn messages(l: &crate::config::Loaded) -> Vec<String> {
        l.diagnostics.iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn defaults_are_keepalived_s() {
        let l = conf(" process haproxy", "  p");
        let c = l.config.clone().expect("loads");
        assert!(l.diagnostics.is_empty(), "{:?}", messages(&l));
        let p = &c.track_processes[0];
        assert_eq!(p.process, "haproxy");
        assert_eq!(p.params, None);
        assert_eq!((p.weight, p.reverse), (0, false));
        assert_eq!((p.quorum, p.quorum_max), (1, u32::MAX));
        assert_eq!(p.fork_delay, Duration::ZERO);
        assert!(!p.uses_cmdline());
        let r = &c.instances[0].track_processes[0];
        assert_eq!(r.weight_of(p), (0, false));
    }

    #[test]
    fn every_keyword() {
        let l = conf(
            " process \"/usr/sbin/my proxy\" -f \"a b\"\n param_match initial\n weight -30 reverse\n quorum 2\n quorum_max 4\n delay 0.5\n fork_delay 1.25\n full_command",
            "  p weight 0 noreverse",
        );
        let c = l.config.clone().expect("loads");
        assert!(l.diagnostics.is_empty(), "{:?}", messages(&l));
        let p = &c.track_processes[0];
        assert_eq!(p.process, "/usr/sbin/my proxy");
        assert_eq!(p.params, Some(vec!["-f".to_string(), "a b".to_string()]));
        assert_eq!(p.param_match, ParamMatch::Initial);
        assert_eq!((p.weight, p.reverse), (-30, true));
        assert_eq!((p.quorum, p.quorum_max), (2, 4));
        assert_eq!(p.terminate_delay, Duration::from_millis(500));
        assert_eq!(p.fork_delay, Duration::from_millis(1250));
        assert!(p.full_command && p.uses_cmdline());
        assert_eq!(c.instances[0].track_processes[0].weight_of(p), (0, false));
    }

    #[test]
    fn param_match_alone_means_no_parameters() {
        let l = conf(" process nginx\n param_match partial", "  p");
        let p = &l.config.expect("loads").track_processes[0];
        assert_eq!(p.params, Some(vec![]));
        assert!(p.uses_cmdline());
    }

    #[test]
    fn mistakes_name_the_line() {
        let l = conf(" weight 300", "  p");
        let m = messages(&l);
        assert!(l.config.is_none());
        assert!(
            m.iter()
                .any(|m| m.contains("t.conf:2") && m.contains("weight")),
            "{m:?}"
        );
        assert!(
            m.iter()
                .any(|m| m.contains("t.conf:1") && m.contains("has no 'process'")),
            "{m:?}"
        );

        let l = conf(" process x\n quorum 3\n quorum_max 2", "  p");
        assert!(l.config.is_none());
        assert!(
            messages(&l)
                .iter()
                .any(|m| m.contains("quorum_max 2 is below quorum 3"))
        );

        let l = conf(" process x\n param_match fuzzy", "  p");
        assert!(l.config.is_none());

        let l = conf(" process x", "  q");
        assert!(l.config.is_none());
        let m = messages(&l);
        assert!(
            m.iter()
                .any(|m| m.contains("t.conf:12") && m.contains("track_process 'q' is not defined")),
            "{m:?}"
        );

        let l = conf(" process x", "  p wait 3");
        assert!(l.config.is_none());
    }

    #[test]
    fn long_names_warn_that_only_15_bytes_count() {
        let l = conf(" process a-very-long-process-name", "  p");
        assert!(l.config.is_some());
        let w: Vec<_> = l
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .map(|d| d.to_string())
            .collect();
        assert!(
            w.iter().any(|m| m.contains("t.conf:2") && m.contains("15")),
            "{w:?}"
        );
    }

    #[test]
    fn a_sync_group_s_track_process_is_every_member_s() {
        let inst = |n: &str, id: u8| {
            format!(
                "vrrp_instance {n} {{\n interface eth0\n virtual_router_id {id}\n priority 100\n virtual_ipaddress {{\n  10.0.0.{id}\n }}\n}}\n"
            )
        };
        let text = format!(
            "vrrp_track_process p {{\n process x\n}}\n{}{}vrrp_sync_group G {{\n group {{\n  A\n  B\n }}\n track_process {{\n  p\n  q\n }}\n}}\n",
            inst("A", 1),
            inst("B", 2)
        );
        let l = load_str(&text, "g.conf");
        let m = messages(&l);
        // q is undefined: an error at its line.
        assert!(
            m.iter()
                .any(|m| m.contains("g.conf:27") && m.contains("'q' is not defined")),
            "{m:?}"
        );
        let l = load_str(&text.replace("  q\n", ""), "g.conf");
        let c = l.config.expect("loads");
        for i in &c.instances {
            assert_eq!(i.track_processes.len(), 1, "{}", i.name);
            assert_eq!(i.track_processes[0].name, "p");
        }
    }
}
