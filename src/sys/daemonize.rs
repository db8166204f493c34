//! Going to the background the classic way, for runs without `-n` (keepalived's default).

use std::io;

/// Forks; the parent exits 0 and the child becomes a session leader with stdio on /dev/null.
pub fn daemonize() -> io::Result<()> {
    // SAFETY: called from `main` before any thread or descriptor the child would miss exists.
    match unsafe { libc::fork() } {
        -1 => return Err(io::Error::last_os_error()),
        0 => {}
        _ => std::process::exit(0),
    }
    // SAFETY: plain syscalls on our own process and on descriptors 0..=2.
    unsafe {
        if libc::setsid() == -1 {
            return Err(io::Error::last_os_error());
        }
        let _ = libc::chdir(c"/".as_ptr());
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            for fd in 0..=2 {
                libc::dup2(null, fd);
            }
            if null > 2 {
                libc::close(null);
            }
        }
    }
    Ok(())
}
