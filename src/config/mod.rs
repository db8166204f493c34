//! The configuration reader: the VRRP part of keepalived.conf.
//!
//! Read once at start-up and on reload, so it uses ordinary `String`/`Vec`. The stages are
//! small modules, each with one job:
//!
//! - `source`: read files, splice `include`s (via `glob`), hand text to `preproc`
//!   (keepalived's `@ID` lines, `$PARAMETERS` and `~SEQ` blocks) and then to `lexer`;
//! - `lexer`: words, quoted strings, braces and comments, each with its file and line;
//! - `keywords`: the table of keepalived's keywords, implemented or not;
//! - `tree`: statements and nested blocks, with brace errors;
//! - `parse`, `global`, `instance`, `vip`, `others`: the meaning of each block;
//! - `extras`, `route`, `rule`, `ipwords`: excluded and static addresses, routes and rules;
//! - `resolve`: defaults and per-instance rules;
//! - `validate`: checks across blocks, limits, and the final [`Config`].
//!
//! Every problem is a [`Diagnostic`] naming file and line. A config with any error is
//! rejected as a whole: [`Loaded::config`] is `None`.

mod common;
mod diag;
mod extras;
mod glob;
mod global;
mod instance;
mod ipwords;
mod keywords;
mod lexer;
mod others;
mod parse;
mod preproc;
mod process;
mod resolve;
mod route;
mod rule;
mod source;
mod tree;
mod types;
mod validate;
mod value;
mod vip;
mod vmac;

#[cfg(test)]
mod route_tests;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use diag::{Diagnostic, Location, Severity};
pub use extras::Extras;
pub use ipwords::PROTO_KEEPALIVED;
pub use process::{ParamMatch, ProcessRef, TrackProcess};
pub use route::{Nexthop, Route};
pub use rule::{Rule, RuleAction};
pub use types::{
    Config, Global, InitialState, Instance, Located, Sched, Script, SyncGroup, TrackFile,
    TrackInterface, TrackRef, Vip, Vmac,
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

/// What to read: the file, and keepalived's config id that `@ID` lines are compared with
/// (`-i`/`--config-id`; by default, as in keepalived, the node name up to its first dot).
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub config_id: String,
    /// For `-t`: asks the system whether an interface exists now, so that a missing one is a
    /// warning. None (the daemon's case): a missing interface just waits in FAULT.
    pub interface_exists: Option<fn(&str) -> bool>,
}

impl Source {
    pub fn new(path: PathBuf, config_id: Option<String>) -> Source {
        let config_id = config_id.unwrap_or_else(node_name);
        Source {
            path,
            config_id,
            interface_exists: None,
        }
    }

    /// Reads the config and the files it includes. An unreadable file is an error diagnostic
    /// at line 0.
    pub fn load(&self) -> Loaded {
        let mut sink = Sink::default();
        let tokens = source::read_path(&self.path, &self.config_id, &mut sink);
        finish(tokens, sink, self.interface_exists)
    }
}

/// The host's name up to its first dot, keepalived's default config id.
fn node_name() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let name = name.trim();
    name.split('.').next().unwrap_or(name).to_string()
}

/// Reads the config at `path` with the default config id.
pub fn load(path: &Path) -> Loaded {
    Source::new(path.to_path_buf(), None).load()
}

/// Reads config text named `name` in diagnostics; includes are relative to the working
/// directory. For tests and `-t` on standard input.
pub fn load_str(text: &str, name: &str) -> Loaded {
    load_str_as(text, name, &node_name())
}

/// `load_str` with the config id `config_id`.
pub fn load_str_as(text: &str, name: &str, config_id: &str) -> Loaded {
    let mut sink = Sink::default();
    let tokens = source::read_text(text, name, config_id, &mut sink);
    finish(tokens, sink, None)
}

fn finish(tokens: Vec<Token>, mut sink: Sink, exists: Option<fn(&str) -> bool>) -> Loaded {
    let stmts = tree::build(tokens, &mut sink);
    let parsed = parse::document(&stmts, &mut sink);
    let refs = validate::interface_refs(&parsed);
    let config = validate::finish(parsed, &mut sink);
    if let Some(exists) = exists {
        for (name, pos, what) in refs {
            if !exists(&name) {
                sink.warn(
                    pos,
                    format!("interface '{name}' does not exist now; {what}"),
                );
            }
        }
    }
    let config = (!sink.has_errors()).then_some(config);
    Loaded {
        config,
        diagnostics: sink.into_diagnostics(),
    }
}
