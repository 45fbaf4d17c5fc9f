//! The IP allow-list: which client addresses may call a trigger.
//!
//! - Entries are IPv4/IPv6 addresses or CIDR ranges (`203.0.113.0/24`, `2001:db8::/32`). An empty
//!   list allows every client.
//! - IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are treated as the IPv4 address everywhere:
//!   in entries, for the peer and in `X-Forwarded-For`. Other IPv6 ranges (even `::/0`) match
//!   only IPv6 clients.
//! - The client is the TCP peer, unless the peer is a trusted proxy: then `X-Forwarded-For` is read
//!   right to left (all occurrences, in order, joined) and the first entry that is not itself a
//!   trusted proxy is the client. Entries to the left of it are ignored (the client can write
//!   anything there). If every entry is a trusted proxy the left-most one is the client; with no
//!   `X-Forwarded-For` at all, the peer is.
//! - Fail closed: an entry that cannot be read (not an IP, empty, `unknown`, …) met during that
//!   walk is an error, [`AccessDenied::MalformedForwardedFor`], never a guess. Entries may carry a
//!   port (`192.0.2.1:443`, `[2001:db8::1]:443`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// An address range: a network address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// Whether `addr` (already normalised) lies in the range.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.network, addr) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(a) & mask == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(a) & mask == u128::from(net)
            }
            _ => false,
        }
    }

    /// Parses `addr` or `addr/prefix`; the address must have no bits set beyond the prefix.
    pub fn parse(text: &str) -> Result<IpRange, EntryError> {
        let text = text.trim();
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let parsed: IpAddr = addr_text.parse().map_err(|_| EntryError::NotAnAddress)?;
        let max = if parsed.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix_text {
            None => max,
            Some(p) => {
                let digits_only = !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
                let n: u8 = p.parse().ok().filter(|_| digits_only).ok_or(EntryError::BadPrefix)?;
                if n > max {
                    return Err(EntryError::PrefixTooLong { prefix: n, max });
                }
                n
            }
        };
        let mapped = match parsed {
            IpAddr::V6(v6) if prefix >= 96 => v6.to_ipv4_mapped(),
            _ => None,
        };
        let range = match mapped {
            Some(v4) => IpRange { network: IpAddr::V4(v4), prefix: prefix - 96 },
            None => IpRange { network: parsed, prefix },
        };
        let masked = IpRange { network: mask(range.network, range.prefix), ..range };
        if masked.network != range.network {
            return Err(EntryError::HostBitsSet { network: masked.to_string() });
        }
        Ok(range)
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let m = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & m))
        }
        IpAddr::V6(a) => {
            let m = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & m))
        }
    }
}

/// `::ffff:a.b.c.d` becomes `a.b.c.d`; every other address is unchanged.
pub fn normalize(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

/// Why one configured entry was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryError {
    /// Not an IPv4 or IPv6 address.
    NotAnAddress,
    /// The part after `/` is not a number.
    BadPrefix,
    /// The prefix is longer than the address.
    PrefixTooLong {
        /// The prefix given.
        prefix: u8,
        /// 32 or 128.
        max: u8,
    },
    /// Bits are set beyond the prefix (`10.0.0.1/8`); `network` is what was probably meant.
    HostBitsSet {
        /// The range with the host bits cleared.
        network: String,
    },
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryError::NotAnAddress => f.write_str("not an IPv4 or IPv6 address"),
            EntryError::BadPrefix => f.write_str("prefix length is not a number"),
            EntryError::PrefixTooLong { prefix, max } => {
                write!(f, "prefix length {prefix} exceeds {max}")
            }
            EntryError::HostBitsSet { network } => {
                write!(f, "bits set beyond the prefix (did you mean {network}?)")
            }
        }
    }
}

/// Which configured list an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// The allowed client addresses.
    Allow,
    /// The trusted reverse proxies.
    TrustedProxies,
}

/// A configuration error: which list, which entry (index and text) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowListError {
    /// The list holding the bad entry.
    pub list: ListKind,
    /// The entry's position in its list.
    pub index: usize,
    /// The entry as configured.
    pub entry: String,
    /// Why it was refused.
    pub reason: EntryError,
}

impl fmt::Display for AllowListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = match self.list {
            ListKind::Allow => "allow-list",
            ListKind::TrustedProxies => "trusted-proxy list",
        };
        write!(f, "{list} entry {} ({:?}): {}", self.index, self.entry, self.reason)
    }
}

impl std::error::Error for AllowListError {}

/// Why a request was refused by the allow-list (for the owner's log; the sender gets a bare 403).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessDenied {
    /// The client address is in no allowed range.
    NotAllowed {
        /// The client address as determined.
        client: IpAddr,
    },
    /// A trusted proxy forwarded an `X-Forwarded-For` entry that is not an address.
    MalformedForwardedFor {
        /// The entry (lossy UTF-8, at most 64 characters).
        entry: String,
    },
}

impl fmt::Display for AccessDenied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccessDenied::NotAllowed { client } => {
                write!(f, "client {client} is not in the allow-list")
            }
            AccessDenied::MalformedForwardedFor { entry } => {
                write!(f, "X-Forwarded-For entry {entry:?} is not an IP address")
            }
        }
    }
}

impl std::error::Error for AccessDenied {}

/// The allowed client ranges and the trusted proxies; build once, check every request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    allow: Vec<IpRange>,
    trusted_proxies: Vec<IpRange>,
}

impl AllowList {
    /// Builds the list; any bad entry is an error naming the list, its index and its text.
    pub fn new<A: AsRef<str>, P: AsRef<str>>(allow: &[A], trusted_proxies: &[P]) -> Result<AllowList, AllowListError> {
        fn parse_all<S: AsRef<str>>(entries: &[S], list: ListKind) -> Result<Vec<IpRange>, AllowListError> {
            entries
                .iter()
                .enumerate()
                .map(|(index, e)| {
                    IpRange::parse(e.as_ref()).map_err(|reason| AllowListError {
                        list,
                        index,
                        entry: e.as_ref().to_owned(),
                        reason,
                    })
                })
                .collect()
        }
        Ok(AllowList {
            allow: parse_all(allow, ListKind::Allow)?,
            trusted_proxies: parse_all(trusted_proxies, ListKind::TrustedProxies)?,
        })
    }

    /// Whether the list is empty (every client allowed).
    pub fn allows_all(&self) -> bool {
        self.allow.is_empty()
    }

    /// Whether `addr` is allowed (normalised first).
    pub fn allows(&self, addr: IpAddr) -> bool {
        let addr = normalize(addr);
        self.allow.is_empty() || self.allow.iter().any(|r| r.contains(addr))
    }

    fn is_trusted(&self, addr: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|r| r.contains(addr))
    }

    /// The client address of a request from `peer` with these headers (see the module docs).
    pub fn client_addr(&self, peer: IpAddr, headers: &[(&str, &[u8])]) -> Result<IpAddr, AccessDenied> {
        let peer = normalize(peer);
        if !self.is_trusted(peer) {
            return Ok(peer);
        }
        let entries: Vec<&[u8]> = headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("x-forwarded-for"))
            .flat_map(|(_, value)| value.split(|&b| b == b','))
            .map(<[u8]>::trim_ascii)
            .collect();
        let mut leftmost = peer;
        for entry in entries.iter().rev() {
            let addr = parse_forwarded(entry).ok_or_else(|| AccessDenied::MalformedForwardedFor {
                entry: String::from_utf8_lossy(entry).chars().take(64).collect(),
            })?;
            if !self.is_trusted(addr) {
                return Ok(addr);
            }
            leftmost = addr;
        }
        Ok(leftmost)
    }

    /// Decides a request: `Ok(client)` when allowed, otherwise why not.
    ///
    /// With an empty allow-list every request is allowed; the client address returned is then the
    /// best known one (the peer if `X-Forwarded-For` is malformed).
    pub fn check(&self, peer: IpAddr, headers: &[(&str, &[u8])]) -> Result<IpAddr, AccessDenied> {
        if self.allow.is_empty() {
            return Ok(self.client_addr(peer, headers).unwrap_or(normalize(peer)));
        }
        let client = self.client_addr(peer, headers)?;
        if self.allow.iter().any(|r| r.contains(client)) {
            Ok(client)
        } else {
            Err(AccessDenied::NotAllowed { client })
        }
    }
}

/// One `X-Forwarded-For` entry: an address, optionally with a port, IPv6 optionally bracketed.
fn parse_forwarded(entry: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(entry).ok()?;
    if let Ok(addr) = text.parse::<IpAddr>() {
        return Some(normalize(addr));
    }
    if let Ok(sock) = text.parse::<SocketAddr>() {
        return Some(normalize(sock.ip()));
    }
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    inner.parse::<Ipv6Addr>().ok().map(|a| normalize(IpAddr::V6(a)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_parse_and_match() {
        let r = IpRange::parse("10.0.0.0/8").unwrap();
        assert!(r.contains(ip("10.255.255.255")));
        assert!(!r.contains(ip("11.0.0.0")));
        assert!(!r.contains(ip("::ffff:10.0.0.1")), "contains expects a normalised address");
        let mapped = IpRange::parse("::ffff:10.0.0.0/104").unwrap();
        assert_eq!(mapped, r);
        assert_eq!(IpRange::parse("::ffff:192.0.2.1").unwrap().to_string(), "192.0.2.1/32");
        assert_eq!(IpRange::parse(" 2001:db8::/32 ").unwrap().to_string(), "2001:db8::/32");
    }

    #[test]
    fn bad_entries_say_why() {
        assert_eq!(IpRange::parse("10.0.0.1/33"), Err(EntryError::PrefixTooLong { prefix: 33, max: 32 }));
        assert_eq!(IpRange::parse("::/129"), Err(EntryError::PrefixTooLong { prefix: 129, max: 128 }));
        assert_eq!(IpRange::parse("10.0.0.0/x"), Err(EntryError::BadPrefix));
        assert_eq!(IpRange::parse("10.0.0.0/"), Err(EntryError::BadPrefix));
        assert_eq!(IpRange::parse("10.0.0.0/+8"), Err(EntryError::BadPrefix));
        assert_eq!(IpRange::parse("10.0.0.0/8/8"), Err(EntryError::BadPrefix));
        assert_eq!(IpRange::parse("10.0.0.256"), Err(EntryError::NotAnAddress));
        assert_eq!(IpRange::parse(""), Err(EntryError::NotAnAddress));
        assert_eq!(IpRange::parse("example.com"), Err(EntryError::NotAnAddress));
        assert_eq!(IpRange::parse("10.0.0.1/8"), Err(EntryError::HostBitsSet { network: "10.0.0.0/8".into() }));
    }
}
