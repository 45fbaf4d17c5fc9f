//! hookmap: an inbound-webhook mapping engine.
//!
//! A request body of a shape we do not control is mapped by a [`mapping::Program`]
//! into the fixed target [`schema`]. [`sample`] lists what a sample body offers to map;
//! [`security`] checks that a request comes from the expected sender.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod clock;
pub mod document;
pub mod field_path;
pub mod flow;
pub mod ids;
pub mod mapping;
pub mod sample;
pub mod schema;
pub mod security;
pub mod server;
pub mod shape;
pub mod store;
pub mod trigger;
