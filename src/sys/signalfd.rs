//! Signals as readable events: the signals are blocked and then read from a signalfd, so the
//! handlers never run asynchronously and the event loop sees them in order.

use std::io;
use std::mem;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::os;

pub struct Signals {
    fd: OwnedFd,
}

impl Signals {
    /// Blocks `signals` in the calling thread and opens a non-blocking signalfd for them.
    /// Call it before spawning threads (they inherit the mask), so that no thread takes the
    /// default action for one of these signals.
    pub fn new(signals: &[libc::c_int]) -> io::Result<Signals> {
        let set = sigset(signals)?;
        // SAFETY: `set` is a live sigset_t the call only reads; a null old-set pointer is allowed.
        let err = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
        if err != 0 {
            // pthread_* return the error number instead of setting errno.
            return Err(io::Error::from_raw_os_error(err));
        }
        // SAFETY: `set` is a live sigset_t the call only reads; -1 asks for a new descriptor.
        let ret = unsafe { libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) };
        Ok(Signals {
            fd: os::owned(ret)?,
        })
    }

    /// The next pending signal, or `None` when there is none.
    pub fn read(&self) -> io::Result<Option<libc::c_int>> {
        const SIZE: usize = mem::size_of::<libc::signalfd_siginfo>();
        // Every signalfd record is a 128-byte signalfd_siginfo; ssi_signo (u32) comes first.
        let mut buf = [0u8; SIZE];
        match os::retry(|| os::read(&self.fd, &mut buf)) {
            Ok(SIZE) => {
                let signo = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]);
                libc::c_int::try_from(signo)
                    .map(Some)
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "signalfd: bad signo"))
            }
            Ok(_) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "signalfd: short read",
            )),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl AsRawFd for Signals {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

fn sigset(signals: &[libc::c_int]) -> io::Result<libc::sigset_t> {
    // SAFETY: sigset_t is plain data; sigemptyset then gives it a defined value.
    let mut set: libc::sigset_t = unsafe { mem::zeroed() };
    // SAFETY: `set` is a live, writable sigset_t.
    os::cvt(unsafe { libc::sigemptyset(&mut set) })?;
    for &sig in signals {
        // SAFETY: as above; an invalid signal number is refused with EINVAL, not undefined.
        os::cvt(unsafe { libc::sigaddset(&mut set, sig) })?;
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raised_signal_is_read_not_delivered() {
        // Runs in its own thread: the mask is per thread and raise() targets the calling
        // thread, so the rest of the test binary is unaffected.
        std::thread::spawn(|| {
            let s = Signals::new(&[libc::SIGUSR1, libc::SIGUSR2]).unwrap();
            assert_eq!(s.read().unwrap(), None);
            // SAFETY: SIGUSR2 is blocked in this thread, so raising it only makes it pending.
            assert_eq!(unsafe { libc::raise(libc::SIGUSR2) }, 0);
            assert_eq!(s.read().unwrap(), Some(libc::SIGUSR2));
            assert_eq!(s.read().unwrap(), None);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn bad_signal_number_is_an_error() {
        std::thread::spawn(|| assert!(Signals::new(&[10_000]).is_err()))
            .join()
            .unwrap();
    }
}
