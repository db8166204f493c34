//! A one-shot timer on CLOCK_MONOTONIC that the event loop can poll: the daemon keeps its own
//! timer wheel and arms this fd for the earliest deadline.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::clock::{to_timespec, zero_timespec};
use super::os;
use crate::time::Instant;

pub struct TimerFd {
    fd: OwnedFd,
}

impl TimerFd {
    /// A disarmed, non-blocking, close-on-exec timer.
    pub fn new() -> io::Result<TimerFd> {
        // SAFETY: timerfd_create takes plain integers and touches none of our memory.
        let ret = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        Ok(TimerFd {
            fd: os::owned(ret)?,
        })
    }

    /// Fires once at the absolute `deadline`. A deadline already past fires at once.
    pub fn arm_at(&self, deadline: Instant) -> io::Result<()> {
        let mut value = to_timespec(deadline);
        if value.tv_sec == 0 && value.tv_nsec == 0 {
            // An all-zero value would disarm instead; 1 ns is equally "already past".
            value.tv_nsec = 1;
        }
        self.settime(value, libc::TFD_TIMER_ABSTIME)
    }

    /// Stops the timer; a pending expiration already counted stays readable until `drain`.
    pub fn disarm(&self) -> io::Result<()> {
        self.settime(zero_timespec(), 0)
    }

    /// Reads and clears the expiration count; 0 when the timer has not fired.
    pub fn drain(&self) -> io::Result<u64> {
        let mut count = [0u8; 8];
        match os::retry(|| os::read(&self.fd, &mut count)) {
            Ok(8) => Ok(u64::from_ne_bytes(count)),
            // timerfd always returns exactly 8 bytes; anything else is not an expiration.
            Ok(_) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "timerfd: short read",
            )),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            Err(e) => Err(e),
        }
    }

    fn settime(&self, value: libc::timespec, flags: libc::c_int) -> io::Result<()> {
        let spec = libc::itimerspec {
            it_interval: zero_timespec(),
            it_value: value,
        };
        // SAFETY: `spec` is a live itimerspec the kernel only reads; a null old-value pointer
        // is allowed and means "don't report the previous setting".
        let ret = unsafe {
            libc::timerfd_settime(self.fd.as_raw_fd(), flags, &spec, std::ptr::null_mut())
        };
        os::cvt(ret).map(drop)
    }
}

impl AsRawFd for TimerFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::clock::now;
    use std::time::Duration;

    /// Waits up to `limit` for the timer to become readable.
    fn readable_within(t: &TimerFd, limit: Duration) -> bool {
        let mut pfd = libc::pollfd {
            fd: t.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one live pollfd, count 1.
        let n = unsafe { libc::poll(&mut pfd, 1, limit.as_millis() as libc::c_int) };
        n == 1
    }

    #[test]
    fn fires_at_absolute_deadline() {
        let t = TimerFd::new().unwrap();
        assert_eq!(t.drain().unwrap(), 0, "fresh timer has not fired");
        let start = now();
        t.arm_at(start + Duration::from_millis(30)).unwrap();
        assert!(readable_within(&t, Duration::from_secs(2)), "never fired");
        // Too early is judged by the clock, not by a short poll that a descheduled test thread
        // could overrun on a loaded machine.
        let fired = now();
        assert!(
            fired - start >= Duration::from_millis(30),
            "fired too early"
        );
        assert_eq!(t.drain().unwrap(), 1);
        assert_eq!(t.drain().unwrap(), 0, "one-shot: drained");
    }

    #[test]
    fn past_and_zero_deadlines_fire() {
        let t = TimerFd::new().unwrap();
        for deadline in [Instant::from_micros(0), Instant::from_micros(1), now()] {
            t.arm_at(deadline).unwrap();
            assert!(readable_within(&t, Duration::from_secs(1)), "{deadline:?}");
            assert_eq!(t.drain().unwrap(), 1);
        }
    }

    #[test]
    fn disarm_stops_it() {
        let t = TimerFd::new().unwrap();
        t.arm_at(now() + Duration::from_millis(20)).unwrap();
        t.disarm().unwrap();
        assert!(!readable_within(&t, Duration::from_millis(60)));
        assert_eq!(t.drain().unwrap(), 0);
    }
}
