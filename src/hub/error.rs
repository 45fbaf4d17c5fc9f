//! The hub's one error type. Front ends translate it once (the server into `ApiError`).

use std::fmt;

use crate::problem::Problem;
use crate::store::StoreError;
use crate::trigger::IllegalTransition;

/// Why the hub refused or failed a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubError {
    /// No trigger, event or held request with this id.
    NotFound {
        /// What was looked for: `trigger`, `event`, `held request`.
        what: &'static str,
        /// The id given.
        id: String,
    },
    /// No trigger at this URL token, or its trigger is disabled.
    NoTrigger,
    /// The client address is outside the trigger's allow-list.
    Forbidden,
    /// The trigger's rate limit is exceeded.
    RateLimited,
    /// The request's signature does not verify (the reason is logged, never answered).
    BadSignature,
    /// The content type is neither JSON nor a form.
    UnsupportedMediaType,
    /// The body (or a query) cannot be read: not JSON, a malformed form.
    Malformed(String),
    /// Not allowed in the resource's current state.
    Conflict(String),
    /// A configuration the hub cannot accept: the field and what is wrong.
    Invalid {
        /// The field (`mapping.source`, `security.allow[0]`, …).
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The mapping failed, or its output broke the target schema: every problem.
    MappingFailed(Vec<Problem>),
    /// The storage engine failed or is saturated.
    Store(StoreError),
    /// A fault of the hub (logged by the front end; callers see a generic message).
    Internal(String),
}

impl HubError {
    /// A configuration error about `path`.
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> HubError {
        HubError::Invalid { path: path.into(), message: message.into() }
    }

    /// A missing `what` with this id.
    pub fn not_found(what: &'static str, id: &str) -> HubError {
        HubError::NotFound { what, id: id.to_owned() }
    }

    /// A storage error, where the engine's "not found" is a missing `what` with this id.
    pub fn store_about(error: StoreError, what: &'static str, id: &str) -> HubError {
        match error {
            StoreError::NotFound => HubError::not_found(what, id),
            e => HubError::Store(e),
        }
    }
}

impl fmt::Display for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HubError::NotFound { what, id } => write!(f, "no {what} {id}"),
            HubError::NoTrigger => f.write_str("no trigger at this URL"),
            HubError::Forbidden => f.write_str("this client is not allowed to call this trigger"),
            HubError::RateLimited => f.write_str("the trigger's rate limit is exceeded; retry later"),
            HubError::BadSignature => f.write_str("the request signature is invalid"),
            HubError::UnsupportedMediaType => f.write_str(
                "expected application/json, an application/*+json type or application/x-www-form-urlencoded",
            ),
            HubError::Malformed(message) | HubError::Conflict(message) | HubError::Internal(message) => {
                f.write_str(message)
            }
            HubError::Invalid { path, message } => write!(f, "{path}: {message}"),
            HubError::MappingFailed(problems) => {
                let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
                f.write_str(&messages.join("\n"))
            }
            HubError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for HubError {}

impl From<StoreError> for HubError {
    fn from(error: StoreError) -> HubError {
        match error {
            StoreError::Conflict(message) => HubError::Conflict(format!("{message}; retry")),
            error => HubError::Store(error),
        }
    }
}

impl From<IllegalTransition> for HubError {
    fn from(error: IllegalTransition) -> HubError {
        HubError::Conflict(error.to_string())
    }
}

impl From<crate::ids::RandomError> for HubError {
    fn from(error: crate::ids::RandomError) -> HubError {
        HubError::Internal(error.to_string())
    }
}
