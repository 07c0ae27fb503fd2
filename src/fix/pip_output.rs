//! Reading pip's output: what it is fetching now (for the spinner), and why it failed.

use std::collections::VecDeque;

use crate::net::Cause;

/// How many of pip's last lines are kept to explain a failure.
const TAIL_LINES: usize = 200;
/// How many lines of pip's own error a report quotes, and how long each may be.
const QUOTED_LINES: usize = 6;
const QUOTED_LINE_CHARS: usize = 300;

/// What pip is doing, as one short phrase for the spinner.
pub fn activity(line: &str) -> Option<String> {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("Collecting ") {
        return Some(format!("collecting {}", first_word(rest)));
    }
    if let Some(rest) = line.strip_prefix("Downloading ") {
        return Some(format!("downloading {}", file_name(first_word(rest))));
    }
    if let Some(rest) = line.strip_prefix("Building wheel for ") {
        return Some(format!("building {}", first_word(rest)));
    }
    if let Some(rest) = line.strip_prefix("Installing collected packages: ") {
        let count = rest.split(',').filter(|p| !p.trim().is_empty()).count();
        return Some(format!("installing {count} packages"));
    }
    None
}

fn first_word(text: &str) -> &str {
    text.split_whitespace().next().unwrap_or(text)
}

/// `examlib-1.0-py3-none-any.whl` from a file name or a URL to one (older pips print URLs).
fn file_name(text: &str) -> &str {
    let text = text.split(['#', '?']).next().unwrap_or(text);
    text.rsplit('/').next().unwrap_or(text)
}

/// pip's output, as much as is needed to name a failure.
#[derive(Debug, Default)]
pub struct Transcript {
    tail: VecDeque<String>,
    /// The first line that says the index could not be reached (pip retries, then gives up).
    network: Option<String>,
    /// The requirements pip found no distribution for.
    no_distribution: Vec<String>,
    /// "(from versions: ...)" of the first requirement that could not be satisfied.
    versions_offered: Option<String>,
    disk_full: Option<String>,
    /// The indexes pip named ("Looking in indexes: URL, URL"), when it named them.
    indexes: Vec<String>,
}

impl Transcript {
    pub fn push(&mut self, line: &str) {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("Looking in indexes: ")
            && self.indexes.is_empty()
        {
            self.indexes = rest.split(',').map(|u| u.trim().to_string()).collect();
        }
        if let Some(rest) = trimmed.strip_prefix("ERROR: No matching distribution found for ") {
            self.no_distribution.push(rest.trim().to_string());
        }
        if let Some(rest) =
            trimmed.strip_prefix("ERROR: Could not find a version that satisfies the requirement ")
            && self.versions_offered.is_none()
            && let Some((_, versions)) = rest.split_once("(from versions:")
        {
            self.versions_offered = Some(versions.trim_end_matches(')').trim().to_string());
        }
        if self.network.is_none() && network_cause(trimmed).is_some() {
            self.network = Some(trimmed.to_string());
        }
        if self.disk_full.is_none()
            && (trimmed.contains("No space left on device") || trimmed.contains("[Errno 28]"))
        {
            self.disk_full = Some(trimmed.to_string());
        }
        if self.tail.len() == TAIL_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(line.to_string());
    }

    /// Why pip failed, from everything it said.
    pub fn failure(&self) -> PipFailure {
        if let Some(line) = &self.disk_full {
            return PipFailure::DiskFull {
                line: bounded(line),
            };
        }
        // pip reports an unreachable index as "no matching distribution" too, after its
        // retries: the connection errors are the real cause.
        if let Some(line) = &self.network
            && let Some(cause) = network_cause(line)
        {
            return PipFailure::Network {
                cause,
                line: bounded(line),
            };
        }
        if !self.no_distribution.is_empty() {
            return PipFailure::NoDistribution {
                requirements: self.no_distribution.clone(),
                versions_offered: self.versions_offered.clone(),
            };
        }
        PipFailure::Other {
            lines: self.error_lines(),
        }
    }

    /// The index pip named first, when it named one (it does not name its default).
    pub fn index(&self) -> Option<&str> {
        self.indexes.first().map(String::as_str)
    }

    /// pip's own error lines, else its last lines; bounded in number and length.
    pub fn error_lines(&self) -> Vec<String> {
        let nonblank: Vec<&String> = self.tail.iter().filter(|l| !l.trim().is_empty()).collect();
        let from = nonblank
            .iter()
            .position(|l| l.trim_start().starts_with("ERROR:"))
            .unwrap_or(nonblank.len().saturating_sub(QUOTED_LINES));
        let picked = &nonblank[from..];
        picked[picked.len().saturating_sub(QUOTED_LINES)..]
            .iter()
            .map(|l| bounded(l.trim()))
            .collect()
    }
}

fn bounded(line: &str) -> String {
    if line.chars().count() <= QUOTED_LINE_CHARS {
        return line.to_string();
    }
    let cut: String = line.chars().take(QUOTED_LINE_CHARS).collect();
    format!("{cut}…")
}

/// The network cause a line of pip's output names, in the words of `src/net.rs`.
pub fn network_cause(line: &str) -> Option<Cause> {
    let lower = line.to_ascii_lowercase();
    let connection_trouble = lower.contains("retrying (retry(")
        || lower.contains("newconnectionerror")
        || lower.contains("connecttimeouterror")
        || lower.contains("readtimeouterror")
        || lower.contains("proxyerror")
        || lower.contains("sslerror")
        || lower.contains("max retries exceeded")
        || lower.contains("could not fetch url");
    if !connection_trouble {
        return None;
    }
    Some(if lower.contains("proxyerror") {
        if lower.contains("407") {
            Cause::ProxyAuth
        } else {
            Cause::ProxyRefused
        }
    } else if lower.contains("certificate_verify_failed")
        || lower.contains("certificate verify failed")
    {
        if lower.contains("expired") {
            Cause::TlsExpired
        } else if (lower.contains("self signed certificate")
            || lower.contains("self-signed certificate"))
            && !lower.contains("in certificate chain")
        {
            // The server's own certificate is self-signed; "in certificate chain" is an
            // unknown root above it, as a TLS-inspecting proxy shows.
            Cause::TlsSelfSigned
        } else if lower.contains("hostname mismatch") || lower.contains("doesn't match") {
            Cause::TlsWrongHost
        } else {
            Cause::TlsUntrusted
        }
    } else if lower.contains("sslerror") {
        Cause::Tls
    } else if lower.contains("name or service not known")
        || lower.contains("temporary failure in name resolution")
        || lower.contains("nodename nor servname")
        || lower.contains("getaddrinfo failed")
        || lower.contains("no address associated")
    {
        Cause::NameResolution
    } else if lower.contains("connection refused") || lower.contains("actively refused") {
        Cause::ConnectionRefused
    } else if lower.contains("connecttimeouterror") || lower.contains("connect timeout") {
        Cause::ConnectTimeout
    } else if lower.contains("read timed out") || lower.contains("readtimeouterror") {
        Cause::NoAnswer
    } else {
        Cause::Other
    })
}

/// The short name of a network cause, as a report says it.
pub fn describe_cause(cause: Cause) -> &'static str {
    match cause {
        Cause::NameResolution => {
            "name resolution failed (DNS): no network, or the index's host name is wrong"
        }
        Cause::ConnectionRefused => "connection refused: nothing answers at the index's address",
        Cause::ConnectTimeout => {
            "connection timed out: no network, or a firewall drops the traffic"
        }
        Cause::NoAnswer => "connected, but the index did not answer in time",
        Cause::TlsUntrusted => {
            "TLS: the index's certificate is not trusted (a TLS-inspecting proxy or firewall may be in the way)"
        }
        Cause::TlsSelfSigned => {
            "TLS: the index's certificate is self-signed and pip is not told to trust it (`cert`, PIP_CERT)"
        }
        Cause::TlsExpired => {
            "TLS: the index's certificate has expired (or this machine's clock is wrong)"
        }
        Cause::TlsWrongHost => "TLS: the certificate is for another host name",
        Cause::Tls => "TLS handshake failed",
        Cause::TlsSetup => "TLS could not be set up with the certificates pip is told to use",
        Cause::ProxyRefused => "the proxy refused the connection",
        Cause::ProxyAuth => "the proxy demands authentication",
        // pip has its own deadline per request; this one is preflight's own, listed for
        // completeness.
        Cause::NoTimeLeft => "no time was left to ask the package index",
        Cause::Other => "the package index could not be reached",
    }
}

/// Why `pip install` failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PipFailure {
    Network {
        cause: Cause,
        line: String,
    },
    NoDistribution {
        requirements: Vec<String>,
        versions_offered: Option<String>,
    },
    DiskFull {
        line: String,
    },
    /// pip saw no version at all, and the index it named, asked again by preflight,
    /// answered with a server error (pip names a 503 only at `-vv`).
    IndexFailing {
        status: u16,
        url: String,
    },
    /// pip saw no version at all, and the index it named could not be reached when asked
    /// again (it hangs, or refuses).
    IndexUnreachable {
        cause: Cause,
        url: String,
        message: String,
    },
    Other {
        lines: Vec<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_what_pip_fetches() {
        assert_eq!(
            activity("Collecting examlib==1.0").as_deref(),
            Some("collecting examlib==1.0")
        );
        assert_eq!(
            activity("  Downloading examlib-1.0-py3-none-any.whl (1.2 kB)").as_deref(),
            Some("downloading examlib-1.0-py3-none-any.whl")
        );
        assert_eq!(
            activity("  Downloading http://127.0.0.1:1/files/examlib-1.0-py3-none-any.whl#sha256=00 (1 kB)").as_deref(),
            Some("downloading examlib-1.0-py3-none-any.whl")
        );
        assert_eq!(
            activity("Installing collected packages: a, b").as_deref(),
            Some("installing 2 packages")
        );
        assert_eq!(activity("Successfully installed a-1 b-2"), None);
    }

    #[test]
    fn an_unreachable_index_is_named_before_the_missing_distribution() {
        let mut transcript = Transcript::default();
        for line in [
            "WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPConnection object at 0x7f>: Failed to establish a new connection: [Errno 111] Connection refused')': /simple/examlib/",
            "ERROR: Could not find a version that satisfies the requirement examlib==1.0 (from versions: none)",
            "ERROR: No matching distribution found for examlib==1.0",
        ] {
            transcript.push(line);
        }
        match transcript.failure() {
            PipFailure::Network { cause, .. } => assert_eq!(cause, Cause::ConnectionRefused),
            other => panic!("expected a network failure, got {other:?}"),
        }
    }

    #[test]
    fn a_pin_without_a_distribution_is_named() {
        let mut transcript = Transcript::default();
        transcript.push("Collecting examlib==9.9");
        transcript.push("ERROR: Could not find a version that satisfies the requirement examlib==9.9 (from versions: 1.0)");
        transcript.push("ERROR: No matching distribution found for examlib==9.9");
        assert_eq!(
            transcript.failure(),
            PipFailure::NoDistribution {
                requirements: vec!["examlib==9.9".into()],
                versions_offered: Some("1.0".into()),
            }
        );
    }

    #[test]
    fn disk_full_and_other_errors_are_bounded() {
        let mut transcript = Transcript::default();
        transcript.push("ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device");
        assert!(matches!(transcript.failure(), PipFailure::DiskFull { .. }));

        let mut transcript = Transcript::default();
        for i in 0..500 {
            transcript.push(&format!("line {i} {}", "x".repeat(1000)));
        }
        let PipFailure::Other { lines } = transcript.failure() else {
            panic!("expected other");
        };
        assert_eq!(lines.len(), QUOTED_LINES);
        assert!(
            lines
                .iter()
                .all(|l| l.chars().count() <= QUOTED_LINE_CHARS + 1)
        );
        assert!(lines.last().unwrap().starts_with("line 499"));
    }
}
