//! The protocol core: pure, driven by time and inputs, answering with actions.

pub mod instance;
pub mod rx;
pub mod spec;
pub mod sync;

pub use instance::{Action, Actions, Advert, Fault, Input, Instance, Reason, State};
pub use spec::{Family, Garp, Spec, Version};

#[cfg(test)]
mod tests;
