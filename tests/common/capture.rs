//! Packet capture on the lab's bridge (tcpdump) and reading it back (tshark).

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use super::run::{run_for, sigkill, signal, wait_timeout};
use super::tools::t;
use super::wait_until;

/// A running tcpdump writing a pcap. Stops by itself after its time bound.
pub struct Capture {
    pub(super) child: Child,
    pub(super) pcap: PathBuf,
    pub(super) errlog: PathBuf,
    pub(super) stopped: bool,
}

impl Capture {
    /// Waits until tcpdump has opened the interface (it says "listening on" on stderr).
    pub(super) fn wait_ready(&mut self) {
        let ready = wait_until(Duration::from_secs(10), Duration::from_millis(20), || {
            std::fs::read_to_string(&self.errlog).is_ok_and(|s| s.contains("listening on"))
        });
        if !ready {
            let err = std::fs::read_to_string(&self.errlog).unwrap_or_default();
            panic!("tcpdump did not start: {err}");
        }
    }

    pub fn path(&self) -> &Path {
        &self.pcap
    }

    /// Stops the capture (SIGINT, so tcpdump flushes) and returns the pcap path.
    pub fn stop(mut self) -> PathBuf {
        self.finish();
        self.pcap.clone()
    }

    fn finish(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        // Packets still in flight on the bridge get a moment to reach the file.
        std::thread::sleep(Duration::from_millis(200));
        // The PID is coreutils' timeout, which passes SIGINT on to tcpdump.
        signal(self.child.id(), libc::SIGINT);
        if wait_timeout(&mut self.child, Duration::from_secs(5)).is_none() {
            sigkill(self.child.id());
            let _ = self.child.wait();
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.finish();
    }
}

/// `tshark -r PCAP -Y FILTER -T fields -e F…`: one row per matching packet, one column per field.
pub fn tshark_fields(pcap: &Path, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut args: Vec<String> = vec![
        "-n".into(),
        "-r".into(),
        pcap.display().to_string(),
        "-Y".into(),
        filter.into(),
        "-T".into(),
        "fields".into(),
        "-E".into(),
        "separator=\t".into(),
    ];
    for f in fields {
        args.push("-e".into());
        args.push((*f).into());
    }
    let r = run_for(&t().tshark, &args, Duration::from_secs(60));
    if !r.ok() {
        panic!("tshark {args:?} failed: {}", r.stderr);
    }
    r.stdout
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// `tshark -r PCAP -V -Y FILTER`: the full decode of the matching packets.
pub fn tshark_verbose(pcap: &Path, filter: &str) -> String {
    let pcap = pcap.display().to_string();
    let args = ["-n", "-r", &pcap, "-V", "-Y", filter];
    let r = run_for(&t().tshark, &args, Duration::from_secs(60));
    if !r.ok() {
        panic!("tshark {args:?} failed: {}", r.stderr);
    }
    r.stdout
}
