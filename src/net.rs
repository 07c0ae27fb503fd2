//! HTTP(S) requests for the network kinds: proxies from the Host's variables, a hard deadline
//! per request, and failures sorted into causes a person can act on. Nothing here prints a
//! credential: every URL that reaches a report goes through [`redact`].

use std::borrow::Cow;
use std::error::Error as StdError;
use std::future::Future;
use std::io::Read;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::Poll;
use std::time::{Duration, Instant};

use crate::check::Deadline;
use crate::host::{Host, OsFamily};

/// The proxy a request goes through, as the environment set it.
#[derive(Debug, Clone)]
pub struct ProxySetting {
    pub variable: &'static str,
    pub url: String,
}

/// What a request found.
#[derive(Debug)]
pub enum Outcome {
    Answered {
        status: u16,
        /// Where the request ended after following redirects (redacted), when not at `url`.
        redirected_to: Option<String>,
        latency: Duration,
        /// Bytes per second of a timed download, when one was asked for.
        rate: Option<f64>,
        bytes: u64,
    },
    Failed {
        cause: Cause,
        message: String,
        latency: Duration,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    NameResolution,
    ConnectionRefused,
    ConnectTimeout,
    NoAnswer,
    TlsUntrusted,
    /// The server shows a self-signed certificate that is not among the trusted ones.
    TlsSelfSigned,
    TlsExpired,
    TlsWrongHost,
    Tls,
    /// A CA bundle or client certificate the request was told to use is unusable.
    TlsSetup,
    ProxyRefused,
    ProxyAuth,
    /// The check's deadline left no time to send the request.
    NoTimeLeft,
    Other,
}

/// Less time than this left for the request: not worth sending, as its failure could not tell
/// a slow network from a spent deadline.
const MIN_REQUEST_TIME: Duration = Duration::from_millis(100);

/// The proxy the host's variables choose for `url`, honouring `NO_PROXY` as curl and pip do.
pub fn proxy_for(host: &Host, url: &reqwest::Url) -> Option<ProxySetting> {
    let candidates: &[&'static str] = if url.scheme() == "https" {
        &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    } else {
        &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
    };
    let (variable, value) = host.env_any(candidates)?;
    let host_name = url.host_str().unwrap_or("");
    if let Some((_, no_proxy)) = host.env_any(&["NO_PROXY", "no_proxy"])
        && bypasses(no_proxy, host_name)
    {
        return None;
    }
    Some(ProxySetting {
        variable,
        url: value.to_string(),
    })
}

fn bypasses(no_proxy: &str, host_name: &str) -> bool {
    no_proxy
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            let entry = entry.trim_start_matches('*').trim_start_matches('.');
            entry == "*" || host_name == entry || host_name.ends_with(&format!(".{entry}"))
        })
        || no_proxy.trim() == "*"
}

/// Text fit to print: terminal escape sequences removed, other control characters (but line
/// breaks) turned into spaces, and in every URL-like word the user info and the query string
/// replaced by `***`, whether or not the word parses as a URL. The one redaction for
/// everything that leaves the process: a variable's value, a config file's line, a
/// library's error message, a child's output, `fix`'s messages and its log.
///
/// URL-like, leaning to redact too much: an authority after `scheme://`, `scheme:/`,
/// `scheme:\\`, `//` or `\\`; `user:password@host` with or without a scheme (and
/// `DOMAIN\user:password@host`), a password holding `/`, `@`, `?`, `#` or a space; every
/// `?query` in a word (scheme-less `host:port/path?token=...`, pip's `/simple/x/?t=...`); the
/// same shapes percent-encoded (`%3A%2F%2F`, `%40`, `%3F`); several URLs in one word.
pub fn redact(text: &str) -> String {
    let plain = without_escapes(text);
    let mut out = String::with_capacity(plain.len());
    for (n, line) in plain.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        out.push_str(&redact_line(line));
    }
    out
}

/// Escape sequences (colours, titles, cursor moves) removed; control characters other than
/// tabs and line breaks as spaces (a carriage return before a line break dropped).
fn without_escapes(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Cow::Borrowed(text);
    }
    let text = text.replace("\r\n", "\n");
    // The stripper drops tabs and carriage returns: strip between tabs, and keep a space
    // for a carriage return, which separates words.
    let pieces: Vec<String> = text
        .split('\t')
        .map(|piece| {
            strip_ansi_escapes::strip_str(piece.replace('\r', " "))
                .chars()
                .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
                .collect()
        })
        .collect();
    Cow::Owned(pieces.join("\t"))
}

/// The placeholder the checks' fixes show (`http://USER:PASSWORD@HOST:PORT`): no secret.
const PLACEHOLDER_USER_INFO: &str = "USER:PASSWORD";

/// How many words after an unfinished `user:pa` may still belong to its password.
const PASSWORD_WORDS: usize = 3;

/// Quotes, brackets and punctuation around a word, kept as they are.
const AROUND: &[char] = &['"', '\'', '`', '(', ')', '<', '>', ',', ';', '.'];

fn redact_line(line: &str) -> String {
    let words = word_spans(line);
    let word = |j: usize| &line[words[j].0..words[j].1];
    let mut out = String::with_capacity(line.len());
    let mut written = 0;
    let mut i = 0;
    while i < words.len() {
        let (start, end) = words[i];
        out.push_str(&line[written..start]);
        written = end;
        i += 1;
        match redact_word(word(i - 1)) {
            Word::Done(text) => out.push_str(&text),
            Word::Unfinished {
                head,
                after,
                unless_no_at,
            } => {
                // `user:pa ss@host`: the password goes on up to a later word's `@`.
                let until = (i..words.len().min(i + PASSWORD_WORDS))
                    .take_while(|&j| !word(j).contains("://"))
                    .find(|&j| word(j).contains('@'));
                match (until, unless_no_at) {
                    (Some(j), _) => {
                        let last = word(j);
                        let at = last.rfind('@').unwrap_or(0);
                        out.push_str(&head);
                        out.push_str("***@");
                        out.push_str(&redact_query(&last[at + 1..]));
                        written = words[j].1;
                        i = j + 1;
                    }
                    (None, Some(plain)) => out.push_str(&plain),
                    (None, None) => {
                        out.push_str(&head);
                        out.push_str("***");
                        out.push_str(&after);
                    }
                }
            }
        }
    }
    out.push_str(&line[written..]);
    out
}

fn word_spans(line: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (at, c) in line.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                spans.push((s, at));
                start = None;
            }
            (false, None) => start = Some(at),
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, line.len()));
    }
    spans
}

enum Word {
    Done(String),
    /// `scheme://user:pa`, `NAME=user:pa` or `user:pa` with no `@`: the rest of the password
    /// may follow a space. `head` is what stays of the word (up to the user info), `after`
    /// its closing punctuation; a bare `user:pa` is shown as `unless_no_at` when no word
    /// with an `@` follows (it is then more likely prose than a password).
    Unfinished {
        head: String,
        after: String,
        unless_no_at: Option<String>,
    },
}

/// One whitespace-free word. A word holding percent-encoded delimiters is judged decoded, and
/// shown decoded when that redacts something.
fn redact_word(word: &str) -> Word {
    let decoded = decode_delimiters(word);
    if decoded != word {
        return match redact_plain_word(&decoded) {
            Word::Done(text) if text == decoded => Word::Done(word.to_string()),
            judged => judged,
        };
    }
    redact_plain_word(word)
}

/// `%3A`, `%2F`, `%40`, `%3F`, `%23`, `%5C`, `%3D`, `%26` and `%25` decoded, three rounds
/// deep (a URL encoded into a query that was encoded again); nothing else, so no encoded
/// space or control character appears.
fn decode_delimiters(word: &str) -> Cow<'_, str> {
    if !word.contains('%') {
        return Cow::Borrowed(word);
    }
    let mut text = word.to_string();
    for _ in 0..3 {
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(at) = rest.find('%') {
            out.push_str(&rest[..at]);
            let code = rest.get(at + 1..at + 3).map(str::to_ascii_uppercase);
            let delimiter = match code.as_deref() {
                Some("3A") => Some(':'),
                Some("2F") => Some('/'),
                Some("40") => Some('@'),
                Some("3F") => Some('?'),
                Some("23") => Some('#'),
                Some("5C") => Some('\\'),
                Some("3D") => Some('='),
                Some("26") => Some('&'),
                Some("25") => Some('%'),
                _ => None,
            };
            match delimiter {
                Some(c) => {
                    out.push(c);
                    rest = &rest[at + 3..];
                }
                None => {
                    out.push('%');
                    rest = &rest[at + 1..];
                }
            }
        }
        out.push_str(rest);
        if out == text {
            break;
        }
        text = out;
    }
    Cow::Owned(text)
}

fn redact_plain_word(word: &str) -> Word {
    let inner_start = word.len() - word.trim_start_matches(AROUND).len();
    let inner_end = word.trim_end_matches(AROUND).len().max(inner_start);
    let (before, inner, after) = (
        &word[..inner_start],
        &word[inner_start..inner_end],
        &word[inner_end..],
    );
    let authority = authority_start(inner);
    // The `@` that ends user info: the last one, as a password may hold `@`, `/`, `?` or `#`
    // unencoded; not one right after `/` (`https://host/@scope/pkg` is a path).
    let credential_at = inner
        .char_indices()
        .rev()
        .find(|&(at, c)| c == '@' && at > 0 && !inner[..at].ends_with('/'))
        .map(|(at, _)| at);
    if let Some(at) = credential_at
        && let Some(start) = user_info_start(&inner[..at], authority)
        && &inner[start..at] != PLACEHOLDER_USER_INFO
    {
        return Word::Done(format!(
            "{before}{}***@{}{after}",
            &inner[..start],
            redact_query(&inner[at + 1..])
        ));
    }
    let plain = format!("{before}{}{after}", redact_query(inner));
    if credential_at.is_none()
        && let Some((start, certain)) = unfinished_user_info(inner, authority)
    {
        return Word::Unfinished {
            head: format!("{before}{}", &inner[..start]),
            after: after.to_string(),
            unless_no_at: (!certain).then_some(plain),
        };
    }
    Word::Done(plain)
}

/// Where an authority starts: after the first `://`, or after a leading `scheme:/`,
/// `scheme:\\`, `//` or `\\` (behind any `NAME=`). One-letter schemes are drive letters.
fn authority_start(inner: &str) -> Option<usize> {
    if let Some(at) = inner.find("://") {
        return Some(at + 3);
    }
    let name = name_prefix(inner);
    let rest = &inner[name..];
    let slashes = |text: &str| text.len() - text.trim_start_matches(['/', '\\']).len();
    let leading = slashes(rest);
    if leading >= 2 {
        return Some(name + leading);
    }
    let scheme = rest
        .find(':')
        .filter(|&colon| colon >= 2 && is_scheme(&rest[..colon]))?;
    let after = slashes(&rest[scheme + 1..]);
    (after > 0).then_some(name + scheme + 1 + after)
}

fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The length of a leading `NAME=` (`HTTPS_PROXY=`, `--proxy=`), else 0.
fn name_prefix(inner: &str) -> usize {
    match inner.find('=') {
        Some(eq)
            if eq > 0
                && inner[..eq]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) =>
        {
            eq + 1
        }
        _ => 0,
    }
}

/// Where the user info in front of an `@` starts, or `None` when `before_at` is a path
/// (`/home/ana@corp/venv`, `C:\Users\ana@corp`) rather than user info.
fn user_info_start(before_at: &str, authority: Option<usize>) -> Option<usize> {
    if let Some(start) = authority.filter(|&s| s <= before_at.len()) {
        return Some(start);
    }
    let name = name_prefix(before_at);
    let rest = &before_at[name..];
    // A drive letter's colon says nothing of a password.
    let undrived = match rest.as_bytes() {
        [letter, b':', b'/' | b'\\', ..] if letter.is_ascii_alphabetic() => &rest[2..],
        _ => rest,
    };
    (undrived.contains(':') || !undrived.contains(['/', '\\'])).then_some(name)
}

/// For a word with no `@`: where its user info starts when it may end in the middle of one
/// (`scheme://user:pa`, `NAME=user:pa`, `user:pa`: a colon followed by something that is no
/// port), and whether that is certain (an authority or a `NAME=` stands in front).
fn unfinished_user_info(inner: &str, authority: Option<usize>) -> Option<(usize, bool)> {
    let start = authority.unwrap_or_else(|| name_prefix(inner));
    let certain = authority.is_some() || start > 0;
    let rest = &inner[start..];
    // Without a scheme, a `\\` is a Windows domain's (`CORP\\ana:pw`), not a path's.
    let ends: &[char] = if authority.is_some() {
        &['/', '?', '#', '\\']
    } else {
        &['/', '?', '#']
    };
    let host_and_port = &rest[..rest.find(ends).unwrap_or(rest.len())];
    // `[::1]:8080`: the colons of an IPv6 address are no password's.
    let after_brackets = host_and_port
        .rfind(']')
        .map_or(host_and_port, |b| &host_and_port[b + 1..]);
    let (_, port) = after_brackets.split_once(':')?;
    let port_like = port.is_empty() || port.chars().all(|c| c.is_ascii_digit());
    (!port_like && !after_brackets.starts_with(':')).then_some((start, certain))
}

/// Everything after the first `?` that has more than punctuation behind it, as `?***`.
fn redact_query(text: &str) -> String {
    let query = text
        .char_indices()
        .filter(|&(_, c)| c == '?')
        .map(|(at, _)| at)
        .find(|&at| text[at + 1..].chars().any(char::is_alphanumeric));
    match query {
        Some(at) => format!("{}?***", &text[..at]),
        None => text.to_string(),
    }
}

/// `url` as pip reads it (urllib's and urllib3's splitting, then requests), or why pip cannot
/// use it. Browsers and reqwest read `http:/host`, `http:\\host` and `http://host\\path` as
/// `http://host`; pip finds no host in the first two and takes the `\\` as part of the host in
/// the third, so such a URL is never requested on pip's behalf.
pub fn parse_like_pip(url: &str) -> Result<reqwest::Url, String> {
    let Some((_, rest)) = url
        .split_once("://")
        .filter(|(scheme, _)| is_scheme(scheme))
    else {
        return Err(
            "pip needs `scheme://host`: without `//` after the scheme it finds no host".into(),
        );
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if authority.contains('\\') {
        return Err("a `\\` is no separator for pip: it would be part of the host name".into());
    }
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if host.is_empty() || host.starts_with(':') {
        return Err("it names no host".into());
    }
    reqwest::Url::parse(url).map_err(|e| e.to_string())
}

/// A proxy as requests completes it: `http://` in front when no scheme is given
/// (`proxy.corp:3128`); `http:/host` is left as written, for [`parse_like_pip`] to refuse.
pub fn proxy_with_scheme(proxy: &str) -> String {
    let has_scheme = proxy.contains("://")
        || proxy.split_once(':').is_some_and(|(scheme, rest)| {
            scheme.len() > 1 && is_scheme(scheme) && rest.starts_with(['/', '\\'])
        });
    if has_scheme {
        proxy.to_string()
    } else {
        format!("http://{proxy}")
    }
}

/// A writer that passes on only redacted text: each line goes through [`redact`] once it is
/// complete (a URL written in pieces is judged whole); a last partial line on `flush` and on
/// drop. For everything `fix` writes: its messages, its log and the children's lines in it.
pub struct RedactingWriter<W: std::io::Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: std::io::Write> RedactingWriter<W> {
    pub fn new(inner: W) -> Self {
        RedactingWriter {
            inner,
            pending: Vec::new(),
        }
    }

    /// The writer underneath, for text that is already fit to print (a rendered report
    /// keeps its colours); what was pending is written first.
    pub fn inner_mut(&mut self) -> std::io::Result<&mut W> {
        self.write_pending()?;
        Ok(&mut self.inner)
    }

    fn write_pending(&mut self) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let text = redact(&String::from_utf8_lossy(&self.pending));
        self.pending.clear();
        self.inner.write_all(text.as_bytes())
    }
}

impl<W: std::io::Write> std::io::Write for RedactingWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(bytes);
        if let Some(last_break) = self.pending.iter().rposition(|&b| b == b'\n') {
            let rest = self.pending.split_off(last_break + 1);
            self.write_pending()?;
            self.pending = rest;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.write_pending()?;
        self.inner.flush()
    }
}

impl<W: std::io::Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        let _ = std::io::Write::flush(self);
    }
}

/// Where a followed redirect led, redacted; `None` when the answer came from `requested`.
fn redirect_target(requested: &str, landed: &reqwest::Url) -> Option<String> {
    let requested = reqwest::Url::parse(requested).ok()?;
    (requested != *landed).then(|| redact(landed.as_str()))
}

/// The TLS settings every request shares. Loading the system's root certificates takes
/// milliseconds, so it is done once per process, not once per endpoint.
fn tls_config() -> Result<rustls::ClientConfig, String> {
    use rustls_platform_verifier::BuilderVerifierExt;
    static CONFIG: OnceLock<Result<rustls::ClientConfig, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            // Ring builds quickly and needs no system library.
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .and_then(|builder| builder.with_platform_verifier())
                .map_err(|e| e.to_string())?
                .with_no_client_auth();
            // The client speaks HTTP/1.1 only (reqwest is built without HTTP/2).
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Ok(config)
        })
        .clone()
}

/// Which certificates a request trusts, chosen as the program it stands in for would.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Roots {
    /// The operating system's store, as browsers use it.
    #[default]
    System,
    /// The system's store with these PEM bundles added.
    SystemAnd(Vec<PathBuf>),
    /// Only the certificates in these PEM bundles.
    Only(Vec<PathBuf>),
    /// No verification at all.
    Unverified,
}

/// How one request reaches its server: through which proxy, trusting which roots, showing
/// which client certificate.
#[derive(Debug, Clone, Default)]
pub struct Route {
    pub proxy: Option<ProxySetting>,
    pub roots: Roots,
    /// A PEM file with the client's certificate and key.
    pub client_cert: Option<PathBuf>,
}

impl Route {
    /// The route a plain request takes: the environment's proxy, the system's roots.
    pub fn from_environment(host: &Host, url: &str) -> Route {
        Route {
            proxy: reqwest::Url::parse(url)
                .ok()
                .and_then(|u| proxy_for(host, &u)),
            ..Route::default()
        }
    }
}

/// The TLS settings for `route`: the shared system setup when it asks for nothing else, else
/// its own roots and client certificate. An unusable file is an error naming it, as it is for
/// the program whose trust is imitated.
fn tls_config_for(route: &Route) -> Result<rustls::ClientConfig, (Cause, String)> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    if route.roots == Roots::System && route.client_cert.is_none() {
        return tls_config().map_err(|e| (Cause::Other, format!("could not set up HTTPS: {e}")));
    }
    let setup = |message: String| (Cause::TlsSetup, message);
    let bundle = |path: &PathBuf| -> Result<Vec<CertificateDer<'static>>, (Cause, String)> {
        let bytes = crate::host::read_bounded(path, 16 << 20).map_err(|e| {
            setup(format!(
                "the CA bundle {} cannot be read: {e}",
                path.display()
            ))
        })?;
        let certs = CertificateDer::pem_slice_iter(&bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| setup(format!("the CA bundle {} is not PEM: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(setup(format!(
                "the CA bundle {} holds no certificate",
                path.display()
            )));
        }
        Ok(certs)
    };
    let bundles = |paths: &[PathBuf]| -> Result<Vec<CertificateDer<'static>>, (Cause, String)> {
        let mut certs = Vec::new();
        for path in paths {
            certs.extend(bundle(path)?);
        }
        Ok(certs)
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| (Cause::Other, format!("could not set up HTTPS: {e}")))?;
    let builder = match &route.roots {
        Roots::System => {
            let verifier = rustls_platform_verifier::Verifier::new(Arc::clone(&provider))
                .map_err(|e| (Cause::Other, format!("could not set up HTTPS: {e}")))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
        }
        Roots::SystemAnd(paths) => {
            let extra = bundles(paths)?;
            let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
                extra.clone(),
                Arc::clone(&provider),
            )
            .map_err(|e| (Cause::Other, format!("could not set up HTTPS: {e}")))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnchorsAsServers {
                    inner: Arc::new(verifier),
                    anchors: extra,
                }))
        }
        Roots::Only(paths) => {
            let certs = bundles(paths)?;
            let mut store = rustls::RootCertStore::empty();
            let (_, ignored) = store.add_parsable_certificates(certs.clone());
            if store.is_empty() {
                return Err(setup(format!(
                    "no usable certificate in {} ({ignored} refused)",
                    paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(store),
                Arc::clone(&provider),
            )
            .build()
            .map_err(|e| (Cause::Other, format!("could not set up HTTPS: {e}")))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnchorsAsServers {
                    inner: verifier,
                    anchors: certs,
                }))
        }
        Roots::Unverified => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider))),
    };
    let mut config = match &route.client_cert {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let bytes = crate::host::read_bounded(path, 1 << 20).map_err(|e| {
                setup(format!(
                    "the client certificate {} cannot be read: {e}",
                    path.display()
                ))
            })?;
            let needs = |what: &str| {
                setup(format!(
                    "the client certificate {} needs {what} in PEM",
                    path.display()
                ))
            };
            let chain = CertificateDer::pem_slice_iter(&bytes)
                .collect::<Result<Vec<_>, _>>()
                .ok()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| needs("a certificate"))?;
            let key =
                PrivateKeyDer::from_pem_slice(&bytes).map_err(|_| needs("its private key"))?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                setup(format!(
                    "the client certificate {} is unusable: {e}",
                    path.display()
                ))
            })?
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The given roots' verifier, also accepting a server that shows exactly one of the roots
/// (a self-signed certificate made with `openssl req -x509`, which says `CA:TRUE`): OpenSSL,
/// and so pip, trust a certificate found in the trust store as it is, where webpki refuses a
/// CA as a server's certificate. Its dates were checked before that refusal; its name is
/// checked here; the handshake's signatures as for any server.
#[derive(Debug)]
struct AnchorsAsServers {
    inner: Arc<dyn rustls::client::danger::ServerCertVerifier>,
    anchors: Vec<rustls::pki_types::CertificateDer<'static>>,
}

impl rustls::client::danger::ServerCertVerifier for AnchorsAsServers {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let refused = match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(verified) => return Ok(verified),
            Err(refused) => refused,
        };
        let ca_as_server = matches!(
            &refused,
            rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other))
                if matches!(
                    other.0.downcast_ref::<webpki::Error>(),
                    Some(webpki::Error::CaUsedAsEndEntity)
                )
        );
        if !ca_as_server {
            return Err(refused);
        }
        if !self
            .anchors
            .iter()
            .any(|a| a.as_ref() == end_entity.as_ref())
        {
            // Not "a CA used as a server" (which blames nobody): a self-signed certificate
            // nobody said to trust, as OpenSSL and pip name it.
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::Other(rustls::OtherError(Arc::new(SelfSigned))),
            ));
        }
        let cert = webpki::EndEntityCert::try_from(end_entity).map_err(|_| {
            rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding)
        })?;
        cert.verify_is_valid_for_subject_name(server_name)
            .map_err(|_| {
                rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName)
            })?;
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A server's self-signed certificate that is not among the trusted ones.
#[derive(Debug)]
struct SelfSigned;

impl std::fmt::Display for SelfSigned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("self-signed certificate, not among the trusted ones")
    }
}

impl StdError for SelfSigned {}

/// Accepts any server certificate, as pip does for a `trusted-host`; the handshake's
/// signatures are still checked, so the connection is real TLS.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// GET `url` and be done by the check's `deadline` less its margin ([`Deadline::step`]); with
/// `download`, read up to that many bytes and time it. The client is set up first: latency is
/// the time from sending the request to the response's headers, and the request's timeout is
/// what is left once the client is ready.
pub fn get_via(
    host: &Host,
    url: &str,
    deadline: Deadline,
    download: Option<u64>,
    route: &Route,
) -> Outcome {
    let not_sent = |cause, message: String| Outcome::Failed {
        cause,
        message,
        latency: Duration::ZERO,
    };
    let parsed = match reqwest::Url::parse(url) {
        Ok(u) => u,
        Err(e) => return not_sent(Cause::Other, format!("not a URL: {e}")),
    };
    let proxy = route.proxy.clone();
    let tls = match tls_config_for(route) {
        Ok(tls) => tls,
        Err((cause, message)) => return not_sent(cause, message),
    };
    let connected = MarkConnected::default();
    let mut builder = reqwest::blocking::Client::builder()
        .no_proxy()
        .tls_backend_preconfigured(tls)
        .connector_layer(connected.clone())
        // A redirect must not tell the next host where the request came from.
        .referer(false)
        .user_agent(concat!("preflight/", env!("CARGO_PKG_VERSION")));
    if let Some(setting) = &proxy {
        match reqwest::Proxy::all(setting.url.as_str()) {
            Ok(p) => builder = builder.proxy(p),
            Err(_) => {
                return not_sent(
                    Cause::ProxyRefused,
                    format!(
                        "{} is not a usable proxy URL ({})",
                        setting.variable,
                        redact(&setting.url)
                    ),
                );
            }
        }
    }
    let held = match builder.build() {
        Ok(c) => DropAside(Some(c)),
        Err(e) => return not_sent(Cause::Other, format!("could not set up HTTPS: {e}")),
    };
    let Some(client) = held.0.as_ref() else {
        unreachable!("just built")
    };
    let timeout = deadline.step();
    if timeout < MIN_REQUEST_TIME {
        return no_time_left(deadline);
    }
    let started = Instant::now();
    let failed = |cause, message: String| Outcome::Failed {
        cause,
        message,
        latency: started.elapsed(),
    };
    let response = match client.get(parsed).timeout(timeout).send() {
        Ok(r) => r,
        Err(e) => {
            let reached = connected.0.load(Ordering::Acquire);
            let (cause, message) = classify(&e, proxy.as_ref(), timeout, reached, host.os);
            return failed(cause, message);
        }
    };
    let latency = started.elapsed();
    let status = response.status().as_u16();
    let redirected_to = redirect_target(url, response.url());
    let Some(limit) = download.filter(|_| response.status().is_success()) else {
        return Outcome::Answered {
            status,
            redirected_to,
            latency,
            rate: None,
            bytes: 0,
        };
    };
    let body_started = Instant::now();
    let mut sink = vec![0u8; 64 * 1024];
    let mut reader = response.take(limit);
    let mut bytes = 0u64;
    loop {
        match reader.read(&mut sink) {
            Ok(0) => break,
            Ok(n) => bytes += n as u64,
            Err(e) => {
                return failed(
                    Cause::NoAnswer,
                    format!("the download broke off after {bytes} bytes: {e}"),
                );
            }
        }
    }
    let seconds = body_started.elapsed().as_secs_f64().max(1e-6);
    Outcome::Answered {
        status,
        redirected_to,
        latency,
        rate: Some(bytes as f64 / seconds),
        bytes,
    }
}

/// Dropping a blocking client joins its runtime thread, which a loaded machine may not
/// schedule for a while: the check's answer must not wait on it, so the client is dropped on
/// a thread of its own.
struct DropAside(Option<reqwest::blocking::Client>);

impl Drop for DropAside {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            std::thread::spawn(move || drop(client));
        }
    }
}

fn no_time_left(deadline: Deadline) -> Outcome {
    let left = deadline.instant().saturating_duration_since(Instant::now());
    Outcome::Failed {
        cause: Cause::NoTimeLeft,
        message: format!(
            "not sent: only {:.2} s of the check's deadline was left",
            left.as_secs_f64()
        ),
        latency: Duration::ZERO,
    }
}

/// A connector layer that marks when a connection is open (TCP, and TLS or a proxy's tunnel
/// where there is one), so a request that runs out of time can tell whether it got that far.
/// Timing cannot tell: on a loaded machine a connect timer may start late.
#[derive(Clone, Default)]
struct MarkConnected(Arc<AtomicBool>);

impl<S> tower_layer::Layer<S> for MarkConnected {
    type Service = MarkConnectedService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MarkConnectedService {
            inner,
            connected: Arc::clone(&self.0),
        }
    }
}

#[derive(Clone)]
struct MarkConnectedService<S> {
    inner: S,
    connected: Arc<AtomicBool>,
}

impl<S, R> tower_service::Service<R> for MarkConnectedService<S>
where
    S: tower_service::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let connected = Arc::clone(&self.connected);
        let connecting = self.inner.call(request);
        Box::pin(async move {
            let result = connecting.await;
            if result.is_ok() {
                connected.store(true, Ordering::Release);
            }
            result
        })
    }
}

/// Sort a failed request into a cause and say it plainly.
fn classify(
    error: &reqwest::Error,
    proxy: Option<&ProxySetting>,
    timeout: Duration,
    connected: bool,
    os: OsFamily,
) -> (Cause, String) {
    let chain = chain_text(error);
    let lower = chain.to_ascii_lowercase();
    let via = proxy.map(|p| format!(" (via the proxy in {}: {})", p.variable, redact(&p.url)));
    if let Some(cause) = tls_cause(error, &chain) {
        let mac = if os == OsFamily::Macos {
            " On macOS with python.org's Python, also run \"Install Certificates.command\" from its Applications folder."
        } else {
            ""
        };
        let message = match cause {
            Cause::TlsUntrusted => format!("TLS: the server's certificate is not trusted (unknown issuer): a TLS-inspecting proxy or firewall may be in the way.{mac}"),
            Cause::TlsSelfSigned => "TLS: the server's certificate is self-signed and not among the certificates trusted here.".into(),
            Cause::TlsExpired => format!("TLS: the server's certificate has expired (or this machine's clock is wrong).{mac}"),
            Cause::TlsWrongHost => "TLS: the certificate is for another host name: something between you and the server answers in its place.".into(),
            _ => format!("TLS handshake failed: {}.{mac}", redact(&chain)),
        };
        return (cause, message);
    }
    if lower.contains("proxy authorization required") {
        return (
            Cause::ProxyAuth,
            format!(
                "the proxy demands authentication{}",
                via.unwrap_or_default()
            ),
        );
    }
    if error.is_timeout() || lower.contains("timed out") {
        let secs = timeout.as_secs_f64();
        return if connected {
            (
                Cause::NoAnswer,
                format!(
                    "connected, but no answer within {secs:.1} s{}",
                    via.unwrap_or_default()
                ),
            )
        } else {
            (
                Cause::ConnectTimeout,
                format!(
                    "connection timed out after {secs:.1} s{}",
                    via.unwrap_or_default()
                ),
            )
        };
    }
    if lower.contains("dns error")
        || lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
    {
        return (
            Cause::NameResolution,
            "name resolution failed: the host name could not be looked up (DNS)".into(),
        );
    }
    if lower.contains("connection refused") {
        return match proxy {
            Some(p) => (
                Cause::ProxyRefused,
                format!(
                    "the proxy refused the connection: {} = {}",
                    p.variable,
                    redact(&p.url)
                ),
            ),
            None => (Cause::ConnectionRefused, "connection refused".into()),
        };
    }
    (
        Cause::Other,
        format!(
            "request failed: {}{}",
            redact(&chain),
            via.unwrap_or_default()
        ),
    )
}

fn chain_text(error: &reqwest::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        parts.push(e.to_string());
        source = e.source();
    }
    parts.join(": ")
}

/// A TLS failure's kind: from the rustls error when the chain carries it as a type, else from
/// its text (some layers box errors in ways that hide the type).
fn tls_cause(error: &reqwest::Error, chain: &str) -> Option<Cause> {
    use rustls::CertificateError as C;
    if let Some(tls) = rustls_error(error) {
        return Some(match tls {
            rustls::Error::InvalidCertificate(C::Other(other))
                if other.0.downcast_ref::<SelfSigned>().is_some()
                    || matches!(
                        other.0.downcast_ref::<webpki::Error>(),
                        Some(webpki::Error::CaUsedAsEndEntity)
                    ) =>
            {
                Cause::TlsSelfSigned
            }
            rustls::Error::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => {
                Cause::TlsUntrusted
            }
            rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
                Cause::TlsExpired
            }
            rustls::Error::InvalidCertificate(
                C::NotValidForName | C::NotValidForNameContext { .. },
            ) => Cause::TlsWrongHost,
            _ => Cause::Tls,
        });
    }
    let text = chain.to_ascii_lowercase();
    // Boxed by hyper, the error shows only as its Debug text.
    if text.contains("self-signed certificate, not among")
        || text.contains("othererror(selfsigned)")
        || text.contains("causedasendentity")
    {
        return Some(Cause::TlsSelfSigned);
    }
    if text.contains("unknownissuer")
        || text.contains("badsignature")
        || text.contains("self-signed")
        || text.contains("unknown issuer")
    {
        Some(Cause::TlsUntrusted)
    } else if text.contains("expired") && text.contains("certificate") {
        Some(Cause::TlsExpired)
    } else if text.contains("notvalidforname") || text.contains("not valid for name") {
        Some(Cause::TlsWrongHost)
    } else if text.contains("invalid peer certificate")
        || text.contains("tls handshake")
        || text.contains("received fatal alert")
    {
        Some(Cause::Tls)
    } else {
        None
    }
}

fn rustls_error(error: &reqwest::Error) -> Option<&rustls::Error> {
    let mut source: Option<&(dyn StdError + 'static)> = error.source();
    while let Some(e) = source {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(tls) = io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(tls);
        }
        source = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_credentials_and_queries() {
        assert_eq!(
            redact("http://user:secret@proxy.example.com:3128"),
            "http://***@proxy.example.com:3128"
        );
        assert_eq!(
            redact("https://index.example.com/simple/?token=abc"),
            "https://index.example.com/simple/?***"
        );
        assert_eq!(redact("user:secret@proxy:3128"), "***@proxy:3128");
        assert_eq!(
            redact("error sending request for url (https://u:pw@h.example.com/)"),
            "error sending request for url (https://***@h.example.com/)"
        );
    }

    #[test]
    fn redacts_what_does_not_parse_as_a_url() {
        for (text, shown) in [
            // A password with unencoded `#`, `?`, `@`, `/` or a space: no URL parser reads these.
            ("http://ana:pa#ss@proxy:3128", "http://***@proxy:3128"),
            (
                "http://ana:p?w@d@proxy:bad-port/x",
                "http://***@proxy:bad-port/x",
            ),
            ("http://ana:pa/ss@proxy:3128/", "http://***@proxy:3128/"),
            (
                "http://ana:pa ss@proxy:3128/ next",
                "http://***@proxy:3128/ next",
            ),
            ("proxy http://ana:pa ss s@p:1.", "proxy http://***@p:1."),
            (
                "HTTPS_PROXY=ana:pa ss@proxy:3128",
                "HTTPS_PROXY=***@proxy:3128",
            ),
            ("= ana:pa ss@proxy:3128", "= ***@proxy:3128"),
            ("http://ana:unfinished", "http://***"),
            (
                "HTTPS_PROXY=ana:pw@proxy:3128 is set",
                "HTTPS_PROXY=***@proxy:3128 is set",
            ),
            ("'https://h/?t=1&u=2#top'.", "'https://h/?***'."),
            ("http://[::1]:99999/?key=v", "http://[::1]:99999/?***"),
            (
                "url=https://h.example/simple?token=x",
                "url=https://h.example/simple?***",
            ),
            // Scheme-less, path-only, and pip's own quoting of a request.
            ("127.0.0.1:9/simple?token=S", "127.0.0.1:9/simple?***"),
            (
                "pip said: 'Connection refused')': /s?t=S",
                "pip said: 'Connection refused')': /s?***",
            ),
            (
                "Looking in indexes: http://127.0.0.1:9/simple/?token=S",
                "Looking in indexes: http://127.0.0.1:9/simple/?***",
            ),
            // Schemes pip does not read as URLs, scheme-relative, Windows domains.
            ("http:/u:S@host/simple", "http:/***@host/simple"),
            ("http:\\\\u:S@host/simple", "http:\\\\***@host/simple"),
            ("//u:S@host/simple", "//***@host/simple"),
            ("//TOKEN@host/simple", "//***@host/simple"),
            ("CORP\\ana:S@proxy:8080", "***@proxy:8080"),
            (
                "PIP_PROXY=CORP\\ana:S@proxy:8080",
                "PIP_PROXY=***@proxy:8080",
            ),
            // Two URLs in one word.
            ("http://u:S@a,http://v:T@b/", "http://***@b/"),
            ("https://a/?t=S,https://b/?t=T", "https://a/?***"),
            // Percent-encoded, once or twice.
            (
                "http%3A%2F%2Fu%3AS%40host%2Fsimple",
                "http://***@host/simple",
            ),
            ("https://h/s%3Ftoken%3DS", "https://h/s?***"),
            ("http%253A%252F%252Fu%253AS%2540host", "http://***@host"),
            ("http://u%3AS@host/", "http://***@host/"),
            // Escape sequences cannot hide or split a URL.
            ("\u{1b}[31mhttp://u:S@h\u{1b}[0m", "http://***@h"),
            ("http://u:S\u{7}@h", "http://***@h"),
        ] {
            let shown_now = redact(text);
            assert_eq!(shown_now, shown, "{text}");
            assert!(!shown_now.contains('S') || !text.contains(":S"), "{text}");
        }
    }

    #[test]
    fn keeps_the_fixes_placeholder_and_line_breaks() {
        let fix = "in the proxy variable (http://USER:PASSWORD@HOST:PORT)\n  or ask";
        assert_eq!(redact(fix), fix);
        assert_eq!(redact("a\tb\r\nc\rd"), "a\tb\nc d");
    }

    #[test]
    fn leaves_paths_and_plain_text_alone() {
        for text in [
            "/home/ana@corp/venv has no pyvenv.cfg",
            "C:\\Users\\ana@corp\\venv",
            "@property\n  line two\ttabbed",
            "https://index.example.com/simple/",
            "https://host/@scope/pkg",
            "",
            "  spaces  around  ",
            "at 12:30 see /home/bob@example.com",
            "PATH=/usr/bin:/bin",
            "error: none",
            "Why? Because.",
            "https://[::1]:8080/simple/",
            "%20 stays %41 encoded",
        ] {
            assert_eq!(redact(text), text);
        }
    }

    #[test]
    fn urls_pip_finds_no_host_in_are_refused() {
        for url in [
            "http:/ana:pw@127.0.0.1:9/simple",
            "http:\\\\ana:pw@127.0.0.1:9/simple",
            "http://ana:pw@127.0.0.1\\simple",
            "//ana:pw@127.0.0.1:9/simple",
            "127.0.0.1:9/simple",
            "http://ana:pw@/simple",
            "http:///simple",
        ] {
            assert!(parse_like_pip(url).is_err(), "{url}");
        }
        for url in [
            "http://127.0.0.1:9/simple/",
            "https://ana:p%40w@[::1]:8/s?t=1",
        ] {
            assert!(parse_like_pip(url).is_ok(), "{url}");
        }
        assert_eq!(
            proxy_with_scheme("proxy.corp:3128"),
            "http://proxy.corp:3128"
        );
        assert_eq!(
            proxy_with_scheme("ana:pw@proxy:3128"),
            "http://ana:pw@proxy:3128"
        );
        assert_eq!(proxy_with_scheme("http:/proxy:3128"), "http:/proxy:3128");
        assert_eq!(proxy_with_scheme("socks5://p:1"), "socks5://p:1");
    }

    #[test]
    fn no_proxy_matches_hosts_and_domains() {
        assert!(bypasses("localhost,.example.com", "files.example.com"));
        assert!(bypasses("example.com", "example.com"));
        assert!(bypasses("*", "anything"));
        assert!(!bypasses("example.com", "example.org"));
    }
}
