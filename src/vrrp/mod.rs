//! The protocol core: pure, driven by time and inputs, answering with actions.

pub mod instance;
pub mod rx;
pub mod sync;

pub use instance::{Action, Actions, Advert, Garp, Input, Instance, Params, Reason, State};

#[cfg(test)]
mod tests;
