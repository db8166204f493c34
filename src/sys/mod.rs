//! Thin, safe wrappers over the kernel interfaces the daemon uses.
//!
//! Each handle owns its file descriptor and implements `AsRawFd`, so the daemon can register it
//! with mio through `SourceFd`. Everything here returns `io::Result`; nothing panics on what the
//! kernel hands back. The `unsafe` lives in small functions, each with its reason.

pub mod bpf;
pub mod caps;
pub mod claim;
pub mod clock;
pub mod connector;
mod daemonize;
pub mod inotify;
pub mod mmsg;
pub mod netlink;
pub mod packet;
pub mod pidfd;
pub mod pidfile;
pub mod procfs;
pub mod raw;
pub mod raw6;
pub mod rxmeta;
pub mod sched;
pub mod signalfd;
pub mod spawn;
pub mod sysctl;
pub mod timerfd;

mod os;

pub use daemonize::daemonize;

/// Hands the heap that reading the configuration used back to the kernel, so the resident size
/// after start-up is what the daemon keeps using. musl's allocator does this by itself.
pub fn release_free_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only releases free heap pages; no pointer we hold is affected.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod nstest;
