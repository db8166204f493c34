//! A small safe wrapper over libc `glob(3)` for `include` patterns.

use std::ffi::{CStr, CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GlobError {
    /// The pattern contains a NUL byte and cannot be passed to libc.
    Nul,
    /// A directory on the way could not be read.
    Read,
    /// libc ran out of memory, or failed in a way it does not name.
    Other,
}

impl GlobError {
    pub fn describe(self) -> &'static str {
        match self {
            GlobError::Nul => "the pattern contains a NUL byte",
            GlobError::Read => "a directory could not be read",
            GlobError::Other => "glob() failed",
        }
    }
}

/// Expands `pattern` to the paths that exist, sorted (glob's default). No match is `Ok(empty)`.
pub(crate) fn glob(pattern: &str) -> Result<Vec<PathBuf>, GlobError> {
    let c_pattern = CString::new(pattern).map_err(|_| GlobError::Nul)?;
    // SAFETY: glob_t is a plain C struct for which all-zero is the documented initial state
    // (no GLOB_APPEND/GLOB_DOOFFS, so glob fills it from scratch).
    let mut g: libc::glob_t = unsafe { std::mem::zeroed() };
    // SAFETY: the pattern is NUL-terminated and outlives the call; `g` is valid and exclusively
    // ours; no error callback.
    let rc = unsafe { libc::glob(c_pattern.as_ptr(), 0, None, &mut g) };
    let result = match rc {
        0 => {
            let mut paths = Vec::with_capacity(g.gl_pathc);
            for i in 0..g.gl_pathc {
                // SAFETY: on success gl_pathv holds gl_pathc entries (gl_offs is 0 without
                // GLOB_DOOFFS), each NUL-terminated or, defensively, null.
                let p = unsafe { *g.gl_pathv.add(i) };
                if p.is_null() {
                    continue;
                }
                // SAFETY: p is a NUL-terminated string owned by `g` until globfree below;
                // we copy it out before that.
                let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
                paths.push(PathBuf::from(OsStr::from_bytes(bytes)));
            }
            Ok(paths)
        }
        libc::GLOB_NOMATCH => Ok(Vec::new()),
        libc::GLOB_ABORTED => Err(GlobError::Read),
        _ => Err(GlobError::Other),
    };
    // SAFETY: `g` was zeroed then filled (maybe partly) by glob; globfree accepts both states
    // and is called exactly once.
    unsafe { libc::globfree(&mut g) };
    result
}

/// Escapes glob metacharacters so a literal directory name can prefix a pattern.
pub(crate) fn escape(literal: &str) -> String {
    let mut out = String::with_capacity(literal.len());
    for c in literal.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn matches_sorted_and_no_match_is_empty() {
        let dir = std::env::temp_dir().join(format!("vrrpd-glob-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        for name in ["b.conf", "a.conf", "c.txt"] {
            fs::write(dir.join(name), "").unwrap();
        }
        let base = escape(dir.to_str().unwrap());
        let found = glob(&format!("{base}/*.conf")).unwrap();
        assert_eq!(found, vec![dir.join("a.conf"), dir.join("b.conf")]);
        assert_eq!(
            glob(&format!("{base}/*.none")).unwrap(),
            Vec::<PathBuf>::new()
        );
        assert_eq!(glob("a\0b"), Err(GlobError::Nul));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn escape_metacharacters() {
        assert_eq!(escape("/etc/a[1]*?"), r"/etc/a\[1\]\*\?");
    }
}
