//! Reads the main file and splices in `include`d files, giving one token stream.
//!
//! `include PATTERN` is handled here, below the parser, because keepalived allows it on any
//! line, inside blocks too. Relative patterns are relative to the directory of the file that
//! contains the `include` (to the working directory for text given to `load_str`).

use std::fs;
use std::path::{Path, PathBuf};

use super::diag::{Pos, Sink};
use super::glob::{escape, glob};
use super::lexer::{Kind, Token, lex_lines};
use super::preproc::Preproc;

/// How deep includes may nest. Real configs use one or two levels; this only stops runaways
/// that the loop check cannot see (e.g. ever-new files through symlinks).
pub(crate) const MAX_INCLUDE_DEPTH: usize = 8;

/// keepalived's include spellings; the variants differ only in which failures keepalived
/// reports, so vrrpd treats them all alike (no match is a warning).
const INCLUDE_WORDS: &[&str] = &[
    "include", "includer", "includem", "includew", "includeb", "includea",
];

/// Reads `path` and its includes, with `config_id` for conditional lines. An unreadable main
/// file is an error at line 0.
pub(crate) fn read_path(path: &Path, config_id: &str, sink: &mut Sink) -> Vec<Token> {
    let mut reader = Reader {
        sink,
        stack: Vec::new(),
        pre: Preproc::new(config_id),
    };
    let mut out = Vec::new();
    reader.read(path, None, 0, &mut out);
    out
}

/// Lexes `text` under the name `name`, resolving includes against the working directory.
pub(crate) fn read_text(text: &str, name: &str, config_id: &str, sink: &mut Sink) -> Vec<Token> {
    let file = sink.add_file(name);
    let mut pre = Preproc::new(config_id);
    let cwd = std::env::current_dir().map_or_else(|_| ".".into(), |d| d.display().to_string());
    let lines = pre.file(text, file, &cwd, sink);
    let tokens = lex_lines(&lines, file, sink);
    let mut reader = Reader {
        sink,
        stack: Vec::new(),
        pre,
    };
    let mut out = Vec::new();
    reader.expand(tokens, None, 0, &mut out);
    out
}

struct Reader<'a> {
    sink: &'a mut Sink,
    /// Canonical paths of the files being read, outermost first, to catch include loops.
    stack: Vec<PathBuf>,
    /// Parameters hold across files, so one preprocessor reads them all.
    pre: Preproc,
}

impl Reader<'_> {
    /// Reads one file into `out`. `from` is the `include` line that named it (None for the
    /// main file).
    fn read(&mut self, path: &Path, from: Option<Pos>, depth: usize, out: &mut Vec<Token>) {
        let shown = path.display().to_string();
        let canonical = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if let Some(from) = from {
            if self.stack.contains(&canonical) {
                self.sink.error(
                    from,
                    format!("include loop: '{shown}' is already being read"),
                );
                return;
            }
            if path.is_dir() {
                self.sink
                    .warn(from, format!("'{shown}' is a directory; not included"));
                return;
            }
        }
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                match from {
                    Some(from) => self.sink.error(from, format!("cannot read '{shown}': {e}")),
                    None => {
                        let file = self.sink.add_file(&shown);
                        self.sink
                            .error(Pos { file, line: 0 }, format!("cannot read file: {e}"));
                    }
                }
                return;
            }
        };
        // Invalid UTF-8 (say, a Latin-1 comment) must not stop the load; keywords are ASCII.
        let text = String::from_utf8_lossy(&bytes);
        let file = self.sink.add_file(&shown);
        let dir = canonical
            .parent()
            .map_or_else(String::new, |d| d.display().to_string());
        let lines = self.pre.file(&text, file, &dir, self.sink);
        let tokens = lex_lines(&lines, file, self.sink);
        self.stack.push(canonical);
        self.expand(tokens, path.parent(), depth, out);
        self.stack.pop();
    }

    /// Copies `tokens` to `out`, replacing each `include` line by the included files' tokens.
    fn expand(
        &mut self,
        tokens: Vec<Token>,
        dir: Option<&Path>,
        depth: usize,
        out: &mut Vec<Token>,
    ) {
        let mut iter = tokens.into_iter().peekable();
        while let Some(token) = iter.next() {
            let is_include =
                token.bol && token.keyword().is_some_and(|k| INCLUDE_WORDS.contains(&k));
            if !is_include {
                out.push(token);
                continue;
            }
            let mut patterns = Vec::new();
            while let Some(next) = iter.next_if(|t| !t.bol && matches!(t.kind, Kind::Word { .. })) {
                if let Kind::Word { text, .. } = next.kind {
                    patterns.push(text);
                }
            }
            if patterns.is_empty() {
                self.sink
                    .error(token.pos, "expected a file name after 'include'");
            }
            for pattern in patterns {
                self.include(&pattern, dir, token.pos, depth, out);
            }
        }
    }

    fn include(
        &mut self,
        pattern: &str,
        dir: Option<&Path>,
        from: Pos,
        depth: usize,
        out: &mut Vec<Token>,
    ) {
        if depth >= MAX_INCLUDE_DEPTH {
            self.sink.error(
                from,
                format!(
                    "includes nested more than {MAX_INCLUDE_DEPTH} deep; not reading '{pattern}'"
                ),
            );
            return;
        }
        let full = match dir {
            Some(dir) if !Path::new(pattern).is_absolute() && !dir.as_os_str().is_empty() => {
                // The directory is literal text; only the user's pattern may hold wildcards.
                format!("{}/{}", escape(&dir.to_string_lossy()), pattern)
            }
            _ => pattern.to_string(),
        };
        match glob(&full) {
            Err(e) => self.sink.error(
                from,
                format!(
                    "cannot expand include pattern '{pattern}': {}",
                    e.describe()
                ),
            ),
            Ok(paths) if paths.is_empty() => self.sink.warn(
                from,
                format!("include pattern '{pattern}' matches no files"),
            ),
            Ok(paths) => {
                for path in paths {
                    self.read(&path, Some(from), depth + 1, out);
                }
            }
        }
    }
}
