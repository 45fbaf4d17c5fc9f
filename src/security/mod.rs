//! Request authentication for connector triggers: the HMAC signature scheme and the IP allow-list.
//!
//! The ingest server checks [`AllowList::check`] (403 on failure), then
//! [`SignatureScheme::verify`] (401 on failure). Both return typed reasons for the trigger
//! owner's log; the sender never sees them.
//!
//! ```
//! use hookmap::security::{SignatureScheme, SignedRequest};
//! use std::time::{Duration, UNIX_EPOCH};
//!
//! let scheme = hookmap::security::presets::get("github").unwrap().scheme().unwrap();
//! let keys = scheme.decode_secrets(&["It's a Secret to Everybody"]).unwrap();
//! let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
//! let headers = [("X-Hub-Signature-256", sig.as_bytes())];
//! let request = SignedRequest::new(b"Hello, World!", &headers);
//! assert!(scheme.verify(&request, &keys, UNIX_EPOCH + Duration::from_secs(0)).is_ok());
//! ```

pub mod allowlist;
pub mod presets;
pub mod scheme;
pub mod signature;
pub mod timestamp;

pub use allowlist::{AccessDenied, AllowList, AllowListError};
pub use scheme::{Algorithm, DigestEncoding, SchemeError, SecretEncoding, SignatureScheme};
pub use signature::{SecretError, SecretKey, SignedRequest, Verified, VerifyError};
pub use timestamp::TimestampFormat;
