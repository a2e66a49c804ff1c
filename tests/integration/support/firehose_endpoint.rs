//! A Firehose HTTP endpoint on loopback for the tests: records every request (method, path,
//! headers with lower-cased names, body gunzipped when it came with `Content-Encoding: gzip`) and
//! answers as the test chooses: as a Firehose endpoint must (200, JSON echoing the request's
//! `requestId`, with a `timestamp`), or with a fixed status and body.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// One request the endpoint got.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: BTreeMap<String, String>,
    /// As sent on the wire.
    pub raw_body: Vec<u8>,
    /// Gunzipped when `Content-Encoding: gzip`.
    pub body: Vec<u8>,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The records' data, base64-decoded, as text.
    pub fn records(&self) -> Vec<String> {
        self.json()["records"]
            .as_array()
            .map(|records| {
                records
                    .iter()
                    .map(|r| {
                        let data = aws_smithy_types::base64::decode(
                            r["data"].as_str().unwrap_or_default(),
                        )
                        .unwrap_or_default();
                        String::from_utf8_lossy(&data).into_owned()
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// How the endpoint answers.
#[derive(Debug, Clone)]
pub enum Answer {
    /// 200 with `{"requestId": <the request's>, "timestamp": <now>}`, as Firehose requires.
    Firehose,
    /// This status and body, whatever the request.
    Fixed(u16, String),
}

pub struct FirehoseEndpoint {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    answer: Arc<Mutex<Answer>>,
}

impl FirehoseEndpoint {
    pub fn start(answer: Answer) -> FirehoseEndpoint {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(Mutex::new(answer));
        let (sink, how) = (received.clone(), answer.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let how = how.lock().unwrap().clone();
                if let Some(r) = handle(conn, &how) {
                    sink.lock().unwrap().push(r);
                }
            }
        });
        FirehoseEndpoint {
            url: format!("http://127.0.0.1:{port}/aws/default/vpcflowlog/_kinesis_firehose"),
            received,
            answer,
        }
    }

    pub fn answer(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (polling) until `n` requests arrived or `timeout` passed; returns what arrived.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n || started.elapsed() > timeout {
                return got;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn handle(mut conn: TcpStream, answer: &Answer) -> Option<Received> {
    conn.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut reader = BufReader::new(conn.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut words = request_line.split_whitespace();
    let method = words.next()?.to_string();
    let path = words.next()?.to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    let length = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut raw_body = vec![0; length];
    reader.read_exact(&mut raw_body).ok()?;
    let body = if headers.get("content-encoding").map(String::as_str) == Some("gzip") {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(raw_body.as_slice())
            .read_to_end(&mut out)
            .ok()?;
        out
    } else {
        raw_body.clone()
    };
    let received = Received {
        method,
        path,
        headers,
        raw_body,
        body,
    };
    let (status, text) = match answer {
        Answer::Firehose => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as u64;
            let id = received.json()["requestId"].clone();
            (
                200,
                serde_json::json!({ "requestId": id, "timestamp": now }).to_string(),
            )
        }
        Answer::Fixed(status, body) => (*status, body.clone()),
    };
    write!(
        conn,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    )
    .ok()?;
    Some(received)
}
