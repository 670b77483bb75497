//! A tiny HTTP/1.1 server on 127.0.0.1 that answers each request by its
//! method from a fixed table, and counts requests per method: for servers
//! that misbehave in one way, forever (always 409, always 404).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};

pub struct ScriptedServer {
    pub address: SocketAddr,
    counts: Arc<Mutex<HashMap<String, u64>>>,
    heads: Arc<Mutex<Vec<String>>>,
}

impl ScriptedServer {
    /// `answers` maps a method to the status line's code and extra header
    /// lines; other methods get 405.
    pub fn start(answers: &[(&str, u16, &str)]) -> ScriptedServer {
        ScriptedServer::start_reading(answers, true)
    }

    /// As `start`, but it answers as soon as it has a request's head,
    /// reading none of its body: a server that claims bytes it never got.
    pub fn start_answering_early(answers: &[(&str, u16, &str)]) -> ScriptedServer {
        ScriptedServer::start_reading(answers, false)
    }

    fn start_reading(answers: &[(&str, u16, &str)], read_bodies: bool) -> ScriptedServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let answers: Vec<(String, u16, String)> = answers
            .iter()
            .map(|(method, status, headers)| (method.to_string(), *status, headers.to_string()))
            .collect();
        let counts = Arc::new(Mutex::new(HashMap::new()));
        let counted = counts.clone();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                    continue;
                }
                let method = request_line.split(' ').next().unwrap_or("").to_owned();
                let mut length = 0u64;
                let mut head = request_line.clone();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                if read_bodies {
                    let _ = std::io::copy(&mut reader.by_ref().take(length), &mut std::io::sink());
                }
                let early = (!read_bodies).then(|| stream.try_clone().unwrap());
                *counted.lock().unwrap().entry(method.clone()).or_insert(0) += 1;
                seen.lock().unwrap().push(head);
                let (status, headers) = answers
                    .iter()
                    .find(|(answered, _, _)| *answered == method)
                    .map(|(_, status, headers)| (*status, headers.clone()))
                    .unwrap_or((405, String::new()));
                let _ = stream.write_all(
                    format!(
                        "HTTP/1.1 {status} Scripted\r\n{headers}Content-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    .as_bytes(),
                );
                if let Some(held) = early {
                    // Held unread a while, as a server busy elsewhere: the
                    // client has its answer with its body still going.
                    std::thread::sleep(std::time::Duration::from_secs(1));
                    drop(held);
                }
            }
        });
        ScriptedServer {
            address,
            counts,
            heads,
        }
    }

    /// Every request's line and header lines, as received.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }

    pub fn count(&self, method: &str) -> u64 {
        self.counts
            .lock()
            .unwrap()
            .get(method)
            .copied()
            .unwrap_or(0)
    }
}
