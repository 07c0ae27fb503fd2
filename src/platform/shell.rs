//! Commands as the user will paste them: into a POSIX shell (bash, zsh) on Linux and macOS,
//! into PowerShell on Windows (its default terminal, and PyCharm's there).

use crate::host::OsFamily;

/// `program` and `args` as one line for the shell of `os`, each word quoted only when it
/// needs it. PowerShell runs a quoted program only after its call operator: `& "C:\...\x.exe"`.
pub fn command_line<S: AsRef<str>>(os: OsFamily, program: &str, args: &[S]) -> String {
    let program_word = word(os, program);
    let mut line = if os == OsFamily::Windows && program_word != program {
        format!("& {program_word}")
    } else {
        program_word
    };
    for arg in args {
        line.push(' ');
        line.push_str(&word(os, arg.as_ref()));
    }
    line
}

/// One word, quoted for the shell of `os` when it holds anything but plain characters.
pub fn word(os: OsFamily, text: &str) -> String {
    if os == OsFamily::Windows {
        powershell_word(text)
    } else {
        posix_word(text)
    }
}

/// Single quotes keep everything literal in sh; a `'` inside closes, escapes and reopens.
fn posix_word(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-:+,@%=".contains(c);
    if !text.is_empty() && text.chars().all(plain) && !text.starts_with('=') {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// PowerShell treats the typographic quotes like ASCII ones, so they count here too.
const POWERSHELL_SINGLE_QUOTES: &[char] = &['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];
const POWERSHELL_DOUBLE_QUOTES: &[char] = &['"', '\u{201C}', '\u{201D}', '\u{201E}'];

/// Double quotes as Windows users know them (`"C:\Program Files\..."`) when nothing inside
/// would expand; otherwise single quotes, literal in PowerShell, with their quotes doubled.
fn powershell_word(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "\\/._-:+=".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        return text.to_string();
    }
    let expands = |c: char| c == '$' || c == '`' || POWERSHELL_DOUBLE_QUOTES.contains(&c);
    if !text.chars().any(expands) {
        return format!("\"{text}\"");
    }
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('\'');
    for c in text.chars() {
        if POWERSHELL_SINGLE_QUOTES.contains(&c) {
            quoted.push(c);
        }
        quoted.push(c);
    }
    quoted.push('\'');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    const POSIX: [OsFamily; 2] = [OsFamily::Linux, OsFamily::Macos];

    #[test]
    fn posix_quotes_with_single_quotes_only_when_needed() {
        for os in POSIX {
            assert_eq!(
                command_line(
                    os,
                    "/home/a/venv/bin/python",
                    &["-m", "pip", "install", "tensorflow==2.9.0"]
                ),
                "/home/a/venv/bin/python -m pip install tensorflow==2.9.0"
            );
            assert_eq!(
                command_line(
                    os,
                    "/Users/a/exam venv/bin/python",
                    &["-m", "pip", "install", "numpy<2"]
                ),
                "'/Users/a/exam venv/bin/python' -m pip install 'numpy<2'"
            );
            assert_eq!(word(os, "it's $HOME"), "'it'\\''s $HOME'");
            assert_eq!(word(os, "/home/zoë/東京/venv"), "'/home/zoë/東京/venv'");
            assert_eq!(word(os, "\"quoted\""), "'\"quoted\"'");
            assert_eq!(word(os, ""), "''");
            assert_eq!(word(os, "~/venv"), "'~/venv'");
            assert_eq!(word(os, "*.whl"), "'*.whl'");
        }
    }

    #[test]
    fn powershell_calls_a_quoted_program_with_its_operator() {
        let os = OsFamily::Windows;
        assert_eq!(
            command_line(
                os,
                "C:\\Users\\a\\exam venv\\Scripts\\python.exe",
                &["-m", "pip", "install", "tensorflow==2.9.0", "numpy<2"]
            ),
            "& \"C:\\Users\\a\\exam venv\\Scripts\\python.exe\" -m pip install tensorflow==2.9.0 \"numpy<2\""
        );
        assert_eq!(
            command_line(os, "C:\\Python38\\python.exe", &["-m", "ensurepip"]),
            "C:\\Python38\\python.exe -m ensurepip"
        );
        assert_eq!(
            command_line(os, "py", &["-3.8", "-m", "venv", "C:\\Users\\Zoë\\venv"]),
            "py -3.8 -m venv \"C:\\Users\\Zoë\\venv\""
        );
    }

    #[test]
    fn powershell_keeps_dollars_backticks_and_quotes_literal() {
        let os = OsFamily::Windows;
        assert_eq!(word(os, "C:\\a$b\\venv"), "'C:\\a$b\\venv'");
        assert_eq!(word(os, "C:\\a`b"), "'C:\\a`b'");
        assert_eq!(
            word(os, "C:\\O'Brien\\say \"hi\""),
            "'C:\\O''Brien\\say \"hi\"'"
        );
        assert_eq!(
            word(os, "C:\\it\u{2019}s $x"),
            "'C:\\it\u{2019}\u{2019}s $x'"
        );
        assert_eq!(word(os, "C:\\O'Brien\\venv"), "\"C:\\O'Brien\\venv\"");
        assert_eq!(word(os, "a,b"), "\"a,b\"");
        assert_eq!(word(os, "@args"), "\"@args\"");
        assert_eq!(word(os, ""), "\"\"");
    }
}
