//! The configuration reader: the VRRP part of keepalived.conf.
//!
//! Read once at start-up and on reload, so it uses ordinary `String`/`Vec`. The stages are
//! small modules, each with one job:
//!
//! - `source`: read files, splice `include`s (via `glob`), hand text to `lexer`;
//! - `lexer`: words, quoted strings, braces and comments, each with its file and line;
//! - `tree`: statements and nested blocks, with brace errors;
//! - `parse`, `global`, `instance`, `vip`, `others`: the meaning of each block;
//! - `resolve`: defaults and per-instance rules;
//! - `validate`: checks across blocks, limits, and the final [`Config`].
//!
//! Every problem is a [`Diagnostic`] naming file and line. A config with any error is
//! rejected as a whole: [`Loaded::config`] is `None`.

mod common;
mod diag;
mod glob;
mod global;
mod instance;
mod keywords;
mod lexer;
mod others;
mod parse;
mod resolve;
mod source;
mod tree;
mod types;
mod validate;
mod value;
mod vip;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use diag::{Diagnostic, Location, Severity};
pub use types::{
    Config, Global, InitialState, Instance, Located, Sched, Script, SyncGroup, TrackFile,
    TrackInterface, TrackRef, Vip,
};

use diag::Sink;
use lexer::Token;

/// The outcome of reading a config.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// None if and only if `diagnostics` holds an error.
    pub config: Option<Config>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads the config at `path` and the files it includes. An unreadable file is an error
/// diagnostic at line 0.
pub fn load(path: &Path) -> Loaded {
    let mut sink = Sink::default();
    let tokens = source::read_path(path, &mut sink);
    finish(tokens, sink)
}

/// Reads config text named `name` in diagnostics; includes are relative to the working
/// directory. For tests and `-t` on standard input.
pub fn load_str(text: &str, name: &str) -> Loaded {
    let mut sink = Sink::default();
    let tokens = source::read_text(text, name, &mut sink);
    finish(tokens, sink)
}

fn finish(tokens: Vec<Token>, mut sink: Sink) -> Loaded {
    let stmts = tree::build(tokens, &mut sink);
    let parsed = parse::document(&stmts, &mut sink);
    let config = validate::finish(parsed, &mut sink);
    let config = (!sink.has_errors()).then_some(config);
    Loaded {
        config,
        diagnostics: sink.into_diagnostics(),
    }
}
