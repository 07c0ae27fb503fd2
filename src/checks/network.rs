//! `network`: one HTTPS endpoint the exam needs, reached under its own deadline. Every
//! endpoint is its own check, so the runner requests them all at once.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::check::{Check, ConfigError, Context, Deadline, FindingSpec, Kind, KindConfig, Stakes};
use crate::net::{self, Cause, Outcome};
use crate::report::{Category, Finding};

pub const KIND: Kind = Kind {
    name: "network",
    build,
};

/// An answer slower than this is a warning, unless a check sets its own `slow_ms`.
pub const DEFAULT_SLOW: Duration = Duration::from_secs(2);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// `network.NAME`, stable across releases.
    id: String,
    title: String,
    url: String,
    /// Why the exam needs this endpoint, for `preflight explain`.
    why: String,
    /// Time a download of at most this many bytes and report the rate.
    download_bytes: Option<u64>,
    /// With `download_bytes`: how long a download of this size would take at that rate.
    estimate_mb: Option<f64>,
    /// An answer slower than this many milliseconds is a warning (default [`DEFAULT_SLOW`]).
    #[serde(default, deserialize_with = "positive_millis")]
    slow_ms: Option<u64>,
}

/// A positive whole number of milliseconds, or one message for anything else.
fn positive_millis<'de, D: Deserializer<'de>>(value: D) -> Result<Option<u64>, D::Error> {
    match toml::Value::deserialize(value)? {
        toml::Value::Integer(ms) if ms > 0 => Ok(Some(ms as u64)),
        _ => Err(serde::de::Error::custom(
            "must be a positive whole number of milliseconds, such as 2000",
        )),
    }
}

fn build(config: KindConfig<'_>) -> Result<Box<dyn Check>, ConfigError> {
    let parsed: Config = config.parse()?;
    if !parsed.id.starts_with("network.") || parsed.id.len() <= "network.".len() {
        return Err(config.error("id", "must be `network.NAME`"));
    }
    // Read as pip reads it: `http:/host` and `http:\\host` are not requested.
    match net::parse_like_pip(&parsed.url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        _ => {
            return Err(config.error(
                "url",
                format!("`{}` is not an http(s) URL", net::redact(&parsed.url)),
            ));
        }
    }
    if parsed.estimate_mb.is_some() && parsed.download_bytes.is_none() {
        return Err(config.error("estimate_mb", "needs download_bytes to measure a rate"));
    }
    let spec = FindingSpec::configured(
        parsed.id.clone(),
        Category::Network,
        parsed.title.clone(),
        Stakes::Fact,
        [
            format!("An HTTPS request to {} answers, and how fast.", net::redact(&parsed.url)),
            parsed.why.clone(),
            "Failures are named by cause: DNS, refused, timed out, TLS, HTTP status, proxy. Fix that cause, or sit the exam on another network.".into(),
        ],
    );
    Ok(Box::new(Endpoint {
        config: parsed,
        spec,
    }))
}

struct Endpoint {
    config: Config,
    spec: FindingSpec,
}

impl Check for Endpoint {
    fn specs(&self) -> Vec<&FindingSpec> {
        vec![&self.spec]
    }

    fn run(&self, ctx: &Context, deadline: Deadline) -> Vec<Finding> {
        vec![reach(
            ctx,
            deadline,
            &self.spec,
            &self.config.url,
            self.config.download_bytes,
            self.config.estimate_mb,
            self.config
                .slow_ms
                .map_or(DEFAULT_SLOW, Duration::from_millis),
        )]
    }
}

/// Request `url` the way a plain client would (the environment's proxy, the system's roots)
/// and judge the answer.
pub fn reach(
    ctx: &Context,
    deadline: Deadline,
    spec: &FindingSpec,
    url: &str,
    download: Option<u64>,
    estimate_mb: Option<f64>,
    slow: Duration,
) -> Finding {
    let route = net::Route::from_environment(&ctx.host, url);
    let measure = Measure {
        download,
        estimate_mb,
        slow,
    };
    reach_along(ctx, deadline, spec, url, measure, &route)
}

/// [`reach`] along a chosen route, without a timed download; the package-index check passes
/// pip's own proxy and roots.
pub fn reach_via(
    ctx: &Context,
    deadline: Deadline,
    spec: &FindingSpec,
    url: &str,
    slow: Duration,
    route: &net::Route,
) -> Finding {
    let measure = Measure {
        download: None,
        estimate_mb: None,
        slow,
    };
    reach_along(ctx, deadline, spec, url, measure, route)
}

/// What to measure besides the answer.
struct Measure {
    download: Option<u64>,
    estimate_mb: Option<f64>,
    slow: Duration,
}

fn reach_along(
    ctx: &Context,
    deadline: Deadline,
    spec: &FindingSpec,
    url: &str,
    measure: Measure,
    route: &net::Route,
) -> Finding {
    let Measure {
        download,
        estimate_mb,
        slow,
    } = measure;
    let shown = net::redact(url);
    if ctx.options.offline {
        return spec
            .finding()
            .skip("not checked (--offline)")
            .observe("url", shown);
    }
    let mut finding = spec.finding().observe("url", shown.clone());
    if let Some(proxy) = &route.proxy {
        finding = finding
            .observe("proxy", net::redact(&proxy.url))
            .observe("proxy_variable", proxy.variable)
            .detail(format!(
                "through the proxy in {}: {}",
                proxy.variable,
                net::redact(&proxy.url)
            ));
    }
    match net::get_via(&ctx.host, url, deadline, download, route) {
        Outcome::Answered {
            status,
            redirected_to,
            latency,
            rate,
            bytes,
        } => {
            let ms = latency.as_millis() as u64;
            finding = finding.observe("status", status).observe("latency_ms", ms);
            if let Some(target) = &redirected_to {
                // A captive portal or a filtering proxy answers this way: say where it led.
                finding = finding
                    .observe("redirected_to", target.clone())
                    .detail(format!("{shown} redirected to {target}"));
            }
            let via = redirected_to
                .as_ref()
                .map(|t| format!(" (redirected to {t})"))
                .unwrap_or_default();
            if status == 407 {
                return finding
                    .fail(format!("the proxy demands authentication (HTTP 407) for {shown}"))
                    .fix("Put the proxy's user and password in the proxy variable (http://USER:PASSWORD@HOST:PORT) or ask the network's administrator.");
            }
            if status >= 400 {
                return finding
                    .fail(format!("{shown} answered HTTP {status}{via}"))
                    .fix("The server is there but refused the request: try again later, or check that nothing on this network rewrites requests.");
            }
            let slow_ms = slow.as_millis() as u64;
            finding = finding.observe("slow_ms", slow_ms);
            let too_slow = latency > slow;
            let mut summary = if too_slow {
                let (took, expected) = (latency.as_secs_f64(), slow.as_secs_f64());
                // Enough decimals that the two numbers differ (2.04 against 2.00, not 2.0 and 2.0).
                let places = (1..=3)
                    .find(|&p| format!("{took:.p$}") != format!("{expected:.p$}"))
                    .unwrap_or(3);
                format!(
                    "answered in {took:.places$} s, slower than the {expected:.places$} s expected{via}"
                )
            } else {
                format!("HTTP {status} in {ms} ms{via}")
            };
            if let Some(rate) = rate {
                let mb_s = rate / 1e6;
                finding = finding
                    .observe("bytes_per_second", rate)
                    .observe("bytes", bytes);
                summary.push_str(&format!(
                    "; {mb_s:.1} MB/s over {:.1} MB",
                    bytes as f64 / 1e6
                ));
                if let Some(mb) = estimate_mb {
                    let seconds = mb * 1e6 / rate.max(1.0);
                    finding = finding.observe("estimate_seconds", seconds);
                    summary.push_str(&format!(": {mb} MB would take {}", human_duration(seconds)));
                }
            }
            if too_slow {
                return finding
                    .warn(summary)
                    .fix("The server answers, but slowly, and the exam downloads its datasets over this network: use a faster or less busy network (wired if you can), or check whether a VPN or proxy adds the delay.");
            }
            finding.pass(summary)
        }
        Outcome::Failed {
            cause,
            message,
            latency,
        } => finding
            .observe("latency_ms", latency.as_millis() as u64)
            .observe("cause", format!("{cause:?}"))
            .fail(message)
            .fix(fix_for(cause)),
    }
}

fn human_duration(seconds: f64) -> String {
    if seconds < 90.0 {
        format!("{seconds:.0} s")
    } else {
        format!("{:.0} min", seconds / 60.0)
    }
}

fn fix_for(cause: Cause) -> &'static str {
    match cause {
        Cause::NameResolution => {
            "Check the connection and DNS settings (`nslookup` the host); on a company network, ask whether the host is blocked."
        }
        Cause::ConnectionRefused => {
            "Something on this machine or network refuses the connection: check firewall and VPN settings."
        }
        Cause::ConnectTimeout | Cause::NoAnswer => {
            "The network is slow or filtered: try another network, or check firewall, VPN and proxy settings."
        }
        Cause::TlsUntrusted | Cause::TlsExpired | Cause::TlsWrongHost | Cause::Tls => {
            "Check the machine's clock, and whether an antivirus, firewall or company proxy inspects HTTPS; sit the exam on a network that does not."
        }
        Cause::TlsSelfSigned => {
            "If the server is yours (a company index), give pip its certificate (`cert` in pip's configuration, or PIP_CERT) and run again; if not, something on this network answers in its place: check whether an antivirus, firewall or company proxy inspects HTTPS."
        }
        Cause::TlsSetup => {
            "Point the setting named above (cert, PIP_CERT, REQUESTS_CA_BUNDLE, client-cert) at an existing PEM file, or remove it."
        }
        Cause::ProxyRefused => {
            "Check the proxy variables (HTTPS_PROXY, HTTP_PROXY): the proxy named there does not accept connections."
        }
        Cause::ProxyAuth => {
            "Put the proxy's user and password in the proxy variable (http://USER:PASSWORD@HOST:PORT) or ask the network's administrator."
        }
        Cause::NoTimeLeft => {
            "Run again with a longer deadline (`--timeout SECS`): the check spent its time before the request could be sent."
        }
        Cause::Other => "Try again; if it persists, check firewall, VPN and proxy settings.",
    }
}
