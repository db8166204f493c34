//! Thin, safe wrappers over the kernel interfaces the daemon uses.
//!
//! Each handle owns its file descriptor and implements `AsRawFd`, so the daemon can register it
//! with mio through `SourceFd`. Everything here returns `io::Result`; nothing panics on what the
//! kernel hands back. The `unsafe` lives in small functions, each with its reason.

pub mod caps;
pub mod clock;
mod daemonize;
pub mod netlink;
pub mod packet;
pub mod pidfile;
pub mod raw;
pub mod signalfd;
pub mod timerfd;

mod os;

pub use daemonize::daemonize;

#[cfg(test)]
mod nstest;
