//! Text for terminals and tickets: what the terminal can show, machine text made safe to
//! print, and wrapping with a hanging indent.

use std::borrow::Cow;

use textwrap::{Options, WordSplitter};

use crate::net::redact;

/// The width used when neither `COLUMNS` nor the terminal says.
pub const DEFAULT_WIDTH: usize = 80;

/// Below this, a hanging indent leaves no room for words; narrower requests get this.
pub const MIN_WIDTH: usize = 24;

/// The longest piece of machine text (a summary, a detail line, an observed value) printed
/// as is; longer text is cut, marked with an ellipsis.
pub const MAX_TEXT_CHARS: usize = 400;

/// The width to wrap to: `COLUMNS` when it holds a number, else the terminal's, else 80.
pub fn width(columns: Option<&str>, terminal: Option<usize>) -> usize {
    columns
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|w| *w > 0)
        .or(terminal.filter(|w| *w > 0))
        .unwrap_or(DEFAULT_WIDTH)
        .max(MIN_WIDTH)
}

/// Whether the locale's character set is UTF-8: the first of `LC_ALL`, `LC_CTYPE`, `LANG`
/// that is set and not empty decides, as in POSIX. None set is the "C" locale: ASCII.
pub fn locale_is_utf8<'a>(env: impl Fn(&str) -> Option<&'a str>) -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|key| env(key).filter(|v| !v.is_empty()))
        .is_some_and(|value| {
            let value = value.to_ascii_lowercase();
            value.contains("utf-8") || value.contains("utf8")
        })
}

/// Text that came from the machine (paths, tool output, versions), made safe for a terminal
/// and a ticket: redacted by [`redact`] (which also removes escape sequences and control
/// characters), line breaks and tabs as spaces, and at most `limit` characters, the cut
/// marked with `ellipsis`.
pub fn clean(text: &str, limit: usize, ellipsis: &str) -> String {
    let redacted = redact(text);
    let text: Cow<'_, str> = if redacted.contains(['\n', '\t']) {
        Cow::Owned(redacted.replace(['\n', '\t'], " "))
    } else {
        Cow::Borrowed(&redacted)
    };
    if text.chars().count() <= limit {
        return text.into_owned();
    }
    let kept: String = text
        .chars()
        .take(limit.saturating_sub(ellipsis.chars().count()))
        .collect();
    format!("{}{ellipsis}", kept.trim_end())
}

/// `text` wrapped to `width` columns: the first line starts with `first`, the rest with
/// `rest`. Words are never split (a word longer than a line stands alone on its line).
pub fn wrap(text: &str, first: &str, rest: &str, width: usize) -> Vec<String> {
    let options = Options::new(width)
        .initial_indent(first)
        .subsequent_indent(rest)
        .break_words(false)
        .word_splitter(WordSplitter::NoHyphenation);
    let lines = textwrap::wrap(text, options);
    if lines.is_empty() {
        return vec![first.trim_end().to_string()];
    }
    lines
        .into_iter()
        .map(|l| l.trim_end().to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_wins_then_the_terminal_then_80() {
        assert_eq!(width(Some("100"), Some(120)), 100);
        assert_eq!(width(Some("wide"), Some(120)), 120);
        assert_eq!(width(None, None), DEFAULT_WIDTH);
        assert_eq!(width(Some("0"), None), DEFAULT_WIDTH);
        assert_eq!(width(Some("5"), None), MIN_WIDTH);
    }

    #[test]
    fn the_first_set_locale_variable_decides() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |key: &str| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
        };
        assert!(locale_is_utf8(env(&[("LANG", "en_US.UTF-8")])));
        assert!(locale_is_utf8(env(&[("LC_CTYPE", "C.utf8")])));
        assert!(!locale_is_utf8(env(&[
            ("LC_ALL", "C"),
            ("LANG", "en_US.UTF-8")
        ])));
        assert!(locale_is_utf8(env(&[
            ("LC_ALL", ""),
            ("LANG", "de_DE.UTF-8")
        ])));
        assert!(!locale_is_utf8(env(&[("LANG", "POSIX")])));
        assert!(!locale_is_utf8(env(&[])));
    }

    #[test]
    fn machine_text_loses_escapes_and_controls_and_is_bounded() {
        assert_eq!(
            clean("\u{1b}[31mred\u{1b}[0m\tand \u{7}bell", 100, "..."),
            "red and bell"
        );
        assert_eq!(clean("\u{1b}]0;title\u{7}ok", 100, "..."), "ok");
        assert_eq!(clean("abcdefghij", 6, "..."), "abc...");
        assert_eq!(clean("abcdefghij", 6, "…"), "abcde…");
        assert_eq!(clean("plain", 6, "…"), "plain");
    }

    #[test]
    fn wrapping_hangs_and_never_splits_a_word() {
        let lines = wrap(
            "install pycharm-community --classic from the snap store today",
            "  [!] ",
            "      ",
            30,
        );
        assert_eq!(
            lines,
            [
                "  [!] install",
                "      pycharm-community",
                "      --classic from the snap",
                "      store today"
            ]
        );
        assert!(lines.iter().all(|l| l.len() <= 30));
    }
}
