//! The gate: which external programs the lab needs, where they are, and what to do when they
//! are missing (skip locally, fail loudly in CI).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Absolute paths of the programs the lab runs.
#[derive(Debug)]
pub struct Tools {
    pub ip: PathBuf,
    pub keepalived: PathBuf,
    pub tcpdump: PathBuf,
    pub tshark: PathBuf,
    pub nft: PathBuf,
    pub timeout: PathBuf,
    /// To see which system calls a daemon's packets leave through (tests/batching.rs).
    pub strace: PathBuf,
}

/// Looks `name` up in PATH, then in the sbin directories a non-login root shell may lack.
pub fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let extra = ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"];
    std::env::split_paths(&path)
        .chain(extra.iter().map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn probe() -> Result<Tools, Vec<String>> {
    let mut missing = Vec::new();
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        missing.push("root".to_string());
    }
    let mut get = |name: &str, package: &str| {
        find(name).unwrap_or_else(|| {
            missing.push(format!("{name} ({package})"));
            PathBuf::new()
        })
    };
    let tools = Tools {
        ip: get("ip", "iproute2"),
        keepalived: get("keepalived", "keepalived"),
        tcpdump: get("tcpdump", "tcpdump"),
        tshark: get("tshark", "tshark"),
        nft: get("nft", "nftables"),
        timeout: get("timeout", "coreutils"),
        strace: get("strace", "strace"),
    };
    if missing.is_empty() {
        Ok(tools)
    } else {
        Err(missing)
    }
}

/// The tools, or `None` after printing "skipped: …" when something is missing outside CI.
/// In CI (env CI=true) a missing tool is a hard failure: a green run must mean the tests ran.
pub fn tools() -> Option<&'static Tools> {
    static TOOLS: OnceLock<Result<Tools, Vec<String>>> = OnceLock::new();
    match TOOLS.get_or_init(probe) {
        Ok(t) => Some(t),
        Err(missing) => {
            let what = missing.join(", ");
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!(
                    "lab tests need root, iproute2, keepalived, tcpdump, tshark, nftables, strace; missing: {what}"
                );
            }
            eprintln!(
                "skipped: lab tests need root, iproute2, keepalived, tcpdump, tshark, nftables, strace; missing: {what}"
            );
            None
        }
    }
}

/// The tools, for code that only runs once `tools()` said yes.
pub fn t() -> &'static Tools {
    match tools() {
        Some(t) => t,
        None => panic!("lab tools missing (Lab::new should have returned None)"),
    }
}
