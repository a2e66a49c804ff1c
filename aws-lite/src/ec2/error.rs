//! EC2's error answer (`<Response><Errors><Error><Code/><Message/></Error></Errors>
//! <RequestID/></Response>`) read into the crate's answered error.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use super::xml;
use crate::answered::{Named, ServiceError};

/// What a call answers when it fails: the SDK's error (dispatch failure, timeout, an answer that
/// could not be read, or EC2's own error).
pub type Error = SdkError<Ec2Error, HttpResponse>;

/// The EC2 API, as the service of its errors.
#[derive(Debug)]
pub enum Ec2Api {}

impl Named for Ec2Api {
    const NAME: &'static str = "EC2";
}

/// An error EC2 answered: its code (`InvalidFlowLogId.NotFound`, `UnauthorizedOperation`,
/// `RequestLimitExceeded`...), message and request id, and the HTTP status.
pub type Ec2Error = ServiceError<Ec2Api>;

impl ServiceError<Ec2Api> {
    /// Reads an error answer. A body that is not EC2's error document (a proxy's 503 page)
    /// gives an error without a code, whose message carries the status and the body's start.
    pub fn from_answer(status: u16, body: &[u8]) -> Ec2Error {
        let text = String::from_utf8_lossy(body);
        let parsed = xml::parse(&text).ok();
        let error = parsed.as_ref().and_then(|r| r.path("Errors/Error"));
        let field = |name: &str| error.and_then(|e| e.text_at(name)).map(str::to_string);
        let request_id = parsed.as_ref().and_then(|r| {
            r.text_at("RequestID")
                .or_else(|| r.text_at("RequestId"))
                .map(str::to_string)
        });
        ServiceError::read(status, field("Code"), field("Message"), request_id, body)
    }
}

#[cfg(test)]
mod tests {
    use aws_smithy_types::error::metadata::ProvideErrorMetadata;
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
