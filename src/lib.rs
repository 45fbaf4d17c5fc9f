//! hookmap: an inbound-webhook mapping engine.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
pub mod security;
