//! The outbox and the change log as the admin API reads them.

use super::{Hub, HubError};
use crate::store::{Attempt, Change, DeliveryState, Event};

impl Hub {
    /// One event with its delivery attempts.
    pub async fn event(&self, id: &str) -> Result<(Event, Vec<Attempt>), HubError> {
        let about = |e| HubError::store_about(e, "event", id);
        let event = self.store.event(id).await.map_err(about)?;
        let attempts = self.store.attempts(id).await.map_err(about)?;
        Ok((event, attempts))
    }

    /// A trigger's events after `after_seq`, oldest first, optionally in one state.
    pub async fn events(
        &self,
        trigger_id: &str,
        state: Option<DeliveryState>,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<Event>, HubError> {
        self.trigger(trigger_id)?;
        Ok(self.store.events(trigger_id, state, after_seq, limit).await?)
    }

    /// Acknowledges an event of a flow without webhook (idempotently): the event as it is now.
    pub async fn ack(&self, id: &str) -> Result<Event, HubError> {
        let acked =
            self.store.ack(id, crate::clock::now_ms()).await.map_err(|e| HubError::store_about(e, "event", id))?;
        if !acked {
            return Err(HubError::Conflict("the event is delivered by the flow's webhook, not acknowledged".into()));
        }
        Ok(self.store.event(id).await?)
    }

    /// A trigger's change log, oldest first.
    pub async fn history(&self, id: &str) -> Result<Vec<Change>, HubError> {
        self.trigger(id)?;
        Ok(self.store.trigger_changes(id).await?)
    }
}
