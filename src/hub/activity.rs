//! The recent activity of each trigger that leaves no event behind: requests the mapping
//! skipped and retries answered as duplicates. Counted, and the last [`RECENT`] kept, in
//! memory: a restart starts the log afresh (the events and held requests are in the store).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use serde_json::{Value, json};

/// How many entries are kept per trigger.
pub const RECENT: usize = 20;

/// One request that made no event.
#[derive(Debug, Clone, PartialEq)]
enum Entry {
    /// The mapping skipped it, with its reason if it gave one.
    Skipped { at: i64, reason: Option<String> },
    /// Its key was seen before: the first event's id.
    Duplicate { at: i64, event_id: String },
}

#[derive(Debug, Default)]
struct Log {
    skipped: u64,
    duplicates: u64,
    recent: VecDeque<Entry>,
}

impl Log {
    fn push(&mut self, entry: Entry) {
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(entry);
    }
}

/// Every trigger's log, by trigger id.
#[derive(Debug, Default)]
pub struct Activity {
    logs: Mutex<HashMap<String, Log>>,
}

impl Activity {
    fn with(&self, trigger: &str, f: impl FnOnce(&mut Log)) {
        let mut logs = self.logs.lock().unwrap_or_else(PoisonError::into_inner);
        f(logs.entry(trigger.to_owned()).or_default());
    }

    /// Records a request of `trigger` skipped at `at` (Unix milliseconds).
    pub fn skipped(&self, trigger: &str, at: i64, reason: Option<String>) {
        self.with(trigger, |log| {
            log.skipped += 1;
            log.push(Entry::Skipped { at, reason });
        });
    }

    /// Records a request of `trigger` answered at `at` as a duplicate of `event_id`.
    pub fn duplicate(&self, trigger: &str, at: i64, event_id: &str) {
        self.with(trigger, |log| {
            log.duplicates += 1;
            log.push(Entry::Duplicate { at, event_id: event_id.to_owned() });
        });
    }

    /// Forgets a deleted trigger's log.
    pub fn forget(&self, trigger: &str) {
        self.logs.lock().unwrap_or_else(PoisonError::into_inner).remove(trigger);
    }

    /// The log as the API shows it: `{"skipped": n, "duplicates": n, "recent": [...]}`, newest first.
    pub fn view(&self, trigger: &str) -> Value {
        let logs = self.logs.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(log) = logs.get(trigger) else {
            return json!({"skipped": 0, "duplicates": 0, "recent": []});
        };
        let recent: Vec<Value> = log
            .recent
            .iter()
            .rev()
            .map(|entry| match entry {
                Entry::Skipped { at, reason } => {
                    json!({"at": crate::clock::rfc3339(*at), "outcome": "skipped", "reason": reason})
                }
                Entry::Duplicate { at, event_id } => {
                    json!({"at": crate::clock::rfc3339(*at), "outcome": "duplicate", "eventId": event_id})
                }
            })
            .collect();
        json!({"skipped": log.skipped, "duplicates": log.duplicates, "recent": recent})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_everything_and_keeps_the_last_entries_newest_first() {
        let activity = Activity::default();
        for i in 0..RECENT as i64 + 5 {
            activity.skipped("trg_1", i, Some(format!("r{i}")));
        }
        activity.duplicate("trg_1", 100, "evt_1");
        let view = activity.view("trg_1");
        assert_eq!((view["skipped"].as_u64(), view["duplicates"].as_u64()), (Some(25), Some(1)));
        let recent = view["recent"].as_array().unwrap();
        assert_eq!(recent.len(), RECENT);
        assert_eq!(recent[0]["eventId"], "evt_1");
        assert_eq!(recent[1]["reason"], "r24");
        assert_eq!(activity.view("trg_2")["recent"], json!([]));
        activity.forget("trg_1");
        assert_eq!(activity.view("trg_1")["skipped"], 0);
    }
}
