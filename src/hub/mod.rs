//! The hub: the domain below every front end. It owns the triggers and their lifecycle
//! ([`Hub::create`], [`Hub::mutate`], [`Hub::delete`]), the [`registry`] of prepared
//! triggers, ingest's decision ([`ingest`]: accept, skip, duplicate, hold or refuse),
//! held requests and their replay ([`held`]), the test card and samples ([`samples`]), the
//! outbox as the API reads it ([`outbox`]) and the recent [`activity`]. It speaks
//! [`HubError`]; storage is reached through [`crate::store::Storage`], whatever the engine.

pub mod activity;
pub mod body;
mod error;
pub mod held;
pub mod ingest;
pub mod outbox;
pub mod registry;
pub mod samples;

use std::num::NonZeroUsize;
use std::sync::Arc;

use tokio::sync::{Notify, watch};

use crate::mapping::cache::ProgramCache;
use crate::metrics::Metrics;
use crate::store::{Alongside, Storage, StoreError};
use crate::trigger::Trigger;

pub use error::HubError;
pub use ingest::Decision;
use registry::{Prepared, Registry};

/// The domain state every front end and the delivery dispatcher share.
pub struct Hub {
    /// The storage engine.
    pub store: Arc<dyn Storage>,
    /// The triggers, prepared.
    pub registry: Registry,
    /// Compiled mappings.
    pub cache: ProgramCache,
    /// Metrics.
    pub metrics: Metrics,
    /// Requests that made no event (skipped, duplicates), per trigger.
    pub activity: activity::Activity,
    /// Wakes the delivery dispatcher when events to deliver are committed.
    pub deliveries: Arc<Notify>,
    /// Wakes sample long-polls when a sample is captured or set.
    samples: Notify,
    /// The base URL of trigger URLs (no trailing `/`).
    base_url: String,
    /// Serialises changes to triggers (read, change, commit, publish).
    edit: tokio::sync::Mutex<()>,
}

impl Hub {
    /// A hub over `store`: loads and prepares every stored trigger (a stored trigger that
    /// does not prepare is [`StoreError::Corrupt`]). `cache_capacity` compiled mappings are
    /// kept; `base_url` is where senders reach the ingest front end.
    pub async fn open(store: Arc<dyn Storage>, cache_capacity: usize, base_url: &str) -> Result<Hub, HubError> {
        let cache = ProgramCache::new(NonZeroUsize::new(cache_capacity.max(1)).unwrap_or(NonZeroUsize::MIN));
        let registry = Registry::default();
        for trigger in store.load_triggers().await? {
            let id = trigger.id.clone();
            let prepared = Prepared::new(trigger, &cache)
                .map_err(|e| HubError::Store(StoreError::Corrupt(format!("trigger {id}: {e}"))))?;
            registry.put(prepared);
        }
        Ok(Hub {
            store,
            registry,
            cache,
            metrics: Metrics::default(),
            activity: activity::Activity::default(),
            deliveries: Arc::new(Notify::new()),
            samples: Notify::new(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            edit: tokio::sync::Mutex::new(()),
        })
    }

    /// The base URL of trigger URLs.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// A trigger's URL.
    pub fn trigger_url(&self, trigger: &Trigger) -> String {
        format!("{}/hooks/{}", self.base_url, trigger.token)
    }

    /// The trigger with this id.
    pub fn trigger(&self, id: &str) -> Result<Arc<Prepared>, HubError> {
        self.registry.by_id(id).ok_or_else(|| HubError::not_found("trigger", id))
    }

    /// Changes trigger `id` with `edit` (`change` names it in the change log), then commits
    /// the new version together with `alongside` and publishes it.
    pub async fn mutate<F>(
        &self,
        id: &str,
        change: &'static str,
        edit: F,
        alongside: Alongside,
    ) -> Result<Arc<Prepared>, HubError>
    where
        F: FnOnce(&mut Trigger) -> Result<(), HubError>,
    {
        let _guard = self.edit.lock().await;
        let current = self.trigger(id)?;
        let mut trigger = current.trigger.clone();
        edit(&mut trigger)?;
        trigger.touch(crate::clock::now_ms());
        let mut prepared = Prepared::new(trigger, &self.cache)?;
        prepared.keep_bucket_of(&current);
        self.store.update_trigger(prepared.trigger.clone(), change, alongside).await?;
        if let Some(old) = &current.trigger.mapping
            && prepared.trigger.mapping.as_ref() != Some(old)
            && let Ok(mapping) = registry::mapping_of(old)
        {
            self.cache.invalidate(&mapping);
        }
        tracing::info!(trigger = %id, change, version = prepared.trigger.version, status = prepared.trigger.status.name(), "trigger changed");
        Ok(self.registry.put(prepared))
    }

    /// Adds a new trigger.
    pub async fn create(&self, trigger: Trigger) -> Result<Arc<Prepared>, HubError> {
        let _guard = self.edit.lock().await;
        let prepared = Prepared::new(trigger, &self.cache)?;
        self.store.insert_trigger(prepared.trigger.clone()).await?;
        tracing::info!(trigger = %prepared.trigger.id, "trigger created");
        Ok(self.registry.put(prepared))
    }

    /// Deletes a disabled trigger with its events and held requests.
    pub async fn delete(&self, id: &str) -> Result<(), HubError> {
        let _guard = self.edit.lock().await;
        let current = self.trigger(id)?;
        current.trigger.status.can_delete()?;
        self.store.delete_trigger(id).await.map_err(|e| HubError::store_about(e, "trigger", id))?;
        if let Some(spec) = &current.trigger.mapping
            && let Ok(mapping) = registry::mapping_of(spec)
        {
            self.cache.invalidate(&mapping);
        }
        self.registry.remove(id);
        self.activity.forget(id);
        tracing::info!(trigger = %id, "trigger deleted");
        Ok(())
    }

    /// Follows the changes other nodes make to the triggers, until `stop` turns true: each
    /// time `changes` is notified (see [`Storage::shared_changes`]), reloads the triggers.
    pub async fn follow_changes(self: Arc<Hub>, changes: Arc<Notify>, mut stop: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                () = changes.notified() => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
            if let Err(error) = self.reload().await {
                tracing::warn!(%error, "the triggers could not be reloaded; the next change retries");
            }
        }
    }

    /// Brings the registry to the stored triggers: prepares those whose stored version is
    /// newer (keeping their rate-limit buckets), adds new ones, removes deleted ones, and wakes
    /// the sample long-polls when anything changed (another node may have captured a sample).
    pub async fn reload(&self) -> Result<(), HubError> {
        let _guard = self.edit.lock().await;
        let stored = self.store.load_triggers().await?;
        let ids: std::collections::HashSet<String> = stored.iter().map(|t| t.id.clone()).collect();
        let mut changed = false;
        for trigger in stored {
            let current = self.registry.by_id(&trigger.id);
            if current.as_ref().is_some_and(|c| c.trigger.version >= trigger.version) {
                continue;
            }
            let id = trigger.id.clone();
            match Prepared::new(trigger, &self.cache) {
                Ok(mut prepared) => {
                    if let Some(current) = &current {
                        prepared.keep_bucket_of(current);
                    }
                    tracing::info!(trigger = %id, version = prepared.trigger.version, "trigger changed on another node");
                    self.registry.put(prepared);
                    changed = true;
                }
                Err(error) => {
                    tracing::error!(trigger = %id, %error, "a trigger changed on another node does not prepare")
                }
            }
        }
        for prepared in self.registry.all() {
            if !ids.contains(&prepared.trigger.id) {
                self.registry.remove(&prepared.trigger.id);
                self.activity.forget(&prepared.trigger.id);
                tracing::info!(trigger = %prepared.trigger.id, "trigger deleted on another node");
                changed = true;
            }
        }
        if changed {
            self.samples.notify_waiters();
        }
        Ok(())
    }

    /// The gauges of the metrics: outbox depth, write queue, commits, cache, triggers, and
    /// `ingest`, what the front end reports it holds.
    pub async fn gauges(&self, ingest: crate::metrics::IngestGauges) -> crate::metrics::Gauges {
        crate::metrics::Gauges {
            outbox_depth: self.store.depth().await.unwrap_or(0),
            write_queue: self.store.queued(),
            commits: self.store.commit_counts(),
            cache: self.cache.stats(),
            triggers: self.registry.len(),
            ingest,
        }
    }
}
