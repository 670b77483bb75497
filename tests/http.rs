//! A raw HTTP/1.1 client and a `ferry serve` fixture for the receiver tests.
//!
//! Raw sockets rather than an HTTP library: the tests need to send paths no
//! library would (`/files/../x`), stop a body halfway and keep the socket
//! open, or drop it, and see every header exactly as the server wrote it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Response {
    pub status: u16,
    /// Lowercase names.
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// A header that must be there.
    pub fn expect(&self, name: &str) -> &str {
        self.header(name).unwrap_or_else(|| {
            panic!(
                "no {name} in {} {:?} {}",
                self.status, self.headers, self.body
            )
        })
    }

    pub fn offset(&self) -> u64 {
        self.expect("Upload-Offset").parse().unwrap()
    }
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?} {:?}", self.status, self.headers, self.body)
    }
}

/// A request on its own connection.
pub struct Request {
    pub method: &'static str,
    pub target: String,
    pub headers: Vec<(String, String)>,
}

pub fn request(method: &'static str, target: &str) -> Request {
    Request {
        method,
        target: target.to_owned(),
        headers: Vec::new(),
    }
}

impl Request {
    pub fn header(mut self, name: &str, value: impl ToString) -> Request {
        self.headers.push((name.to_owned(), value.to_string()));
        self
    }

    /// Sends the head (with `Content-Length: declared` when given) and
    /// `body`, and leaves the connection open for more.
    pub fn start(&self, server: SocketAddr, declared: Option<u64>, body: &[u8]) -> TcpStream {
        let mut stream = TcpStream::connect(server).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut head = format!("{} {} HTTP/1.1\r\n", self.method, self.target);
        if !self
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("Host"))
        {
            head.push_str(&format!("Host: {server}\r\n"));
        }
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(length) = declared {
            head.push_str(&format!("Content-Length: {length}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
        stream
    }

    /// `send`, for a body the server may refuse before reading it all: it
    /// answers and closes, so writing the rest can fail, and the answer is
    /// read all the same.
    pub fn send_refused(&self, server: SocketAddr, body: &[u8]) -> Response {
        let mut stream = self.start(server, Some(body.len() as u64), b"");
        let _ = stream.write_all(body);
        read_response(&mut stream, false)
    }

    pub fn send(&self, server: SocketAddr, body: &[u8]) -> Response {
        let mut stream = self.start(server, Some(body.len() as u64), body);
        read_response(&mut stream, self.method == "HEAD")
    }
}

/// Reads one response (skipping `100 Continue`).
pub fn read_response(stream: &mut TcpStream, head_only: bool) -> Response {
    let mut reader = BufReader::new(stream);
    loop {
        let mut status_line = String::new();
        reader.read_line(&mut status_line).unwrap();
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .unwrap_or_else(|| panic!("no status line: {status_line:?}"))
            .parse()
            .unwrap();
        let mut headers = BTreeMap::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            headers.insert(name.to_ascii_lowercase(), value.trim().to_owned());
        }
        if status == 100 {
            continue;
        }
        let length: usize = match head_only {
            true => 0,
            false => headers
                .get("content-length")
                .map_or(0, |value| value.parse().unwrap()),
        };
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        return Response {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        };
    }
}

/// A running `ferry serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    pub address: SocketAddr,
    pub dir: PathBuf,
    log: Arc<Mutex<String>>,
}

impl Server {
    pub fn start(dir: &Path, extra: &[&str]) -> Server {
        Server::start_on(dir, "127.0.0.1:0", extra)
    }

    /// A server on a chosen address, so that a restarted one is found again.
    pub fn start_on(dir: &Path, listen: &str, extra: &[&str]) -> Server {
        Server::start_with(dir, listen, extra, &[])
    }

    /// A server with extra environment variables.
    pub fn start_with(dir: &Path, listen: &str, extra: &[&str], envs: &[(&str, &str)]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ferry"))
            .args(["serve", "--listen", listen, "--dir"])
            .envs(envs.iter().copied())
            .arg(dir)
            .args(extra)
            .env_remove("FERRY_SERVE_TOKEN_FILE")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut first = String::new();
        stderr.read_line(&mut first).unwrap();
        let address = first
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .parse()
            .unwrap();
        let log = Arc::new(Mutex::new(first));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in stderr.lines() {
                let Ok(line) = line else { break };
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        Server {
            child,
            address,
            dir: dir.to_owned(),
            log,
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits until the log has a line containing `text`.
    pub fn wait_for_log(&self, text: &str) -> String {
        for _ in 0..400 {
            let log = self.log();
            if log.contains(text) {
                return log;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("no {text:?} in the log:\n{}", self.log())
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// The path part of a `Location`.
    pub fn path_of(location: &str) -> String {
        let rest = location.split("://").nth(1).unwrap_or(location);
        format!("/{}", rest.split_once('/').map_or("", |(_, path)| path))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
