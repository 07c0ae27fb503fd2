//! The operating system's own proxy setting, which Python's `urllib` (and so pip) uses when
//! no proxy variable is set: `scutil --proxy` on macOS, the Internet Settings registry key
//! on Windows. Pure parsers of each tool's answer, plus thin I/O through `Host::run`.

use std::path::{Path, PathBuf};
use std::time::Duration;

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

/// Parse `scutil --proxy`: a `<dictionary>` of `Key : value` lines with nested `<array>`s.
/// As Python's `_scproxy` does, an enabled HTTP or HTTPS proxy becomes `http://host:port`.
pub fn parse_scutil(text: &str) -> SystemProxies {
    let mut keys = std::collections::BTreeMap::new();
    let mut exceptions = Vec::new();
    let mut in_exceptions = false;
    for line in text.lines().map(str::trim) {
        if in_exceptions {
            if line == "}" {
                in_exceptions = false;
            } else if let Some((_, value)) = line.split_once(" : ") {
                exceptions.push(value.trim().to_string());
            }
            continue;
        }
        let Some((key, value)) = line.split_once(" : ") else {
            continue;
        };
        if key == "ExceptionsList" && value.starts_with("<array>") {
            in_exceptions = true;
            continue;
        }
        keys.insert(key.to_string(), value.trim().to_string());
    }
    let proxy = |prefix: &str| -> Option<String> {
        let enabled = keys.get(&format!("{prefix}Enable")).map(String::as_str) == Some("1");
        let host = keys
            .get(&format!("{prefix}Proxy"))
            .filter(|h| !h.is_empty())?;
        if !enabled {
            return None;
        }
        Some(match keys.get(&format!("{prefix}Port")) {
            Some(port) if port != "0" => format!("http://{host}:{port}"),
            _ => format!("http://{host}"),
        })
    };
    SystemProxies {
        http: proxy("HTTP"),
        https: proxy("HTTPS"),
        exceptions,
        exclude_simple: keys.get("ExcludeSimpleHostnames").map(String::as_str) == Some("1"),
        origin: "the macOS system proxy (scutil --proxy)",
    }
}

/// Parse `reg query "HKCU\...\Internet Settings"`: `    Name    REG_TYPE    value` lines.
/// As Python's `getproxies_registry` does: nothing unless `ProxyEnable` is set; one server
/// for all schemes, or `http=...;https=...` per scheme; `http://` when no scheme is given.
pub fn parse_reg_query(text: &str) -> SystemProxies {
    let mut values = std::collections::BTreeMap::new();
    for line in text.lines() {
        // Values are indented; subkey names are not.
        if !line.starts_with(' ') {
            continue;
        }
        let mut parts = line.trim().splitn(2, "    REG_");
        let (Some(name), Some(rest)) = (parts.next(), parts.next()) else {
            continue;
        };
        let value = rest.split_once("    ").map(|(_, v)| v).unwrap_or("");
        values.insert(name.trim().to_string(), value.trim().to_string());
    }
    let mut proxies = SystemProxies {
        origin: "the Windows Internet Settings proxy (registry)",
        ..SystemProxies::default()
    };
    let enabled = values
        .get("ProxyEnable")
        .map(|v| v.trim_start_matches("0x"))
        .and_then(|v| u32::from_str_radix(v, 16).ok())
        .unwrap_or(0);
    let Some(server) = values.get("ProxyServer").filter(|_| enabled != 0) else {
        return proxies;
    };
    let server = if server.contains('=') || server.contains(';') {
        server.clone()
    } else {
        format!("http={server};https={server}")
    };
    let mut socks = None;
    for part in server.split(';').filter(|p| !p.is_empty()) {
        let Some((protocol, address)) = part.split_once('=') else {
            continue;
        };
        let with_scheme = |scheme: &str| {
            if address.contains("://") {
                address.to_string()
            } else {
                format!("{scheme}://{address}")
            }
        };
        match protocol.trim() {
            "http" => proxies.http = Some(with_scheme("http")),
            "https" => proxies.https = Some(with_scheme("http")),
            "socks" => socks = Some(with_scheme("socks4")),
            _ => {}
        }
    }
    if let Some(socks) = socks {
        proxies.http.get_or_insert_with(|| socks.clone());
        proxies.https.get_or_insert(socks);
    }
    if let Some(overrides) = values.get("ProxyOverride") {
        for entry in overrides
            .split(';')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            if entry == "<local>" {
                proxies.exclude_simple = true;
            } else {
                proxies.exceptions.push(entry.to_string());
            }
        }
    }
    proxies
}

const INTERNET_SETTINGS: &str = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings";

/// Ask the system for its proxy within `timeout`. `Ok(None)` on an OS without one.
pub fn gather(host: &Host, timeout: Duration) -> Result<Option<SystemProxies>, String> {
    let (program, args, parse): (PathBuf, Vec<&str>, fn(&str) -> SystemProxies) = match host.os {
        OsFamily::Macos => (
            host.system_path("/usr/sbin/scutil"),
            vec!["--proxy"],
            parse_scutil,
        ),
        OsFamily::Windows => {
            let system_root = host.env("SystemRoot").unwrap_or(r"C:\Windows");
            (
                Path::new(system_root).join("System32").join("reg.exe"),
                vec!["query", INTERNET_SETTINGS],
                parse_reg_query,
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

#[cfg(test)]
mod tests {
    use super::*;

    // The layout `scutil --proxy` prints on macOS with a manual web proxy set in System
    // Settings > Network > Proxies.
    const SCUTIL_MANUAL: &str = "<dictionary> {
  ExceptionsList : <array> {
    0 : *.local
    1 : 169.254/16
    2 : intranet.corp.example
  }
  ExcludeSimpleHostnames : 1
  FTPPassive : 1
  HTTPEnable : 1
  HTTPPort : 3128
  HTTPProxy : proxy.corp.example
  HTTPSEnable : 1
  HTTPSPort : 3129
  HTTPSProxy : proxy.corp.example
}
";

    const SCUTIL_NONE: &str = "<dictionary> {
  ExceptionsList : <array> {
    0 : *.local
    1 : 169.254/16
  }
  FTPPassive : 1
  HTTPEnable : 0
  HTTPSEnable : 0
}
";

    #[test]
    fn scutil_manual_proxy_and_exceptions() {
        let proxies = parse_scutil(SCUTIL_MANUAL);
        assert_eq!(
            proxies.http.as_deref(),
            Some("http://proxy.corp.example:3128")
        );
        assert_eq!(
            proxies.https.as_deref(),
            Some("http://proxy.corp.example:3129")
        );
        assert_eq!(
            proxies.for_url("https", "index.example.org"),
            Some("http://proxy.corp.example:3129")
        );
        assert_eq!(proxies.for_url("https", "printer.local"), None);
        assert_eq!(proxies.for_url("https", "169.254.10.1"), None);
        assert_eq!(
            proxies.for_url("https", "intranet"),
            None,
            "simple host name"
        );
        assert_eq!(proxies.for_url("https", "INTRANET.corp.example"), None);
    }

    #[test]
    fn scutil_without_a_proxy_gives_none() {
        let proxies = parse_scutil(SCUTIL_NONE);
        assert_eq!(proxies.for_url("https", "index.example.org"), None);
        assert_eq!(proxies.exceptions, ["*.local", "169.254/16"]);
    }

    // `reg query` prints the key, then one indented line per value, then the subkeys.
    const REG_ONE_SERVER: &str = "\r
HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\r
    IE5_UA_Backup_Flag    REG_SZ    5.0\r
    User Agent    REG_SZ    Mozilla/4.0 (compatible; MSIE 8.0; Win32)\r
    EnableNegotiate    REG_DWORD    0x1\r
    MigrateProxy    REG_DWORD    0x1\r
    ProxyEnable    REG_DWORD    0x1\r
    ProxyServer    REG_SZ    proxy.corp.example:8080\r
    ProxyOverride    REG_SZ    *.corp.example;<local>\r
\r
HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\5.0\r
HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections\r
";

    #[test]
    fn registry_single_server_serves_both_schemes() {
        let proxies = parse_reg_query(REG_ONE_SERVER);
        assert_eq!(
            proxies.http.as_deref(),
            Some("http://proxy.corp.example:8080")
        );
        assert_eq!(
            proxies.https.as_deref(),
            Some("http://proxy.corp.example:8080")
        );
        assert_eq!(proxies.for_url("https", "wiki.corp.example"), None);
        assert_eq!(proxies.for_url("https", "localhost"), None);
        assert_eq!(
            proxies.for_url("https", "index.example.org"),
            Some("http://proxy.corp.example:8080")
        );
    }

    #[test]
    fn registry_per_scheme_servers_and_a_disabled_proxy() {
        let per_scheme = REG_ONE_SERVER.replace(
            "proxy.corp.example:8080",
            "http=web.corp.example:80;https=secure.corp.example:443",
        );
        let proxies = parse_reg_query(&per_scheme);
        assert_eq!(proxies.http.as_deref(), Some("http://web.corp.example:80"));
        assert_eq!(
            proxies.https.as_deref(),
            Some("http://secure.corp.example:443")
        );
        let disabled = REG_ONE_SERVER.replace(
            "ProxyEnable    REG_DWORD    0x1",
            "ProxyEnable    REG_DWORD    0x0",
        );
        assert_eq!(
            parse_reg_query(&disabled).for_url("https", "index.example.org"),
            None
        );
        let socks = REG_ONE_SERVER.replace("proxy.corp.example:8080", "socks=127.0.0.1:1080");
        assert_eq!(
            parse_reg_query(&socks).https.as_deref(),
            Some("socks4://127.0.0.1:1080")
        );
    }
}
