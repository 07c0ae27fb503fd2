//! HTTP(S) requests for the network kinds: proxies from the Host's variables, a hard deadline
//! per request, and failures sorted into causes a person can act on. Nothing here prints a
//! credential: every URL that reaches a report goes through [`redact`].

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

/// Text fit to print: in every URL-like word (one with `://`, or `user:password@host`),
/// the user info and the query string are replaced by `***`, whether or not the word parses
/// as a URL. The one redaction for everything that may quote a URL: a variable's value, a
/// config file's line, a library's error message.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (word, tail) = rest.split_at(word_end);
        out.push_str(&redact_word(word));
        let space_end = tail
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(tail.len());
        out.push_str(&tail[..space_end]);
        rest = &tail[space_end..];
    }
    out
}

/// One whitespace-free word; quotes, brackets and punctuation around it are kept as they are.
fn redact_word(word: &str) -> String {
    const AROUND: &[char] = &['"', '\'', '`', '(', ')', '<', '>', ',', ';', '.'];
    let inner_start = word.len() - word.trim_start_matches(AROUND).len();
    let inner_end = word.trim_end_matches(AROUND).len().max(inner_start);
    let (before, inner, after) = (
        &word[..inner_start],
        &word[inner_start..inner_end],
        &word[inner_end..],
    );
    // Where the authority starts: after `scheme://`, or, for `user:pw@proxy:3128`, after
    // any `NAME=` in front of it.
    let authority_start = match inner.find("://") {
        Some(at) => at + 3,
        None => {
            let Some(at) = inner.rfind('@') else {
                return word.to_string();
            };
            let user = &inner[..at];
            // A path (`/home/ana@corp/venv`, `C:\\Users\\a@b`) is not a URL.
            if user.is_empty() || user.contains(['/', '\\']) {
                return word.to_string();
            }
            user.rfind('=').map_or(0, |eq| eq + 1)
        }
    };
    let (head, authority_and_rest) = inner.split_at(authority_start);
    // User info is whatever stands before the last `@` ahead of the path: a password may
    // hold `?`, `#` or `@` unencoded.
    let path_start = authority_and_rest
        .find('/')
        .unwrap_or(authority_and_rest.len());
    let (user_info, host_and_rest) = match authority_and_rest[..path_start].rfind('@') {
        Some(at) => (Some("***@"), &authority_and_rest[at + 1..]),
        None => (None, authority_and_rest),
    };
    let host_and_rest = match host_and_rest.split_once('?') {
        Some((before_query, query)) => {
            let fragment = query.find('#').map_or("", |at| &query[at..]);
            format!("{before_query}?***{fragment}")
        }
        None => host_and_rest.to_string(),
    };
    format!(
        "{before}{head}{}{host_and_rest}{after}",
        user_info.unwrap_or("")
    )
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
            let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
                bundles(paths)?,
                Arc::clone(&provider),
            )
            .map_err(|e| (Cause::Other, format!("could not set up HTTPS: {e}")))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
        }
        Roots::Only(paths) => {
            let mut store = rustls::RootCertStore::empty();
            let (_, ignored) = store.add_parsable_certificates(bundles(paths)?);
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
            builder.with_root_certificates(store)
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
            // A password with unencoded `#`, `?` or `@`: no URL parser reads these.
            ("http://ana:pa#ss@proxy:3128", "http://***@proxy:3128"),
            (
                "http://ana:p?w@d@proxy:bad-port/x",
                "http://***@proxy:bad-port/x",
            ),
            (
                "HTTPS_PROXY=ana:pw@proxy:3128 is set",
                "HTTPS_PROXY=***@proxy:3128 is set",
            ),
            ("'https://h/?t=1&u=2#top'.", "'https://h/?***#top'."),
            ("http://[::1]:99999/?key=v", "http://[::1]:99999/?***"),
            (
                "url=https://h.example/simple?token=x",
                "url=https://h.example/simple?***",
            ),
        ] {
            assert_eq!(redact(text), shown, "{text}");
        }
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
        ] {
            assert_eq!(redact(text), text);
        }
    }

    #[test]
    fn no_proxy_matches_hosts_and_domains() {
        assert!(bypasses("localhost,.example.com", "files.example.com"));
        assert!(bypasses("example.com", "example.com"));
        assert!(bypasses("*", "anything"));
        assert!(!bypasses("example.com", "example.org"));
    }
}
