//! Splits one file's text into words and braces.
//!
//! keepalived.conf is line-oriented: a keyword and its arguments share a line. So each token
//! records whether it is the first on its line (`bol`), which is how the tree builder knows
//! where a statement's arguments end.

use super::diag::{Pos, Sink};
use super::preproc::{BANG, HASH};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A word. `quoted` if any part of it was inside double quotes, so `"a b"` and `a` differ
    /// from a keyword only in how notify/script strings are joined.
    Word {
        text: String,
        quoted: bool,
    },
    Open,
    Close,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: Kind,
    pub pos: Pos,
    /// First token on its physical line.
    pub bol: bool,
}

impl Token {
    /// The text of an unquoted word, for matching keywords.
    pub fn keyword(&self) -> Option<&str> {
        match &self.kind {
            Kind::Word {
                text,
                quoted: false,
            } => Some(text),
            _ => None,
        }
    }
}

/// Lexes `text`, which is file number `file` in `sink`, line by line.
#[cfg(test)]
pub(crate) fn lex(text: &str, file: u32, sink: &mut Sink) -> Vec<Token> {
    let lines: Vec<(u32, String)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (u32::try_from(i + 1).unwrap_or(u32::MAX), l.to_string()))
        .collect();
    lex_lines(&lines, file, sink)
}

/// Lexes preprocessed lines of file number `file`, each with the number of the line it came
/// from. Never fails: an unterminated quote is reported and the word ends at the end of the line.
pub(crate) fn lex_lines(lines: &[(u32, String)], file: u32, sink: &mut Sink) -> Vec<Token> {
    let mut out = Vec::new();
    for (line, text) in lines {
        let pos = Pos { file, line: *line };
        lex_line(text, pos, sink, &mut out);
    }
    out
}

/// `${_HASH}` and `${_BANG}` arrive as stand-ins so that they do not start a comment.
fn literal(c: char) -> char {
    match c {
        HASH => '#',
        BANG => '!',
        c => c,
    }
}

fn is_comment(c: char) -> bool {
    c == '#' || c == '!'
}

fn lex_line(line: &str, pos: Pos, sink: &mut Sink, out: &mut Vec<Token>) {
    let mut chars = line.chars().peekable();
    let mut bol = true;
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&c) = chars.peek() else { break };
        let kind = match c {
            _ if is_comment(c) => break,
            '{' => {
                chars.next();
                Kind::Open
            }
            '}' => {
                chars.next();
                Kind::Close
            }
            _ => {
                let mut text = String::new();
                let mut quoted = false;
                // A word runs until unquoted whitespace, a brace or a comment; quoted parts
                // may sit anywhere inside it (`ab"c d"e` is the one word `abc de`).
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || c == '{' || c == '}' || is_comment(c) {
                        break;
                    }
                    chars.next();
                    if c != '"' {
                        text.push(literal(c));
                        continue;
                    }
                    quoted = true;
                    let mut closed = false;
                    while let Some(c) = chars.next() {
                        match c {
                            '"' => {
                                closed = true;
                                break;
                            }
                            // Only \" and \\ are escapes; any other backslash is kept so that
                            // script command lines reach the shell unchanged.
                            '\\' if matches!(chars.peek(), Some('"') | Some('\\')) => {
                                if let Some(e) = chars.next() {
                                    text.push(e);
                                }
                            }
                            _ => text.push(literal(c)),
                        }
                    }
                    if !closed {
                        sink.error(pos, "unterminated quoted string");
                    }
                }
                Kind::Word { text, quoted }
            }
        };
        out.push(Token { kind, pos, bol });
        bol = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex_ok(text: &str) -> Vec<(Kind, u32, bool)> {
        let mut sink = Sink::default();
        let f = sink.add_file("t");
        let toks = lex(text, f, &mut sink);
        assert!(!sink.has_errors(), "{:?}", sink.into_diagnostics());
        toks.into_iter()
            .map(|t| (t.kind, t.pos.line, t.bol))
            .collect()
    }

    fn w(s: &str) -> Kind {
        Kind::Word {
            text: s.to_string(),
            quoted: false,
        }
    }

    fn q(s: &str) -> Kind {
        Kind::Word {
            text: s.to_string(),
            quoted: true,
        }
    }

    #[test]
    fn words_braces_lines() {
        let toks = lex_ok("a b {\n  c }\n");
        assert_eq!(
            toks,
            vec![
                (w("a"), 1, true),
                (w("b"), 1, false),
                (Kind::Open, 1, false),
                (w("c"), 2, true),
                (Kind::Close, 2, false),
            ]
        );
    }

    #[test]
    fn glued_braces() {
        let toks = lex_ok("virtual_ipaddress{10.0.0.1}");
        let kinds: Vec<Kind> = toks.into_iter().map(|t| t.0).collect();
        assert_eq!(
            kinds,
            vec![
                w("virtual_ipaddress"),
                Kind::Open,
                w("10.0.0.1"),
                Kind::Close
            ]
        );
    }

    #[test]
    fn comments_anywhere() {
        let toks = lex_ok("# full line\nab#cd\nx ! y\n  ! z\nk \"#not\"");
        let kinds: Vec<Kind> = toks.into_iter().map(|t| t.0).collect();
        assert_eq!(kinds, vec![w("ab"), w("x"), w("k"), q("#not")]);
    }

    #[test]
    fn quotes() {
        let toks = lex_ok(r#"notify "/x.sh arg" a"b c"d "e\"f\\g\h" """#);
        let kinds: Vec<Kind> = toks.into_iter().map(|t| t.0).collect();
        assert_eq!(
            kinds,
            vec![
                w("notify"),
                q("/x.sh arg"),
                q("ab cd"),
                q(r#"e"f\g\h"#),
                q("")
            ]
        );
    }

    #[test]
    fn braces_inside_quotes_are_text() {
        let toks = lex_ok(r#"a "{x}""#);
        let kinds: Vec<Kind> = toks.into_iter().map(|t| t.0).collect();
        assert_eq!(kinds, vec![w("a"), q("{x}")]);
    }

    #[test]
    fn crlf_lines() {
        let toks = lex_ok("a\r\nb\r\n");
        assert_eq!(toks, vec![(w("a"), 1, true), (w("b"), 2, true)]);
    }

    #[test]
    fn unterminated_quote() {
        let mut sink = Sink::default();
        let f = sink.add_file("t.conf");
        let toks = lex("a\nb \"open\nc", f, &mut sink);
        assert_eq!(toks.len(), 4);
        let d = sink.into_diagnostics();
        assert_eq!(d.len(), 1);
        assert_eq!(
            d[0].to_string(),
            "t.conf:2: error: unterminated quoted string"
        );
    }
}
