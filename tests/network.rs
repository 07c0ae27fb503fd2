//! The `network` and `package-index` kinds against servers this test starts on 127.0.0.1.
//! Nothing here reaches beyond this machine.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use tempfile::TempDir;

#[derive(Clone, Copy)]
enum Mode {
    Ok,
    Error500,
    Hang,
    Proxy407,
    SlowOk(u64),
}

/// An HTTP server on 127.0.0.1 that answers every request as `mode` says and records the
/// request lines it saw.
fn serve(mode: Mode) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let record = Arc::clone(&record);
            std::thread::spawn(move || answer(stream, mode, &record));
        }
    });
    (port, seen)
}

fn answer(mut stream: TcpStream, mode: Mode, record: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&request).to_string();
    record
        .lock()
        .unwrap()
        .push(text.lines().next().unwrap_or("").to_string());
    let body = "x".repeat(4096);
    let response = match mode {
        Mode::Ok => format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()),
        Mode::SlowOk(ms) => {
            std::thread::sleep(Duration::from_millis(ms));
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".to_string()
        }
        Mode::Error500 => "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
        Mode::Proxy407 => "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
        Mode::Hang => {
            std::thread::sleep(Duration::from_secs(30));
            return;
        }
    };
    let _ = stream.write_all(response.as_bytes());
}

/// A port with nothing listening on it.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A TLS server whose certificate is self-signed for `localhost`.
fn serve_self_signed_tls() -> u16 {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let config = Arc::clone(&config);
            std::thread::spawn(move || {
                let connection = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(connection, stream);
                let mut buf = [0u8; 512];
                let _ = tls.read(&mut buf);
            });
        }
    });
    port
}

fn endpoint(id: &str, url: &str) -> String {
    format!(
        "\n[[check]]\nkind = \"network\"\nid = \"{id}\"\ntitle = \"{id}\"\nurl = \"{url}\"\nwhy = \"tests\"\n"
    )
}

fn profile_with(dir: &Path, checks: &str) -> String {
    profile_file(dir, "net.toml", &format!("{PROFILE_HEADER}{checks}"))
        .display()
        .to_string()
}

fn by_id(report: &Value, id: &str) -> Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id}: {report:#}"))
}

#[test]
fn each_failure_is_named_by_its_cause_and_the_section_takes_as_long_as_the_slowest() {
    let dir = TempDir::new().unwrap();
    let (ok, _) = serve(Mode::Ok);
    let (error, _) = serve(Mode::Error500);
    let (hang, _) = serve(Mode::Hang);
    let refused = closed_port();
    let tls = serve_self_signed_tls();
    let checks = [
        endpoint("network.ok", &format!("http://127.0.0.1:{ok}/")),
        endpoint("network.error", &format!("http://127.0.0.1:{error}/")),
        endpoint("network.hang", &format!("http://127.0.0.1:{hang}/")),
        endpoint("network.refused", &format!("http://127.0.0.1:{refused}/")),
        endpoint("network.tls", &format!("https://localhost:{tls}/")),
    ]
    .concat();
    let profile = profile_with(dir.path(), &checks);
    let started = Instant::now();
    let run = run(preflight(dir.path()).args(["--json", "--timeout", "2", "--profile", &profile]));
    let elapsed = started.elapsed();
    let report = json(&run);
    assert_eq!(run.code, 1);
    assert_eq!(by_id(&report, "network.ok")["status"], "pass", "{report:#}");
    assert!(
        by_id(&report, "network.ok")["summary"]
            .as_str()
            .unwrap()
            .starts_with("HTTP 200 in ")
    );
    assert!(
        by_id(&report, "network.error")["summary"]
            .as_str()
            .unwrap()
            .ends_with("answered HTTP 500")
    );
    // The request gets the check's time left less the margin, so the check, not the
    // runner, names the cause.
    let hang = by_id(&report, "network.hang");
    assert_eq!(hang["status"], "fail", "{hang:#}");
    let waited: f64 = hang["summary"]
        .as_str()
        .unwrap()
        .strip_prefix("connected, but no answer within ")
        .and_then(|rest| rest.strip_suffix(" s"))
        .and_then(|secs| secs.parse().ok())
        .unwrap_or_else(|| panic!("{hang:#}"));
    assert!((0.5..=1.6).contains(&waited), "{hang:#}");
    assert_eq!(
        by_id(&report, "network.refused")["summary"],
        "connection refused"
    );
    let tls = by_id(&report, "network.tls");
    assert!(
        tls["summary"]
            .as_str()
            .unwrap()
            .contains("certificate is not trusted"),
        "{tls:#}"
    );
    // Five requests at once: about one deadline (2 s), not the sum of them.
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

#[test]
fn endpoints_run_at_once() {
    let dir = TempDir::new().unwrap();
    let checks: String = (0..4)
        .map(|i| {
            let (port, _) = serve(Mode::SlowOk(600));
            endpoint(
                &format!("network.slow{i}"),
                &format!("http://127.0.0.1:{port}/"),
            )
        })
        .collect();
    let profile = profile_with(dir.path(), &checks);
    let started = Instant::now();
    let run = run(preflight(dir.path()).args(["--json", "--profile", &profile]));
    let elapsed = started.elapsed();
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        elapsed < Duration::from_millis(1800),
        "4 x 600 ms endpoints took {elapsed:?}"
    );
}

#[test]
fn a_timed_download_reports_a_rate_and_an_estimate() {
    let dir = TempDir::new().unwrap();
    let (port, _) = serve(Mode::Ok);
    let checks = format!(
        "{}download_bytes = 4096\nestimate_mb = 100\n",
        endpoint(
            "network.datasets",
            &format!("http://127.0.0.1:{port}/data.json")
        )
    );
    let profile = profile_with(dir.path(), &checks);
    let report = json(&run(preflight(dir.path()).args([
        "--json",
        "--profile",
        &profile,
    ])));
    let finding = by_id(&report, "network.datasets");
    assert_eq!(finding["observed"]["bytes"], 4096);
    assert!(finding["observed"]["bytes_per_second"].as_f64().unwrap() > 0.0);
    assert!(
        finding["summary"]
            .as_str()
            .unwrap()
            .contains("100 MB would take"),
        "{finding:#}"
    );
}

#[test]
fn proxies_are_honoured_reported_and_never_leak_credentials() {
    let dir = TempDir::new().unwrap();
    let (target, target_seen) = serve(Mode::Ok);
    let (proxy, proxy_seen) = serve(Mode::Proxy407);
    let profile = profile_with(
        dir.path(),
        &endpoint(
            "network.via-proxy",
            &format!("http://example.com:{target}/"),
        ),
    );
    let secret = "hunter2-secret";
    let run = run(preflight(dir.path())
        .env(
            "HTTP_PROXY",
            format!("http://ana:{secret}@127.0.0.1:{proxy}"),
        )
        .args(["--json", "--profile", &profile]));
    assert_eq!(run.code, 1);
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "a credential leaked:\n{}",
        run.stdout
    );
    let finding = by_id(&json(&run), "network.via-proxy");
    assert!(
        finding["summary"]
            .as_str()
            .unwrap()
            .contains("proxy demands authentication"),
        "{finding:#}"
    );
    assert_eq!(finding["observed"]["proxy_variable"], "HTTP_PROXY");
    assert_eq!(
        finding["observed"]["proxy"],
        format!("http://***@127.0.0.1:{proxy}/")
    );
    assert_eq!(
        proxy_seen.lock().unwrap().len(),
        1,
        "the request went through the proxy"
    );
    assert!(target_seen.lock().unwrap().is_empty());

    // A proxy that refuses connections, in the lower-case variable.
    let refused = closed_port();
    let run = common::run(
        preflight(dir.path())
            .env(
                "http_proxy",
                format!("http://ana:{secret}@127.0.0.1:{refused}"),
            )
            .args(["--json", "--profile", &profile]),
    );
    assert!(!run.stdout.contains(secret));
    let finding = by_id(&json(&run), "network.via-proxy");
    assert!(
        finding["summary"]
            .as_str()
            .unwrap()
            .starts_with("the proxy refused the connection: http_proxy = http://***@127.0.0.1:"),
        "{finding:#}"
    );

    // NO_PROXY sends the request straight to the target.
    let direct = profile_with(
        dir.path(),
        &endpoint("network.direct", &format!("http://127.0.0.1:{target}/")),
    );
    let run = common::run(
        preflight(dir.path())
            .env("HTTP_PROXY", format!("http://127.0.0.1:{refused}"))
            .env("NO_PROXY", "localhost,127.0.0.1")
            .args(["--json", "--profile", &direct]),
    );
    assert_eq!(by_id(&json(&run), "network.direct")["status"], "pass");
}

#[test]
fn offline_skips_every_network_check_and_opens_no_socket() {
    let dir = TempDir::new().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let checks = format!(
        "{}\n[[check]]\nkind = \"package-index\"\n",
        endpoint("network.local", &format!("http://127.0.0.1:{port}/"))
    );
    let profile = profile_with(dir.path(), &checks);
    let run = run(preflight(dir.path())
        .env("PIP_INDEX_URL", format!("http://127.0.0.1:{port}/simple"))
        .args(["--json", "--offline", "--profile", &profile]));
    assert_eq!(run.code, 0);
    let report = json(&run);
    assert_eq!(
        statuses(&report),
        vec![
            ("network.local".into(), "skip".into()),
            ("network.package-index".into(), "skip".into())
        ]
    );
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a socket was opened"
    );
}

#[test]
fn the_package_index_is_found_as_pip_finds_it() {
    let dir = TempDir::new().unwrap();
    let (env_index, env_seen) = serve(Mode::Ok);
    let (file_index, file_seen) = serve(Mode::Ok);
    let profile = profile_with(dir.path(), "\n[[check]]\nkind = \"package-index\"\n");
    // PIP_INDEX_URL first.
    let run = run(preflight(dir.path())
        .env(
            "PIP_INDEX_URL",
            format!("http://token:s3cr3t@127.0.0.1:{env_index}/simple/"),
        )
        .args(["--json", "--profile", &profile]));
    assert!(!run.stdout.contains("s3cr3t"));
    let finding = by_id(&json(&run), "network.package-index");
    assert_eq!(finding["status"], "pass", "{finding:#}");
    assert_eq!(finding["observed"]["index_source"], "PIP_INDEX_URL");
    assert_eq!(
        env_seen.lock().unwrap().as_slice(),
        ["GET /simple/pip/ HTTP/1.1"]
    );
    // Then pip's config files: the user's pip.conf, [install] over [global].
    let home = dir.path().join("home");
    let conf = home.join(".config/pip/pip.conf");
    std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
    std::fs::write(&conf, format!("[global]\nindex-url = http://127.0.0.1:{env_index}/nope\n[install]\nindex-url = http://127.0.0.1:{file_index}/mirror/simple\n")).unwrap();
    let run = common::run(
        preflight(dir.path())
            .env("HOME", &home)
            .env_remove("PIP_INDEX_URL")
            .args(["--json", "--profile", &profile]),
    );
    let finding = by_id(&json(&run), "network.package-index");
    assert_eq!(
        finding["observed"]["index_source"],
        format!("{} [install]", conf.display()),
        "{finding:#}"
    );
    assert_eq!(
        file_seen.lock().unwrap().as_slice(),
        ["GET /mirror/simple/pip/ HTTP/1.1"]
    );
    // A failing index is a failure with its cause.
    let refused = closed_port();
    let run = common::run(
        preflight(dir.path())
            .env(
                "PIP_INDEX_URL",
                format!("http://127.0.0.1:{refused}/simple"),
            )
            .args(["--json", "--profile", &profile]),
    );
    let summary = by_id(&json(&run), "network.package-index")["summary"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        summary,
        format!("http://127.0.0.1:{refused}/simple: connection refused")
    );
}

#[test]
fn network_profile_mistakes_are_profile_errors() {
    let dir = TempDir::new().unwrap();
    for (checks, expected) in [
        (
            endpoint("datasets", "http://127.0.0.1/"),
            "must be `network.NAME`",
        ),
        (
            endpoint("network.x", "ftp://127.0.0.1/"),
            "is not an http(s) URL",
        ),
        (
            format!(
                "{}estimate_mb = 5\n",
                endpoint("network.x", "http://127.0.0.1/")
            ),
            "needs download_bytes",
        ),
    ] {
        let profile = profile_with(dir.path(), &checks);
        let run = run(preflight(dir.path()).args(["--profile", &profile]));
        assert_eq!(run.code, 2);
        assert!(run.stderr.contains(expected), "{}", run.stderr);
    }
}
