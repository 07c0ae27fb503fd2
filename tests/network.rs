//! The `network` and `package-index` kinds against servers this test starts on 127.0.0.1.
//! Nothing here reaches beyond this machine.

// Tests build the machines they judge, with the file calls clippy.toml keeps out of src/.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use common::http::{self, Seen};
use common::*;
use serde_json::Value;
use tempfile::TempDir;

#[derive(Clone, Copy)]
enum Mode {
    Ok,
    /// Answers 200 after this many milliseconds.
    SlowOk(u64),
    Error500,
    Hang,
    Proxy407,
}

/// An HTTP server on 127.0.0.1 that answers every request as `mode` says and records the
/// request lines it saw.
fn serve(mode: Mode) -> (u16, Seen) {
    http::serve(move |_| answer(mode))
}

fn answer(mode: Mode) -> Option<String> {
    let body = "x".repeat(4096);
    Some(match mode {
        Mode::Ok => http::ok(&body),
        Mode::SlowOk(ms) => {
            std::thread::sleep(Duration::from_millis(ms));
            http::ok(&body)
        }
        Mode::Error500 => "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
        Mode::Proxy407 => "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
        Mode::Hang => {
            std::thread::sleep(Duration::from_secs(30));
            return None;
        }
    })
}

/// An HTTP server on 127.0.0.1 that holds every request until `expected` requests are open
/// at once, then answers them all 200; one still waiting after `patience` is answered 503.
/// Requests made one after another never all get a 200, however fast the machine.
fn serve_when_all_arrived(expected: usize, patience: Duration) -> u16 {
    let arrived = Arc::new((Mutex::new(0usize), Condvar::new()));
    http::serve_connections(move |mut stream| {
        if http::request_head(&mut stream).is_none() {
            return;
        }
        let (count, all_here) = &*arrived;
        let mut count = count.lock().unwrap();
        *count += 1;
        all_here.notify_all();
        let (count, _) = all_here
            .wait_timeout_while(count, patience, |n| *n < expected)
            .unwrap();
        let status = if *count >= expected {
            "200 OK"
        } else {
            "503 Service Unavailable"
        };
        drop(count);
        let _ = stream.write_all(
            format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        );
    })
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
    finding_in(report, id).clone()
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
    // Three seconds: setting up HTTPS (loading the system's roots) takes a debug build about
    // 0.1 s, several times that on a loaded machine, and the requests need time after it.
    let run = run(preflight(dir.path()).args(["--json", "--timeout", "3", "--profile", &profile]));
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
    // The request's own deadline is what the check had left after setup, less a margin to
    // report in: the check names the cause before the runner's deadline passes.
    let hang = by_id(&report, "network.hang");
    assert_eq!(hang["status"], "fail", "{hang:#}");
    let waited: f64 = hang["summary"]
        .as_str()
        .unwrap()
        .strip_prefix("connected, but no answer within ")
        .and_then(|rest| rest.strip_suffix(" s"))
        .and_then(|secs| secs.parse().ok())
        .unwrap_or_else(|| panic!("{hang:#}"));
    assert!(waited > 0.0 && waited < 3.0, "{hang:#}");
    assert_eq!(hang["observed"]["cause"], "NoAnswer");
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
    // Five requests at once: within twice the one deadline they share.
    assert!(elapsed < Duration::from_secs(6), "took {elapsed:?}");
}

#[cfg(unix)]
/// A listener on 127.0.0.1 whose accept queue is full, so a new connection is never opened:
/// Python's `listen(0)` sets the queue's length, which std's listener does not. Ended on drop.
struct FullListener {
    child: std::process::Child,
    port: u16,
}

#[cfg(unix)]
impl FullListener {
    fn start(python: &std::path::Path) -> FullListener {
        let script = "import socket, sys\n\
            s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)\n\
            held = []\n\
            for _ in range(4):\n\
            \x20   c = socket.socket(); c.setblocking(False); c.connect_ex(s.getsockname()); held.append(c)\n\
            print(s.getsockname()[1], flush=True)\n\
            sys.stdin.read()\n";
        let mut child = std::process::Command::new(python)
            .args(["-I", "-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python starts");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let port = line.trim().parse().expect("the listener's port");
        FullListener { child, port }
    }
}

#[cfg(unix)]
impl Drop for FullListener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// The full listener is made by one of pyenv's Pythons, which a Windows test run lacks.
#[cfg(unix)]
#[test]
#[ignore = "needs pyenv's Python 3.12 (pyenv root)"]
fn a_connection_that_never_opens_is_not_called_a_silent_server() {
    let python = common::venv::pyenv_python("3.12");
    let dir = TempDir::new().unwrap();
    let listener = FullListener::start(&python);
    let profile = profile_with(
        dir.path(),
        &endpoint(
            "network.full",
            &format!("http://127.0.0.1:{}/", listener.port),
        ),
    );
    let run = run(preflight(dir.path()).args(["--json", "--timeout", "3", "--profile", &profile]));
    let finding = by_id(&json(&run), "network.full");
    assert_eq!(finding["status"], "fail", "{finding:#}");
    assert_eq!(
        finding["observed"]["cause"], "ConnectTimeout",
        "{finding:#}"
    );
    assert!(
        finding["summary"]
            .as_str()
            .unwrap()
            .starts_with("connection timed out after "),
        "{finding:#}"
    );
}

#[test]
fn endpoints_run_at_once() {
    let dir = TempDir::new().unwrap();
    // Proven by the server, not by a stopwatch: a process start under wine on a loaded
    // machine alone can take longer than any bound tight enough to tell.
    let port = serve_when_all_arrived(4, Duration::from_secs(5));
    let checks: String = (0..4)
        .map(|i| {
            // Answers wait for all four, which a loaded machine may take a while to send:
            // this test is about concurrency, not speed.
            format!(
                "{}slow_ms = 60000\n",
                endpoint(
                    &format!("network.at-once{i}"),
                    &format!("http://127.0.0.1:{port}/{i}"),
                )
            )
        })
        .collect();
    let profile = profile_with(dir.path(), &checks);
    let run = run(preflight(dir.path()).args(["--json", "--profile", &profile]));
    assert_eq!(run.code, 0, "{}", run.stdout);
    let report = json(&run);
    for i in 0..4 {
        let finding = by_id(&report, &format!("network.at-once{i}"));
        assert!(
            finding["summary"]
                .as_str()
                .unwrap()
                .starts_with("HTTP 200 in "),
            "{finding:#}"
        );
    }
}

/// The seconds in "answered in X s, slower than the Y s expected".
fn answered_in(summary: &str) -> f64 {
    summary
        .split("answered in ")
        .nth(1)
        .and_then(|rest| rest.split(" s,").next())
        .and_then(|secs| secs.parse().ok())
        .unwrap_or_else(|| panic!("no answer time in {summary:?}"))
}

#[test]
fn an_answer_slower_than_slow_ms_warns_and_says_how_slow() {
    let dir = TempDir::new().unwrap();
    // The server waits 600 ms before it answers: six times the 100 ms threshold, so a loaded
    // machine cannot turn the slow answer into a fast one. The quick endpoint's threshold is
    // far above anything loopback takes.
    let (slow, _) = serve(Mode::SlowOk(600));
    let (quick, _) = serve(Mode::Ok);
    let checks = format!(
        "{}slow_ms = 100\n{}slow_ms = 5000\n",
        endpoint("network.slow", &format!("http://127.0.0.1:{slow}/")),
        endpoint("network.quick", &format!("http://127.0.0.1:{quick}/")),
    );
    let profile = profile_with(dir.path(), &checks);
    let run = run(preflight(dir.path()).args(["--json", "--profile", &profile]));
    assert_eq!(
        run.code, 0,
        "a warning alone leaves the run ready: {}",
        run.stdout
    );
    let report = json(&run);
    let finding = by_id(&report, "network.slow");
    assert_eq!(finding["status"], "warn", "{finding:#}");
    let summary = finding["summary"].as_str().unwrap();
    assert!(
        summary.ends_with(", slower than the 0.1 s expected"),
        "{summary}"
    );
    assert!(answered_in(summary) >= 0.6, "{summary}");
    assert!(finding["observed"]["latency_ms"].as_u64().unwrap() >= 600);
    assert_eq!(finding["observed"]["slow_ms"], 100);
    assert!(
        finding["fix"].as_str().unwrap().contains("network"),
        "{finding:#}"
    );
    let quick = by_id(&report, "network.quick");
    assert_eq!(quick["status"], "pass", "{quick:#}");
    assert_eq!(quick["observed"]["slow_ms"], 5000);

    // --strict makes the slow answer fail the run.
    let strict =
        common::run(preflight(dir.path()).args(["--json", "--strict", "--profile", &profile]));
    assert_eq!(strict.code, 1);
}

#[test]
fn the_package_index_is_slow_past_the_same_two_second_default() {
    let dir = TempDir::new().unwrap();
    // 2.5 s against the 2 s default: slow whatever the load.
    let (index, _) = serve(Mode::SlowOk(2500));
    let profile = profile_with(dir.path(), "\n[[check]]\nkind = \"package-index\"\n");
    let run = run(preflight(dir.path())
        .env("PIP_INDEX_URL", format!("http://127.0.0.1:{index}/simple"))
        .env("PIP_CONFIG_FILE", NULL_DEVICE)
        .args(["--json", "--profile", &profile]));
    let finding = by_id(&json(&run), "network.package-index");
    assert_eq!(finding["status"], "warn", "{finding:#}");
    let summary = finding["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(&format!("http://127.0.0.1:{index}/simple: answered in ")),
        "{summary}"
    );
    assert!(
        summary.ends_with(", slower than the 2.0 s expected"),
        "{summary}"
    );
    assert!(answered_in(summary) >= 2.5, "{summary}");
    assert_eq!(finding["observed"]["slow_ms"], 2000);
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
        format!("http://***@127.0.0.1:{proxy}")
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

/// pip reads the machine's global files (`/etc/pip.conf`, `/etc/xdg/pip/pip.conf`) before
/// the user's, and so does this test: the user's file, written here, overrides them.
#[test]
fn the_package_index_is_found_as_pip_finds_it_over_this_machines_global_pip_conf() {
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
        .env("PIP_CONFIG_FILE", NULL_DEVICE)
        .args(["--json", "--profile", &profile]));
    assert!(!run.stdout.contains("s3cr3t"));
    let finding = by_id(&json(&run), "network.package-index");
    assert_eq!(finding["status"], "pass", "{finding:#}");
    assert_eq!(finding["observed"]["index_source"], "PIP_INDEX_URL");
    assert_eq!(
        env_seen.lock().unwrap().as_slice(),
        ["GET /simple/pip/ HTTP/1.1"]
    );
    // Then pip's config files: the user's (`%APPDATA%\pip\pip.ini` on Windows,
    // `~/.config/pip/pip.conf` elsewhere), [install] over [global].
    let home = dir.path().join("home");
    let appdata = home.join("AppData").join("Roaming");
    let conf = if cfg!(windows) {
        appdata.join("pip").join("pip.ini")
    } else {
        home.join(".config/pip/pip.conf")
    };
    std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
    std::fs::write(&conf, format!("[global]\nindex-url = http://127.0.0.1:{env_index}/nope\n[install]\nindex-url = http://127.0.0.1:{file_index}/mirror/simple\n")).unwrap();
    let run = common::run(
        preflight(dir.path())
            .env("APPDATA", &appdata)
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
        (
            format!(
                "{}slow_ms = 0\n",
                endpoint("network.x", "http://127.0.0.1/")
            ),
            "net.toml:13: key `slow_ms`: must be a positive whole number of milliseconds",
        ),
        (
            format!(
                "{}slow_ms = -5\n",
                endpoint("network.x", "http://127.0.0.1/")
            ),
            "net.toml:13: key `slow_ms`: must be a positive whole number of milliseconds",
        ),
        (
            format!(
                "{}slow_ms = 1.5\n",
                endpoint("network.x", "http://127.0.0.1/")
            ),
            "net.toml:13: key `slow_ms`: must be a positive whole number of milliseconds",
        ),
        (
            format!(
                "{}slow_ms = \"fast\"\n",
                endpoint("network.x", "http://127.0.0.1/")
            ),
            "net.toml:13: key `slow_ms`: must be a positive whole number of milliseconds",
        ),
    ] {
        let profile = profile_with(dir.path(), &checks);
        let run = run(preflight(dir.path()).args(["--profile", &profile]));
        assert_eq!(run.code, 2);
        assert!(run.stderr.contains(expected), "{}", run.stderr);
    }
}
