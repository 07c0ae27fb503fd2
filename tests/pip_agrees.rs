//! `network.package-index` reads pip's settings exactly as pip 23.0.1 reads them: each case
//! gives the real pip (a `python3.8 -m venv` of pyenv's Python 3.8, which bundles pip 23.0.1)
//! and `preflight` the same files and variables, and asserts the same outcome: pip refuses
//! to run, hangs or downloads from a loopback index; `preflight` fails with pip's reason, says
//! pip would hang (without hanging), or passes. Nothing leaves 127.0.0.1. Unix only: pyenv's
//! Pythons make Unix venvs.

// Tests build the machines they judge, with the file calls clippy.toml keeps out of src/.
#![allow(clippy::disallowed_methods)]
#![cfg(unix)]

mod common;
#[path = "support/loopback_index.rs"]
mod loopback_index;

use std::ffi::OsStr;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use common::venv::{make_venv_with_pip, pyenv_python};
use common::*;
use loopback_index::{Index, exam_index, exam_wheels};
use tempfile::TempDir;
use wait_timeout::ChildExt;

/// The pip every case compares with.
const PIP_VERSION: &str = "pip 23.0.1 ";

/// Far above any pip or preflight run here, so a hang fails instead of stalling the test.
const HANG: Duration = Duration::from_secs(120);

/// One venv with pyenv's Python 3.8 and the pip its ensurepip bundles, made once per run of
/// this file under cargo's temporary directory. Every test here needs it, so every test is
/// `#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]` (`--include-ignored` runs them).
fn pip_venv() -> PathBuf {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let python = pyenv_python("3.8");
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pip-agrees-venv-3.8");
        if !dir.join("bin/python").exists() {
            let _ = std::fs::remove_dir_all(&dir);
            make_venv_with_pip(&python, &dir);
        }
        let version = Command::new(dir.join("bin/python"))
            .args(["-I", "-m", "pip", "--version"])
            .env("PIP_CONFIG_FILE", NULL_DEVICE)
            .output()
            .unwrap();
        let version = String::from_utf8_lossy(&version.stdout).to_string();
        assert!(
            version.starts_with(PIP_VERSION),
            "Python 3.8.18's ensurepip bundles pip 23.0.1: {version}"
        );
        dir
    })
    .clone()
}

struct Ran {
    /// `None`: still running at the deadline, and killed.
    code: Option<i32>,
    output: String,
    stdout: String,
}

/// Run `command` to its end, or kill it after `limit`.
fn bounded(command: &mut Command, limit: Duration) -> Ran {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = retry_while_busy(|| command.spawn()).expect("it starts");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stdout.read_to_end(&mut text);
        String::from_utf8_lossy(&text).into_owned()
    });
    let err = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr.read_to_end(&mut text);
        String::from_utf8_lossy(&text).into_owned()
    });
    let code = match child.wait_timeout(limit).unwrap() {
        Some(status) => Some(status.code().unwrap_or(-1)),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            None
        }
    };
    let stdout = out.join().unwrap();
    let stderr = err.join().unwrap();
    Ran {
        code,
        output: format!("{stdout}{stderr}"),
        stdout,
    }
}

/// A case's directory: a home of its own (`home/`, as `preflight()` gives the binary) and
/// the profile.
struct Case {
    dir: TempDir,
    venv: PathBuf,
}

impl Case {
    fn new() -> Case {
        let venv = pip_venv();
        let dir = TempDir::new().unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Case { dir, venv }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The real pip with only `env` and a clean home: `pip ARGS`.
    fn pip(&self, env: &[(&str, &OsStr)], args: &[&str], limit: Duration) -> Ran {
        let mut command = Command::new(self.venv.join("bin/python"));
        command
            .env_clear()
            .current_dir(self.dir.path())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .env("PIP_NO_INPUT", "1")
            .args(["-m", "pip"])
            .args(args);
        for (key, value) in env {
            command.env(key, value);
        }
        bounded(&mut command, limit)
    }

    /// `pip download examlib==1.0` (no dependencies), where the settings point.
    fn pip_download(&self, env: &[(&str, &OsStr)]) -> Ran {
        let into = self.path("downloaded");
        self.pip(
            env,
            &[
                "download",
                "--no-deps",
                "--no-cache-dir",
                "--retries",
                "0",
                "--timeout",
                "20",
                "-d",
                into.to_str().unwrap(),
                "examlib==1.0",
            ],
            HANG,
        )
    }

    /// `preflight`'s package-index finding (as JSON) with the same `env`, asking the index
    /// for `examlib`'s page.
    fn preflight(&self, env: &[(&str, &OsStr)]) -> (Ran, serde_json::Value) {
        let profile = profile_file(
            self.dir.path(),
            "index.toml",
            &format!(
                "{PROFILE_HEADER}\n[[check]]\nkind = \"package-index\"\nproject = \"examlib\"\n"
            ),
        );
        let mut command = preflight(self.dir.path());
        command
            .args(["--json", "--timeout", "30", "--venv"])
            .arg(&self.venv)
            .arg("--profile")
            .arg(&profile);
        for (key, value) in env {
            command.env(key, value);
        }
        let ran = bounded(&mut command, HANG);
        assert!(ran.code.is_some(), "preflight hung: {}", ran.output);
        let report: serde_json::Value = serde_json::from_str(&ran.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", ran.output));
        let finding = finding_in(&report, "network.package-index").clone();
        (ran, finding)
    }
}

fn os(text: &str) -> &OsStr {
    OsStr::new(text)
}

fn summary(finding: &serde_json::Value) -> &str {
    finding["summary"].as_str().unwrap_or_default()
}

/// pip refuses to run with `pip_says`; preflight fails the finding, quoting it.
fn both_refuse(case: &Case, env: &[(&str, &OsStr)], pip_says: &str) {
    let pip = case.pip_download(env);
    assert!(
        pip.code.is_some_and(|c| c != 0) && pip.output.contains(pip_says),
        "pip: {:?}\n{}",
        pip.code,
        pip.output
    );
    let listed = case.pip(env, &["config", "list"], HANG);
    assert!(
        listed.code.is_some_and(|c| c != 0) && listed.output.contains(pip_says),
        "pip config list: {:?}\n{}",
        listed.code,
        listed.output
    );
    let (_, finding) = case.preflight(env);
    assert_eq!(finding["status"], "fail", "{finding:#}");
    assert!(summary(&finding).contains(pip_says), "{finding:#}");
}

/// pip downloads; preflight passes.
fn both_succeed(case: &Case, env: &[(&str, &OsStr)]) {
    let pip = case.pip_download(env);
    assert_eq!(pip.code, Some(0), "pip: {}", pip.output);
    let (_, finding) = case.preflight(env);
    assert_eq!(finding["status"], "pass", "{finding:#}");
}

fn config_file(case: &Case, text: impl AsRef<[u8]>) -> PathBuf {
    let path = case.path("pip.conf");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn a_section_given_twice_stops_pip_and_fails_the_finding() {
    let case = Case::new();
    let index = exam_index();
    let conf = config_file(
        &case,
        format!(
            "[global]\nindex-url = {}\n\n[global]\ntimeout = 20\n",
            index.url()
        ),
    );
    both_refuse(
        &case,
        &[("PIP_CONFIG_FILE", conf.as_os_str())],
        "[line  4]: section 'global' already exists",
    );
}

#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn an_option_given_twice_in_one_section_stops_pip_and_fails_the_finding() {
    let case = Case::new();
    let index = exam_index();
    let conf = config_file(
        &case,
        format!(
            "[global]\nindex-url = {}\nTimeout = 20\n    # a comment between\ntimeout: 30\n",
            index.url()
        ),
    );
    both_refuse(
        &case,
        &[("PIP_CONFIG_FILE", conf.as_os_str())],
        "[line  5]: option 'timeout' in section 'global' already exists",
    );
}

#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn the_same_section_in_two_files_and_an_option_in_two_sections_are_no_duplicates() {
    let case = Case::new();
    let index = exam_index();
    // XDG_CONFIG_DIRS is pip's global file; PIP_CONFIG_FILE the last.
    let global = case.path("xdg/pip/pip.conf");
    std::fs::create_dir_all(global.parent().unwrap()).unwrap();
    std::fs::write(&global, "[global]\ntimeout = 20\n").unwrap();
    let conf = config_file(
        &case,
        format!(
            "[global]\nindex-url = {}\nextra-index-url =\n    {}\n\n[download]\ntimeout = 20\n[install]\ntimeout = 20\n",
            index.url(),
            index.url()
        ),
    );
    let xdg = case.path("xdg");
    both_succeed(
        &case,
        &[
            ("PIP_CONFIG_FILE", conf.as_os_str()),
            ("XDG_CONFIG_DIRS", xdg.as_os_str()),
        ],
    );
}

#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn invalid_utf8_in_a_config_file_stops_pip_and_fails_the_finding() {
    let case = Case::new();
    let index = exam_index();
    let mut text = format!("[global]\nindex-url = {}\n# caf", index.url()).into_bytes();
    text.extend_from_slice(b"\xe9 (Latin-1)\n");
    let conf = config_file(&case, text);
    both_refuse(
        &case,
        &[
            ("PIP_CONFIG_FILE", conf.as_os_str()),
            ("LC_ALL", os("C.UTF-8")),
        ],
        "Configuration file contains invalid UTF-8 characters in",
    );
}

#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn an_invalid_timeout_or_retries_stops_pip_and_fails_the_finding() {
    let case = Case::new();
    let index = exam_index();
    let url = index.url();
    let conf = config_file(
        &case,
        format!("[global]\nindex-url = {url}\ntimeout = 2O\n"),
    );
    both_refuse(
        &case,
        &[("PIP_CONFIG_FILE", conf.as_os_str())],
        "option timeout: invalid floating-point value: '2O'",
    );
    // Overridden by a valid variable, the file's value is still checked.
    both_refuse(
        &case,
        &[
            ("PIP_CONFIG_FILE", conf.as_os_str()),
            ("PIP_TIMEOUT", os("20")),
        ],
        "option timeout: invalid floating-point value: '2O'",
    );
    both_refuse(
        &case,
        &[
            ("PIP_CONFIG_FILE", os(NULL_DEVICE)),
            ("PIP_INDEX_URL", os(&url)),
            ("PIP_RETRIES", os("08")),
        ],
        "option retries: invalid integer value: '08'",
    );
    // What Python reads as numbers, pip accepts: so does preflight.
    let conf = config_file(
        &case,
        format!("[global]\nindex-url = {url}\ntimeout = 1_0e1\nretries = 0x2\n"),
    );
    both_succeed(&case, &[("PIP_CONFIG_FILE", conf.as_os_str())]);
}

/// pip opens a FIFO named by PIP_CONFIG_FILE and waits for a writer before anything else;
/// preflight says so at once.
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn a_fifo_as_pip_config_file_hangs_pip_and_fails_the_finding_without_waiting() {
    let case = Case::new();
    let fifo = case.path("pip.conf");
    common::venv::make_fifo(&fifo);
    let env = [("PIP_CONFIG_FILE", fifo.as_os_str())];
    let pip = case.pip(&env, &["config", "list"], Duration::from_secs(10));
    assert_eq!(pip.code, None, "pip did not wait: {}", pip.output);
    let (_, finding) = case.preflight(&env);
    assert_eq!(finding["status"], "fail", "{finding:#}");
    assert!(
        summary(&finding).contains("pip would hang") && summary(&finding).contains("FIFO"),
        "{finding:#}"
    );
}

/// /dev/zero as PIP_CONFIG_FILE: pip reads it as one endless line until memory runs out (here
/// capped at 512 MiB so the test machine keeps its memory); preflight reads none of it.
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn dev_zero_as_pip_config_file_never_lets_pip_run_and_fails_the_finding() {
    let case = Case::new();
    let env = [("PIP_CONFIG_FILE", os("/dev/zero"))];
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("ulimit -v 524288; exec \"$0\" -m pip config list")
        .arg(case.venv.join("bin/python"))
        .env_clear()
        .env("HOME", case.path("home"))
        .env("PIP_CONFIG_FILE", "/dev/zero");
    let pip = bounded(&mut command, HANG);
    assert!(
        pip.code != Some(0) && !pip.output.contains("global."),
        "pip ran: {:?} {}",
        pip.code,
        pip.output
    );
    let (_, finding) = case.preflight(&env);
    assert_eq!(finding["status"], "fail", "{finding:#}");
    assert!(
        summary(&finding).contains("a character device"),
        "{finding:#}"
    );
}

#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn a_large_valid_config_file_is_read_as_pip_reads_it() {
    let case = Case::new();
    let index = exam_index();
    // 1.8 MB: a generated file with many sections pip reads and ignores, the index last.
    let mut text = String::new();
    let mut n = 0;
    while text.len() < 1_800_000 {
        text.push_str(&format!(
            "[tool-{n}]\nnote = generated by the company's configuration tool, entry {n}\n\n"
        ));
        n += 1;
    }
    text.push_str(&format!("[global]\nindex-url = {}\n", index.url()));
    let conf = config_file(&case, text);
    both_succeed(&case, &[("PIP_CONFIG_FILE", conf.as_os_str())]);
}

/// `http:/host` has no host for pip (browsers and reqwest read it as `http://host`): pip
/// fails, and preflight does not request it.
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn an_index_url_pip_finds_no_host_in_is_not_requested() {
    let case = Case::new();
    let index: Index = exam_index();
    for url in [
        format!("http:/127.0.0.1:{}/simple/", index.port),
        format!("http:\\\\127.0.0.1:{}/simple/", index.port),
    ] {
        let env = [
            ("PIP_CONFIG_FILE", os(NULL_DEVICE)),
            ("PIP_INDEX_URL", os(&url)),
        ];
        let pip = case.pip_download(&env);
        assert!(pip.code.is_some_and(|c| c != 0), "pip: {}", pip.output);
        let before = index
            .page_requests
            .load(std::sync::atomic::Ordering::SeqCst);
        let (_, finding) = case.preflight(&env);
        assert_eq!(finding["status"], "fail", "{url}: {finding:#}");
        assert!(
            summary(&finding).contains("is not a URL pip can use"),
            "{finding:#}"
        );
        assert_eq!(
            index
                .page_requests
                .load(std::sync::atomic::Ordering::SeqCst),
            before,
            "preflight requested {url}"
        );
    }
}

#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn the_control_case_pip_and_preflight_both_reach_the_loopback_index() {
    let case = Case::new();
    let index = exam_index();
    let conf = config_file(&case, format!("[global]\nindex-url = {}\n", index.url()));
    both_succeed(&case, &[("PIP_CONFIG_FILE", conf.as_os_str())]);
}

/// A self-signed certificate for 127.0.0.1 made the common way, `openssl req -x509`, which
/// marks it `CA:TRUE`; and a TLS server configuration showing it.
fn openssl_self_signed(case: &Case) -> (PathBuf, std::sync::Arc<rustls::ServerConfig>) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let (cert, key) = (case.path("index-cert.pem"), case.path("index-key.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let text = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("CA:TRUE"),
        "openssl req -x509 makes a CA certificate"
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let chain = CertificateDer::pem_file_iter(&cert)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(&key).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    (cert, std::sync::Arc::new(config))
}

/// pip (OpenSSL) trusts a certificate that is itself in its trust store, CA or not; so must
/// preflight, through `cert` and `PIP_CERT` alike. Without it, both refuse the index.
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn a_self_signed_openssl_certificate_given_as_cert_is_trusted_as_pip_trusts_it() {
    let case = Case::new();
    let (cert, tls) = openssl_self_signed(&case);
    let index = Index::start_tls(exam_wheels(), tls);
    let url = index.https_url();
    let conf = config_file(
        &case,
        format!("[global]\nindex-url = {url}\ncert = {}\n", cert.display()),
    );
    both_succeed(&case, &[("PIP_CONFIG_FILE", conf.as_os_str())]);
    both_succeed(
        &case,
        &[
            ("PIP_CONFIG_FILE", os(NULL_DEVICE)),
            ("PIP_INDEX_URL", os(&url)),
            ("PIP_CERT", cert.as_os_str()),
        ],
    );
    let untrusted = [
        ("PIP_CONFIG_FILE", os(NULL_DEVICE)),
        ("PIP_INDEX_URL", os(&url)),
    ];
    let pip = case.pip_download(&untrusted);
    assert!(
        pip.code.is_some_and(|c| c != 0)
            && pip.output.contains("CERTIFICATE_VERIFY_FAILED")
            // OpenSSL 1.1 writes "self signed", 3.x "self-signed".
            && pip.output.replace('-', " ").contains("self signed certificate"),
        "pip: {}",
        pip.output
    );
    let (_, finding) = case.preflight(&untrusted);
    assert_eq!(finding["status"], "fail", "{finding:#}");
    assert!(
        summary(&finding).contains("self-signed and not among the certificates trusted"),
        "{finding:#}"
    );
    assert!(
        !finding["fix"]
            .as_str()
            .unwrap()
            .starts_with("Check the machine's clock"),
        "{finding:#}"
    );
}

/// A PIP_CONFIG_FILE whose path is not UTF-8 (a Latin-1 file name): pip opens it and reads
/// it; so does preflight, a bad value in it included.
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn a_config_file_at_a_path_that_is_not_utf8_is_read_as_pip_reads_it() {
    use std::os::unix::ffi::OsStrExt;
    let case = Case::new();
    let index = exam_index();
    let path = case.dir.path().join(OsStr::from_bytes(b"caf\xe9-pip.conf"));
    let env = [("PIP_CONFIG_FILE", path.as_os_str())];
    std::fs::write(&path, format!("[global]\nindex-url = {}\n", index.url())).unwrap();
    both_succeed(&case, &env);
    std::fs::write(
        &path,
        format!("[global]\nindex-url = {}\nretries = many\n", index.url()),
    )
    .unwrap();
    both_refuse(&case, &env, "option retries: invalid integer value: 'many'");
}

/// A PIP_INDEX_URL that is not UTF-8: Python reads the bad byte as a lone surrogate and
/// requests sends it percent-encoded (`E9` as `%ED%B3%A9`); preflight requests the same
/// page, and both are told 404.
#[test]
#[ignore = "needs pyenv's Python 3.8 (pyenv root)"]
fn an_index_url_that_is_not_utf8_is_requested_as_pip_requests_it() {
    use std::os::unix::ffi::OsStrExt;
    let case = Case::new();
    let (port, seen) = common::http::serve(|_| {
        Some("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into())
    });
    let mut url = format!("http://127.0.0.1:{port}/simple/caf").into_bytes();
    url.push(0xe9);
    let env = [
        ("PIP_CONFIG_FILE", os(NULL_DEVICE)),
        ("PIP_INDEX_URL", OsStr::from_bytes(&url)),
    ];
    let pip = case.pip_download(&env);
    assert!(pip.code.is_some_and(|c| c != 0), "pip: {}", pip.output);
    let wanted = "GET /simple/caf%ED%B3%A9/examlib/ HTTP/1.1";
    assert!(
        seen.lock().unwrap().iter().any(|line| line == wanted),
        "pip asked {:?}",
        seen.lock().unwrap()
    );
    seen.lock().unwrap().clear();
    let (_, finding) = case.preflight(&env);
    assert_eq!(finding["status"], "fail", "{finding:#}");
    assert!(summary(&finding).contains("HTTP 404"), "{finding:#}");
    assert_eq!(*seen.lock().unwrap(), [wanted], "preflight's requests");
}
