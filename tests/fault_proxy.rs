//! A fault-injecting HTTP/1.1 proxy for the tests, on 127.0.0.1.
//!
//! Each request that reaches it takes the next fault from a script (and is
//! passed on once the script is used up): pass it on, answer 503 or 429 with `Retry-After` itself (the server never sees
//! the request), cut the connection after a chosen number of body bytes, or
//! stall. It understands just enough HTTP to find where a message ends
//! (`Content-Length` bodies), and counts the body bytes it forwarded, so a
//! test can check that nothing was uploaded twice.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Forward the request and its response untouched.
    Pass,
    /// Answer with this status (e.g. 503) without asking the server.
    Status(u16),
    /// Answer with this status and an XML body, as S3 does
    /// (`<Error><Code>SlowDown</Code>…`).
    Xml(u16, &'static str),
    /// Answer 429 with `Retry-After: <seconds>`.
    TooManyRequests(u64),
    /// Forward the head and this many body bytes, then drop both sides.
    ResetAfter(u64),
    /// Forward the head, then hold the connection silent this long and drop it.
    Stall(Duration),
    /// Forward the request, and replace the answer's `Repr-Digest` with the
    /// SHA-256 of nothing: a server whose verification is broken.
    WrongDigest,
    /// Forward the request, and drop the answer's `Repr-Digest`: a server
    /// that knows sizes but no digests.
    NoDigest,
}

/// `Repr-Digest` of zero bytes.
const EMPTY_DIGEST: &str =
    "Repr-Digest: sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hfuFU=:\r\n";

pub struct FaultProxy {
    pub address: SocketAddr,
    script: Arc<Mutex<VecDeque<Fault>>>,
    seen: Arc<Seen>,
    /// Requests whose line contains the text get the fault (`start_refusing`).
    refuse: Arc<Mutex<Option<(String, Fault)>>>,
}

/// What the proxy counted: body bytes passed on, and request lines.
#[derive(Default)]
struct Seen {
    forwarded: AtomicU64,
    requests: Mutex<Vec<String>>,
}

struct Head {
    text: String,
    content_length: u64,
    /// `Content-Length` was there (else a response runs to the close).
    has_length: bool,
    chunked: bool,
    no_body: bool,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.text
            .lines()
            .filter_map(|line| line.split_once(':'))
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.trim())
    }

    /// A response that never has a body: 1xx, 204, 304.
    fn bodiless_status(&self) -> bool {
        let status = self.text.split(' ').nth(1).unwrap_or("");
        status.starts_with('1') || status == "204" || status == "304"
    }
}

/// Reads a message head; `None` at a clean end of the connection.
fn read_head(reader: &mut impl BufRead) -> Option<Head> {
    let mut text = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let end = line == "\r\n";
        text.push_str(&line);
        if end {
            break;
        }
    }
    let mut head = Head {
        no_body: text.starts_with("HEAD "),
        text,
        content_length: 0,
        has_length: false,
        chunked: false,
    };
    if let Some(length) = head.header("content-length") {
        head.content_length = length.parse().unwrap_or(0);
        head.has_length = true;
    }
    head.chunked = head
        .header("transfer-encoding")
        .is_some_and(|coding| coding.eq_ignore_ascii_case("chunked"));
    Some(head)
}

/// Copies `length` bytes, at most `rate` bytes per second when given;
/// returns how many made it.
fn copy_body(from: &mut impl Read, to: &mut impl Write, length: u64, rate: Option<u64>) -> u64 {
    let mut buffer = vec![0; 64 << 10];
    let mut copied = 0;
    let started = std::time::Instant::now();
    while copied < length {
        if let Some(rate) = rate {
            let due = Duration::from_secs_f64(copied as f64 / rate as f64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        let want = buffer.len().min((length - copied) as usize);
        let Ok(read) = from.read(&mut buffer[..want]) else {
            break;
        };
        if read == 0 || to.write_all(&buffer[..read]).is_err() {
            break;
        }
        copied += read as u64;
    }
    copied
}

impl FaultProxy {
    pub fn start(upstream: SocketAddr, faults: &[Fault]) -> FaultProxy {
        FaultProxy::start_throttled(upstream, faults, None)
    }

    /// Like `start`, passing request bodies on at most `rate` bytes per second.
    pub fn start_throttled(
        upstream: SocketAddr,
        faults: &[Fault],
        rate: Option<u64>,
    ) -> FaultProxy {
        FaultProxy::start_with(upstream, faults, rate, None)
    }

    /// Answers `status` to every request whose request line contains
    /// `needle` (a file's name), and passes the rest on.
    pub fn start_refusing(upstream: SocketAddr, needle: &str, status: u16) -> FaultProxy {
        FaultProxy::start_faulting(upstream, needle, Fault::Status(status))
    }

    /// Gives `fault` to every request whose request line contains
    /// `needle`, and passes the rest on.
    pub fn start_faulting(upstream: SocketAddr, needle: &str, fault: Fault) -> FaultProxy {
        FaultProxy::start_with(upstream, &[], None, Some((needle.to_owned(), fault)))
    }

    fn start_with(
        upstream: SocketAddr,
        faults: &[Fault],
        rate: Option<u64>,
        refuse: Option<(String, Fault)>,
    ) -> FaultProxy {
        let refuse = Arc::new(Mutex::new(refuse));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let proxy = FaultProxy {
            address: listener.local_addr().unwrap(),
            script: Arc::new(Mutex::new(faults.iter().cloned().collect())),
            seen: Arc::default(),
            refuse: refuse.clone(),
        };
        let (script, seen) = (proxy.script.clone(), proxy.seen.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let (script, seen, refuse) = (script.clone(), seen.clone(), refuse.clone());
                std::thread::spawn(move || serve(client, upstream, &script, &seen, rate, &refuse));
            }
        });
        proxy
    }

    /// Passes every request on from now on.
    pub fn stop_refusing(&self) {
        *self.refuse.lock().unwrap() = None;
    }

    /// Body bytes handed to the server so far.
    pub fn forwarded(&self) -> u64 {
        self.seen.forwarded.load(Ordering::SeqCst)
    }

    /// The request line of every request so far (`PUT /path?query HTTP/1.1`).
    pub fn requests(&self) -> Vec<String> {
        self.seen.requests.lock().unwrap().clone()
    }

    /// Faults not yet used.
    pub fn remaining(&self) -> usize {
        self.script.lock().unwrap().len()
    }
}

fn serve(
    client: TcpStream,
    upstream: SocketAddr,
    script: &Mutex<VecDeque<Fault>>,
    seen: &Seen,
    rate: Option<u64>,
    refuse: &Mutex<Option<(String, Fault)>>,
) {
    let mut client_reader = BufReader::new(client.try_clone().unwrap());
    let mut client_writer = client;
    let mut server: Option<(BufReader<TcpStream>, TcpStream)> = None;
    while let Some(request) = read_head(&mut client_reader) {
        let first_line = request.text.lines().next().unwrap_or("").to_owned();
        seen.requests.lock().unwrap().push(first_line.clone());
        let refused = match &*refuse.lock().unwrap() {
            Some((needle, fault)) if first_line.contains(needle.as_str()) => Some(fault.clone()),
            _ => None,
        };
        let fault = refused.or_else(|| script.lock().unwrap().pop_front());
        let canned = match fault {
            Some(Fault::Status(status)) => Some((format!("HTTP/1.1 {status} Injected\r\n"), "")),
            Some(Fault::Xml(status, body)) => Some((
                format!("HTTP/1.1 {status} Injected\r\nContent-Type: application/xml\r\n"),
                body,
            )),
            Some(Fault::TooManyRequests(seconds)) => Some((
                format!("HTTP/1.1 429 Too Many Requests\r\nRetry-After: {seconds}\r\n"),
                "",
            )),
            _ => None,
        };
        if let Some((status, body)) = canned {
            copy_body(
                &mut client_reader,
                &mut std::io::sink(),
                request.content_length,
                None,
            );
            let reply = format!("{status}Content-Length: {}\r\n\r\n{body}", body.len());
            if client_writer.write_all(reply.as_bytes()).is_err() {
                return;
            }
            continue;
        }
        if server.is_none() {
            let Ok(stream) = TcpStream::connect(upstream) else {
                return;
            };
            server = Some((BufReader::new(stream.try_clone().unwrap()), stream));
        }
        let (server_reader, server_writer) = server.as_mut().unwrap();
        if server_writer.write_all(request.text.as_bytes()).is_err() {
            return;
        }
        let limit = match &fault {
            Some(Fault::ResetAfter(bytes)) => request.content_length.min(*bytes),
            Some(Fault::Stall(_)) => 0,
            _ => request.content_length,
        };
        let sent = copy_body(&mut client_reader, server_writer, limit, rate);
        seen.forwarded.fetch_add(sent, Ordering::SeqCst);
        match fault {
            Some(Fault::ResetAfter(_)) => {
                let _ = server_writer.flush();
                let _ = server_writer.shutdown(Shutdown::Both);
                let _ = client_writer.shutdown(Shutdown::Both);
                return;
            }
            Some(Fault::Stall(duration)) => {
                std::thread::sleep(duration);
                let _ = server_writer.shutdown(Shutdown::Both);
                let _ = client_writer.shutdown(Shutdown::Both);
                return;
            }
            _ => {}
        }
        let Some(mut response) = read_head(server_reader) else {
            return;
        };
        if matches!(fault, Some(Fault::NoDigest)) {
            response.text = (response.text.split_inclusive("\r\n"))
                .filter(|line| !line.to_ascii_lowercase().starts_with("repr-digest:"))
                .collect();
        }
        if matches!(fault, Some(Fault::WrongDigest)) {
            response.text = (response.text.split_inclusive("\r\n"))
                .map(
                    |line| match line.to_ascii_lowercase().starts_with("repr-digest:") {
                        true => EMPTY_DIGEST,
                        false => line,
                    },
                )
                .collect();
        }
        if client_writer.write_all(response.text.as_bytes()).is_err() {
            return;
        }
        if request.no_body || response.bodiless_status() {
            continue;
        }
        if response.chunked {
            if !copy_chunked(server_reader, &mut client_writer) {
                return;
            }
        } else if response.has_length {
            copy_body(
                server_reader,
                &mut client_writer,
                response.content_length,
                None,
            );
        } else {
            // The body runs to the close (moto's server does this).
            let _ = std::io::copy(server_reader, &mut client_writer);
            let _ = client_writer.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// Copies a chunked body as it is, through its last chunk and trailers.
fn copy_chunked(from: &mut impl BufRead, to: &mut impl Write) -> bool {
    loop {
        let mut size_line = String::new();
        if from.read_line(&mut size_line).unwrap_or(0) == 0
            || to.write_all(size_line.as_bytes()).is_err()
        {
            return false;
        }
        let size =
            u64::from_str_radix(size_line.trim().split(';').next().unwrap_or(""), 16).unwrap_or(0);
        if size == 0 {
            // Trailers, then the empty line.
            loop {
                let mut line = String::new();
                if from.read_line(&mut line).unwrap_or(0) == 0
                    || to.write_all(line.as_bytes()).is_err()
                {
                    return false;
                }
                if line == "\r\n" {
                    return true;
                }
            }
        }
        if copy_body(from, to, size + 2, None) != size + 2 {
            return false;
        }
    }
}
