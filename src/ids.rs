//! Random identifiers: URL tokens, admin tokens and record ids.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The operating system's random source failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RandomError(pub String);

impl std::fmt::Display for RandomError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the random source failed: {}", self.0)
    }
}

impl std::error::Error for RandomError {}

/// `bytes` random bytes as URL-safe base64 without padding.
pub fn random_base64(bytes: usize) -> Result<String, RandomError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| RandomError(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(&buf))
}

/// A trigger URL token: 128 random bits, URL-safe base64 (22 characters).
pub fn url_token() -> Result<String, RandomError> {
    random_base64(16)
}

/// A record id: `prefix`, the time in milliseconds as 12 hex digits, then 64 random bits
/// (`evt_0193…`). Ids made later sort later, so new rows land at the end of the id index
/// instead of on a random page of it (fewer pages written per commit).
pub fn record_id(prefix: &str) -> Result<String, RandomError> {
    let now = crate::clock::now_ms().max(0) as u64 & 0xFFFF_FFFF_FFFF;
    Ok(format!("{prefix}_{now:012x}{}", random_base64(8)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_url_safe_and_distinct() {
        let a = url_token().unwrap();
        let b = url_token().unwrap();
        assert_eq!(a.len(), 22);
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        let (a, b) = (record_id("evt").unwrap(), record_id("evt").unwrap());
        assert!(a.starts_with("evt_") && a.len() == 27, "{a}");
        assert!(a[..16] <= b[..16]);
    }
}
