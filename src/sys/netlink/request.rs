//! Building one rtnetlink request in a fixed buffer.

use std::io;

use super::consts::*;

/// Our requests (a header, a 16-byte family struct, a few small attributes) stay far below this.
const REQUEST_MAX: usize = 256;

pub(super) struct Request {
    buf: [u8; REQUEST_MAX],
    len: usize,
}

impl Request {
    /// A message of type `ty` with `flags` and sequence number `seq`, still without payload.
    pub fn new(ty: u16, flags: u16, seq: u32) -> Request {
        let mut buf = [0u8; REQUEST_MAX];
        // nlmsg_len (bytes 0..4) is filled in by `bytes`; nlmsg_pid 0 lets the kernel fill it.
        buf[4..6].copy_from_slice(&ty.to_ne_bytes());
        buf[6..8].copy_from_slice(&flags.to_ne_bytes());
        buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        Request {
            buf,
            len: NLMSG_HDRLEN,
        }
    }

    /// Appends raw payload (the family struct), padded to 4 bytes.
    pub fn push(&mut self, data: &[u8]) -> io::Result<()> {
        let end = self.len + data.len();
        let padded = (end + 3) & !3;
        let dst = self.buf.get_mut(self.len..padded).ok_or_else(too_large)?;
        dst[..data.len()].copy_from_slice(data);
        self.len = padded;
        Ok(())
    }

    /// Appends one route attribute.
    pub fn attr(&mut self, ty: u16, data: &[u8]) -> io::Result<()> {
        let len = u16::try_from(RTA_HDRLEN + data.len()).map_err(|_| too_large())?;
        let mut head = [0u8; RTA_HDRLEN];
        head[..2].copy_from_slice(&len.to_ne_bytes());
        head[2..].copy_from_slice(&ty.to_ne_bytes());
        // The header is 4 bytes, so pushing it adds no padding before the data.
        self.push(&head)?;
        self.push(data)
    }

    /// Opens a nested attribute (IFLA_LINKINFO and the like): its header now, its length when
    /// `end_nested` is given the returned position. Like iproute2 we leave NLA_F_NESTED off;
    /// the kernel's parsers take nested attributes either way.
    pub fn begin_nested(&mut self, ty: u16) -> io::Result<usize> {
        let at = self.len;
        let mut head = [0u8; RTA_HDRLEN];
        head[2..].copy_from_slice(&ty.to_ne_bytes());
        self.push(&head)?;
        Ok(at)
    }

    /// Closes the nested attribute opened at `at`: its length covers everything since.
    pub fn end_nested(&mut self, at: usize) -> io::Result<()> {
        let len = u16::try_from(self.len - at).map_err(|_| too_large())?;
        self.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
        Ok(())
    }

    /// The finished message, with its length written in.
    pub fn bytes(&mut self) -> &[u8] {
        // `len` is at most REQUEST_MAX, so it fits.
        let len = self.len as u32;
        self.buf[..4].copy_from_slice(&len.to_ne_bytes());
        &self.buf[..self.len]
    }
}

fn too_large() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "netlink request too large")
}
