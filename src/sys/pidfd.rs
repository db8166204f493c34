//! pidfd_open(2): a descriptor that becomes readable when a process ends. It follows one
//! process (not a reused pid), needs no permission over it, and wakes the poll loop at once, so
//! `track_process` sees an exit without the process connector.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::os;

pub struct PidFd {
    fd: OwnedFd,
    pid: i32,
}

impl PidFd {
    /// ESRCH if the process is already gone; ENOSYS before Linux 5.3.
    pub fn open(pid: i32) -> io::Result<PidFd> {
        // SAFETY: pidfd_open takes a pid and flags (0) and returns a new descriptor or -1.
        let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        let fd = libc::c_int::try_from(ret).unwrap_or(-1);
        Ok(PidFd {
            fd: os::owned(fd)?,
            pid,
        })
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Whether the process has ended (the descriptor polls readable).
    pub fn ended(&self) -> bool {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one live pollfd, and its count; timeout 0 never blocks.
        let n = unsafe { libc::poll(&mut pfd, 1, 0) };
        n > 0 && pfd.revents & (libc::POLLIN | libc::POLLHUP) != 0
    }
}

impl AsRawFd for PidFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_once_the_process_ends() {
        let mut child = std::process::Command::new("/bin/sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let p = PidFd::open(child.id() as i32).unwrap();
        assert_eq!(p.pid(), child.id() as i32);
        assert!(!p.ended());
        child.kill().unwrap();
        let t = std::time::Instant::now();
        while !p.ended() && t.elapsed() < std::time::Duration::from_secs(5) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(p.ended());
        child.wait().unwrap();
        // A pid nobody uses.
        assert_eq!(
            PidFd::open(i32::MAX).err().and_then(|e| e.raw_os_error()),
            Some(libc::ESRCH)
        );
    }
}
