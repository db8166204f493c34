//! keepalived's line-level preprocessing, before words are split: conditional lines (`@ID`,
//! `@^ID`), parameters (`$NAME=VALUE`, `$NAME`, `${NAME}`, multi-line definitions) and
//! sequence and list blocks (`~SEQ(…)`, `~SEQx(…)`, `~LST(…)`), as keepalived.conf(5)
//! describes them.
//!
//! Parameters live across files (a definition in an included file holds afterwards), so one
//! [`Preproc`] serves a whole load. Every produced line keeps the number of the line it came
//! from, so diagnostics still point at the file as written.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use super::diag::{Pos, Sink};

/// Substitution and expansion nest at most this deep: a parameter defined through itself, or
/// sequences within sequences, stop here with an error instead of running away.
const MAX_DEPTH: usize = 16;

/// At most this many lines come out of a whole load (a `~SEQ` over a huge range, nested
/// sequences, parameters that double at each level): far more than any real config, and a
/// bound on the work a hostile file can cause.
const MAX_LINES: usize = 65_536;

/// A line longer than this after substitution is dropped.
const MAX_LINE_LEN: usize = 65_536;

/// Stand-ins for `${_HASH}` and `${_BANG}`: characters that must not start a comment. The
/// lexer turns them back into `#` and `!` inside words.
pub(crate) const HASH: char = '\u{E000}';
pub(crate) const BANG: char = '\u{E001}';

pub(crate) struct Preproc {
    config_id: String,
    params: HashMap<String, String>,
    /// A multi-line definition being read: its name and the lines so far.
    open_definition: Option<(String, Vec<String>)>,
    /// Lines produced so far, against MAX_LINES.
    produced: usize,
    /// MAX_LINES was reached (and reported): nothing more is read.
    exhausted: bool,
}

impl Preproc {
    pub fn new(config_id: &str) -> Preproc {
        Preproc {
            config_id: config_id.to_string(),
            params: HashMap::new(),
            open_definition: None,
            produced: 0,
            exhausted: false,
        }
    }

    /// The lines of one file, numbered from 1, after preprocessing. `dir` is the file's
    /// directory, for `${_PWD}`.
    pub fn file(
        &mut self,
        text: &str,
        file: u32,
        dir: &str,
        sink: &mut Sink,
    ) -> Vec<(u32, String)> {
        self.params.insert("_PWD".into(), dir.to_string());
        let mut out = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let pos = Pos {
                file,
                line: u32::try_from(index + 1).unwrap_or(u32::MAX),
            };
            self.line(line, pos, 0, &mut out, sink);
        }
        if let Some((name, _)) = self.open_definition.take() {
            let pos = Pos {
                file,
                line: u32::try_from(text.lines().count()).unwrap_or(u32::MAX),
            };
            sink.error(
                pos,
                format!("multi-line definition of '${name}' ends with '\\' at the end of the file"),
            );
        }
        out
    }

    fn line(
        &mut self,
        line: &str,
        pos: Pos,
        depth: usize,
        out: &mut Vec<(u32, String)>,
        sink: &mut Sink,
    ) {
        if self.exhausted {
            return;
        }
        if depth > MAX_DEPTH {
            sink.error(
                pos,
                format!("parameters or sequences nest more than {MAX_DEPTH} deep"),
            );
            return;
        }
        if let Some((name, mut lines)) = self.open_definition.take() {
            match line.trim_end().strip_suffix('\\') {
                Some(more) => {
                    lines.push(more.to_string());
                    self.open_definition = Some((name, lines));
                }
                None => {
                    lines.push(line.to_string());
                    self.params.insert(name, lines.join("\n"));
                }
            }
            return;
        }
        let text = line.trim_start();
        // `@ID rest` is kept only when ID is the config id; `@^ID rest` only when it is not.
        if let Some(cond) = text.strip_prefix('@') {
            let (id, rest) = cond.split_once(char::is_whitespace).unwrap_or((cond, ""));
            let (negated, id) = match id.strip_prefix('^') {
                Some(id) => (true, id),
                None => (false, id),
            };
            if (id == self.config_id) != negated {
                self.line(rest, pos, depth + 1, out, sink);
            }
            return;
        }
        if let Some(def) = text.strip_prefix('$') {
            if let Some((name, value)) = def.split_once('=') {
                if is_name(name) {
                    self.define(name, value, pos, sink);
                    return;
                }
            }
        }
        if let Some(spec) = text.strip_prefix('~') {
            self.block(spec, pos, depth, out, sink);
            return;
        }
        match self.substitute(line, pos, sink) {
            // A parameter's value may itself be a conditional line, a definition or several
            // lines: read what came out as if it had been written there.
            Some(expanded) => {
                for l in expanded.split('\n') {
                    self.line(l, pos, depth + 1, out, sink);
                }
            }
            // Blank lines hold no words: not worth keeping.
            None if text.is_empty() => {}
            None => self.emit(line, pos, out, sink),
        }
    }

    fn emit(&mut self, line: &str, pos: Pos, out: &mut Vec<(u32, String)>, sink: &mut Sink) {
        if self.produced >= MAX_LINES {
            sink.error(
                pos,
                format!(
                    "the configuration expands to more than {MAX_LINES} lines; the rest is not read"
                ),
            );
            self.exhausted = true;
            return;
        }
        self.produced += 1;
        out.push((pos.line, line.to_string()));
    }

    fn define(&mut self, name: &str, value: &str, pos: Pos, sink: &mut Sink) {
        if name.starts_with('_') {
            sink.warn(
                pos,
                format!("parameter names starting with '_' are keepalived's own; '${name}' defined anyway"),
            );
        }
        match value.trim_end().strip_suffix('\\') {
            Some(first) => {
                let first = first.trim();
                let lines = if first.is_empty() {
                    Vec::new()
                } else {
                    vec![first.to_string()]
                };
                self.open_definition = Some((name.to_string(), lines));
            }
            None => {
                self.params
                    .insert(name.to_string(), value.trim().to_string());
            }
        }
    }

    /// `SEQ(…) rest`, `SEQx(…) rest` or `LST(…) rest` (after the `~`): `rest` once per value.
    fn block(
        &mut self,
        spec: &str,
        pos: Pos,
        depth: usize,
        out: &mut Vec<(u32, String)>,
        sink: &mut Sink,
    ) {
        let kind_end = spec
            .find(|c: char| c == '(' || c.is_whitespace())
            .unwrap_or(spec.len());
        let kind = &spec[..kind_end];
        if !matches!(kind, "SEQ" | "SEQx" | "LST") {
            sink.warn(
                pos,
                format!("'~{kind}' is not a keepalived block vrrpd knows (only ~SEQ, ~SEQx and ~LST); line ignored"),
            );
            return;
        }
        let Some(close) = matching_paren(spec, kind_end) else {
            sink.error(pos, format!("'~{kind}(' without its closing ')'"));
            return;
        };
        let inside = &spec[kind_end + 1..close];
        let rest = spec[close + 1..].trim_start();
        // Parameters in the specification are replaced first (`~SEQ(N, 1, $COUNT)`).
        let inside = self
            .substitute(inside, pos, sink)
            .unwrap_or_else(|| inside.to_string());
        let runs = match kind {
            "SEQ" | "SEQx" => sequence(&inside, kind == "SEQx"),
            _ => list(&inside),
        };
        let runs = match runs {
            Ok(runs) => runs,
            Err(why) => {
                sink.error(pos, format!("~{kind}({inside}): {why}"));
                return;
            }
        };
        for assignment in runs {
            for (name, value) in assignment {
                self.params.insert(name, value);
            }
            self.line(rest, pos, depth + 1, out, sink);
            if self.exhausted {
                return;
            }
        }
    }

    /// `line` with every defined parameter replaced, or None if there was none to replace.
    fn substitute(&self, line: &str, pos: Pos, sink: &mut Sink) -> Option<String> {
        let mut text = line.to_string();
        let mut changed = false;
        for _ in 0..=MAX_DEPTH {
            match self.substitute_once(&text) {
                Some(next) if next.len() > MAX_LINE_LEN => {
                    sink.error(
                        pos,
                        format!("this line grows past {MAX_LINE_LEN} characters with its parameters; dropped"),
                    );
                    return Some(String::new());
                }
                Some(next) => {
                    text = next;
                    changed = true;
                }
                None => return changed.then_some(text),
            }
        }
        sink.error(
            pos,
            format!("parameters nest more than {MAX_DEPTH} deep (is one defined through itself?)"),
        );
        // The line is dropped.
        Some(String::new())
    }

    /// One pass of replacement, left to right; values are not rescanned in this pass.
    fn substitute_once(&self, text: &str) -> Option<String> {
        let mut out = String::with_capacity(text.len());
        let mut changed = false;
        let mut rest = text;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            if let Some(braced) = after.strip_prefix('{') {
                if let Some(end) = braced.find('}') {
                    if let Some(value) = self.value(&braced[..end]) {
                        out.push_str(&value);
                        rest = &braced[end + 1..];
                        changed = true;
                        continue;
                    }
                }
            } else {
                // `$NAME` only when whitespace or the end of the line follows it.
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                let followed_ok = after[end..].chars().next().is_none_or(char::is_whitespace);
                if end > 0 && followed_ok {
                    if let Some(value) = self.value(&after[..end]) {
                        out.push_str(&value);
                        rest = &after[end..];
                        changed = true;
                        continue;
                    }
                }
            }
            out.push('$');
            rest = after;
        }
        out.push_str(rest);
        changed.then_some(out)
    }

    /// The value of a parameter, including keepalived's predefined ones.
    fn value(&self, name: &str) -> Option<String> {
        match name {
            "_INSTANCE" => return Some(self.config_id.clone()),
            "_HASH" => return Some(HASH.to_string()),
            "_BANG" => return Some(BANG.to_string()),
            _ => {}
        }
        if let Some(range) = name.strip_prefix("_RANDOM") {
            if range.is_empty() || range.starts_with(' ') {
                let mut bounds = range.split_whitespace().map(str::parse::<u64>);
                let min = bounds.next().and_then(Result::ok).unwrap_or(0);
                let max = bounds.next().and_then(Result::ok).unwrap_or(32767).max(min);
                let r = std::collections::hash_map::RandomState::new()
                    .build_hasher()
                    .finish();
                return Some((min + r % (max - min + 1)).to_string());
            }
        }
        if !is_name(name) {
            return None;
        }
        self.params.get(name).cloned()
    }
}

/// A parameter name: letters, digits and `_`, not starting with a digit.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The index of the `)` that closes the `(` at `open`.
fn matching_paren(s: &str, open: usize) -> Option<usize> {
    if s.as_bytes().get(open) != Some(&b'(') {
        return None;
    }
    let mut level = 0usize;
    for (i, c) in s.char_indices().skip_while(|(i, _)| *i < open) {
        match c {
            '(' => level += 1,
            ')' => {
                level -= 1;
                if level == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

type Runs = Vec<Vec<(String, String)>>;

fn number(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let v = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => i64::from_str_radix(hex, 16),
        None => digits.parse(),
    }
    .map_err(|_| format!("'{s}' is not a number"))?;
    Ok(if neg { -v } else { v })
}

/// `VAR, [START,] [STEP,] END`, as keepalived.conf(5) gives the defaults.
fn sequence(spec: &str, hex: bool) -> Result<Runs, String> {
    let parts: Vec<&str> = spec.split(',').map(str::trim).collect();
    let (var, nums) = parts.split_first().ok_or("no variable")?;
    if !is_name(var) {
        return Err(format!("'{var}' is not a parameter name"));
    }
    let nums = nums
        .iter()
        .map(|n| number(n))
        .collect::<Result<Vec<_>, _>>()?;
    let (start, step, end) = match nums[..] {
        [end] => (if end > 0 { 1 } else { -1 }, None, end),
        [start, end] => (start, None, end),
        [start, step, end] => (start, Some(step), end),
        _ => return Err("expected 1 to 3 numbers after the variable".into()),
    };
    let step = step.unwrap_or(if end >= start { 1 } else { -1 });
    if step == 0 {
        return Err("the step is 0".into());
    }
    let mut runs = Vec::new();
    let mut v = start;
    while (step > 0 && v <= end) || (step < 0 && v >= end) {
        let text = if hex { format!("{v:x}") } else { v.to_string() };
        runs.push(vec![(var.to_string(), text)]);
        if runs.len() > MAX_LINES {
            return Err(format!("more than {MAX_LINES} values"));
        }
        v = v.checked_add(step).ok_or("the sequence overflows")?;
    }
    Ok(runs)
}

/// `VAR, V1, V2, …` or `{VAR1, VAR2}, {V1, V2}, {V3, V4}, …`.
fn list(spec: &str) -> Result<Runs, String> {
    let items = split_top(spec);
    let (vars, values) = items.split_first().ok_or("no variable")?;
    let vars: Vec<&str> = unbrace(vars).split(',').map(str::trim).collect();
    if let Some(bad) = vars.iter().find(|v| !is_name(v)) {
        return Err(format!("'{bad}' is not a parameter name"));
    }
    if values.is_empty() {
        return Err("no values".into());
    }
    let mut runs = Vec::new();
    for v in values {
        let vals: Vec<&str> = unbrace(v).split(',').map(str::trim).collect();
        if vals.len() != vars.len() {
            return Err(format!("'{v}' does not give {} values", vars.len()));
        }
        runs.push(
            vars.iter()
                .zip(vals)
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        );
    }
    Ok(runs)
}

/// Splits at commas outside `{…}`.
fn split_top(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut level, mut start) = (0usize, 0);
    for (i, c) in s.char_indices() {
        match c {
            '{' => level += 1,
            '}' => level = level.saturating_sub(1),
            ',' if level == 0 => {
                parts.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(s[start..].trim());
    parts
}

fn unbrace(s: &str) -> &str {
    s.strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str, text: &str) -> (Vec<String>, Vec<String>) {
        let mut sink = Sink::default();
        let f = sink.add_file("t");
        let lines = Preproc::new(id).file(text, f, "/etc/keepalived", &mut sink);
        let d = sink
            .into_diagnostics()
            .iter()
            .map(|d| d.to_string())
            .collect();
        (
            lines.into_iter().map(|(n, l)| format!("{n}:{l}")).collect(),
            d,
        )
    }

    #[test]
    fn conditional_lines() {
        let text =
            "@main router_id a\n@backup router_id b\n  @^main 1.2.3.4\n@^backup 1.2.3.5\nplain";
        let (l, d) = run("main", text);
        assert!(d.is_empty());
        assert_eq!(l, vec!["1:router_id a", "4:1.2.3.5", "5:plain"]);
        let (l, _) = run("other", text);
        assert_eq!(l, vec!["3:1.2.3.4", "4:1.2.3.5", "5:plain"]);
    }

    #[test]
    fn parameters_as_the_man_page_shows() {
        let text = "$ADDRESS_BASE=10.2.${ADDRESS_BASE_SUB}\n$ADDRESS_BASE_SUB=0\n${ADDRESS_BASE}.100/32\n\
                    $ADDRESS_BASE_SUB=10\n${ADDRESS_BASE}.100/32\n@main $PRIORITY=240\n@backup $PRIORITY=200\n\
                    priority $PRIORITY\n$IF_MAIN=@main\n$IF_MAIN nopreempt\nscript \"x $1 $UNDEF ${UNDEF}\"\n${_PWD}/a ${_INSTANCE}";
        let (l, d) = run("main", text);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(
            l,
            vec![
                "3:10.2.0.100/32",
                "5:10.2.10.100/32",
                "8:priority 240",
                "10:nopreempt",
                "11:script \"x $1 $UNDEF ${UNDEF}\"",
                "12:/etc/keepalived/a main",
            ]
        );
    }

    #[test]
    fn multi_line_definitions() {
        let text = "$INST= \\\nvrrp_instance VI_${NUM} { \\\n  @high priority 130 \\\n  @low priority 120 \\\n}\n$NUM=0\n$INST\n$NUM=1\n$INST";
        let (l, d) = run("low", text);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(
            l,
            vec![
                "7:vrrp_instance VI_0 { ",
                "7:priority 120 ",
                "7:}",
                "9:vrrp_instance VI_1 { ",
                "9:priority 120 ",
                "9:}",
            ]
        );
    }

    #[test]
    fn sequences_and_lists() {
        let (l, d) = run("x", "~SEQ(SUBNET, 0, 3) ip 10.0.${SUBNET}.1");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(
            l,
            vec![
                "1:ip 10.0.0.1",
                "1:ip 10.0.1.1",
                "1:ip 10.0.2.1",
                "1:ip 10.0.3.1"
            ]
        );
        let (l, _) = run("x", "~SEQx(S, 0x90, 0x10, 0xc0) fe80::${S}:1");
        assert_eq!(
            l,
            vec![
                "1:fe80::90:1",
                "1:fe80::a0:1",
                "1:fe80::b0:1",
                "1:fe80::c0:1"
            ]
        );
        let (l, _) = run("x", "~SEQ(A, 3) ~SEQ(B, 2, 1) ${A}.${B}");
        assert_eq!(
            l,
            vec!["1:1.2", "1:1.1", "1:2.2", "1:2.1", "1:3.2", "1:3.1"]
        );
        let (l, _) = run("x", "~LST({IP, IP1}, {10,1},{20,4}) 192.168.${IP}.${IP1}");
        assert_eq!(l, vec!["1:192.168.10.1", "1:192.168.20.4"]);
    }

    #[test]
    fn hostile_expansion_is_bounded() {
        let start = std::time::Instant::now();
        let (l, d) = run("x", "~SEQ(A, 60000) ~SEQ(B, 60000) ~SEQ(C, 60000) x\nafter");
        assert_eq!(l.len(), MAX_LINES);
        assert_eq!(
            d,
            vec![
                "t:1: error: the configuration expands to more than 65536 lines; the rest is not read"
            ]
        );
        let doubling: String = (0..20)
            .map(|i| format!("$P{i}=${{P{}}}${{P{}}}\n", i + 1, i + 1))
            .collect();
        let (l, d) = run("x", &format!("$P20=xxxxxxxxxxxxxxxx\n{doubling}$P0\n"));
        assert!(l.is_empty(), "{}", l.len());
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn errors_and_bounds() {
        let (l, d) = run(
            "x",
            "$A=${A}x\n$A\n~SEQ(N, 0, 0, 5) x\n~ONCE foo\n~SEQ(N, 1, 1000000) x\n$B= \\",
        );
        assert!(l.is_empty(), "{l:?}");
        assert_eq!(
            d,
            vec![
                "t:2: error: parameters nest more than 16 deep (is one defined through itself?)",
                "t:3: error: ~SEQ(N, 0, 0, 5): the step is 0",
                "t:4: warning: '~ONCE' is not a keepalived block vrrpd knows (only ~SEQ, ~SEQx and ~LST); line ignored",
                "t:5: error: ~SEQ(N, 1, 1000000): more than 65536 values",
                "t:6: error: multi-line definition of '$B' ends with '\\' at the end of the file",
            ]
        );
    }
}
