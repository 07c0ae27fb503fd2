//! Loopback HTTP servers for the tests: on 127.0.0.1 only, each connection answered on a
//! thread of its own, no request waited on longer than 5 s.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a server saw, request by request.
pub type Seen = Arc<Mutex<Vec<String>>>;

/// A server that hands every connection, its read deadline set, to `answer` on a thread of
/// its own. Returns its port.
pub fn serve_connections(answer: impl Fn(TcpStream) + Send + Sync + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let answer = Arc::clone(&answer);
            std::thread::spawn(move || answer(stream));
        }
    });
    port
}

/// A server that records each request's first line, then writes what `response` makes of the
/// request's head (nothing, for `None`). Returns its port and the request lines it saw.
pub fn serve(response: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> (u16, Seen) {
    let seen: Seen = Arc::default();
    let record = Arc::clone(&seen);
    let port = serve_connections(move |mut stream| {
        let Some(head) = request_head(&mut stream) else {
            return;
        };
        let line = head.lines().next().unwrap_or("").to_string();
        record.lock().unwrap().push(line);
        if let Some(answer) = response(&head) {
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (port, seen)
}

/// The head of one request, up to its blank line; `None` if the client went away first.
pub fn request_head(stream: &mut impl Read) -> Option<String> {
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    Some(String::from_utf8_lossy(&request).into_owned())
}

/// `200 OK` with `body`, closing the connection.
pub fn ok(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}
