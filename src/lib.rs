//! vrrpd: a VRRP daemon for routers.
//!
//! The protocol core (`vrrp`) and the codecs (`wire`) are pure: no sockets, no clock.
//! `sys` wraps the kernel interfaces, and `daemon` is the one place that joins them.

pub mod config;
pub mod daemon;
pub mod limits;
pub mod logging;
pub mod sys;
pub mod time;
pub mod timer;
pub mod track;
pub mod vrrp;
pub mod wire;
