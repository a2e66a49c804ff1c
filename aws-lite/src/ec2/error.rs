//! EC2's error answer (`<Response><Errors><Error><Code/><Message/></Error></Errors>
//! <RequestID/></Response>`) as an error type the SDK's retry classifiers and flowlogs' error
//! predicates read through `ProvideErrorMetadata`.

use std::fmt;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::{ErrorMetadata, ProvideErrorMetadata};

use super::xml;

/// What a call answers when it fails: the SDK's error (dispatch failure, timeout, an answer that
/// could not be read, or EC2's own error).
pub type Error = SdkError<Ec2Error, HttpResponse>;

/// An error EC2 answered: its code (`InvalidFlowLogId.NotFound`, `UnauthorizedOperation`,
/// `RequestLimitExceeded`...), message and request id, and the HTTP status.
#[derive(Debug, Clone)]
pub struct Ec2Error {
    meta: ErrorMetadata,
    request_id: Option<String>,
    status: u16,
}

impl Ec2Error {
    /// An error with this code and message (tests build the answers they expect with it).
    pub fn new(code: &str, message: &str) -> Ec2Error {
        Ec2Error {
            meta: ErrorMetadata::builder().code(code).message(message).build(),
            request_id: None,
            status: 400,
        }
    }

    /// Reads an error answer. A body that is not EC2's error document (a proxy's 503 page)
    /// gives an error without a code, whose message carries the status and the body's start.
    pub fn from_answer(status: u16, body: &[u8]) -> Ec2Error {
        let text = String::from_utf8_lossy(body);
        let parsed = xml::parse(&text).ok();
        let error = parsed.as_ref().and_then(|r| r.path("Errors/Error"));
        let mut meta = ErrorMetadata::builder();
        match error {
            Some(error) => {
                if let Some(code) = error.text_at("Code") {
                    meta = meta.code(code);
                }
                if let Some(message) = error.text_at("Message") {
                    meta = meta.message(message);
                }
            }
            None => {
                let start: String = text.chars().take(200).collect();
                meta = meta.message(format!("HTTP {status}: {}", start.trim()));
            }
        }
        let request_id = parsed.as_ref().and_then(|r| {
            r.text_at("RequestID")
                .or_else(|| r.text_at("RequestId"))
                .map(str::to_string)
        });
        Ec2Error {
            meta: meta.build(),
            request_id,
            status,
        }
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        self.status
    }
}

impl ProvideErrorMetadata for Ec2Error {
    fn meta(&self) -> &ErrorMetadata {
        &self.meta
    }
}

impl aws_types::request_id::RequestId for Ec2Error {
    fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

impl fmt::Display for Ec2Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.meta.code() {
            Some(code) => write!(f, "{code}")?,
            None => write!(f, "EC2 error")?,
        }
        if let Some(message) = self.meta.message() {
            write!(f, ": {message}")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Ec2Error {}

#[cfg(test)]
mod tests {
    use aws_types::request_id::RequestId;

    use super::*;

    /// The error answer's shape in the EC2 API reference ("Error response", Query API).
    #[test]
    fn the_code_message_and_request_id_of_an_error_answer() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>InvalidFlowLogId.NotFound</Code><Message>Flow log IDs 'fl-1' do not exist</Message></Error></Errors><RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>"#;
        let e = Ec2Error::from_answer(400, body);
        assert_eq!(e.code(), Some("InvalidFlowLogId.NotFound"));
        assert_eq!(e.message(), Some("Flow log IDs 'fl-1' do not exist"));
        assert_eq!(e.request_id(), Some("ea966190-f9aa-478e-9ede-example"));
        assert_eq!(
            e.to_string(),
            "InvalidFlowLogId.NotFound: Flow log IDs 'fl-1' do not exist (request id ea966190-f9aa-478e-9ede-example)"
        );
    }

    #[test]
    fn a_body_that_is_not_ec2s_error_keeps_its_status_and_start() {
        let e = Ec2Error::from_answer(503, b"<html>Service Unavailable</html>");
        assert_eq!(e.code(), None);
        assert_eq!(e.status(), 503);
        assert!(e
            .message()
            .unwrap()
            .starts_with("HTTP 503: <html>Service Unavailable"));
    }
}
