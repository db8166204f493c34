//! Diagnostics: what the reader says about a config, each tied to a file and line.

use std::fmt;

use crate::limits::MAX_DIAGNOSTICS;

/// A place in a config file. Line 0 means "the file as a whole" (e.g. it could not be read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The config loads; something was ignored or adjusted.
    Warning,
    /// The config is rejected.
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub location: Location,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{}: {}: {}", self.location, kind, self.message)
    }
}

/// A position inside the files being read: an index into [`Sink`]'s file table and a line.
/// Tokens carry this (cheap to copy) instead of a whole [`Location`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub file: u32,
    pub line: u32,
}

/// Collects diagnostics and owns the table of file names that [`Pos`] points into.
#[derive(Debug, Default)]
pub(crate) struct Sink {
    files: Vec<String>,
    /// With the position, for sorting: checks run in stages, users read in file order.
    diags: Vec<(Pos, Diagnostic)>,
    /// Diagnostics past MAX_DIAGNOSTICS: only counted, so nonsense input costs no memory.
    dropped: usize,
    /// Whether one of those was an error (the config is rejected all the same).
    dropped_error: bool,
}

impl Sink {
    /// Registers a file name and returns its index for [`Pos`].
    pub fn add_file(&mut self, name: &str) -> u32 {
        self.files.push(name.to_string());
        // A config never has anywhere near 2^32 files; saturate rather than wrap.
        u32::try_from(self.files.len() - 1).unwrap_or(u32::MAX)
    }

    pub fn location(&self, pos: Pos) -> Location {
        let file = self
            .files
            .get(pos.file as usize)
            .cloned()
            .unwrap_or_default();
        Location {
            file,
            line: pos.line,
        }
    }

    pub fn warn(&mut self, pos: Pos, message: impl Into<String>) {
        self.push(Severity::Warning, pos, message.into());
    }

    pub fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.push(Severity::Error, pos, message.into());
    }

    fn push(&mut self, severity: Severity, pos: Pos, message: String) {
        if self.diags.len() >= MAX_DIAGNOSTICS {
            self.dropped += 1;
            self.dropped_error |= severity == Severity::Error;
            return;
        }
        let location = self.location(pos);
        self.diags.push((
            pos,
            Diagnostic {
                severity,
                location,
                message,
            },
        ));
    }

    pub fn has_errors(&self) -> bool {
        self.dropped_error
            || self
                .diags
                .iter()
                .any(|(_, d)| d.severity == Severity::Error)
    }

    /// The diagnostics in file order (files in the order they were opened), stable within
    /// a line; then, if some were only counted, one line that says how many.
    pub fn into_diagnostics(mut self) -> Vec<Diagnostic> {
        self.diags.sort_by_key(|(pos, _)| (pos.file, pos.line));
        let mut out: Vec<Diagnostic> = self.diags.into_iter().map(|(_, d)| d).collect();
        if self.dropped > 0 {
            let last = out.last().map(|d| d.location.clone());
            out.push(Diagnostic {
                severity: if self.dropped_error {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                location: last.unwrap_or(Location {
                    file: String::new(),
                    line: 0,
                }),
                message: format!(
                    "{} more problems not shown (limit MAX_DIAGNOSTICS = {MAX_DIAGNOSTICS})",
                    self.dropped
                ),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_formats() {
        let mut sink = Sink::default();
        let f = sink.add_file("a.conf");
        sink.warn(Pos { file: f, line: 3 }, "careful");
        sink.error(Pos { file: f, line: 0 }, "broken");
        assert!(sink.has_errors());
        let d = sink.into_diagnostics();
        // Sorted by line.
        assert_eq!(d[0].to_string(), "a.conf:0: error: broken");
        assert_eq!(d[1].to_string(), "a.conf:3: warning: careful");
    }
}
