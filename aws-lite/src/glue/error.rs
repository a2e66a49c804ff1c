//! Glue's error answer in the AWS JSON 1.1 protocol (`{"__type": "...", "message": "..."}`, the
//! code also in the `x-amzn-errortype` header, the request id in `x-amzn-requestid`) read into
//! the crate's answered error.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::answered::{Named, ServiceError};

/// What a call answers when it fails: the SDK's error (dispatch failure, timeout, an answer that
/// could not be read, or Glue's own error).
pub type Error = SdkError<GlueError, HttpResponse>;

/// The Glue API, as the service of its errors.
#[derive(Debug)]
pub enum GlueApi {}

impl Named for GlueApi {
    const NAME: &'static str = "Glue";
}

/// An error Glue answered: its code (`EntityNotFoundException`, `AlreadyExistsException`,
/// `AccessDeniedException`, `ThrottlingException`...), message and request id, and the HTTP
/// status.
pub type GlueError = ServiceError<GlueApi>;

/// The bare shape name of a wire error code: without a `namespace#` prefix
/// (`com.amazonaws.glue#EntityNotFoundException`) or a `:url` suffix, as the SDK's JSON
/// protocols read it.
fn sanitize(code: &str) -> &str {
    let code = code.split(':').next().unwrap_or(code);
    code.rsplit('#').next().unwrap_or(code).trim()
}

impl ServiceError<GlueApi> {
    /// Reads an error answer: the code from the `x-amzn-errortype` header, else the body's `code`
    /// or `__type`; the message from `message` or `Message`. A body that is not a JSON error
    /// document (a proxy's 503 page) without the header gives an error without a code, whose
    /// message carries the status and the body's start.
    pub fn from_answer(
        status: u16,
        error_type_header: Option<&str>,
        request_id: Option<&str>,
        body: &[u8],
    ) -> GlueError {
        let doc = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .filter(serde_json::Value::is_object);
        let field = |names: &[&str]| {
            let doc = doc.as_ref()?;
            names
                .iter()
                .find_map(|n| doc.get(*n).and_then(|v| v.as_str()))
                .map(str::to_string)
        };
        let code = error_type_header
            .map(str::to_string)
            .or_else(|| field(&["code", "__type"]))
            .map(|c| sanitize(&c).to_string())
            .filter(|c| !c.is_empty());
        let message = field(&["message", "Message", "errorMessage"]);
        ServiceError::read(status, code, message, request_id.map(str::to_string), body)
    }

    /// The table, database or resource is not there.
    pub fn is_entity_not_found(&self) -> bool {
        self.code() == Some("EntityNotFoundException")
    }

    /// What the call would create exists already.
    pub fn is_already_exists(&self) -> bool {
        self.code() == Some("AlreadyExistsException")
    }
}

#[cfg(test)]
mod tests {
    use aws_types::request_id::RequestId;

    use super::*;

    /// The error shape of the Glue API reference ("Common Errors", `EntityNotFoundException`:
    /// "A specified entity does not exist", HTTP 400) as the JSON 1.1 protocol carries it.
    #[test]
    fn the_code_message_and_request_id_of_an_error_answer() {
        let body =
            br#"{"__type":"EntityNotFoundException","Message":"Table flow_logs not found."}"#;
        let e = GlueError::from_answer(400, None, Some("0a5f3d1e-7b3c-4c2e-9d1a-example"), body);
        assert_eq!(e.code(), Some("EntityNotFoundException"));
        assert!(e.is_entity_not_found() && !e.is_already_exists());
        assert_eq!(e.message(), Some("Table flow_logs not found."));
        assert_eq!(e.request_id(), Some("0a5f3d1e-7b3c-4c2e-9d1a-example"));
        assert_eq!(
            e.to_string(),
            "EntityNotFoundException: Table flow_logs not found. (request id 0a5f3d1e-7b3c-4c2e-9d1a-example)"
        );
    }

    #[test]
    fn a_namespaced_type_and_a_lower_case_message_are_read() {
        let body = br#"{"__type":"com.amazonaws.glue#AlreadyExistsException","message":"Database already exists."}"#;
        let e = GlueError::from_answer(400, None, None, body);
        assert_eq!(e.code(), Some("AlreadyExistsException"));
        assert!(e.is_already_exists());
        assert_eq!(e.message(), Some("Database already exists."));
    }

    #[test]
    fn the_error_type_header_wins_and_is_sanitized() {
        let e = GlueError::from_answer(
            400,
            Some("ThrottlingException:http://internal.amazon.com/coral/com.amazonaws.glue/"),
            None,
            br#"{"__type":"SomethingElse","Message":"Rate exceeded"}"#,
        );
        assert_eq!(e.code(), Some("ThrottlingException"));
        assert_eq!(e.message(), Some("Rate exceeded"));
    }

    #[test]
    fn a_body_that_is_not_glues_error_keeps_its_status_and_start() {
        let e = GlueError::from_answer(503, None, None, b"<html>Service Unavailable</html>");
        assert_eq!(e.code(), None);
        assert_eq!(e.status(), 503);
        assert!(e
            .message()
            .unwrap()
            .starts_with("HTTP 503: <html>Service Unavailable"));
    }
}
