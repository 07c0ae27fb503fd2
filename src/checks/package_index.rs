//! `package-index`: the package index pip will really use, reached the way pip reaches it.
//! Settings come from pip's merged configuration (`pip_config`); the certificates are the
//! ones this pip trusts (its vendored certifi bundle, or the system's store for pip 24.2+ on
//! Python 3.10+); the proxy is the one Python's `urllib` would pick. Extra indexes are
//! reached too and reported under this one finding: finding ids are fixed before the run,
//! and the configuration they would come from is only read while the check runs. No index
//! host is written here.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;

use pep440_rs::Version;
use serde::Deserialize;

use crate::check::{Check, ConfigError, Context, Deadline, FindingSpec, Kind, KindConfig, Stakes};
use crate::checks::network::{DEFAULT_SLOW, reach_via};
use crate::host::{is_file, read_small};
use crate::net::{
    ProxySetting, Roots, Route, parse_like_pip, proxy_for, proxy_with_scheme, redact,
};
use crate::pip_config::{self, PipConfig};
use crate::platform::proxy;
use crate::python::PythonEnv;
use crate::python::dist::installed;
use crate::report::{Category, Finding, Status};

pub const KIND: Kind = Kind {
    name: "package-index",
    build,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// The project page requested from the index's simple API.
    #[serde(default = "default_project")]
    project: String,
}

fn default_project() -> String {
    "pip".into()
}

fn build(config: KindConfig<'_>) -> Result<Box<dyn Check>, ConfigError> {
    let parsed: Config = config.parse()?;
    Ok(Box::new(PackageIndex {
        project: parsed.project,
    }))
}

struct PackageIndex {
    project: String,
}

pub static INDEX: FindingSpec = FindingSpec::fixed(
    "network.package-index",
    Category::Network,
    "Package index",
    Stakes::Fact,
    [
        "Finds the index pip will use, as pip does (pip's config files merged [global] then [install] across all files, PIP_* variables over them, else pip's default), and requests a project page from it, and from each extra-index-url, with the certificates pip trusts (its vendored certifi bundle before pip 24.2 or on Python 3.9 and older, else the system store; cert, PIP_CERT, REQUESTS_CA_BUNDLE, client-cert and trusted-host honoured) and the proxy pip uses (pip's proxy setting, the proxy variables, else the system proxy on macOS and Windows).",
        "The exam plugin installs the pinned requirements with pip; a blocked or misconfigured index, or a TLS-inspecting proxy whose root pip does not trust, stops the exam project from being set up even when a browser works.",
        "Fix the setting the finding names (`python -m pip config debug` lists the files pip reads and what each sets), or the network path to the index.",
    ],
);

impl Check for PackageIndex {
    fn specs(&self) -> Vec<&FindingSpec> {
        vec![&INDEX]
    }

    fn start_early(&self, ctx: &Arc<Context>) -> Option<JoinHandle<()>> {
        // Offline, the index is not asked and the interpreter not needed.
        if ctx.options.offline {
            return None;
        }
        ctx.start_shared::<PythonEnv>()
    }

    fn run(&self, ctx: &Context, deadline: Deadline) -> Vec<Finding> {
        let spec = &INDEX;
        if ctx.options.offline {
            return vec![spec.finding().skip("not checked (--offline)")];
        }
        let python = ctx.shared::<PythonEnv>();
        let prefix = python
            .probe_ok()
            .map(|p| PathBuf::from(&p.prefix))
            .or_else(|| python.located().and_then(|l| l.venv.clone()));
        let config = pip_config::load(&ctx.host, prefix.as_deref(), "install");
        let mut finding = spec.finding().details(config_details(&config));
        for (path, why) in config.skipped() {
            finding = finding.detail(format!("pip skips {}: {why}", path.display()));
        }
        if let Some((path, why)) = config.blocking().next() {
            return vec![
                finding
                    .observe("config_error", why.to_string())
                    .fail(format!(
                        "pip would hang reading its configuration file {}: {why}",
                        path.display()
                    ))
                    .fix(format!(
                        "Point PIP_CONFIG_FILE at a regular file (or unset it): every pip command waits on {}.",
                        path.display()
                    )),
            ];
        }
        if let Some((path, why)) = config.unreadable().next() {
            return vec![
                finding
                    .observe("config_error", why.to_string())
                    .fail(format!("pip refuses to run: {why}"))
                    .fix(format!(
                        "Correct or remove {}: pip stops with this error before every install.",
                        path.display()
                    )),
            ];
        }
        if let Err(why) = config.check_values() {
            return vec![
                finding
                    .observe("config_error", why.clone())
                    .fail(format!("pip refuses to run: {why}"))
                    .fix("Give timeout a number of seconds and retries a whole number, or remove them (`python -m pip config debug` shows where each is set)."),
            ];
        }
        let no_index = match config.flag("no-index") {
            Ok(found) => found
                .filter(|(on, _)| *on)
                .map(|(_, source)| source.clone()),
            Err(why) => {
                return vec![
                    finding
                        .fail(format!("pip rejects its configuration: {why}"))
                        .fix("Set it to yes or no (true/false, 1/0, on/off), or remove it."),
                ];
            }
        };
        let find_links = config
            .list("find-links")
            .map(|(items, source)| (items, source.clone()));
        if let Some((links, source)) = &find_links {
            let shown: Vec<String> = links.iter().map(|l| redact(l)).collect();
            finding = finding
                .observe("find_links", shown.clone())
                .detail(format!("find-links (from {source}): {}", shown.join(", ")));
        }
        if let Some(source) = no_index {
            finding = finding.observe("no_index", source.to_string());
            return vec![match find_links {
                Some((links, _)) if !links.is_empty() => finding.warn(format!(
                    "no-index (from {source}): pip installs only from find-links, never from an index; they must hold every pinned package"
                )),
                _ => finding
                    .fail(format!(
                        "no-index (from {source}) and no find-links: pip has nowhere to install packages from"
                    ))
                    .fix(format!("Remove no-index from {source}, or give find-links with the pinned packages.")),
            }];
        }
        let pip = PipFacts::gather(ctx, &python);
        let (index, index_source) = match config.get("index-url") {
            Some(setting) => (setting.value.trim().to_string(), setting.source.to_string()),
            None => match pip.default_index() {
                Ok(found) => found,
                Err(reason) => {
                    return vec![finding
                        .fail(format!("cannot tell which index pip uses: {reason}"))
                        .fix("Set the index explicitly (`pip config set global.index-url URL`), or repair pip in the virtualenv (`python -m ensurepip --upgrade`).")];
                }
            },
        };
        finding = finding
            .observe("index", redact(&index))
            .observe("index_source", index_source.clone())
            .detail(format!("index {} (from {index_source})", redact(&index)));
        finding = pip.describe(finding);
        let extras = config
            .list("extra-index-url")
            .map(|(items, source)| (items, source.to_string()))
            .unwrap_or_default();

        // Every index at once, each under the check's deadline, as the network kind does;
        // the system proxy is asked once for all of them.
        let system = OnceLock::new();
        let view = PipView {
            ctx,
            deadline,
            config: &config,
            pip: &pip,
            system: &system,
        };
        let reach = |url: &str, base: Finding| self.check_index(&view, url, base);
        let reach = &reach;
        let (main, probes) = std::thread::scope(|scope| {
            let extra_threads: Vec<_> = extras
                .0
                .iter()
                .map(|extra| scope.spawn(move || reach(extra, spec.finding())))
                .collect();
            let main = reach(&index, finding);
            let probes: Vec<Finding> = extra_threads
                .into_iter()
                .map(|t| {
                    t.join().unwrap_or_else(|_| {
                        spec.finding()
                            .error("could not decide: the request crashed")
                    })
                })
                .collect();
            (main, probes)
        });
        let mut finding = main;
        let mut extra_failures = Vec::new();
        let mut extra_observed = Vec::new();
        for (extra, probe) in extras.0.iter().zip(probes) {
            let shown = redact(extra);
            extra_observed.push(serde_json::json!({
                "url": shown,
                "status": probe.status.as_str(),
                "summary": probe.summary,
            }));
            finding = finding.detail(format!(
                "extra index {shown} (from {}): {}",
                extras.1, probe.summary
            ));
            // A slow extra index still answers: only one that fails is "not reachable".
            if matches!(probe.status, Status::Fail | Status::Error) {
                extra_failures.push(shown);
            }
        }
        if !extras.0.is_empty() {
            finding = finding
                .observe("extra_index_source", extras.1.clone())
                .observe("extra_indexes", extra_observed);
        }
        let summary = format!("{}: {}", redact(&index), finding.summary);
        if matches!(finding.status, Status::Pass | Status::Warn) && !extra_failures.is_empty() {
            // pip only warns about an index it cannot reach and goes on with the others.
            return vec![finding
                .warn(format!(
                    "{summary}; extra index not reachable: {}",
                    extra_failures.join(", ")
                ))
                .fix(format!(
                "pip skips an extra index it cannot reach: packages only there will not install. Fix the network path, or remove it from {}.",
                extras.1
            ))];
        }
        vec![Finding { summary, ..finding }]
    }
}

impl PackageIndex {
    /// Reach `index` as pip would: pip's roots and proxy for that host.
    fn check_index(&self, pip_view: &PipView<'_>, index: &str, finding: Finding) -> Finding {
        let PipView {
            ctx,
            deadline,
            config,
            pip,
            system,
        } = *pip_view;
        let url = format!("{}/{}/", index.trim_end_matches('/'), self.project);
        let parsed = match parse_like_pip(&url) {
            Ok(parsed) => parsed,
            Err(why) => {
                return finding
                    .fail(format!("{} is not a URL pip can use: {why}", redact(index)))
                    .fix("Correct index-url (or extra-index-url) in pip's configuration: `scheme://host/path`.");
            }
        };
        let host_name = parsed.host_str().unwrap_or("").to_string();
        let trusted = trusted_host(config, &host_name, parsed.port());
        if parsed.scheme() == "http" && trusted.is_none() && !is_local(&host_name) {
            return finding
                .fail(format!(
                    "pip ignores {}: plain http to a host that is not a trusted-host",
                    redact(index)
                ))
                .fix("Use the https address of the index, or add its host to trusted-host if plain http is intended.");
        }
        let (proxy, proxy_note) = choose_proxy(ctx, deadline, config, &parsed, system);
        let mut finding = finding;
        if let Some(proxy) = &proxy
            && let Err(why) = parse_like_pip(&proxy_with_scheme(&proxy.url))
        {
            return finding
                .fail(format!(
                    "pip cannot use the proxy {} (from {}): {why}",
                    redact(&proxy.url),
                    proxy.variable
                ))
                .fix("Correct the proxy: a scheme, `//`, the host and its port, as in http://proxy.example:3128 (user and password, when it needs them, before the host and an `@`).");
        }
        // Certificates matter only over TLS: requests loads no bundle for plain http.
        let (roots, client_cert) = if parsed.scheme() == "https" {
            let (roots, trust_note) = choose_roots(
                ctx,
                config,
                pip,
                trusted.as_ref(),
                proxy_note.environment_off,
            );
            finding = finding
                .observe("trust", trust_note.clone())
                .detail(format!("{host_name}: {trust_note}"));
            let client_cert = config.get("client-cert").map(|s| {
                (
                    ctx.host.user_path(std::path::Path::new(s.value.trim())),
                    s.source.to_string(),
                )
            });
            (roots, client_cert)
        } else {
            (Roots::System, None)
        };
        if let Some((path, source)) = &client_cert {
            finding = finding
                .observe("client_cert_source", source.clone())
                .detail(format!(
                    "client certificate {} (from {source})",
                    path.display()
                ));
        }
        if let Some(note) = proxy_note.text {
            finding = finding.detail(note);
        }
        let route = Route {
            proxy,
            roots,
            client_cert: client_cert.map(|(path, _)| path),
        };
        combine(
            finding,
            reach_via(ctx, deadline, &INDEX, &url, DEFAULT_SLOW, &route),
        )
    }
}

/// What the venv's pip is: its version (from its metadata), its vendored certifi bundle,
/// the Python it runs on. Nothing is started beyond the run's one probe.
struct PipFacts {
    version: Option<Version>,
    /// `pip/__init__.py`, when pip is installed.
    package: Option<PathBuf>,
    python: Option<Version>,
}

impl PipFacts {
    fn gather(ctx: &Context, python: &PythonEnv) -> PipFacts {
        let site_packages = python.site_packages(&ctx.host);
        let version = installed(&site_packages, &["pip".to_string()])
            .remove("pip")
            .and_then(|i| i.version.ok());
        let package = python.probe_ok().and_then(|p| p.pip.clone()).or_else(|| {
            site_packages
                .iter()
                .map(|d| d.join("pip").join("__init__.py"))
                .find(|p| is_file(p))
        });
        let python_version = python.probe_ok().and_then(|p| p.version()).or_else(|| {
            python
                .located()
                .and_then(|l| l.pyvenv_cfg.as_ref())
                .and_then(|c| c.version.as_deref())
                .and_then(|v| Version::from_str(v).ok())
        });
        PipFacts {
            version,
            package,
            python: python_version,
        }
    }

    fn certifi(&self) -> Option<PathBuf> {
        let dir = self.package.as_ref()?.parent()?;
        Some(dir.join("_vendor").join("certifi").join("cacert.pem"))
    }

    /// Whether this pip verifies with the system's store (truststore) by default.
    fn truststore(&self, config: &PipConfig) -> Result<bool, String> {
        let listed = |name: &str, item: &str| {
            config
                .list(name)
                .is_some_and(|(items, _)| items.iter().any(|i| i == item))
        };
        let python = self
            .python
            .as_ref()
            .ok_or("the Python version is unknown")?;
        let pip = self.version.as_ref().ok_or("pip's version is unknown")?;
        if *python < Version::new([3, 10]) {
            return Ok(false);
        }
        if *pip >= Version::new([24, 2]) {
            return Ok(!listed("use-deprecated", "legacy-certs"));
        }
        Ok(*pip >= Version::new([22, 2]) && listed("use-feature", "truststore"))
    }

    fn describe(&self, finding: Finding) -> Finding {
        let mut finding = finding;
        if let Some(v) = &self.version {
            finding = finding.observe("pip_version", v.to_string());
        }
        if let Some(v) = &self.python {
            finding = finding.observe("python_version", v.to_string());
        }
        finding
    }

    /// pip's built-in default index, read from its own source.
    fn default_index(&self) -> Result<(String, String), String> {
        let pip_init = self
            .package
            .as_ref()
            .ok_or("pip was not found in the environment and no index-url is configured")?;
        let models = pip_init
            .parent()
            .map(|p| p.join("_internal").join("models").join("index.py"))
            .ok_or("pip's location is unusable")?;
        let source =
            read_small(&models).map_err(|e| format!("cannot read {}: {e}", models.display()))?;
        default_index_in(&source)
            .map(|url| (url, format!("pip's default ({})", models.display())))
            .ok_or_else(|| format!("{} does not name pip's default index", models.display()))
    }
}

/// `reached`'s verdict with `base`'s details and observations before its own.
fn combine(mut base: Finding, reached: Finding) -> Finding {
    base.status = reached.status;
    base.summary = reached.summary;
    base.fix = reached.fix.or(base.fix);
    base.details.extend(reached.details);
    base.observed.extend(reached.observed);
    base
}

/// The `trusted-host` entry that matches this host (and port, when the entry names one).
fn trusted_host(config: &PipConfig, host_name: &str, port: Option<u16>) -> Option<String> {
    let (entries, source) = config.list("trusted-host")?;
    entries
        .iter()
        .find(|entry| match entry.rsplit_once(':') {
            Some((name, p)) if !name.contains(':') || name.starts_with('[') => {
                name.trim_matches(['[', ']'])
                    .eq_ignore_ascii_case(host_name)
                    && p.parse::<u16>().ok() == port
            }
            _ => entry
                .trim_matches(['[', ']'])
                .eq_ignore_ascii_case(host_name),
        })
        .map(|entry| format!("trusted-host {entry} (from {source})"))
}

/// Hosts pip treats as secure origins even over plain http.
fn is_local(host_name: &str) -> bool {
    let bare = host_name.trim_matches(['[', ']']);
    bare == "localhost"
        || bare == "::1"
        || bare
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.octets()[0] == 127)
}

/// The roots pip verifies this index with, and a sentence saying what decided it.
fn choose_roots(
    ctx: &Context,
    config: &PipConfig,
    pip: &PipFacts,
    trusted: Option<&String>,
    environment_off: bool,
) -> (Roots, String) {
    if let Some(trusted) = trusted {
        return (
            Roots::Unverified,
            format!("certificates not verified: {trusted}"),
        );
    }
    let host = &ctx.host;
    // requests reads these variables over pip's own `cert`, unless pip's `proxy` or
    // `no-proxy-env` turned the environment off.
    let environment_bundle = if environment_off {
        None
    } else {
        host.env_any(&["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
            .map(|(name, value)| (value.to_string(), name.to_string()))
    };
    let bundle = environment_bundle.or_else(|| {
        config
            .get("cert")
            .map(|s| (s.value.trim().to_string(), s.source.to_string()))
    });
    let bundle = bundle.map(|(path, source)| (host.user_path(std::path::Path::new(&path)), source));
    let certifi = pip.certifi();
    match pip.truststore(config) {
        Ok(true) => {
            let mut extra: Vec<PathBuf> = certifi.iter().cloned().collect();
            let mut note = "the system's certificate store (pip's truststore)".to_string();
            if let Some((path, source)) = bundle {
                note.push_str(&format!(" plus {} (from {source})", path.display()));
                extra.push(path);
            }
            (Roots::SystemAnd(extra), note)
        }
        decided => {
            let why = match decided {
                Ok(_) => match (&pip.version, &pip.python) {
                    (Some(v), Some(py)) if *py < Version::new([3, 10]) => {
                        format!("pip {v} on Python {py} does not use the system's store")
                    }
                    (Some(v), _) => {
                        format!("pip {v} (before 24.2) does not use the system's store")
                    }
                    _ => "this pip does not use the system's store".to_string(),
                },
                Err(unknown) => format!("{unknown}, so pip's own bundle is assumed"),
            };
            match (bundle, certifi) {
                (Some((path, source)), _) => (
                    Roots::Only(vec![path.clone()]),
                    format!("only {} (from {source}); {why}", path.display()),
                ),
                (None, Some(certifi)) => (
                    Roots::Only(vec![certifi.clone()]),
                    format!(
                        "only pip's vendored certifi bundle {}; {why}",
                        certifi.display()
                    ),
                ),
                (None, None) => (
                    Roots::System,
                    "the system's store: pip's own bundle was not found".to_string(),
                ),
            }
        }
    }
}

/// What pip would see while it reaches an index: shared by every index of one run.
#[derive(Clone, Copy)]
struct PipView<'a> {
    ctx: &'a Context,
    deadline: Deadline,
    config: &'a PipConfig,
    pip: &'a PipFacts,
    system: &'a SystemAnswer,
}

/// The system's proxy, asked at most once per run of the check.
type SystemAnswer = OnceLock<Result<Option<proxy::SystemProxies>, String>>;

/// What decided the proxy.
struct ProxyNote {
    text: Option<String>,
    /// pip's `proxy` or `no-proxy-env` is in force: requests then ignores the environment
    /// (proxy variables, the system proxy and the CA bundle variables).
    environment_off: bool,
}

/// The proxy pip uses for `url`: pip's `proxy` setting, else the proxy variables, else
/// (when no proxy variable is set at all, as in Python's `urllib`) the system's proxy.
fn choose_proxy(
    ctx: &Context,
    deadline: Deadline,
    config: &PipConfig,
    url: &reqwest::Url,
    system: &SystemAnswer,
) -> (Option<ProxySetting>, ProxyNote) {
    let host = &ctx.host;
    if let Some(setting) = config.get("proxy") {
        return (
            Some(ProxySetting {
                variable: "pip's proxy setting",
                url: proxy_with_scheme(setting.value.trim()),
            }),
            ProxyNote {
                text: Some(format!(
                    "proxy {} (from {})",
                    redact(&setting.value),
                    setting.source
                )),
                environment_off: true,
            },
        );
    }
    // pip 26 and later: `--no-proxy-env` ignores every proxy the environment names.
    if let Ok(Some((true, source))) = config.flag("no-proxy-env") {
        return (
            None,
            ProxyNote {
                text: Some(format!("no proxy: no-proxy-env (from {source})")),
                environment_off: true,
            },
        );
    }
    let none = ProxyNote {
        text: None,
        environment_off: false,
    };
    if let Some(proxy) = proxy_for(host, url) {
        return (Some(proxy), none);
    }
    const VARIABLES: &[&str] = &[
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ];
    if host.env_any(VARIABLES).is_some() {
        return (None, none);
    }
    let answer = system.get_or_init(|| {
        // A system lookup is quick; cap it so the request keeps most of the time.
        let timeout = deadline.step().min(std::time::Duration::from_secs(3));
        proxy::gather(host, timeout)
    });
    match answer {
        Ok(Some(system)) => {
            let host_name = url.host_str().unwrap_or("");
            match system.for_url(url.scheme(), host_name) {
                Some(proxy) => (
                    Some(ProxySetting {
                        variable: system.origin,
                        url: proxy.to_string(),
                    }),
                    ProxyNote {
                        text: Some(format!("proxy {} (from {})", redact(proxy), system.origin)),
                        environment_off: false,
                    },
                ),
                None => (
                    None,
                    ProxyNote {
                        text: Some(format!("no proxy for {host_name} in {}", system.origin)),
                        environment_off: false,
                    },
                ),
            }
        }
        Ok(None) => (None, none),
        Err(why) => (
            None,
            ProxyNote {
                text: Some(format!(
                    "the system proxy could not be read ({why}); going direct"
                )),
                environment_off: false,
            },
        ),
    }
}

/// Which files pip read, for the finding's details.
fn config_details(config: &PipConfig) -> Vec<String> {
    if config.files_disabled {
        return vec!["PIP_CONFIG_FILE is the null device: pip reads no configuration file".into()];
    }
    let mut lines: Vec<String> = config
        .read_files()
        .map(|f| format!("pip reads {} ({})", f.path.display(), f.variant.label()))
        .collect();
    if config.user_files_skipped {
        lines.push("PIP_CONFIG_FILE names an existing file: pip skips the user's files".into());
    }
    lines
}

/// pip's built-in default: the URL given to `PyPI = PackageIndex(...)` in its source.
fn default_index_in(source: &str) -> Option<String> {
    let start = source.find("PyPI = PackageIndex(")?;
    let rest = &source[start..];
    let open = rest.find(['"', '\''])?;
    let quote = rest.as_bytes()[open] as char;
    let tail = &rest[open + 1..];
    let end = tail.find(quote)?;
    let base = tail[..end].trim_end_matches('/');
    // pip's simple API lives under `simple/` of that base.
    Some(format!("{base}/simple"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pips_default_from_its_source() {
        let source = "class PackageIndex:\n    pass\n\nPyPI = PackageIndex(\n    \"https://index.example.org/\", file_storage_domain=\"files.example.org\"\n)\n";
        assert_eq!(
            default_index_in(source).as_deref(),
            Some("https://index.example.org/simple")
        );
    }
}
