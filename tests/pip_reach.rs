//! `network.package-index` reaches the index as pip itself would: pip's merged configuration,
//! the roots this pip trusts, the client certificate it shows. Real `python -m venv` venvs
//! (pyenv's Pythons) hold pip's metadata and its vendored certifi bundle; real TLS servers on
//! 127.0.0.1 answer, signed by certificate authorities made here. Nothing leaves the machine.
//! pyenv's Pythons are Unix programs that make Unix venvs (`bin/`, `lib/pythonX.Y/`), so this
//! file is Unix-only; pip's per-OS file lists and the system proxy parsers are unit-tested on
//! every OS.

// Tests build the machines they judge, with the file calls clippy.toml keeps out of src/.
#![allow(clippy::disallowed_methods)]
#![cfg(unix)]

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::http::{self, Seen};
use common::machine::{Machine, finding, run_profile};
use common::venv::{make_venv, pyenv_python, site_packages};
use preflight::check::RunOptions;
use preflight::report::{Finding, Status};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A certificate authority made for one test.
struct Authority {
    pem: String,
    key_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Authority {
    fn new(name: &str) -> Authority {
        Authority::with_key(name, KeyPair::generate().unwrap())
    }

    /// The same authority again from its key: the name and key are all an issuer needs.
    fn with_key(name: &str, key: KeyPair) -> Authority {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        Authority {
            pem: cert.pem(),
            key_pem: key.serialize_pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A certificate for `name` signed by this authority, and its key.
    fn sign(&self, name: &str) -> (CertificateDer<'static>, PrivateKeyDer<'static>, String) {
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(vec![name.to_string()]).unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let pem = format!("{}{}", cert.pem(), key.serialize_pem());
        (
            cert.der().clone(),
            PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            pem,
        )
    }

    fn write(&self, path: &Path) -> PathBuf {
        std::fs::write(path, &self.pem).unwrap();
        path.to_path_buf()
    }
}

/// An HTTPS server on 127.0.0.1 with a certificate for `localhost` from `authority`; with
/// `clients`, it demands a client certificate from that authority. Records request lines.
fn serve_tls(authority: &Authority, clients: Option<&Authority>) -> (u16, Seen) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (cert, key, _) = authority.sign("localhost");
    let builder = rustls::ServerConfig::builder();
    let builder = match clients {
        Some(clients) => {
            let mut roots = rustls::RootCertStore::empty();
            let der =
                rustls::pki_types::CertificateDer::from_pem_slice(clients.pem.as_bytes()).unwrap();
            roots.add(der).unwrap();
            builder.with_client_cert_verifier(
                rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
                    .build()
                    .unwrap(),
            )
        }
        None => builder.with_no_client_auth(),
    };
    let config = Arc::new(builder.with_single_cert(vec![cert], key).unwrap());
    let seen: Seen = Arc::default();
    let record = Arc::clone(&seen);
    let port = http::serve_connections(move |stream| {
        let connection = rustls::ServerConnection::new(Arc::clone(&config)).unwrap();
        let mut tls = rustls::StreamOwned::new(connection, stream);
        let Some(head) = http::request_head(&mut tls) else {
            return;
        };
        let line = head.lines().next().unwrap_or("").to_string();
        record.lock().unwrap().push(line);
        let _ = tls.write_all(http::ok("ok").as_bytes());
        let _ = tls.flush();
    });
    (port, seen)
}

/// A plain HTTP server on 127.0.0.1 that answers 200 and records request lines.
fn serve_http() -> (u16, Seen) {
    http::serve(|_| Some(http::ok("ok")))
}

fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real venv (no pip installed by ensurepip) with pip laid down as pip installs itself:
/// its `.dist-info` metadata, its package, its vendored certifi bundle holding `vendored`,
/// and its default index in `_internal/models/index.py`. Fails where pyenv has no Python
/// `minor`.
fn venv_with_pip(
    dir: &Path,
    minor: &str,
    pip: &str,
    vendored: &str,
    default_index: &str,
) -> PathBuf {
    let python = pyenv_python(minor);
    let venv = make_venv(&python, &dir.join(format!("venv-{minor}-pip{pip}")));
    let site = site_packages(&venv);
    let dist = site.join(format!("pip-{pip}.dist-info"));
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("METADATA"),
        format!("Metadata-Version: 2.1\nName: pip\nVersion: {pip}\nSummary: The PyPA recommended tool for installing Python packages.\nRequires-Python: >=3.8\n"),
    )
    .unwrap();
    let package = site.join("pip");
    std::fs::create_dir_all(package.join("_vendor/certifi")).unwrap();
    std::fs::create_dir_all(package.join("_internal/models")).unwrap();
    std::fs::write(
        package.join("__init__.py"),
        format!("__version__ = \"{pip}\"\n"),
    )
    .unwrap();
    std::fs::write(package.join("_vendor/certifi/cacert.pem"), vendored).unwrap();
    std::fs::write(
        package.join("_internal/models/index.py"),
        format!("class PackageIndex:\n    pass\n\n\nPyPI = PackageIndex(\n    \"{default_index}\", file_storage_domain=\"files.invalid\"\n)\n"),
    )
    .unwrap();
    venv
}

const PROFILE: &str = "\n[[check]]\nkind = \"package-index\"\n";

/// The package-index check on machine `m` with `env` added and `venv` as `--venv`.
fn package_index(m: &Machine, venv: &Path, env: &[(&str, &str)]) -> Finding {
    let mut host = m.host();
    for (key, value) in env {
        host.set_env(key, value);
    }
    let options = RunOptions {
        venv: Some(venv.to_path_buf()),
        timeout: Duration::from_secs(20),
        ..RunOptions::default()
    };
    finding(
        &run_profile(host, PROFILE, options),
        "network.package-index",
    )
    .clone()
}

fn observed<'a>(finding: &'a Finding, key: &str) -> &'a str {
    finding.observed[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key}: {finding:#?}"))
}

#[test]
#[ignore = "needs pyenv's Python 3.12 (pyenv root)"]
fn a_custom_authority_is_accepted_only_through_pips_own_settings() {
    let m = Machine::linux();
    let corp = Authority::new("Corp Inspecting Proxy CA");
    let public = Authority::new("Some Public Root");
    let (port, seen) = serve_tls(&corp, None);
    let index = format!("https://localhost:{port}/simple");
    let corp_pem = corp.write(&m.root().join("corp-ca.pem"));
    let corp_pem = corp_pem.to_str().unwrap();
    let venv = venv_with_pip(m.root(), "3.12", "23.2.1", &public.pem, &index);

    // pip 23.2.1 trusts its vendored bundle only: the corporate root is not in it.
    let finding = package_index(&m, &venv, &[("PIP_INDEX_URL", &index)]);
    assert_eq!(finding.status, Status::Fail, "{finding:#?}");
    assert!(finding.summary.contains("not trusted"), "{finding:#?}");
    assert!(
        observed(&finding, "trust").starts_with("only pip's vendored certifi bundle"),
        "{finding:#?}"
    );
    assert_eq!(observed(&finding, "pip_version"), "23.2.1");

    // PIP_CERT replaces the bundle, and the finding says so.
    let finding = package_index(
        &m,
        &venv,
        &[("PIP_INDEX_URL", &index), ("PIP_CERT", corp_pem)],
    );
    assert_eq!(finding.status, Status::Pass, "{finding:#?}");
    assert!(
        observed(&finding, "trust").contains("(from PIP_CERT)"),
        "{finding:#?}"
    );

    // requests reads REQUESTS_CA_BUNDLE over pip's own `cert`.
    let m = m.file(
        venv.join("pip.conf"),
        "[global]\ncert = /nonexistent/bundle.pem\n",
    );
    let finding = package_index(
        &m,
        &venv,
        &[("PIP_INDEX_URL", &index), ("REQUESTS_CA_BUNDLE", corp_pem)],
    );
    assert_eq!(finding.status, Status::Pass, "{finding:#?}");
    assert!(
        observed(&finding, "trust").contains("(from REQUESTS_CA_BUNDLE)"),
        "{finding:#?}"
    );
    // `no-proxy-env` turns the environment off, CA bundle variables included.
    let finding = package_index(
        &m,
        &venv,
        &[
            ("PIP_INDEX_URL", &index),
            ("REQUESTS_CA_BUNDLE", corp_pem),
            ("PIP_NO_PROXY_ENV", "1"),
        ],
    );
    assert_eq!(finding.status, Status::Fail, "{finding:#?}");
    assert!(
        finding.summary.contains("/nonexistent/bundle.pem"),
        "{finding:#?}"
    );
    // Without it, the missing `cert` file breaks pip, and the finding names the file.
    let finding = package_index(&m, &venv, &[("PIP_INDEX_URL", &index)]);
    assert_eq!(finding.status, Status::Fail, "{finding:#?}");
    assert!(
        finding.summary.contains("/nonexistent/bundle.pem"),
        "{finding:#?}"
    );

    // trusted-host in the venv's own pip.conf turns verification off for that host.
    let m = m.file(
        venv.join("pip.conf"),
        format!("[global]\ntrusted-host = localhost:{port}\n"),
    );
    let finding = package_index(&m, &venv, &[("PIP_INDEX_URL", &index)]);
    assert_eq!(finding.status, Status::Pass, "{finding:#?}");
    assert_eq!(
        observed(&finding, "trust"),
        format!(
            "certificates not verified: trusted-host localhost:{port} (from {} [global])",
            venv.join("pip.conf").display()
        )
    );
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .all(|l| l == "GET /simple/pip/ HTTP/1.1")
    );
}

#[test]
#[ignore = "needs pyenv's Python 3.12 (pyenv root)"]
fn a_client_certificate_is_shown_when_pip_is_told_to() {
    let m = Machine::linux();
    let server_ca = Authority::new("Index CA");
    let client_ca = Authority::new("Client CA");
    let (port, _) = serve_tls(&server_ca, Some(&client_ca));
    let index = format!("https://localhost:{port}/simple");
    let ca = server_ca.write(&m.root().join("index-ca.pem"));
    let (_, _, client_pem) = client_ca.sign("ana");
    let client = m.root().join("client.pem");
    std::fs::write(&client, client_pem).unwrap();
    let venv = venv_with_pip(m.root(), "3.12", "23.2.1", &server_ca.pem, &index);
    let base = [
        ("PIP_INDEX_URL", index.as_str()),
        ("PIP_CERT", ca.to_str().unwrap()),
    ];

    let finding = package_index(&m, &venv, &base);
    assert_eq!(finding.status, Status::Fail, "{finding:#?}");

    let mut with_client = base.to_vec();
    with_client.push(("PIP_CLIENT_CERT", client.to_str().unwrap()));
    let finding = package_index(&m, &venv, &with_client);
    assert_eq!(finding.status, Status::Pass, "{finding:#?}");
    assert_eq!(observed(&finding, "client_cert_source"), "PIP_CLIENT_CERT");
}

// Written the way such files are kept on company machines: a global file pointing every
// install at a mirror, a user file with its own index and extra indexes in a continued list.
const GLOBAL_PIP_CONF: &str = "# Managed by IT. Local changes will be overwritten.
[global]
timeout = 60
index-url = http://127.0.0.1:{global_global}/artifactory/api/pypi/pypi-remote/simple

[install]
index-url = http://127.0.0.1:{global_install}/artifactory/api/pypi/pypi-remote/simple
";

const USER_PIP_CONF: &str = "[global]
index-url = http://127.0.0.1:{user_global}/simple
extra-index-url =
    http://127.0.0.1:{extra_ok}/simple
    http://127.0.0.1:{extra_refused}/simple
[list]
format = columns
";

#[test]
#[ignore = "needs pyenv's Python 3.12 (pyenv root)"]
fn settings_merge_across_files_as_pip_merges_them() {
    let m = Machine::linux();
    let (global_install, install_seen) = serve_http();
    let (extra_ok, extra_seen) = serve_http();
    let (default_port, default_seen) = serve_http();
    let refused = closed_port();
    let fill = |text: &str| {
        text.replace("{global_global}", &refused.to_string())
            .replace("{global_install}", &global_install.to_string())
            .replace("{user_global}", &refused.to_string())
            .replace("{extra_ok}", &extra_ok.to_string())
            .replace("{extra_refused}", &refused.to_string())
    };
    let m = m
        .file("etc/xdg/pip/pip.conf", fill(GLOBAL_PIP_CONF))
        .file("home/ada/.config/pip/pip.conf", fill(USER_PIP_CONF));
    let venv = venv_with_pip(
        m.root(),
        "3.12",
        "23.2.1",
        "",
        &format!("http://127.0.0.1:{default_port}/"),
    );

    // [install] of the global file beats [global] of the later user file.
    let finding = package_index(&m, &venv, &[]);
    assert_eq!(
        observed(&finding, "index_source"),
        format!("{} [install]", m.path("etc/xdg/pip/pip.conf").display())
    );
    assert_eq!(
        install_seen.lock().unwrap().as_slice(),
        ["GET /artifactory/api/pypi/pypi-remote/simple/pip/ HTTP/1.1"],
        "{finding:#?}"
    );
    // Both extra indexes are tried; the unreachable one makes a warning, not a failure.
    assert_eq!(extra_seen.lock().unwrap().len(), 1);
    assert_eq!(finding.status, Status::Warn, "{finding:#?}");
    assert!(
        finding.summary.contains(&format!(
            "extra index not reachable: http://127.0.0.1:{refused}/simple"
        )),
        "{finding:#?}"
    );
    let extras = finding.observed["extra_indexes"].as_array().unwrap();
    assert_eq!(extras.len(), 2);
    assert_eq!(extras[0]["status"], "pass");

    // A variable beats every file.
    let finding = package_index(
        &m,
        &venv,
        &[(
            "PIP_EXTRA_INDEX_URL",
            &format!("http://127.0.0.1:{extra_ok}/simple"),
        )],
    );
    assert_eq!(finding.status, Status::Pass, "{finding:#?}");
    assert_eq!(
        observed(&finding, "extra_index_source"),
        "PIP_EXTRA_INDEX_URL"
    );

    // PIP_CONFIG_FILE=/dev/null: no file at all, so pip's own default index.
    let finding = package_index(&m, &venv, &[("PIP_CONFIG_FILE", "/dev/null")]);
    assert_eq!(finding.status, Status::Pass, "{finding:#?}");
    assert!(observed(&finding, "index_source").starts_with("pip's default"));
    assert_eq!(default_seen.lock().unwrap().len(), 1);
    assert!(
        finding
            .details
            .iter()
            .any(|d| d.contains("pip reads no configuration file")),
        "{finding:#?}"
    );
}

#[test]
#[ignore = "needs pyenv's Python 3.12 (pyenv root)"]
fn no_index_find_links_and_insecure_indexes_are_judged_as_pip_would() {
    let m = Machine::linux();
    let venv = venv_with_pip(m.root(), "3.12", "23.2.1", "", "http://127.0.0.1:9/");
    let conf = venv.join("pip.conf");

    let m = m.file(&conf, "[install]\nno-index = true\n");
    let finding = package_index(&m, &venv, &[]);
    assert_eq!(finding.status, Status::Fail, "{finding:#?}");
    assert!(finding.summary.contains("nowhere to install packages from"));

    let m = m.file(&conf, "[install]\nno-index = yes\nfind-links = /srv/wheels https://token:s3cret@wheels.example/?sig=abc\n");
    let finding = package_index(&m, &venv, &[]);
    assert_eq!(finding.status, Status::Warn, "{finding:#?}");
    let shown = format!("{:?}", finding);
    assert!(
        !shown.contains("s3cret") && !shown.contains("sig=abc"),
        "{shown}"
    );

    let m = m.file(&conf, "[global]\nno-index = maybe\n");
    let finding = package_index(&m, &venv, &[]);
    assert_eq!(finding.status, Status::Fail, "{finding:#?}");
    assert!(finding.summary.contains("not a yes/no value"));

    // pip ignores a plain-http index on a host that is neither local nor trusted.
    let m = m.file(
        &conf,
        "[global]\nindex-url = http://mirror.example/simple\n",
    );
    let finding = package_index(&m, &venv, &[]);
    assert_eq!(finding.status, Status::Fail, "{finding:#?}");
    assert!(finding.summary.contains("plain http"), "{finding:#?}");

    // A file pip cannot parse stops pip, and so fails here, naming the file.
    let m = m.file(&conf, "index-url = http://127.0.0.1:9/simple\n");
    let finding = package_index(&m, &venv, &[]);
    assert_eq!(finding.status, Status::Fail, "{finding:#?}");
    assert!(finding.summary.contains(&conf.display().to_string()));
}

/// The system's store is the process's own (`SSL_CERT_FILE` on Linux), so this scenario runs
/// in a child test process, this test started again with that variable.
#[test]
#[ignore = "needs pyenv's Pythons 3.9, 3.12 and 3.13 (pyenv root)"]
fn a_certifi_only_pip_rejects_a_root_only_the_system_store_has() {
    let (Some(ca), Some(key)) = (
        std::env::var_os("PIP_REACH_CA"),
        std::env::var_os("PIP_REACH_CA_KEY"),
    ) else {
        return start_in_a_child_with_the_system_store();
    };
    let key = KeyPair::from_pem(&std::fs::read_to_string(&key).unwrap()).unwrap();
    // Signed anew with the same name and key: the system's store (SSL_CERT_FILE = `ca`)
    // trusts what this issuer signs.
    let corp = Authority::with_key("Corp Inspecting Proxy CA", key);
    assert!(std::path::Path::new(&ca).is_file());
    let public = Authority::new("Some Public Root");
    let (port, _) = serve_tls(&corp, None);
    let index = format!("https://localhost:{port}/simple");
    let m = Machine::linux();

    // pip 24.2 on Python 3.13 uses the system's store (truststore): it holds the root.
    let venv = venv_with_pip(m.root(), "3.13", "24.2", &public.pem, &index);
    let finding = package_index(&m, &venv, &[("PIP_INDEX_URL", &index)]);
    assert_eq!(finding.status, Status::Pass, "{finding:#?}");
    assert!(observed(&finding, "trust").starts_with("the system's certificate store"));

    // pip 23.2.1 on Python 3.12 trusts only its vendored bundle: it fails as pip would.
    let venv = venv_with_pip(m.root(), "3.12", "23.2.1", &public.pem, &index);
    let finding = package_index(&m, &venv, &[("PIP_INDEX_URL", &index)]);
    assert_eq!(finding.status, Status::Fail, "{finding:#?}");
    assert!(finding.summary.contains("not trusted"), "{finding:#?}");
    assert!(
        observed(&finding, "trust").contains("pip 23.2.1 (before 24.2)"),
        "{finding:#?}"
    );

    // pip 24.2 on Python 3.9 has no truststore either.
    let venv = venv_with_pip(m.root(), "3.9", "24.2", &public.pem, &index);
    let finding = package_index(&m, &venv, &[("PIP_INDEX_URL", &index)]);
    assert_eq!(finding.status, Status::Fail, "{finding:#?}");
    assert!(
        observed(&finding, "trust").contains("on Python 3.9"),
        "{finding:#?}"
    );

    // `--use-deprecated=legacy-certs` turns truststore off again.
    let venv = m.root().join("venv-3.13-pip24.2");
    let finding = package_index(
        &m,
        &venv,
        &[
            ("PIP_INDEX_URL", &index),
            ("PIP_USE_DEPRECATED", "legacy-certs"),
        ],
    );
    assert_eq!(finding.status, Status::Fail, "{finding:#?}");
}

/// [`a_certifi_only_pip_rejects_a_root_only_the_system_store_has`] again, in a child test
/// process whose system store (`SSL_CERT_FILE`) holds a corporate root.
fn start_in_a_child_with_the_system_store() {
    let m = Machine::linux();
    let corp = Authority::new("Corp Inspecting Proxy CA");
    let corp_pem = corp.write(&m.root().join("corp-ca.pem"));
    let key = m.root().join("corp-ca.key");
    std::fs::write(&key, &corp.key_pem).unwrap();
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_certifi_only_pip_rejects_a_root_only_the_system_store_has",
            "--ignored",
            "--nocapture",
        ])
        .env("SSL_CERT_FILE", &corp_pem)
        .env("PIP_REACH_CA", &corp_pem)
        .env("PIP_REACH_CA_KEY", &key)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{text}");
    assert!(text.contains("1 passed"), "{text}");
}

#[test]
#[ignore = "needs pyenv's Python 3.12 (pyenv root)"]
fn pips_own_proxy_setting_wins_over_the_environment() {
    let m = Machine::linux();
    let (proxy, proxy_seen) = serve_http();
    let refused = closed_port();
    let venv = venv_with_pip(m.root(), "3.12", "23.2.1", "", "http://127.0.0.1:9/");
    // Written without a scheme, as pip allows.
    let m = m.file(
        venv.join("pip.conf"),
        format!("[global]\nproxy = 127.0.0.1:{proxy}\n"),
    );
    let index = format!("http://127.0.0.1:{refused}/simple");
    let env_proxy = format!("http://127.0.0.1:{refused}");
    let finding = package_index(
        &m,
        &venv,
        &[("PIP_INDEX_URL", &index), ("HTTP_PROXY", &env_proxy)],
    );
    assert_eq!(finding.status, Status::Pass, "{finding:#?}");
    assert_eq!(
        proxy_seen.lock().unwrap().as_slice(),
        [format!(
            "GET http://127.0.0.1:{refused}/simple/pip/ HTTP/1.1"
        )]
    );
    assert!(
        finding
            .details
            .iter()
            .any(|d| d.starts_with(&format!("proxy 127.0.0.1:{proxy} (from "))),
        "{finding:#?}"
    );
}

/// The package-index check on machine `m` with `env` added, and no Python environment.
fn package_index_without_venv(m: &Machine, env: &[(&str, &str)]) -> Finding {
    package_index(m, &m.path("no-venv-here"), env)
}

#[test]
fn the_macos_system_proxy_is_asked_through_scutil_when_no_variable_names_one() {
    let (proxy, proxy_seen) = serve_http();
    let refused = closed_port();
    // `scutil --proxy` as macOS prints it with a manual web proxy; a script stands in for
    // /usr/sbin/scutil under the simulated root.
    let m = Machine::macos().executable(
        "usr/sbin/scutil",
        &format!(
            "#!/bin/sh\n[ \"$1\" = --proxy ] || exit 2\ncat <<'EOF'\n<dictionary> {{\n  ExceptionsList : <array> {{\n    0 : *.local\n    1 : 169.254/16\n  }}\n  FTPPassive : 1\n  HTTPEnable : 1\n  HTTPPort : {proxy}\n  HTTPProxy : 127.0.0.1\n  HTTPSEnable : 0\n}}\nEOF\n"
        ),
    );
    let index = format!("http://127.0.0.1:{refused}/simple");
    let env = [("PIP_INDEX_URL", index.as_str())];
    let finding = package_index_without_venv(&m, &env);
    assert_eq!(finding.status, Status::Pass, "{finding:#?}");
    assert_eq!(
        proxy_seen.lock().unwrap().as_slice(),
        [format!(
            "GET http://127.0.0.1:{refused}/simple/pip/ HTTP/1.1"
        )]
    );
    assert_eq!(
        finding.observed["proxy_variable"],
        "the macOS system proxy (scutil --proxy)"
    );

    // A proxy variable, even for the other scheme, keeps urllib from asking the system.
    let mut with_variable = env.to_vec();
    with_variable.push(("HTTPS_PROXY", "http://127.0.0.1:9"));
    let finding = package_index_without_venv(&m, &with_variable);
    assert_eq!(finding.status, Status::Fail, "{finding:#?}");
    assert_eq!(finding.summary, format!("{index}: connection refused"));
}

#[test]
fn the_windows_internet_settings_proxy_is_read_with_reg_query() {
    let (proxy, proxy_seen) = serve_http();
    let refused = closed_port();
    // `reg query` as Windows prints it; a script stands in for %SystemRoot%\System32\reg.exe.
    let m = Machine::windows().executable(
        "Windows/System32/reg.exe",
        &format!(
            "#!/bin/sh\n[ \"$1\" = query ] || exit 2\nprintf '\\r\\nHKEY_CURRENT_USER\\\\Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Internet Settings\\r\\n    IE5_UA_Backup_Flag    REG_SZ    5.0\\r\\n    ProxyEnable    REG_DWORD    0x1\\r\\n    ProxyServer    REG_SZ    http=127.0.0.1:{proxy};https=127.0.0.1:{proxy}\\r\\n    ProxyOverride    REG_SZ    <local>\\r\\n\\r\\nHKEY_CURRENT_USER\\\\Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Internet Settings\\\\5.0\\r\\n'\n"
        ),
    );
    let system_root = m.path("Windows");
    let m = m.env("SystemRoot", system_root);
    let index = format!("http://127.0.0.1:{refused}/simple");
    let finding = package_index_without_venv(&m, &[("PIP_INDEX_URL", &index)]);
    assert_eq!(finding.status, Status::Pass, "{finding:#?}");
    assert_eq!(
        proxy_seen.lock().unwrap().as_slice(),
        [format!(
            "GET http://127.0.0.1:{refused}/simple/pip/ HTTP/1.1"
        )]
    );
    assert_eq!(
        finding.observed["proxy_variable"],
        "the Windows Internet Settings proxy (registry)"
    );
}
