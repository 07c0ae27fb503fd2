//! A PEP 503 package index on 127.0.0.1 serving tiny wheels built in memory, for the `fix`
//! tests and benchmark. Included with `#[path]`, so it is not a test target of its own.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use sha2::{Digest, Sha256};

/// A pure-Python wheel: `module/__init__.py` with `body`, and a real .dist-info (METADATA,
/// WHEEL, RECORD with sha256 hashes).
pub fn wheel(name: &str, version: &str, body: &str, requires: &[&str]) -> (String, Vec<u8>) {
    let file_name = format!("{name}-{version}-py3-none-any.whl");
    let dist_info = format!("{name}-{version}.dist-info");
    let mut metadata = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
    for r in requires {
        metadata.push_str(&format!("Requires-Dist: {r}\n"));
    }
    let files: Vec<(String, String)> = vec![
        (format!("{name}/__init__.py"), body.to_string()),
        (format!("{dist_info}/METADATA"), metadata),
        (
            format!("{dist_info}/WHEEL"),
            "Wheel-Version: 1.0\nGenerator: preflight-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n".into(),
        ),
    ];
    let mut record = String::new();
    for (path, text) in &files {
        let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(text));
        record.push_str(&format!("{path},sha256={digest},{}\n", text.len()));
    }
    record.push_str(&format!("{dist_info}/RECORD,,\n"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (path, text) in files.iter().chain(std::iter::once(&(
        format!("{dist_info}/RECORD"),
        record.clone(),
    ))) {
        zip.start_file(path.as_str(), options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    (file_name, zip.finish().unwrap().into_inner())
}

/// A PEP 503 index on 127.0.0.1 serving the given wheels, one thread per connection.
pub struct Index {
    pub port: u16,
    /// Requests for `/simple/...` pages seen so far.
    pub page_requests: Arc<AtomicUsize>,
    /// While set, `/simple/` pages are held back (the Ctrl-C test interrupts pip meanwhile).
    pub stall: Arc<AtomicBool>,
}

impl Index {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/simple/", self.port)
    }

    pub fn start(wheels: Vec<(&str, String, Vec<u8>)>) -> Index {
        Index::start_with(wheels, None)
    }

    /// The index over HTTPS, with `tls`'s certificate.
    pub fn start_tls(
        wheels: Vec<(&str, String, Vec<u8>)>,
        tls: Arc<rustls::ServerConfig>,
    ) -> Index {
        Index::start_with(wheels, Some(tls))
    }

    /// `https://127.0.0.1:PORT/simple/` for an index started with [`Index::start_tls`].
    pub fn https_url(&self) -> String {
        format!("https://127.0.0.1:{}/simple/", self.port)
    }

    fn start_with(
        wheels: Vec<(&str, String, Vec<u8>)>,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Index {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut projects: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for (project, file_name, bytes) in wheels {
            let hash: String = Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            projects
                .entry(project.to_string())
                .or_default()
                .push((file_name.clone(), hash));
            files.insert(file_name, bytes);
        }
        let projects = Arc::new(projects);
        let files = Arc::new(files);
        let page_requests = Arc::new(AtomicUsize::new(0));
        let stall = Arc::new(AtomicBool::new(false));
        let index = Index {
            port,
            page_requests: Arc::clone(&page_requests),
            stall: Arc::clone(&stall),
        };
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (projects, files) = (Arc::clone(&projects), Arc::clone(&files));
                let (page_requests, stall) = (Arc::clone(&page_requests), Arc::clone(&stall));
                let tls = tls.clone();
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
                    match tls {
                        None => serve(stream, &projects, &files, &page_requests, &stall),
                        Some(config) => {
                            let Ok(connection) = rustls::ServerConnection::new(config) else {
                                return;
                            };
                            let mut tls = rustls::StreamOwned::new(connection, stream);
                            serve(&mut tls, &projects, &files, &page_requests, &stall);
                            tls.conn.send_close_notify();
                            let _ = tls.flush();
                        }
                    }
                });
            }
        });
        index
    }
}

fn serve(
    mut stream: impl Read + Write,
    projects: &BTreeMap<String, Vec<(String, String)>>,
    files: &BTreeMap<String, Vec<u8>>,
    page_requests: &AtomicUsize,
    stall: &AtomicBool,
) {
    let mut request = Vec::new();
    let mut buffer = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
        if request.len() > 64 * 1024 {
            return;
        }
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (status, content_type, body): (&str, &str, Vec<u8>) =
        if let Some(project) = path.strip_prefix("/simple/") {
            page_requests.fetch_add(1, Ordering::SeqCst);
            let started = Instant::now();
            while stall.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(120) {
                std::thread::sleep(Duration::from_millis(50));
            }
            let project = project.trim_end_matches('/');
            match projects.get(project) {
                Some(wheels) => {
                    let links: String = wheels
                        .iter()
                        .map(|(file, hash)| {
                            format!("<a href=\"/files/{file}#sha256={hash}\">{file}</a><br>\n")
                        })
                        .collect();
                    let page = format!("<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n");
                    ("200 OK", "text/html", page.into_bytes())
                }
                None => ("404 Not Found", "text/plain", b"not found".to_vec()),
            }
        } else if let Some(file) = path.strip_prefix("/files/") {
            match files.get(file) {
                Some(bytes) => ("200 OK", "application/octet-stream", bytes.clone()),
                None => ("404 Not Found", "text/plain", b"not found".to_vec()),
            }
        } else {
            ("404 Not Found", "text/plain", b"not found".to_vec())
        };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
    let _ = stream.flush();
}

/// The exam's two tiny packages: `examlib` imports `examdep`.
pub fn exam_index() -> Index {
    Index::start(exam_wheels())
}

/// `examlib` and `examdep`, for an index of one's own ([`Index::start_tls`]).
pub fn exam_wheels() -> Vec<(&'static str, String, Vec<u8>)> {
    let (lib_file, lib) = wheel(
        "examlib",
        "1.0",
        "import examdep\n__version__ = \"1.0\"\n",
        &["examdep"],
    );
    let (dep_file, dep) = wheel("examdep", "2.0", "__version__ = \"2.0\"\n", &[]);
    vec![("examlib", lib_file, lib), ("examdep", dep_file, dep)]
}
