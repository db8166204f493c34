//! Reading single values (numbers, seconds, addresses, booleans) out of statements, with the
//! diagnostics for each way they can be wrong.

use std::net::IpAddr;
use std::time::Duration;

use super::diag::Sink;
use super::tree::{Stmt, Word};

/// Longest interface name Linux accepts (IFNAMSIZ - 1).
pub(crate) const IFNAME_MAX: usize = 15;

/// The argument of a one-value keyword. Reports a missing value as "expected WHAT after 'KW'"
/// and warns about extra words (keepalived ignores them too).
pub(crate) fn arg<'s>(stmt: &'s Stmt, what: &str, sink: &mut Sink) -> Option<&'s Word> {
    let Some(first) = stmt.args.first() else {
        sink.error(
            stmt.pos(),
            format!("expected {what} after '{}'", stmt.key.text),
        );
        return None;
    };
    extra_words(stmt, 1, sink);
    Some(first)
}

/// Warns about words after the first `used` arguments.
pub(crate) fn extra_words(stmt: &Stmt, used: usize, sink: &mut Sink) {
    if stmt.args.len() > used {
        let extra: Vec<&str> = stmt.args[used..].iter().map(|w| w.text.as_str()).collect();
        sink.warn(
            stmt.pos(),
            format!(
                "extra words after '{}' ignored: {}",
                stmt.key.text,
                extra.join(" ")
            ),
        );
    }
}

/// For flag keywords (`nopreempt`): a value is unexpected but harmless.
pub(crate) fn no_args(stmt: &Stmt, sink: &mut Sink) {
    extra_words(stmt, 0, sink);
}

fn range_text(min: i64, max: i64) -> String {
    if min < 0 {
        format!("{min} to {max}")
    } else {
        format!("{min}-{max}")
    }
}

/// An integer in `min..=max`, named `kw` in messages.
pub(crate) fn int_in(word: &Word, kw: &str, min: i64, max: i64, sink: &mut Sink) -> Option<i64> {
    let text = word.text.as_str();
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        sink.error(
            word.pos,
            format!("'{text}' is not a valid number for '{kw}'"),
        );
        return None;
    }
    // Too many digits to parse is simply out of range.
    match text.parse::<i64>() {
        Ok(v) if (min..=max).contains(&v) => Some(v),
        _ => {
            sink.error(
                word.pos,
                format!("{kw} {text} is out of range ({})", range_text(min, max)),
            );
            None
        }
    }
}

/// The statement's single integer argument in `min..=max`.
pub(crate) fn stmt_int(stmt: &Stmt, min: i64, max: i64, sink: &mut Sink) -> Option<i64> {
    let word = arg(stmt, "a number", sink)?;
    int_in(word, &stmt.key.text, min, max, sink)
}

/// The statement's single unsigned argument, as u32 (keepalived's range for counts/seconds).
pub(crate) fn stmt_u32(stmt: &Stmt, min: u32, sink: &mut Sink) -> Option<u32> {
    let v = stmt_int(stmt, i64::from(min), i64::from(u32::MAX), sink)?;
    u32::try_from(v).ok()
}

/// Parses decimal seconds ("1", "0.5", "2.71828") into microseconds. At most 6 decimals, as
/// keepalived's timers have microsecond resolution.
pub(crate) fn parse_micros(text: &str) -> Option<u64> {
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if frac.len() > 6 || whole.len() > 12 {
        return None;
    }
    if !whole
        .bytes()
        .chain(frac.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut frac_us: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    for _ in frac.len()..6 {
        frac_us *= 10;
    }
    whole.checked_mul(1_000_000)?.checked_add(frac_us)
}

/// Formats microseconds as decimal seconds without trailing zeros ("1", "0.25").
pub(crate) fn format_micros(us: u64) -> String {
    let whole = us / 1_000_000;
    let frac = us % 1_000_000;
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:06}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// The statement's argument as decimal seconds, at most `max_us`; returns microseconds.
pub(crate) fn stmt_micros(stmt: &Stmt, max_us: u64, sink: &mut Sink) -> Option<u64> {
    let word = arg(stmt, "a time in seconds", sink)?;
    let kw = &stmt.key.text;
    let Some(us) = parse_micros(&word.text) else {
        sink.error(
            word.pos,
            format!("'{}' is not a valid time in seconds for '{kw}'", word.text),
        );
        return None;
    };
    if us > max_us {
        sink.error(
            word.pos,
            format!(
                "{kw} {} is out of range (0-{} s)",
                word.text,
                format_micros(max_us)
            ),
        );
        return None;
    }
    Some(us)
}

pub(crate) fn stmt_duration(stmt: &Stmt, max_us: u64, sink: &mut Sink) -> Option<Duration> {
    stmt_micros(stmt, max_us, sink).map(Duration::from_micros)
}

/// Parses `word` as an IPv4 or IPv6 address; a malformed one is an error naming `kw`. A zone
/// (`fe80::1%eth0`) is accepted and dropped: a link-local address is scoped to the instance's
/// interface anyway.
pub(crate) fn addr(word: &Word, kw: &str, sink: &mut Sink) -> Option<IpAddr> {
    let text = match word.text.split_once('%') {
        Some((a, _zone)) if a.contains(':') => a,
        _ => word.text.as_str(),
    };
    if let Ok(a) = text.parse::<IpAddr>() {
        return Some(a);
    }
    sink.error(
        word.pos,
        format!(
            "'{}' is not a valid IPv4 or IPv6 address (after '{kw}')",
            word.text
        ),
    );
    None
}

/// The statement's single address.
pub(crate) fn stmt_ip(stmt: &Stmt, sink: &mut Sink) -> Option<IpAddr> {
    let word = arg(stmt, "an IPv4 or IPv6 address", sink)?;
    addr(word, &stmt.key.text, sink)
}

/// keepalived's `<BOOL>`: on|off|true|false|yes|no; a flag with no value means on.
pub(crate) fn stmt_bool(stmt: &Stmt, sink: &mut Sink) -> Option<bool> {
    let Some(word) = stmt.args.first() else {
        return Some(true);
    };
    extra_words(stmt, 1, sink);
    match word.text.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" => Some(true),
        "off" | "false" | "no" => Some(false),
        _ => {
            sink.error(
                word.pos,
                format!(
                    "'{}' is not a valid value for '{}' (use on/off, true/false or yes/no)",
                    word.text, stmt.key.text
                ),
            );
            None
        }
    }
}

/// An interface name as a value: checked against the kernel's length limit.
pub(crate) fn ifname(word: &Word, sink: &mut Sink) -> Option<String> {
    if word.text.is_empty() || word.text.len() > IFNAME_MAX {
        sink.error(
            word.pos,
            format!(
                "'{}' is not a valid interface name (1-{IFNAME_MAX} bytes)",
                word.text
            ),
        );
        return None;
    }
    Some(word.text.clone())
}

/// A notify/script command line. A quoted first word is the whole command (keepalived reads
/// any words after it as a user and group, which vrrpd does not support); otherwise the
/// words are joined with single spaces.
pub(crate) fn command(stmt: &Stmt, sink: &mut Sink) -> Option<String> {
    let Some(first) = stmt.args.first() else {
        sink.error(
            stmt.pos(),
            format!("expected a command after '{}'", stmt.key.text),
        );
        return None;
    };
    if first.quoted {
        if stmt.args.len() > 1 {
            sink.warn(
                stmt.pos(),
                format!(
                    "a user/group after the command of '{}' is not supported by vrrpd; ignored (scripts run as script_user)",
                    stmt.key.text
                ),
            );
        }
        return Some(first.text.clone());
    }
    let words: Vec<&str> = stmt.args.iter().map(|w| w.text.as_str()).collect();
    Some(words.join(" "))
}

/// `USER [GROUP]`.
pub(crate) fn user_group(stmt: &Stmt, sink: &mut Sink) -> Option<(String, Option<String>)> {
    let user = arg_allowing(stmt, 2, "a user name", sink)?;
    let group = stmt.args.get(1).map(|w| w.text.clone());
    Some((user.text.clone(), group))
}

/// Like [`arg`] but for keywords taking up to `max` words.
fn arg_allowing<'s>(stmt: &'s Stmt, max: usize, what: &str, sink: &mut Sink) -> Option<&'s Word> {
    let Some(first) = stmt.args.first() else {
        sink.error(
            stmt.pos(),
            format!("expected {what} after '{}'", stmt.key.text),
        );
        return None;
    };
    extra_words(stmt, max, sink);
    Some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros() {
        assert_eq!(parse_micros("1"), Some(1_000_000));
        assert_eq!(parse_micros("0.01"), Some(10_000));
        assert_eq!(parse_micros("2.71828"), Some(2_718_280));
        assert_eq!(parse_micros(".5"), Some(500_000));
        assert_eq!(parse_micros("3."), Some(3_000_000));
        assert_eq!(parse_micros("0.0000001"), None);
        assert_eq!(parse_micros("."), None);
        assert_eq!(parse_micros(""), None);
        assert_eq!(parse_micros("-1"), None);
        assert_eq!(parse_micros("1e3"), None);
        assert_eq!(parse_micros("1.2.3"), None);
        assert_eq!(parse_micros("9999999999999"), None);
        assert_eq!(
            parse_micros("999999999999.999999"),
            Some(999_999_999_999_999_999)
        );
    }

    #[test]
    fn format() {
        assert_eq!(format_micros(1_000_000), "1");
        assert_eq!(format_micros(1_250_000), "1.25");
        assert_eq!(format_micros(10_000), "0.01");
        assert_eq!(format_micros(1), "0.000001");
    }
}
