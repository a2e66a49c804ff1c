//! An error a service answered, whatever its protocol: its code, message, request id and HTTP
//! status, which the SDK's retry classifiers and flowlogs' error predicates read through
//! `ProvideErrorMetadata`. Each protocol's module reads its own error document into one
//! (`ec2::Ec2Error`, `glue::GlueError`).

use std::fmt;
use std::marker::PhantomData;

use aws_smithy_types::error::metadata::{ErrorMetadata, ProvideErrorMetadata};

/// The service an error came from, named in its text when the answer had no code.
pub trait Named {
    const NAME: &'static str;
}

/// An error service `S` answered.
pub struct ServiceError<S> {
    meta: ErrorMetadata,
    request_id: Option<String>,
    status: u16,
    service: PhantomData<fn() -> S>,
}

impl<S> ServiceError<S> {
    /// An error with this code and message (tests build the answers they expect with it).
    pub fn new(code: &str, message: &str) -> ServiceError<S> {
        ServiceError::read(
            400,
            Some(code.to_string()),
            Some(message.to_string()),
            None,
            b"",
        )
    }

    /// The error of an answer, from what its protocol read of it. An answer with neither code
    /// nor message is not the service's error document (a proxy's 503 page): its message then
    /// carries the status and the start of the body.
    pub(crate) fn read(
        status: u16,
        code: Option<String>,
        message: Option<String>,
        request_id: Option<String>,
        body: &[u8],
    ) -> ServiceError<S> {
        let mut meta = ErrorMetadata::builder();
        if let Some(code) = &code {
            meta = meta.code(code);
        }
        match message {
            Some(message) => meta = meta.message(message),
            None if code.is_none() => {
                let text = String::from_utf8_lossy(body);
                let start: String = text.chars().take(200).collect();
                meta = meta.message(format!("HTTP {status}: {}", start.trim()));
            }
            None => {}
        }
        ServiceError {
            meta: meta.build(),
            request_id,
            status,
            service: PhantomData,
        }
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        self.status
    }
}

impl<S> Clone for ServiceError<S> {
    fn clone(&self) -> Self {
        ServiceError {
            meta: self.meta.clone(),
            request_id: self.request_id.clone(),
            status: self.status,
            service: PhantomData,
        }
    }
}

impl<S: Named> fmt::Debug for ServiceError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceError")
            .field("service", &S::NAME)
            .field("meta", &self.meta)
            .field("request_id", &self.request_id)
            .field("status", &self.status)
            .finish()
    }
}

impl<S> ProvideErrorMetadata for ServiceError<S> {
    fn meta(&self) -> &ErrorMetadata {
        &self.meta
    }
}

impl<S> aws_types::request_id::RequestId for ServiceError<S> {
    fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

impl<S: Named> fmt::Display for ServiceError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.meta.code() {
            Some(code) => write!(f, "{code}")?,
            None => write!(f, "{} error", S::NAME)?,
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

impl<S: Named> std::error::Error for ServiceError<S> {}
