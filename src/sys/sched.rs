//! Process scheduling for punctual adverts: nice, real-time priority, locked memory.

use std::io;

use log::{info, warn};

use crate::config::Sched;

/// Applies what the configuration asks for. Each failure is logged and the daemon goes on: it
/// still works, only with the default scheduling.
pub fn apply(s: &Sched) {
    if let Some(nice) = s.nice {
        // SAFETY: plain syscall on our own process.
        let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, libc::c_int::from(nice)) };
        report(rc, format_args!("nice {nice}"));
    }
    if let Some(prio) = s.rt_priority {
        // A daemon bug that spins at real-time priority would freeze a one-core router: the
        // kernel sends SIGXCPU once it runs this long without blocking.
        let limit = libc::rlimit {
            rlim_cur: libc::rlim_t::from(s.rlimit_rttime_us),
            rlim_max: libc::rlim_t::from(s.rlimit_rttime_us),
        };
        // SAFETY: setrlimit reads the struct we pass.
        let rc = unsafe { libc::setrlimit(libc::RLIMIT_RTTIME, &limit) };
        report(rc, format_args!("RLIMIT_RTTIME {} us", s.rlimit_rttime_us));
        // musl's sched_param has extra (sporadic-server) fields, so no struct literal.
        // SAFETY: sched_param is plain integers, for which all-zero bytes are valid.
        let mut param: libc::sched_param = unsafe { std::mem::zeroed() };
        param.sched_priority = libc::c_int::from(prio);
        // RESET_ON_FORK: scripts we start run with normal scheduling, not ours.
        let policy = libc::SCHED_RR | libc::SCHED_RESET_ON_FORK;
        // SAFETY: sched_setscheduler reads the struct we pass.
        let rc = unsafe { libc::sched_setscheduler(0, policy, &param) };
        report(rc, format_args!("real-time scheduling (SCHED_RR {prio})"));
    }
    if s.no_swap {
        // SAFETY: plain syscall; it only pins our own pages.
        let rc = unsafe { libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE) };
        report(rc, format_args!("memory locked (no swap)"));
    }
}

fn report(rc: libc::c_int, what: core::fmt::Arguments<'_>) {
    if rc == 0 {
        info!("Scheduling: {what}");
    } else {
        warn!(
            "Scheduling: cannot set {what}: {}",
            io::Error::last_os_error()
        );
    }
}
