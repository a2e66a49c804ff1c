//! moto's request recorder: which write calls did a command make? A second `setup` must make none.

use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::Value;

fn request(endpoint: &str, method: &str, path: &str) -> String {
    let host = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).expect("connect to moto");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default()
}

/// Forgets what was recorded and records from now on.
pub fn start(moto_endpoint: &str) {
    request(moto_endpoint, "POST", "/moto-api/recorder/reset-recording");
    request(moto_endpoint, "POST", "/moto-api/recorder/start-recording");
}

/// Stops recording and returns every request recorded since `start`, in order.
pub fn entries(moto_endpoint: &str) -> Vec<Value> {
    request(moto_endpoint, "POST", "/moto-api/recorder/stop-recording");
    let body = request(
        moto_endpoint,
        "GET",
        "/moto-api/recorder/download-recording",
    );
    // A line that does not parse is a call lost to the test: say so rather than skip it.
    body.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap_or_else(|e| {
                panic!(
                    "moto's recording holds an unreadable entry ({e}): {}...",
                    &l[..l.len().min(200)]
                )
            })
        })
        .collect()
}

/// Stops recording and returns the write calls made since `start`, in order.
pub fn writes(moto_endpoint: &str) -> Vec<String> {
    entries(moto_endpoint).iter().filter_map(classify).collect()
}

/// `Some(call)` when a recorded request changes something; reads give `None`. Query-protocol
/// services (EC2, IAM, STS) name the action in the body, JSON ones (Firehose, Logs) in
/// X-Amz-Target; REST ones (S3, Lambda) write with anything but GET and HEAD.
pub fn classify(entry: &Value) -> Option<String> {
    let method = entry["method"].as_str().unwrap_or_default();
    let url = entry["url"].as_str().unwrap_or_default();
    let body = match entry["body_encoded"].as_bool() {
        Some(true) => {
            use base64::Engine as _;
            let raw = base64::engine::general_purpose::STANDARD
                .decode(entry["body"].as_str().unwrap_or_default())
                .unwrap_or_default();
            String::from_utf8_lossy(&raw).into_owned()
        }
        _ => entry["body"].as_str().unwrap_or_default().to_string(),
    };
    let is_read = |action: &str| {
        ["Describe", "Get", "List", "Head", "BatchGet"]
            .iter()
            .any(|p| action.starts_with(p))
    };
    if let Some(target) = entry["headers"].get("X-Amz-Target").and_then(Value::as_str) {
        let action = target.rsplit('.').next().unwrap_or_default();
        return (!is_read(action)).then(|| target.to_string());
    }
    if let Some(action) = body.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
        return (!is_read(action)).then(|| action.to_string());
    }
    if method == "GET" || method == "HEAD" {
        return None;
    }
    Some(format!("{method} {url}"))
}
