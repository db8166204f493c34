//! Reads the main file and splices in `include`d files, giving one token stream.
//!
//! `include PATTERN` is handled here, below the parser, because keepalived allows it on any
//! line, inside blocks too. Relative patterns are relative to the directory of the file that
//! contains the `include` (to the working directory for text given to `load_str`).
//!
//! Only regular files are read, and only so much: `-t` and a reload run in the daemon's one
//! thread, so an `include` of a FIFO (whose `open` blocks until a writer comes) or of a device
//! (`/dev/zero` reads forever) would stop the loop or exhaust memory with the VIPs still up.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::diag::{Pos, Sink};
use super::glob::{escape, glob};
use super::lexer::{Kind, Token, lex_lines};
use super::preproc::Preproc;
use crate::limits::{MAX_CONFIG_FILE, MAX_CONFIG_TOTAL};

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
        total: 0,
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
        total: text.len() as u64,
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
    /// Bytes read so far, over all files, against MAX_CONFIG_TOTAL.
    total: u64,
}

/// Why a file was not read.
enum Refused {
    Io(io::Error),
    /// Not a regular file: what it is instead.
    NotRegular(&'static str),
    /// Longer than the file limit.
    TooLong(u64),
    /// Reading it would take the whole config over MAX_CONFIG_TOTAL.
    TotalTooLong,
}

impl Refused {
    fn describe(&self) -> String {
        match self {
            Refused::Io(e) => format!("cannot read file: {e}"),
            Refused::NotRegular(what) => format!("{what}, not a regular file; not read"),
            Refused::TooLong(n) => format!(
                "{n} bytes or more, over the {MAX_CONFIG_FILE}-byte limit of one config file \
                 (MAX_CONFIG_FILE); not read"
            ),
            Refused::TotalTooLong => format!(
                "would take the whole configuration over {MAX_CONFIG_TOTAL} bytes \
                 (MAX_CONFIG_TOTAL); not read"
            ),
        }
    }
}

fn kind_of(t: fs::FileType) -> &'static str {
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

/// Reads the regular file at `path`, at most `limit` bytes. A symlink is followed (configs are
/// often links), but what it leads to is checked before the open and again on the open file:
/// `stat` keeps us from opening a device at all (opening some has side effects), and
/// O_NONBLOCK plus `fstat` on the descriptor catch a FIFO swapped in between, without
/// blocking in `open`. O_NOFOLLOW is not needed: the checks are on what was opened.
fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, Refused> {
    let regular = |m: &fs::Metadata| {
        if m.is_file() {
            Ok(())
        } else {
            Err(Refused::NotRegular(kind_of(m.file_type())))
        }
    };
    regular(&fs::metadata(path).map_err(Refused::Io)?)?;
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(Refused::Io)?;
    let meta = file.metadata().map_err(Refused::Io)?;
    regular(&meta)?;
    if meta.len() > limit {
        return Err(Refused::TooLong(meta.len()));
    }
    // The size can change under us (a file being written): read one byte past the limit to
    // tell, never more.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(Refused::Io)?;
    if bytes.len() as u64 > limit {
        return Err(Refused::TooLong(bytes.len() as u64));
    }
    Ok(bytes)
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
                // A wildcard often matches a directory too: keepalived skips it quietly.
                self.sink
                    .warn(from, format!("'{shown}' is a directory; not included"));
                return;
            }
        }
        let left = MAX_CONFIG_TOTAL.saturating_sub(self.total);
        let bytes = match read_regular(path, MAX_CONFIG_FILE.min(left)) {
            Ok(bytes) => bytes,
            Err(e) => {
                let e = match e {
                    Refused::TooLong(_) if left < MAX_CONFIG_FILE => Refused::TotalTooLong,
                    e => e,
                };
                match from {
                    Some(from) => self
                        .sink
                        .error(from, format!("'{shown}': {}", e.describe())),
                    None => {
                        let file = self.sink.add_file(&shown);
                        self.sink.error(Pos { file, line: 0 }, e.describe());
                    }
                }
                return;
            }
        };
        self.total += bytes.len() as u64;
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
