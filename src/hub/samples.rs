//! A trigger's sample: set, captured from the next request, waited for; and the test card
//! that sends it through the saved mapping.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::ingest::{Append, Decision};
use super::registry::Prepared;
use super::{Hub, HubError};
use crate::mapping::{Input, Mapped, RequestInfo};
use crate::store::{Admission, Alongside};
use crate::trigger::Mode;

impl Hub {
    /// Sets a trigger's sample (refused naming `sample` when it offers nothing to map) and
    /// ends a capture; wakes the long-polls.
    pub async fn set_sample(&self, id: &str, sample: Value) -> Result<Arc<Prepared>, HubError> {
        crate::sample::properties(&sample).map_err(|e| HubError::invalid("sample", e.to_string()))?;
        let edit = move |t: &mut crate::trigger::Trigger| {
            t.capturing = false;
            t.sample = Some(sample);
            Ok(())
        };
        let prepared = self.mutate(id, "sample set", edit, Alongside::Nothing).await?;
        self.samples.notify_waiters();
        Ok(prepared)
    }

    /// Arms the capture of the trigger's next request as its sample.
    pub async fn arm_capture(&self, id: &str) -> Result<Arc<Prepared>, HubError> {
        let edit = |t: &mut crate::trigger::Trigger| {
            t.capturing = true;
            Ok(())
        };
        self.mutate(id, "capture armed", edit, Alongside::Nothing).await
    }

    /// The trigger once it is no longer capturing, or as it is after `wait`.
    pub async fn wait_sample(&self, id: &str, wait: Duration) -> Result<Arc<Prepared>, HubError> {
        let deadline = Instant::now() + wait;
        loop {
            let notified = self.samples.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let prepared = self.trigger(id)?;
            if !prepared.trigger.capturing || Instant::now() >= deadline {
                return Ok(prepared);
            }
            let _ = tokio::time::timeout_at(deadline.into(), notified).await;
        }
    }

    /// Sends the sample through the saved mapping as a test event (never a duplicate: a test
    /// card is asked for on purpose), or reports the skip.
    pub async fn test_card(&self, id: &str) -> Result<Decision, HubError> {
        let prepared = self.trigger(id)?;
        let sample = prepared.trigger.sample.clone().ok_or_else(no_sample)?;
        let now = crate::clock::now_ms();
        let input = Input { body: sample, request: RequestInfo::bare(now) };
        match self.map(&prepared, &input).map_err(HubError::MappingFailed)? {
            Mapped::Event(payload) => {
                let append = Append { mode: Mode::Test, payload, received_at: now, key: None, replayed: None };
                self.append(&prepared, append, Admission::Wait).await
            }
            Mapped::Skipped(skip) => Ok(self.skipped(id, skip)),
        }
    }
}

/// The refusal of an action that needs a sample the trigger does not have.
pub fn no_sample() -> HubError {
    HubError::Conflict("the trigger has no sample; set one or capture one".into())
}
