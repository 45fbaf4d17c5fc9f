//! Integration tests, compiled into one binary (one module per area).

mod security;
