//! The HTTP layer's one error type and its one conversion into a response:
//! `{"error": {"code", "message", "path"?}}` with the matching status.

use std::fmt;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Response, StatusCode};
use serde_json::json;

use crate::hub::HubError;
use crate::problem::Problem;
use crate::store::StoreError;

/// What went wrong, which decides the status and the `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400: the request is malformed (body not JSON, bad query).
    BadRequest,
    /// 401: missing or wrong admin token, or a bad webhook signature.
    Unauthorized,
    /// 403: the client address is not allowed.
    Forbidden,
    /// 404: no such route.
    RouteNotFound,
    /// 404: no such trigger, event or held request (or the trigger is disabled).
    NotFound,
    /// 405: the route exists, not with this method.
    MethodNotAllowed,
    /// 409: not allowed in the resource's current state.
    Conflict,
    /// 409: the trigger is paused; the request is held.
    Paused,
    /// 408: the body was not received in time; the answer closes the connection.
    RequestTimeout,
    /// 413: the body is over the limit.
    PayloadTooLarge,
    /// 415: the content type is not JSON nor a form.
    UnsupportedMediaType,
    /// 422: a configuration the server cannot accept.
    Validation,
    /// 422: the mapping failed or its output broke the target schema.
    MappingFailed,
    /// 429: the trigger's rate limit is exceeded.
    RateLimited,
    /// 503: the server is overloaded or shutting down.
    Unavailable,
    /// 500: a fault of the server.
    Internal,
}

impl ErrorKind {
    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::RouteNotFound | ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::Conflict | ErrorKind::Paused => StatusCode::CONFLICT,
            ErrorKind::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::Validation | ErrorKind::MappingFailed => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable `code` of the error body.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::RouteNotFound => "route_not_found",
            ErrorKind::NotFound => "not_found",
            ErrorKind::MethodNotAllowed => "method_not_allowed",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Paused => "paused",
            ErrorKind::RequestTimeout => "request_timeout",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::UnsupportedMediaType => "unsupported_media_type",
            ErrorKind::Validation => "validation",
            ErrorKind::MappingFailed => "mapping_failed",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }
}

/// An error of the HTTP layer: its kind, a message for the caller and, when it is about
/// one place of a document, that place's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// A message safe to show the caller (never the refused body).
    pub message: String,
    /// The field or JSONPath concerned (`script` for a script's error).
    pub path: Option<String>,
    /// For a script's error: the 1-based line and column in the script, when known.
    pub position: Option<(u32, u32)>,
    /// For a 405: the methods the route accepts (the `Allow` header).
    pub allow: Option<String>,
}

impl ApiError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ApiError {
        ApiError { kind, message: message.into(), path: None, position: None, allow: None }
    }

    /// A 405 for a route that accepts only `allow` (`"POST, PUT"`).
    pub fn method_not_allowed(allow: &str) -> ApiError {
        let mut error = ApiError::new(ErrorKind::MethodNotAllowed, format!("this route accepts {allow}"));
        error.allow = Some(allow.to_owned());
        error
    }

    /// The same error, about `path`.
    pub fn at(mut self, path: impl Into<String>) -> ApiError {
        self.path = Some(path.into());
        self
    }

    /// The same error, about the place of `problem` (its path, and its line and column in a script).
    pub fn at_problem(mut self, problem: &Problem) -> ApiError {
        self.path = Some(problem.path.clone());
        self.position = problem.line.zip(problem.column);
        self
    }

    /// A 422 about a configuration field.
    pub fn validation(path: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::Validation, message).at(path)
    }

    /// A 404 for a missing resource.
    pub fn not_found(what: &str, id: &str) -> ApiError {
        ApiError::new(ErrorKind::NotFound, format!("no {what} {id}"))
    }

    /// A 500, logged here; the caller sees a generic message.
    pub fn internal(error: impl fmt::Display) -> ApiError {
        tracing::error!(%error, "internal error");
        ApiError::new(ErrorKind::Internal, "internal error")
    }

    /// The one conversion into a response.
    pub fn into_response(self) -> Response<Full<Bytes>> {
        let mut error = json!({"code": self.kind.code(), "message": self.message});
        if let Some(path) = self.path {
            error["path"] = json!(path);
        }
        if let Some((line, column)) = self.position {
            error["line"] = json!(line);
            error["column"] = json!(column);
        }
        let mut response = super::response::json_response(self.kind.status(), &json!({ "error": error }));
        if let Some(allow) = self.allow.and_then(|a| hyper::header::HeaderValue::from_str(&a).ok()) {
            response.headers_mut().insert(hyper::header::ALLOW, allow);
        }
        if self.kind == ErrorKind::RequestTimeout {
            // The rest of the body may still be on its way: the connection cannot carry
            // another request.
            response.headers_mut().insert(hyper::header::CONNECTION, hyper::header::HeaderValue::from_static("close"));
        }
        response
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.code(), self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::NotFound => ApiError::new(ErrorKind::NotFound, "not found"),
            StoreError::Overloaded => ApiError::new(ErrorKind::Unavailable, "the server is overloaded; retry later"),
            StoreError::Closed => ApiError::new(ErrorKind::Unavailable, "the server is shutting down"),
            e => ApiError::internal(e),
        }
    }
}

impl From<HubError> for ApiError {
    fn from(error: HubError) -> ApiError {
        let message = error.to_string();
        match error {
            HubError::NotFound { .. } | HubError::NoTrigger => ApiError::new(ErrorKind::NotFound, message),
            HubError::Forbidden => ApiError::new(ErrorKind::Forbidden, message),
            HubError::RateLimited => ApiError::new(ErrorKind::RateLimited, message),
            HubError::BadSignature => ApiError::new(ErrorKind::Unauthorized, message),
            HubError::UnsupportedMediaType => ApiError::new(ErrorKind::UnsupportedMediaType, message),
            HubError::Malformed(message) => ApiError::new(ErrorKind::BadRequest, message),
            HubError::Conflict(message) => ApiError::new(ErrorKind::Conflict, message),
            HubError::Invalid { path, message } => ApiError::validation(path, message),
            HubError::MappingFailed(problems) => {
                let error = ApiError::new(ErrorKind::MappingFailed, message);
                match problems.first() {
                    Some(first) => error.at_problem(first),
                    None => error,
                }
            }
            HubError::Store(e) => e.into(),
            HubError::Internal(e) => ApiError::internal(e),
        }
    }
}

impl From<crate::ids::RandomError> for ApiError {
    fn from(error: crate::ids::RandomError) -> ApiError {
        ApiError::internal(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_distinct_code() {
        use ErrorKind::*;
        let kinds = [
            BadRequest,
            Unauthorized,
            Forbidden,
            RouteNotFound,
            NotFound,
            MethodNotAllowed,
            Conflict,
            Paused,
            RequestTimeout,
            PayloadTooLarge,
            UnsupportedMediaType,
            Validation,
            MappingFailed,
            RateLimited,
            Unavailable,
            Internal,
        ];
        let mut codes: Vec<&str> = kinds.iter().map(|k| k.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), kinds.len());
        assert_eq!(ApiError::from(StoreError::Overloaded).kind.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
