//! The trigger registry: every trigger, prepared for the ingest path (mapping compiled
//! through the [`ProgramCache`], security parsed, shape built), found by token or id.
//!
//! Preparing a trigger is also how a configuration is validated: what does not prepare
//! is refused with [`HubError::Invalid`] naming the field.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Instant;

use crate::dedup::Dedup;
use crate::mapping::Input;
use crate::mapping::cache::ProgramCache;
use crate::mapping::{Mapping, Program};
use crate::security::{AllowList, SecretKey, SignatureScheme};
use crate::shape::Shape;
use crate::trigger::{MappingKind, MappingSpec, RateLimit, SecuritySpec, ShapeCheck, Trigger};

use super::HubError;

/// A signature scheme with its decoded secrets.
pub type Verifier = (SignatureScheme, Vec<SecretKey>);

/// A trigger ready to serve requests.
pub struct Prepared {
    /// The trigger as configured.
    pub trigger: Trigger,
    /// Its compiled mapping (none until a mapping is set).
    pub program: Option<Arc<Program>>,
    /// Its IP allow-list.
    pub allow: AllowList,
    /// Its signature scheme and decoded secrets.
    pub signature: Option<Verifier>,
    /// The shape a body must have (none without a sample, or with the check off).
    pub shape: Option<Shape>,
    /// Its deduplication of retries.
    pub dedup: Option<Dedup>,
    /// The rate limit's bucket, shared with the trigger's next version while the limit is
    /// unchanged.
    limiter: Option<Arc<Mutex<Bucket>>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
    limit: RateLimit,
}

/// The [`Mapping`] a stored spec compiles from.
pub fn mapping_of(spec: &MappingSpec) -> Result<Mapping, HubError> {
    match spec.kind {
        MappingKind::Structured => {
            Ok(Mapping::Structured { source: spec.source.clone(), limits: spec.limits, isolation: spec.isolation })
        }
        MappingKind::Script => {
            Ok(Mapping::Script { source: spec.source.clone(), limits: spec.limits, isolation: spec.isolation })
        }
    }
}

/// Compiles a mapping spec (refused with the first error's field; every error in the message).
pub fn compile(spec: &MappingSpec, cache: &ProgramCache) -> Result<Arc<Program>, HubError> {
    let mapping = mapping_of(spec)?;
    cache.get_or_compile(&mapping).map_err(|errors| {
        let path = errors.0.first().map(|e| e.field.clone()).unwrap_or_default();
        let path = if path.is_empty() { "mapping.source".to_owned() } else { format!("mapping.source.{path}") };
        HubError::invalid(path, format!("the mapping does not compile:\n{errors}"))
    })
}

/// Parses a security spec (refused naming the field).
pub fn security(spec: &SecuritySpec) -> Result<(AllowList, Option<Verifier>), HubError> {
    let allow = AllowList::new(&spec.allow, &spec.trusted_proxies)
        .map_err(|e| HubError::invalid(format!("security.{}[{}]", list_field(&e.list), e.index), e.to_string()))?;
    let signature = match &spec.signature {
        None => {
            if !spec.secrets.is_empty() {
                return Err(HubError::invalid("security.secrets", "secrets need a signature scheme"));
            }
            None
        }
        Some(signature) => {
            let scheme = match (&signature.preset, &signature.scheme) {
                (Some(name), None) => crate::security::presets::get(name)
                    .ok_or_else(|| HubError::invalid("security.signature.preset", format!("unknown preset {name:?}")))?
                    .scheme()
                    .map_err(|e| HubError::Internal(format!("preset {name}: {e}")))?,
                (None, Some(value)) => SignatureScheme::from_value(value)
                    .map_err(|e| HubError::invalid("security.signature.scheme", e.to_string()))?,
                _ => {
                    return Err(HubError::invalid(
                        "security.signature",
                        "give exactly one of preset (a name) or scheme (an object)",
                    ));
                }
            };
            if spec.secrets.is_empty() {
                return Err(HubError::invalid("security.secrets", "a signature scheme needs at least one secret"));
            }
            let keys = scheme
                .decode_secrets(&spec.secrets)
                .map_err(|e| HubError::invalid("security.secrets", e.to_string()))?;
            Some((scheme, keys))
        }
    };
    Ok((allow, signature))
}

fn list_field(list: &crate::security::allowlist::ListKind) -> &'static str {
    match list {
        crate::security::allowlist::ListKind::Allow => "allow",
        crate::security::allowlist::ListKind::TrustedProxies => "trustedProxies",
    }
}

impl Prepared {
    /// Prepares `trigger`; refuses a configuration that cannot run.
    pub fn new(trigger: Trigger, cache: &ProgramCache) -> Result<Prepared, HubError> {
        let program = trigger.mapping.as_ref().map(|spec| compile(spec, cache)).transpose()?;
        let (allow, signature) = security(&trigger.security)?;
        let shape = match (&trigger.sample, trigger.shape_check, &program) {
            (Some(sample), ShapeCheck::Referenced, Some(program)) => {
                let reads = program.reads_on(&Input::from_body(sample.clone()));
                Some(Shape::referenced(sample, &reads))
            }
            (Some(sample), ShapeCheck::Sample, _) => {
                Some(Shape::of_sample(sample).map_err(|e| HubError::invalid("sample", e.to_string()))?)
            }
            _ => None,
        };
        if let Some(limit) = trigger.rate_limit
            && !(limit.per_second.is_finite() && limit.per_second > 0.0 && limit.burst >= 1)
        {
            return Err(HubError::invalid("rateLimit", "perSecond must be > 0 and burst >= 1"));
        }
        let dedup = trigger
            .dedup
            .as_ref()
            .map(Dedup::new)
            .transpose()
            .map_err(|e| HubError::invalid(format!("dedup.{}", e.field()), e.to_string()))?;
        let limiter = trigger
            .rate_limit
            .map(|limit| Arc::new(Mutex::new(Bucket { tokens: f64::from(limit.burst), at: Instant::now(), limit })));
        Ok(Prepared { trigger, program, allow, signature, shape, dedup, limiter })
    }

    /// Shares the rate-limit bucket of `previous` (an earlier version of the same trigger)
    /// when the limit is unchanged: a change of the name, sample, mapping or anything else
    /// leaves the tokens taken so far taken. A changed limit starts with a full bucket.
    pub fn keep_bucket_of(&mut self, previous: &Prepared) {
        if self.trigger.rate_limit == previous.trigger.rate_limit {
            self.limiter.clone_from(&previous.limiter);
        }
    }

    /// Takes a token from the rate limit's bucket; false when the limit is exceeded.
    pub fn admit(&self) -> bool {
        let Some(limiter) = &self.limiter else { return true };
        let mut bucket = limiter.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let refill = now.duration_since(bucket.at).as_secs_f64() * bucket.limit.per_second;
        bucket.tokens = (bucket.tokens + refill).min(f64::from(bucket.limit.burst));
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[derive(Default)]
struct Maps {
    by_id: HashMap<String, Arc<Prepared>>,
    by_token: HashMap<String, Arc<Prepared>>,
}

/// Every trigger, by id and by URL token.
#[derive(Default)]
pub struct Registry {
    maps: RwLock<Maps>,
}

impl Registry {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Maps> {
        self.maps.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Maps> {
        self.maps.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The trigger with this URL token.
    pub fn by_token(&self, token: &str) -> Option<Arc<Prepared>> {
        self.read().by_token.get(token).cloned()
    }

    /// The trigger with this id.
    pub fn by_id(&self, id: &str) -> Option<Arc<Prepared>> {
        self.read().by_id.get(id).cloned()
    }

    /// Every trigger, oldest first.
    pub fn all(&self) -> Vec<Arc<Prepared>> {
        let mut all: Vec<Arc<Prepared>> = self.read().by_id.values().cloned().collect();
        all.sort_by(|a, b| (a.trigger.created_at, &a.trigger.id).cmp(&(b.trigger.created_at, &b.trigger.id)));
        all
    }

    /// Adds or replaces a trigger (its old token stops working).
    pub fn put(&self, prepared: Prepared) -> Arc<Prepared> {
        let prepared = Arc::new(prepared);
        let mut maps = self.write();
        if let Some(old) = maps.by_id.insert(prepared.trigger.id.clone(), Arc::clone(&prepared)) {
            maps.by_token.remove(&old.trigger.token);
        }
        maps.by_token.insert(prepared.trigger.token.clone(), Arc::clone(&prepared));
        prepared
    }

    /// Removes a trigger.
    pub fn remove(&self, id: &str) -> Option<Arc<Prepared>> {
        let mut maps = self.write();
        let old = maps.by_id.remove(id)?;
        maps.by_token.remove(&old.trigger.token);
        Some(old)
    }

    /// How many triggers there are.
    pub fn len(&self) -> usize {
        self.read().by_id.len()
    }

    /// Whether there are no triggers.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
