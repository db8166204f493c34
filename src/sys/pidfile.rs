//! The pid file doubles as the single-instance lock: whoever holds flock() on it is running.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::os;

pub struct PidFile {
    file: File,
    path: PathBuf,
}

impl PidFile {
    /// Creates or opens `path`, locks it and writes our pid. If another process holds the lock
    /// the error says "already running (pid N)" with the pid found in the file.
    pub fn lock(path: &Path) -> io::Result<PidFile> {
        // A previous owner unlinks the file on exit; if that happens between our open and our
        // flock we hold a lock on a file nobody else can see, so check and start over.
        for _ in 0..8 {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false) // the holder's pid must survive until we have the lock
                .mode(0o644)
                .custom_flags(libc::O_CLOEXEC)
                .open(path)?;
            if let Err(e) = flock_exclusive(&file) {
                if e.kind() == io::ErrorKind::WouldBlock {
                    return Err(already_running(path, &file));
                }
                return Err(e);
            }
            if !same_file(&file, path)? {
                continue;
            }
            file.set_len(0)?;
            file.write_all_at(format!("{}\n", std::process::id()).as_bytes(), 0)?;
            return Ok(PidFile {
                file,
                path: path.to_owned(),
            });
        }
        Err(io::Error::other(format!(
            "{}: pid file keeps being replaced",
            path.display()
        )))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Unlink while still holding the lock so a new instance never loses its file to us;
        // the descriptor (and with it the lock) closes right after.
        let _ = fs::remove_file(&self.path);
    }
}

impl AsRawFd for PidFile {
    fn as_raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

fn flock_exclusive(file: &File) -> io::Result<()> {
    // SAFETY: flock takes a descriptor we own (via `file`) and plain flags.
    let ret = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    os::cvt(ret).map(drop)
}

/// Whether `path` still names the file we opened.
fn same_file(file: &File, path: &Path) -> io::Result<bool> {
    let ours = file.metadata()?;
    match fs::metadata(path) {
        Ok(now) => Ok(now.dev() == ours.dev() && now.ino() == ours.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

fn already_running(path: &Path, file: &File) -> io::Error {
    let mut buf = [0u8; 32];
    let n = file.read_at(&mut buf, 0).unwrap_or(0);
    let pid = std::str::from_utf8(&buf[..n])
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok());
    let msg = match pid {
        Some(pid) => format!("{}: already running (pid {pid})", path.display()),
        // The holder may not have written its pid yet.
        None => format!("{}: already running (pid unknown)", path.display()),
    };
    io::Error::new(io::ErrorKind::AlreadyExists, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(tag: &str) -> PathBuf {
        std::env::temp_dir().join(format!("vrrpd-sys-{tag}-{}.pid", std::process::id()))
    }

    #[test]
    fn second_lock_fails_with_pid_and_drop_unlinks() {
        let path = temp_path("conflict");
        let _ = fs::remove_file(&path);
        let first = PidFile::lock(&path).unwrap();
        let content = fs::read_to_string(&path).unwrap();
        assert_eq!(content, format!("{}\n", std::process::id()));

        let err = PidFile::lock(&path).err().expect("second lock must fail");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("already running (pid {})", std::process::id())),
            "{msg}"
        );
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);

        drop(first);
        assert!(!path.exists(), "drop unlinks");
        let again = PidFile::lock(&path).unwrap();
        drop(again);
    }

    #[test]
    fn stale_file_is_taken_over_and_truncated() {
        let path = temp_path("stale");
        fs::write(&path, "99999999999 and a long tail of junk\n").unwrap();
        let p = PidFile::lock(&path).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            format!("{}\n", std::process::id())
        );
        drop(p);
    }

    #[test]
    fn garbage_pid_while_locked_says_unknown() {
        let path = temp_path("garbage");
        let _ = fs::remove_file(&path);
        let p = PidFile::lock(&path).unwrap();
        fs::write(&path, "not a pid").unwrap();
        let msg = PidFile::lock(&path).err().unwrap().to_string();
        assert!(msg.contains("already running (pid unknown)"), "{msg}");
        drop(p);
    }
}
