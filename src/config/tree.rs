//! Groups tokens into statements and nested blocks, and reports brace errors.
//!
//! A statement is a keyword, the words after it on the same line, and optionally a `{ … }`
//! block. This layer knows nothing about what keywords mean, except which ones open a block
//! and which exist only at the top level (from `keywords`): that lets it name a forgotten `{`
//! or `}` instead of misreading the rest of the file.

use super::diag::{Pos, Sink};
use super::keywords;
use super::lexer::{Kind, Token};

/// Blocks nest at most this deep (keepalived's own grammar needs four). Deeper input is
/// skipped, which also keeps the recursion below bounded on hostile files.
const MAX_NESTING: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    pub text: String,
    pub quoted: bool,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stmt {
    pub key: Word,
    pub args: Vec<Word>,
    pub block: Option<Vec<Stmt>>,
}

impl Stmt {
    pub fn pos(&self) -> Pos {
        self.key.pos
    }
    /// The keyword, or "" if it was quoted (a quoted word is never a keyword).
    pub fn keyword(&self) -> &str {
        if self.key.quoted { "" } else { &self.key.text }
    }
}

/// Builds the statement tree of a whole token stream.
pub(crate) fn build(tokens: Vec<Token>, sink: &mut Sink) -> Vec<Stmt> {
    let mut builder = Builder {
        tokens: tokens.into_iter().peekable(),
        sink,
        unwinding: false,
    };
    builder.block(0, None)
}

struct Builder<'a, I: Iterator<Item = Token>> {
    tokens: std::iter::Peekable<I>,
    sink: &'a mut Sink,
    /// A top-level keyword was met inside a block: every open block ends before it.
    unwinding: bool,
}

impl<I: Iterator<Item = Token>> Builder<'_, I> {
    /// Reads statements until the `}` closing `opener` (or end of input at top level).
    fn block(&mut self, depth: usize, opener: Option<(Pos, &str)>) -> Vec<Stmt> {
        let mut stmts = Vec::new();
        loop {
            if self.unwinding {
                if opener.is_some() {
                    return stmts;
                }
                self.unwinding = false;
            }
            if let Some((pos, name)) = opener {
                // Left in the stream: the top level reads it once every block has ended.
                let next = self.tokens.peek().filter(|t| starts_top_level(t));
                if let Some(at) = next.map(|t| t.pos) {
                    let message = format!(
                        "'{name}' block is not closed: '}}' missing before line {} (opened at {})",
                        at.line,
                        self.opened_at(pos, at)
                    );
                    self.sink.error(at, message);
                    self.unwinding = true;
                    return stmts;
                }
            }
            let Some(token) = self.tokens.next() else {
                if let Some((pos, name)) = opener {
                    // The innermost open block is named; the blocks around it end unnamed.
                    self.sink
                        .error(pos, format!("'{name}' block is not closed (missing '}}')"));
                    self.unwinding = true;
                }
                return stmts;
            };
            match token.kind {
                Kind::Close if opener.is_some() => return stmts,
                Kind::Close => self.sink.error(
                    token.pos,
                    "unexpected '}' with no open block (was a block closed too early?)",
                ),
                Kind::Open => {
                    self.sink
                        .error(token.pos, "unexpected '{' with no keyword before it");
                    // Parse and drop it so its contents are not read as statements here.
                    let _ = self.sub_block(depth, token.pos, "{");
                }
                Kind::Word { text, quoted } => {
                    let key = Word {
                        text,
                        quoted,
                        pos: token.pos,
                    };
                    let stmt = self.statement(key, depth);
                    stmts.push(stmt);
                }
            }
        }
    }

    fn statement(&mut self, key: Word, depth: usize) -> Stmt {
        let mut args = Vec::new();
        while let Some(t) = self
            .tokens
            .next_if(|t| !t.bol && matches!(t.kind, Kind::Word { .. }))
        {
            if let Kind::Word { text, quoted } = t.kind {
                args.push(Word {
                    text,
                    quoted,
                    pos: t.pos,
                });
            }
        }
        let wants_block = !key.quoted && keywords::opens_block(&key.text, !args.is_empty());
        let block = match self.tokens.peek() {
            // `{` may also start the next line (`vrrp_instance X` / `{`).
            Some(t) if t.kind == Kind::Open => {
                self.tokens.next();
                Some(self.sub_block(depth, key.pos, &key.text))
            }
            // A block keyword ending its line without `{`: the `{` was most likely forgotten,
            // so read what follows as its body; that keeps to one error instead of a cascade.
            // Not when an inner block's contents sit on its line (`unicast_peer 10.0.0.2`):
            // there the next lines are the enclosing block's.
            None | Some(Token { bol: true, .. })
                if wants_block && (args.is_empty() || keywords::top_level_only(&key.text)) =>
            {
                self.sink
                    .error(key.pos, format!("expected '{{' after '{}'", key.text));
                Some(self.sub_block(depth, key.pos, &key.text))
            }
            _ if wants_block => {
                self.sink
                    .error(key.pos, format!("expected '{{' after '{}'", key.text));
                None
            }
            _ => None,
        };
        Stmt { key, args, block }
    }

    /// "line M", or "FILE:M" when the block opened in another file than `here`.
    fn opened_at(&self, pos: Pos, here: Pos) -> String {
        if pos.file == here.file {
            format!("line {}", pos.line)
        } else {
            self.sink.location(pos).to_string()
        }
    }

    fn sub_block(&mut self, depth: usize, pos: Pos, name: &str) -> Vec<Stmt> {
        if depth + 1 > MAX_NESTING {
            self.sink
                .error(pos, format!("blocks nested more than {MAX_NESTING} deep"));
            self.skip_block();
            return Vec::new();
        }
        self.block(depth + 1, Some((pos, name)))
    }

    /// Skips to the `}` matching an already-read `{`, without recursion.
    fn skip_block(&mut self) {
        let mut level = 1usize;
        for t in self.tokens.by_ref() {
            match t.kind {
                Kind::Open => level += 1,
                Kind::Close => {
                    level -= 1;
                    if level == 0 {
                        return;
                    }
                }
                Kind::Word { .. } => {}
            }
        }
    }
}

/// A keyword that exists only at the top level (`vrrp_instance`, …), first on its line.
fn starts_top_level(t: &Token) -> bool {
    t.bol && t.keyword().is_some_and(keywords::top_level_only)
}

#[cfg(test)]
mod tests {
    use super::super::lexer::lex;
    use super::*;

    fn parse(text: &str) -> (Vec<Stmt>, Vec<String>) {
        let mut sink = Sink::default();
        let f = sink.add_file("t");
        let toks = lex(text, f, &mut sink);
        let stmts = build(toks, &mut sink);
        let diags = sink
            .into_diagnostics()
            .iter()
            .map(|d| d.to_string())
            .collect();
        (stmts, diags)
    }

    fn shape(stmts: &[Stmt]) -> String {
        let mut s = String::new();
        for st in stmts {
            s.push_str(&st.key.text);
            for a in &st.args {
                s.push(' ');
                s.push_str(&a.text);
            }
            if let Some(b) = &st.block {
                s.push_str(" {");
                s.push_str(&shape(b));
                s.push('}');
            }
            s.push(';');
        }
        s
    }

    #[test]
    fn nested_and_one_line_blocks() {
        let (st, d) = parse("a 1 {\n b 2\n c { x y }\n}\nz");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(shape(&st), "a 1 {b 2;c {x y;};};z;");
    }

    #[test]
    fn brace_on_next_line_and_after_close() {
        let (st, d) = parse("a\n{\n b\n} c 1\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(shape(&st), "a {b;};c 1;");
    }

    #[test]
    fn stray_close() {
        let (_, d) = parse("a {\n}\n}\n");
        assert_eq!(
            d,
            vec!["t:3: error: unexpected '}' with no open block (was a block closed too early?)"]
        );
    }

    #[test]
    fn unclosed() {
        let (_, d) = parse("vrrp_instance X {\n state MASTER\n");
        assert_eq!(
            d,
            vec!["t:1: error: 'vrrp_instance' block is not closed (missing '}')"]
        );
    }

    #[test]
    fn unclosed_nested_blocks_are_one_error() {
        let (_, d) = parse("vrrp_instance X {\n virtual_ipaddress {\n  10.0.0.1\n");
        assert_eq!(
            d,
            vec!["t:2: error: 'virtual_ipaddress' block is not closed (missing '}')"]
        );
    }

    #[test]
    fn a_top_level_keyword_ends_the_open_blocks() {
        let (st, d) = parse("vrrp_instance X {\n track_script {\n  a\nvrrp_script a {\n}\n");
        assert_eq!(
            d,
            vec![
                "t:4: error: 'track_script' block is not closed: '}' missing before line 4 (opened at line 2)"
            ]
        );
        assert_eq!(
            shape(&st),
            "vrrp_instance X {track_script {a;};};vrrp_script a {};"
        );
    }

    #[test]
    fn inline_block_contents_are_one_error() {
        let (st, d) = parse("i {\n unicast_peer 10.0.0.2\n priority 5\n}\n");
        assert_eq!(d, vec!["t:2: error: expected '{' after 'unicast_peer'"]);
        assert_eq!(shape(&st), "i {unicast_peer 10.0.0.2;priority 5;};");
    }

    #[test]
    fn one_line_peer_needs_no_block() {
        let (st, d) = parse("vrrp_unicast_peer 10.0.0.2\nvrrp_unicast_peer\n{\n 10.0.0.3\n}\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(
            shape(&st),
            "vrrp_unicast_peer 10.0.0.2;vrrp_unicast_peer {10.0.0.3;};"
        );
    }

    #[test]
    fn missing_open_recovers() {
        let (st, d) = parse("vrrp_instance X\n state MASTER\n}\nvrrp_script s {\n}\n");
        assert_eq!(d, vec!["t:1: error: expected '{' after 'vrrp_instance'"]);
        assert_eq!(
            shape(&st),
            "vrrp_instance X {state MASTER;};vrrp_script s {};"
        );
    }

    #[test]
    fn lone_open() {
        let (st, d) = parse("{ a }\nb\n");
        assert_eq!(
            d,
            vec!["t:1: error: unexpected '{' with no keyword before it"]
        );
        assert_eq!(shape(&st), "b;");
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let text = format!("{}{}", "a {".repeat(100_000), "}".repeat(100_000));
        let (st, d) = parse(&text);
        assert_eq!(st.len(), 1);
        assert_eq!(d, vec!["t:1: error: blocks nested more than 16 deep"]);
    }
}
