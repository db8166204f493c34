//! Shared plumbing for the wrappers: errno conversion and the few generic socket calls.
//! Every raw libc call that more than one module needs lives here, next to its reason.

use std::io;
use std::mem;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Turns the libc "-1 and errno" convention into an `io::Result`.
pub(super) fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// `cvt` for calls that return a byte count.
pub(super) fn cvt_len(ret: libc::ssize_t) -> io::Result<usize> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        // Non-negative ssize_t always fits in usize.
        Ok(ret as usize)
    }
}

/// Repeats a call that was interrupted by a signal before it did anything.
pub(super) fn retry<T>(mut call: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match call() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Takes ownership of a descriptor a system call just returned (or its error).
pub(super) fn owned(ret: libc::c_int) -> io::Result<OwnedFd> {
    let fd = cvt(ret)?;
    // SAFETY: the kernel just returned `fd` to us and nothing else holds it, so `OwnedFd` may
    // own and eventually close it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// socket(2).
pub(super) fn socket(
    domain: libc::c_int,
    ty: libc::c_int,
    protocol: libc::c_int,
) -> io::Result<OwnedFd> {
    // SAFETY: socket(2) takes plain integers and touches none of our memory.
    owned(unsafe { libc::socket(domain, ty, protocol) })
}

/// setsockopt(2) with a plain value (an int or a C struct).
pub(super) fn setsockopt<T: Copy>(
    fd: &impl AsRawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> io::Result<()> {
    let len = mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: `value` points to a live `T` of exactly `len` bytes, which the kernel only reads.
    let ret =
        unsafe { libc::setsockopt(fd.as_raw_fd(), level, name, (value as *const T).cast(), len) };
    cvt(ret).map(drop)
}

/// Sets a socket's receive queue to `bytes` (the kernel doubles it for its bookkeeping), past
/// net.core.rmem_max when we may (SO_RCVBUFFORCE needs CAP_NET_ADMIN).
pub(super) fn set_rcvbuf(fd: &impl AsRawFd, bytes: u32) -> io::Result<()> {
    let v = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &v)
        .or_else(|_| setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &v))
}

/// setsockopt(2) with a byte string (SO_BINDTODEVICE).
pub(super) fn setsockopt_bytes(
    fd: &impl AsRawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: &[u8],
) -> io::Result<()> {
    // SAFETY: the pointer and length describe the live slice `value`; the kernel only reads it.
    let ret = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            value.as_ptr().cast(),
            value.len() as libc::socklen_t,
        )
    };
    cvt(ret).map(drop)
}

/// sendto(2) of one datagram to a socket address of type `A` (a `sockaddr_*` struct).
pub(super) fn sendto<A: Copy>(fd: &impl AsRawFd, buf: &[u8], addr: &A) -> io::Result<usize> {
    // SAFETY: `buf` is a live slice of `buf.len()` bytes and `addr` a live `A` of its own size;
    // the kernel only reads both.
    let ret = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            buf.as_ptr().cast(),
            buf.len(),
            0,
            (addr as *const A).cast(),
            mem::size_of::<A>() as libc::socklen_t,
        )
    };
    cvt_len(ret)
}

/// recv(2) into `buf`.
pub(super) fn recv(fd: &impl AsRawFd, buf: &mut [u8], flags: libc::c_int) -> io::Result<usize> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into the live, writable slice `buf`.
    let ret = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), flags) };
    cvt_len(ret)
}

/// read(2) into `buf`.
pub(super) fn read(fd: &impl AsRawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into the live, writable slice `buf`.
    let ret = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    cvt_len(ret)
}
