//! `vrrpd`: command line, logging and exit codes. Flags follow keepalived where it has them.

use std::path::PathBuf;
use std::process::ExitCode;

use log::{error, info, warn};

use vrrpd::config::{self, Severity};
use vrrpd::daemon::{Daemon, control};
use vrrpd::logging;
use vrrpd::sys::pidfile::PidFile;
use vrrpd::sys::signalfd::Signals;

const DEFAULT_CONFIG: &str = "/etc/vrrpd.conf";
const DEFAULT_PIDFILE: &str = "/var/run/vrrpd.pid";

/// One command-line option. `hint` names the value; "" makes it a flag.
struct Opt {
    short: &'static str,
    long: &'static str,
    hint: &'static str,
    help: &'static str,
}

const fn opt(
    short: &'static str,
    long: &'static str,
    hint: &'static str,
    help: &'static str,
) -> Opt {
    Opt {
        short,
        long,
        hint,
        help,
    }
}

/// Every option, once: getopts parses by this table and `usage` prints it. (getopts' own
/// `usage` would link a Unicode width table, 14 KB of a mipsel binary, to align ASCII text.)
const OPTS: &[Opt] = &[
    opt("f", "use-file", "FILE", "configuration file"),
    opt(
        "t",
        "config-test",
        "",
        "check the configuration, print problems and exit (0 ok, 1 errors)",
    ),
    opt(
        "n",
        "dont-fork",
        "",
        "stay in the foreground (as under procd or systemd)",
    ),
    opt(
        "l",
        "log-console",
        "",
        "log to the console (stderr) instead of syslog",
    ),
    opt("D", "log-detail", "", "detailed (debug) logging"),
    opt(
        "p",
        "pid",
        "PIDFILE",
        "pid file, locked so a second vrrpd refuses to start",
    ),
    opt(
        "i",
        "config-id",
        "ID",
        "keepalived's config id for '@ID' lines (default: the host name up to its first dot)",
    ),
    opt(
        "s",
        "status",
        "",
        "ask the running vrrpd (the one of -p) for its instances and print one line each; exit 3 when none runs",
    ),
    opt(
        "",
        "json",
        "",
        "with -s: keepalived's JSON dump (keepalived.json) instead",
    ),
    opt(
        "",
        "signum",
        "NAME",
        "print the number of the signal for JSON, DATA, STATS, RELOAD or STOP and exit",
    ),
    opt(
        "",
        "hotplug-call",
        "PROGRAM",
        "run PROGRAM vrrpd with ACTION, TYPE and NAME on every transition (default: /sbin/hotplug-call when it exists; 'none': never)",
    ),
    opt("v", "version", "", "print the version and exit"),
    opt("h", "help", "", "print this help and exit"),
];

fn options() -> getopts::Options {
    let mut opts = getopts::Options::new();
    for o in OPTS {
        if o.hint.is_empty() {
            opts.optflag(o.short, o.long, o.help);
        } else {
            opts.optopt(o.short, o.long, o.help, o.hint);
        }
    }
    opts
}

/// The help text: one option per line, descriptions aligned in a column and wrapped at 80.
fn usage() -> String {
    const COLUMN: usize = 24;
    const WIDTH: usize = 80;
    let mut out = format!(
        "Usage: vrrpd [options]\n\nA VRRP (RFC 3768 / RFC 5798) daemon configured like keepalived.\n\
         Defaults: -f {DEFAULT_CONFIG} -p {DEFAULT_PIDFILE}\n\nOptions:\n"
    );
    for o in OPTS {
        let short = if o.short.is_empty() {
            "    ".to_string()
        } else {
            format!("-{}, ", o.short)
        };
        let mut head = format!("    {short}--{}", o.long);
        if !o.hint.is_empty() {
            head = format!("{head} {}", o.hint);
        }
        let mut line = if head.len() < COLUMN {
            format!("{head:COLUMN$}")
        } else {
            format!("{head}\n{:COLUMN$}", "")
        };
        let mut width = COLUMN;
        for word in o.help.split(' ') {
            if width > COLUMN && width + 1 + word.len() > WIDTH {
                line = format!("{line}\n{:COLUMN$}", "");
                width = COLUMN;
            }
            if width > COLUMN {
                line.push(' ');
                width += 1;
            }
            line.push_str(word);
            width += word.len();
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn main() -> ExitCode {
    let opts = options();

    // First of all, so that a SIGHUP or SIGUSR1 during start-up is queued, not fatal.
    let signals = match Signals::new(&Daemon::signals()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("vrrpd: cannot set up signal handling: {e}");
            return ExitCode::from(1);
        }
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let m = match opts.parse(&args) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("vrrpd: {e}\n\n{}", usage());
            return ExitCode::from(1);
        }
    };
    if m.opt_present("h") {
        print!("{}", usage());
        return ExitCode::SUCCESS;
    }
    if m.opt_present("v") {
        println!("vrrpd {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if let Some(name) = m.opt_str("signum") {
        return match control::signum(&name) {
            Some(n) => {
                println!("{n}");
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("Unknown sigfunc {name}");
                ExitCode::from(1)
            }
        };
    }
    let pid_path = PathBuf::from(m.opt_str("p").unwrap_or_else(|| DEFAULT_PIDFILE.into()));
    if m.opt_present("s") {
        return status(&pid_path, m.opt_present("json"));
    }
    let path = PathBuf::from(m.opt_str("f").unwrap_or_else(|| DEFAULT_CONFIG.into()));
    let mut source = config::Source::new(path.clone(), m.opt_str("i"));

    if m.opt_present("t") {
        source.interface_exists = Some(interface_exists);
        let loaded = source.load();
        for d in &loaded.diagnostics {
            eprintln!("{d}");
        }
        return match loaded.config {
            Some(c) => {
                eprintln!(
                    "{}: configuration OK ({} instance(s))",
                    path.display(),
                    c.instances.len()
                );
                ExitCode::SUCCESS
            }
            None => ExitCode::from(1),
        };
    }

    let loaded = source.load();
    let console = m.opt_present("l") || m.opt_present("n");
    let level = if m.opt_present("D") {
        log::LevelFilter::Debug
    } else {
        log::LevelFilter::Info
    };
    if !m.opt_present("n") {
        if let Err(e) = vrrpd::sys::daemonize() {
            eprintln!("vrrpd: cannot go to the background: {e}");
            return ExitCode::from(1);
        }
    }
    logging::init(console, level);

    for d in &loaded.diagnostics {
        match d.severity {
            Severity::Error => error!("{d}"),
            Severity::Warning => warn!("{d}"),
        }
    }
    let Some(config) = loaded.config else {
        error!("{}: configuration has errors; not starting", path.display());
        return ExitCode::from(1);
    };

    // keepalived warns and runs when the directory is missing (a tmpfs /run after boot, a new
    // -p path); so does vrrpd, after creating it.
    if let Some(dir) = pid_path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        match std::fs::create_dir_all(dir) {
            Ok(()) => warn!(
                "pid file directory {} did not exist; created it",
                dir.display()
            ),
            Err(e) => {
                error!("cannot create pid file directory {}: {e}", dir.display());
                return ExitCode::from(1);
            }
        }
    }
    let _pidfile = match PidFile::lock(&pid_path) {
        Ok(p) => p,
        Err(e) => {
            error!("{}: {e}", pid_path.display());
            return ExitCode::from(1);
        }
    };

    info!(
        "Starting vrrpd {} with {} instance(s)",
        env!("CARGO_PKG_VERSION"),
        config.instances.len()
    );
    vrrpd::sys::sched::apply(&config.global.sched);
    let runs_scripts = config.runs_scripts();
    let hotplug = vrrpd::daemon::hotplug_program(m.opt_str("hotplug-call").as_deref());
    let mut daemon = match Daemon::new(source, config, signals, hotplug) {
        Ok(d) => d,
        Err(e) => {
            error!("cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    let sock = control::socket_path(&pid_path);
    if let Err(e) = daemon.listen(&sock) {
        warn!(
            "{}: no control socket (vrrpd -s will not work): {e}",
            sock.display()
        );
    }
    // Every socket is open now: give up what the loop never needs.
    drop_capabilities(runs_scripts);
    match daemon.run() {
        Ok(_) => {
            info!("Stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            error!("event loop failed: {e}");
            ExitCode::from(1)
        }
    }
}

/// Whether the system has an interface named `name` now.
fn interface_exists(name: &str) -> bool {
    let Ok(c) = std::ffi::CString::new(name) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
    unsafe { libc::if_nametoindex(c.as_ptr()) != 0 }
}

/// `vrrpd -s`: the running daemon's answer on its control socket, printed as it comes.
fn status(pid_path: &std::path::Path, json: bool) -> ExitCode {
    let sock = control::socket_path(pid_path);
    match control::query(&sock, if json { "json" } else { "status" }) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            eprintln!("vrrpd: the daemon refused the request: {e}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!(
                "vrrpd: no vrrpd is running for {} ({}: {e})",
                pid_path.display(),
                sock.display()
            );
            ExitCode::from(3)
        }
    }
}

/// Run as root without scripts, keep only CAP_NET_ADMIN and CAP_NET_RAW (see `sys::caps`).
/// With scripts, capabilities are left alone: a script may need root's full powers.
fn drop_capabilities(runs_scripts: bool) {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || runs_scripts {
        return;
    }
    match vrrpd::sys::caps::keep_only_net() {
        Ok(()) => info!("Dropped every capability but CAP_NET_ADMIN and CAP_NET_RAW"),
        Err(e) => warn!("cannot drop capabilities: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_lists_every_option_within_80_columns() {
        let text = usage();
        for o in OPTS {
            assert!(text.contains(&format!("--{}", o.long)), "{}", o.long);
        }
        assert!(text.lines().all(|l| l.len() <= 80), "{text}");
        assert!(options().parse(["-f", "x", "--json", "-t"]).is_ok());
    }
}
