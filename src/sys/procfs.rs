//! Reading processes out of /proc for `track_process`: the name (comm) and state from
//! /proc/PID/stat, and the command line from /proc/PID/cmdline only when a tracker needs it
//! (reading it touches the process's memory, which may be swapped out).

use std::fs::File;
use std::io::Read;

/// The kernel's process name length (TASK_COMM_LEN).
pub const COMM_LEN: usize = 16;
/// Command lines are compared up to this many bytes.
pub const CMDLINE_MAX: usize = 4096;

/// What matching needs to know about one process.
pub struct ProcInfo {
    pub comm: heapless::Vec<u8, COMM_LEN>,
    cmdline: Box<[u8; CMDLINE_MAX]>,
    cmdline_len: usize,
}

impl Default for ProcInfo {
    fn default() -> Self {
        ProcInfo {
            comm: heapless::Vec::new(),
            cmdline: Box::new([0; CMDLINE_MAX]),
            cmdline_len: 0,
        }
    }
}

impl ProcInfo {
    pub fn cmdline(&self) -> &[u8] {
        &self.cmdline[..self.cmdline_len]
    }

    /// Reads process `pid` into `self`. False if it is gone or a zombie (which no longer runs,
    /// so does not count, as in keepalived).
    pub fn read(&mut self, pid: i32, with_cmdline: bool) -> bool {
        let mut stat = [0u8; 512];
        let Some(n) = read_into(&format_path(pid, "stat"), &mut stat) else {
            return false;
        };
        let Some((comm, state)) = parse_stat(&stat[..n]) else {
            return false;
        };
        if state == b'Z' || state == b'X' {
            return false;
        }
        self.comm.clear();
        let _ = self
            .comm
            .extend_from_slice(&comm[..comm.len().min(COMM_LEN)]);
        self.cmdline_len = 0;
        if with_cmdline {
            match read_into(&format_path(pid, "cmdline"), &mut self.cmdline[..]) {
                Some(n) => self.cmdline_len = n,
                None => return false,
            }
        }
        true
    }
}

/// `/proc/PID/FILE` without touching the heap (this runs for every process at each scan).
fn format_path(pid: i32, file: &str) -> heapless::String<40> {
    use core::fmt::Write;
    let mut p = heapless::String::new();
    // "/proc/" + 11 digits + "/cmdline" fits in 40.
    let _ = write!(p, "/proc/{pid}/{file}");
    p
}

fn read_into(path: &str, buf: &mut [u8]) -> Option<usize> {
    let mut f = File::open(path).ok()?;
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(n)
}

/// The name and state letter of a /proc/PID/stat line: `PID (NAME) S …`. The name may hold
/// spaces and parentheses, so it ends at the last ')'.
pub fn parse_stat(stat: &[u8]) -> Option<(&[u8], u8)> {
    let open = stat.iter().position(|&b| b == b'(')?;
    let close = stat.iter().rposition(|&b| b == b')')?;
    let comm = stat.get(open + 1..close)?;
    let state = *stat.get(close + 2)?;
    Some((comm, state))
}

/// Calls `f` with the pid of every process /proc lists (thread group leaders only).
pub fn each_pid(mut f: impl FnMut(i32)) -> std::io::Result<()> {
    for entry in std::fs::read_dir("/proc")? {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        f(pid);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines() {
        assert_eq!(
            parse_stat(b"12 (sleep) S 1 2 3"),
            Some((&b"sleep"[..], b'S'))
        );
        assert_eq!(
            parse_stat(b"12 (a) b (c)) Z 1"),
            Some((&b"a) b (c)"[..], b'Z'))
        );
        assert_eq!(parse_stat(b"12 (x"), None);
        assert_eq!(parse_stat(b"12 (x)"), None);
        assert_eq!(parse_stat(b""), None);
    }

    #[test]
    fn reads_this_process() {
        let me = std::process::id() as i32;
        let mut p = ProcInfo::default();
        assert!(p.read(me, true));
        assert!(!p.comm.is_empty());
        assert!(!p.cmdline().is_empty());
        let mut found = false;
        each_pid(|pid| found |= pid == me).unwrap();
        assert!(found);
        assert!(!p.read(i32::MAX, false));
    }
}
