//! hookmap: an inbound-webhook mapping engine.
//!
//! A request body of a shape we do not control is mapped by a [`mapping::Program`]
//! into the fixed target [`schema`]. [`sample`] lists what a sample body offers to map;
//! [`security`] checks that a request comes from the expected sender; [`runtime`] runs
//! script mappings in a WebAssembly sandbox.
// `deny`, not `forbid`: the runtime's module cache allows it in that one module (see runtime::cache).
#![deny(unsafe_code)]
#![warn(missing_docs)]

/// Implements `Display` (one error per line) and `Error` for a newtype over a list of errors.
macro_rules! error_list {
    ($list:ty) => {
        impl std::fmt::Display for $list {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                for (i, error) in self.0.iter().enumerate() {
                    if i > 0 {
                        f.write_str("\n")?;
                    }
                    write!(f, "{error}")?;
                }
                Ok(())
            }
        }

        impl std::error::Error for $list {}
    };
}
pub(crate) use error_list;

pub mod clock;
pub mod config;
pub mod dedup;
pub mod document;
pub mod field_path;
pub mod flow;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod hub;
pub mod ids;
pub mod mapping;
pub mod metrics;
pub mod presets;
pub mod problem;
pub mod request;
pub mod runtime;
pub mod sample;
pub mod schema;
pub mod security;
pub mod server;
pub mod shape;
pub mod store;
pub mod trigger;
