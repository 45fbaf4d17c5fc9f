//! Counters and histograms, rendered in the Prometheus text format at `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Upper bounds of the mapping latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 1.0];

/// The server's metrics.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, &'static str), u64>>,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_ns: AtomicU64,
    attempts: Mutex<BTreeMap<&'static str, u64>>,
}

/// Gauges read at render time.
pub struct Gauges {
    /// Events pending delivery or acknowledgement.
    pub outbox_depth: u64,
    /// Jobs waiting for the writer.
    pub write_queue: usize,
    /// Transactions and jobs committed.
    pub commits: (u64, u64),
    /// Compiled-mapping cache counters.
    pub cache: crate::mapping::cache::CacheStats,
    /// Triggers configured.
    pub triggers: usize,
    /// What the ingest front end holds: bytes of request bodies being received, and
    /// requests being mapped and committed.
    pub ingest: IngestGauges,
}

/// What the ingest front end holds at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct IngestGauges {
    /// Bytes of request bodies received and not yet answered, of the budget
    /// `maxInFlight × maxBodyBytes`.
    pub body_bytes: u64,
    /// Requests holding one of the `maxInFlight` slots.
    pub in_flight: u64,
}

impl Metrics {
    /// Counts one ingest request of `trigger` (an id, or `unknown`) with its outcome.
    pub fn request(&self, trigger: &str, outcome: &'static str) {
        let mut requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        *requests.entry((trigger.to_owned(), outcome)).or_insert(0) += 1;
    }

    /// Records how long a mapping ran.
    pub fn mapping_latency(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        for (bucket, bound) in self.latency_buckets.iter().zip(BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_ns.fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
    }

    /// Counts a delivery attempt: `delivered`, `retry` or `dead`.
    pub fn delivery_attempt(&self, result: &'static str) {
        let mut attempts = self.attempts.lock().unwrap_or_else(PoisonError::into_inner);
        *attempts.entry(result).or_insert(0) += 1;
    }

    /// The Prometheus text exposition.
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::new();
        out.push_str("# HELP hookmap_requests_total Ingest requests by trigger and outcome.\n");
        out.push_str("# TYPE hookmap_requests_total counter\n");
        for ((trigger, outcome), n) in self.requests.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            let _ = writeln!(out, "hookmap_requests_total{{trigger=\"{trigger}\",outcome=\"{outcome}\"}} {n}");
        }
        out.push_str("# HELP hookmap_mapping_duration_seconds Time to run a mapping (map and validate).\n");
        out.push_str("# TYPE hookmap_mapping_duration_seconds histogram\n");
        for (bucket, bound) in self.latency_buckets.iter().zip(BUCKETS) {
            let _ = writeln!(
                out,
                "hookmap_mapping_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(out, "hookmap_mapping_duration_seconds_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.latency_sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "hookmap_mapping_duration_seconds_sum {sum}");
        let _ = writeln!(out, "hookmap_mapping_duration_seconds_count {count}");
        out.push_str("# HELP hookmap_delivery_attempts_total Delivery attempts to flow webhooks by result.\n");
        out.push_str("# TYPE hookmap_delivery_attempts_total counter\n");
        for (result, n) in self.attempts.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            let _ = writeln!(out, "hookmap_delivery_attempts_total{{result=\"{result}\"}} {n}");
        }
        let gauges_list: [(&str, &str, &str, u64); 10] = [
            ("hookmap_outbox_depth", "gauge", "Events pending delivery or acknowledgement.", gauges.outbox_depth),
            ("hookmap_write_queue", "gauge", "Jobs waiting for the writer.", gauges.write_queue as u64),
            ("hookmap_commits_total", "counter", "Group-commit transactions.", gauges.commits.0),
            (
                "hookmap_committed_jobs_total",
                "counter",
                "Jobs committed (writes per transaction = jobs/commits).",
                gauges.commits.1,
            ),
            ("hookmap_mapping_cache_hits_total", "counter", "Compiled-mapping cache hits.", gauges.cache.hits),
            ("hookmap_mapping_cache_misses_total", "counter", "Compiled-mapping cache misses.", gauges.cache.misses),
            ("hookmap_mapping_cache_entries", "gauge", "Compiled mappings in the cache.", gauges.cache.len as u64),
            ("hookmap_triggers", "gauge", "Triggers configured.", gauges.triggers as u64),
            (
                "hookmap_ingest_body_bytes",
                "gauge",
                "Bytes of ingest request bodies held, of maxInFlight x maxBodyBytes.",
                gauges.ingest.body_bytes,
            ),
            (
                "hookmap_ingest_in_flight",
                "gauge",
                "Ingest requests being mapped and committed.",
                gauges.ingest.in_flight,
            ),
        ];
        for (name, kind, help, value) in gauges_list {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
        }
        out
    }
}

/// The `outcome` label of an ingest answer.
pub fn outcome(status: u16) -> &'static str {
    match status {
        202 => "accepted",
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "timeout",
        409 => "held_paused",
        413 => "too_large",
        415 => "unsupported_media_type",
        422 => "held_mapping_failed",
        429 => "rate_limited",
        503 => "unavailable",
        _ => "other",
    }
}
