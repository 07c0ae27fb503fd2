//! The operating system's own proxy setting, which Python's `urllib` (and so pip) uses when
//! no proxy variable is set: `scutil --proxy` on macOS, the Internet Settings registry key
//! on Windows. Each tool's answer is read by its platform's parser ([`macos::parse_scutil_proxy`],
//! [`windows::parse_proxy_reg_query`]); this module matches hosts against the result and asks
//! the tool through `Host::run`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{macos, windows};
use crate::host::{Host, OsFamily};

/// The system's proxies for web requests, as `urllib.request.getproxies()` would build them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemProxies {
    pub http: Option<String>,
    pub https: Option<String>,
    /// Host patterns that go direct (`*.local`, `169.254/16`, `localhost`).
    pub exceptions: Vec<String>,
    /// Host names without a dot go direct (macOS "Exclude simple hostnames", Windows `<local>`).
    pub exclude_simple: bool,
    /// Where the answer came from, as a person would look it up.
    pub origin: &'static str,
}

impl SystemProxies {
    /// The proxy for a request to `scheme://host`, unless the host is an exception.
    pub fn for_url(&self, scheme: &str, host: &str) -> Option<&str> {
        if self.bypasses(host) {
            return None;
        }
        match scheme {
            "https" => self.https.as_deref(),
            "http" => self.http.as_deref(),
            _ => None,
        }
    }

    fn bypasses(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if self.exclude_simple && !host.contains('.') && !host.contains(':') {
            return true;
        }
        self.exceptions
            .iter()
            .any(|pattern| matches_exception(pattern, host))
    }
}

/// A system exception: `*` wildcards (case-insensitive), or an IPv4 prefix `169.254/16`.
fn matches_exception(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim().to_ascii_lowercase();
    let host = host.to_ascii_lowercase();
    if pattern.is_empty() {
        return false;
    }
    if let Some((net, bits)) = pattern.split_once('/')
        && let Ok(bits) = bits.parse::<u32>()
        && let Ok(address) = host.parse::<std::net::Ipv4Addr>()
    {
        let mut octets = [0u8; 4];
        for (slot, part) in octets.iter_mut().zip(net.split('.')) {
            match part.parse() {
                Ok(n) => *slot = n,
                Err(_) => return false,
            }
        }
        let mask = if bits == 0 {
            0
        } else {
            u32::MAX << (32 - bits.min(32))
        };
        return u32::from(address) & mask == u32::from(std::net::Ipv4Addr::from(octets)) & mask;
    }
    wildcard(pattern.as_bytes(), host.as_bytes())
}

/// `*` matches any run of characters; everything else matches itself.
fn wildcard(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|skip| wildcard(rest, &text[skip..])),
        Some((c, rest)) => text.first() == Some(c) && wildcard(rest, &text[1..]),
    }
}

const INTERNET_SETTINGS: &str = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings";

/// Ask the system for its proxy within `timeout`. `Ok(None)` on an OS without one.
pub fn gather(host: &Host, timeout: Duration) -> Result<Option<SystemProxies>, String> {
    let (program, args, parse): (PathBuf, Vec<&str>, fn(&str) -> SystemProxies) = match host.os {
        OsFamily::Macos => (
            host.system_path("/usr/sbin/scutil"),
            vec!["--proxy"],
            macos::parse_scutil_proxy,
        ),
        OsFamily::Windows => {
            let system_root = host.env("SystemRoot").unwrap_or(r"C:\Windows");
            (
                Path::new(system_root).join("System32").join("reg.exe"),
                vec!["query", INTERNET_SETTINGS],
                windows::parse_proxy_reg_query,
            )
        }
        _ => return Ok(None),
    };
    let output = host
        .run(&program, &args, timeout)
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        // No Internet Settings key at all means no proxy was ever set.
        if host.os == OsFamily::Windows {
            return Ok(Some(parse(&output.stdout)));
        }
        return Err(format!(
            "{} exited with {}: {}",
            program.display(),
            output.status,
            output.stderr.trim()
        ));
    }
    Ok(Some(parse(&output.stdout)))
}
