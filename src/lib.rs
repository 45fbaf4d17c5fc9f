//! hookmap: an inbound-webhook mapping engine.
// `deny`, not `forbid`: the runtime's module cache allows it in that one module (see runtime::cache).
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod runtime;
