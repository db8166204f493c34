//! inotify, for `track_file`: the directories holding tracked files are watched, so the daemon
//! re-reads a file when it is written, replaced, created or removed, without polling.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::os;

/// Completed writes and every way a file can appear or vanish. Not IN_MODIFY: `echo 5 > f`
/// truncates before it writes, and reading in between would see an empty file.
const MASK: u32 = libc::IN_CLOSE_WRITE
    | libc::IN_MOVED_TO
    | libc::IN_MOVED_FROM
    | libc::IN_CREATE
    | libc::IN_DELETE;

pub struct Inotify {
    fd: OwnedFd,
}

impl Inotify {
    pub fn new() -> io::Result<Inotify> {
        // SAFETY: plain flags; returns a new descriptor or -1.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        Ok(Inotify { fd: os::owned(fd)? })
    }

    /// Watches directory `dir` (adding it twice is harmless: the kernel merges the watches).
    pub fn watch_dir(&self, dir: &Path) -> io::Result<()> {
        let c = CString::new(dir.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))?;
        // SAFETY: a live C string; the kernel only reads it.
        let wd = unsafe { libc::inotify_add_watch(self.fd.as_raw_fd(), c.as_ptr(), MASK) };
        os::cvt(wd).map(drop)
    }

    /// Reads every pending event. True if there was any: the caller re-reads its files (there are
    /// few, and which one changed does not matter enough to parse the records).
    pub fn drain(&self) -> io::Result<bool> {
        let mut buf = [0u8; 4096];
        let mut any = false;
        loop {
            match os::retry(|| os::read(&self.fd, &mut buf)) {
                Ok(0) => return Ok(any),
                Ok(_) => any = true,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(any),
                Err(e) => return Err(e),
            }
        }
    }
}

impl AsRawFd for Inotify {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_writes_and_renames() {
        let dir = std::env::temp_dir().join(format!("vrrpd-inotify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let n = Inotify::new().unwrap();
        n.watch_dir(&dir).unwrap();
        n.watch_dir(&dir).unwrap();
        assert!(!n.drain().unwrap());
        std::fs::write(dir.join("f"), "5\n").unwrap();
        assert!(n.drain().unwrap());
        assert!(!n.drain().unwrap());
        std::fs::write(dir.join("g"), "7\n").unwrap();
        std::fs::rename(dir.join("g"), dir.join("f")).unwrap();
        assert!(n.drain().unwrap());
        assert!(n.watch_dir(&dir.join("missing")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
