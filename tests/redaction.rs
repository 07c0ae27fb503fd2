//! The one redaction, tried on URL-like tokens of every shape a secret arrives in (pip's
//! settings and variables, proxies, pip's own output, a child's error text), each embedded in
//! text around it, and run through every renderer and the writer all of `fix`'s messages and
//! its log go through. Every piece of every secret holds the marker `zq`, which nothing else
//! generated here can spell: no `zq` may come out.

use preflight::net::{RedactingWriter, redact};
use preflight::render::{self, Format, RenderOptions};
use preflight::report::{Category, Finding, HostInfo, ProfileInfo, Report};
use proptest::prelude::*;
use std::io::Write;

const MARKER: &str = "zq";

/// One piece of a secret: the marker and a few letters or digits.
fn piece() -> impl Strategy<Value = String> {
    "[a-y0-9A-Y]{1,6}".prop_map(|tail| format!("{MARKER}{tail}"))
}

/// A password: pieces joined by what passwords hold unencoded and URL parsers stumble on.
fn password() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(piece(), 1..4),
        prop::sample::select(vec!["", "/", " ", "@", "?", "#", ":", "%", "=", "&"]),
    )
        .prop_map(|(pieces, joint)| pieces.join(joint))
}

/// A secret without spaces or delimiters: a token in a query or as the user.
fn token() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 1..3).prop_map(|pieces| pieces.join("-"))
}

fn host() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "127.0.0.1:9",
        "index.example",
        "proxy.corp.example:3128",
        "[::1]:8080",
        "localhost",
    ])
    .prop_map(str::to_string)
}

fn path() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "",
        "/",
        "/simple",
        "/simple/",
        "/simple/examlib/",
        "/s",
    ])
    .prop_map(str::to_string)
}

/// Every way a URL or a proxy carrying a secret is written.
fn url_like() -> impl Strategy<Value = String> {
    let scheme = prop::sample::select(vec!["http", "https", "socks5h", "git+https"]);
    prop_oneof![
        // scheme://user:password@host/path (password with `/`, a space, `@`, ...)
        (scheme.clone(), password(), host(), path())
            .prop_map(|(s, pw, h, p)| format!("{s}://ana:{pw}@{h}{p}")),
        // A token as the user.
        (scheme.clone(), token(), host(), path())
            .prop_map(|(s, t, h, p)| format!("{s}://{t}@{h}{p}")),
        // A query string, with a scheme, without one, or only a path (as pip quotes it).
        (scheme.clone(), host(), path(), token())
            .prop_map(|(s, h, p, t)| format!("{s}://{h}{p}?token={t}")),
        (host(), path(), token()).prop_map(|(h, p, t)| format!("{h}{p}?token={t}&x=1")),
        (path(), token()).prop_map(|(p, t)| format!("{p}?t={t}")),
        // Schemes pip does not read as URLs, scheme-relative, Windows domains, scheme-less.
        (password(), host()).prop_map(|(pw, h)| format!("http:/ana:{pw}@{h}/simple")),
        (password(), host()).prop_map(|(pw, h)| format!("http:\\\\ana:{pw}@{h}/simple")),
        (password(), host()).prop_map(|(pw, h)| format!("//ana:{pw}@{h}/simple")),
        (token(), host()).prop_map(|(t, h)| format!("//{t}@{h}/simple")),
        (password(), host()).prop_map(|(pw, h)| format!("CORP\\ana:{pw}@{h}")),
        (password(), host()).prop_map(|(pw, h)| format!("ana:{pw}@{h}")),
        // Two URLs joined by a comma.
        (token(), token(), host()).prop_map(|(a, b, h)| format!(
            "https://ana:{a}@{h}/simple,https://{h}/simple?token={b}"
        )),
        (token(), token(), host()).prop_map(|(a, b, h)| format!(
            "https://{h}/simple?token={a},https://ana:{b}@{h}/simple"
        )),
    ]
}

/// A URL percent-encoded once or twice, as it appears inside another URL's query.
fn encoded(url: &str, rounds: usize) -> String {
    let mut text = url.to_string();
    for _ in 0..rounds {
        let mut out = String::new();
        for c in text.chars() {
            match c {
                ':' => out.push_str("%3A"),
                '/' => out.push_str("%2F"),
                '@' => out.push_str("%40"),
                '?' => out.push_str("%3F"),
                '=' => out.push_str("%3D"),
                '&' => out.push_str("%26"),
                '%' => out.push_str("%25"),
                '\\' => out.push_str("%5C"),
                ' ' => out.push_str("%20"),
                '#' => out.push_str("%23"),
                c => out.push(c),
            }
        }
        text = out;
    }
    text
}

/// Where a URL-like token stands: a variable, a pip.conf line, pip's own words, a library's
/// error, quoted, coloured.
fn placed() -> impl Strategy<Value = String> {
    let frame = prop::sample::select(vec![
        "{}",
        "HTTPS_PROXY={}",
        "HTTP_PROXY={}",
        "PIP_PROXY={}",
        "PIP_INDEX_URL={}",
        "PIP_EXTRA_INDEX_URL={}",
        "PIP_FIND_LINKS={}",
        "index-url = {}",
        "extra-index-url = {}",
        "find-links = {}",
        "proxy = {}",
        "Looking in indexes: {}",
        "  pip said: WARNING: Retrying (Retry(total=4)) after connection broken by 'NewConnectionError(...)': {}",
        "error sending request for url ({})",
        "'{}'",
        "\"{}\".",
        "<{}>",
        "\u{1b}[31m{}\u{1b}[0m",
        "\u{1b}]0;{}\u{7}",
        "{}\r\n",
    ]);
    (frame, url_like(), 0..3usize).prop_map(|(frame, url, rounds)| {
        let url = if rounds == 0 {
            url
        } else {
            encoded(&url, rounds)
        };
        frame.replace("{}", &url)
    })
}

/// Text around: prose, paths, punctuation; never the marker's letters in a row.
fn around() -> impl Strategy<Value = String> {
    "[a-y A-Y0-9:;,.()'\"=/\\-\n\t]{0,30}".prop_map(|s| s.replace('z', "y"))
}

fn text() -> impl Strategy<Value = String> {
    (around(), prop::collection::vec(placed(), 1..3), around()).prop_map(|(a, tokens, b)| {
        // A token stands apart from what is around it, as in any message.
        format!("{a} {} {b}", tokens.join(" "))
    })
}

fn report(text: &str) -> Report {
    let finding = Finding::new("network.package-index", Category::Network, text)
        .fail(text)
        .detail(text)
        .detail(format!("from {text}"))
        .observe("index", text)
        .observe("extra_indexes", serde_json::json!([{ "url": text }]))
        .fix(format!("Correct {text} in pip's configuration."));
    Report::new(
        ProfileInfo {
            name: "fuzz".into(),
            title: text.into(),
            description: text.into(),
            source: text.into(),
            built_in: false,
            verified: false,
        },
        HostInfo {
            name: Some(text.into()),
            os: "Linux".into(),
            os_version: Some(text.into()),
            arch: "x86_64".into(),
        },
        vec![finding],
        false,
    )
}

fn leaks(shown: &str) -> bool {
    shown.contains(MARKER)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_secret_survives_redaction(text in text()) {
        let shown = redact(&text);
        prop_assert!(!leaks(&shown), "{text:?}\n-> {shown:?}");
    }

    #[test]
    fn no_renderer_prints_a_secret(text in text()) {
        let report = report(&text);
        for (format, verbose, color) in [
            (Format::Human, false, false),
            (Format::Human, true, true),
            (Format::Json, false, false),
            (Format::Markdown, false, false),
            (Format::Junit, false, false),
        ] {
            let options = RenderOptions { color, verbose, ..RenderOptions::default() };
            let shown = render::render(&report, format, options);
            prop_assert!(!leaks(&shown), "{format:?} {text:?}\n-> {shown}");
        }
    }

    /// `fix` writes its messages, its log (pip's lines and the commands it ran) and a child's
    /// output through this writer, in pieces as `write!` makes them.
    #[test]
    fn fixs_writer_passes_no_secret_whatever_the_pieces(text in text(), cuts in prop::collection::vec(0..200usize, 0..6)) {
        let mut sink = Vec::new();
        {
            let mut writer = RedactingWriter::new(&mut sink);
            let bytes = text.as_bytes();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            cuts.sort_unstable();
            let mut from = 0;
            for cut in cuts.into_iter().chain([bytes.len()]) {
                writer.write_all(&bytes[from..cut]).unwrap();
                from = cut;
            }
            writeln!(writer, "  pip said: {text}").unwrap();
            write!(writer, "{text}").unwrap();
        }
        let shown = String::from_utf8(sink).unwrap();
        prop_assert!(!leaks(&shown), "{text:?}\n-> {shown}");
    }
}

#[test]
fn the_writer_keeps_line_breaks_and_passes_plain_text_whole() {
    let mut sink = Vec::new();
    {
        let mut writer = RedactingWriter::new(&mut sink);
        write!(writer, "Installing 2 pinned packages with pip (log: /v/preflight-fix.log) ...\n$ /v/bin/python -m pip install a==1").unwrap();
        writer.flush().unwrap();
        write!(
            writer,
            "\nLooking in indexes: http://127.0.0.1:9/simple/?token=S\n"
        )
        .unwrap();
    }
    assert_eq!(
        String::from_utf8(sink).unwrap(),
        "Installing 2 pinned packages with pip (log: /v/preflight-fix.log) ...\n$ /v/bin/python -m pip install a==1\nLooking in indexes: http://127.0.0.1:9/simple/?***\n"
    );
}
