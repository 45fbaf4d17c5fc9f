//! Triggers: the model a team configures (sample, mapping, security, flow) and its
//! lifecycle, a small pure state machine.
//!
//! ```text
//!            activate                    body not shaped like the sample
//!   ┌──────┐ ───────▶ ┌──────┐ ─────────────────────────────────────▶ ┌────────────────┐
//!   │ test │          │ live │                                          │ paused(live)   │
//!   └──────┘ ◀─────── └──────┘ ◀──────────────── reactivate ─────────── └────────────────┘
//!     ▲  │   test-mode   (test pauses into paused(test), reactivate returns to test)
//!     │  └──────── disable (from test, live or paused) ──────▶ ┌──────────┐ ── delete ──▶ gone
//!     └──────────────────────── enable ─────────────────────── │ disabled │
//!                                                              └──────────┘
//! ```
//! A new trigger starts in `test`. Every legal transition bumps the trigger's version;
//! an illegal one is an [`IllegalTransition`] (the API answers 409).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::runtime::{Isolation, Limits};

/// Whether a request makes a test event or a live one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Events are marked as tests: the trigger is being set up.
    Test,
    /// Events are real.
    Live,
}

impl Mode {
    /// `test` or `live`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Test => "test",
            Mode::Live => "live",
        }
    }

    /// Parses `test` or `live`.
    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "test" => Some(Mode::Test),
            "live" => Some(Mode::Live),
            _ => None,
        }
    }
}

/// Where a trigger is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Requests are mapped into test events.
    Test,
    /// Requests are mapped into live events.
    Live,
    /// A body did not match the sample: requests are held until the owner reactivates;
    /// `resume` is the mode the trigger returns to.
    Paused {
        /// The mode before the pause.
        resume: Mode,
    },
    /// The URL answers 404; the only state a trigger can be deleted from.
    Disabled,
}

impl Status {
    /// `test`, `live`, `paused` or `disabled`.
    pub fn name(self) -> &'static str {
        match self {
            Status::Test => "test",
            Status::Live => "live",
            Status::Paused { .. } => "paused",
            Status::Disabled => "disabled",
        }
    }

    /// The mode events are made in, when requests are processed at all.
    pub fn mode(self) -> Option<Mode> {
        match self {
            Status::Test => Some(Mode::Test),
            Status::Live => Some(Mode::Live),
            Status::Paused { .. } | Status::Disabled => None,
        }
    }

    /// Applies `action`: the next status, or why the action is not allowed now.
    pub fn apply(self, action: Action) -> Result<Status, IllegalTransition> {
        let next = match (self, action) {
            (Status::Test, Action::Activate) => Status::Live,
            (Status::Live, Action::TestMode) => Status::Test,
            (Status::Test, Action::Pause) => Status::Paused { resume: Mode::Test },
            (Status::Live, Action::Pause) => Status::Paused { resume: Mode::Live },
            (Status::Paused { resume: Mode::Test }, Action::Reactivate) => Status::Test,
            (Status::Paused { resume: Mode::Live }, Action::Reactivate) => Status::Live,
            (Status::Test | Status::Live | Status::Paused { .. }, Action::Disable) => Status::Disabled,
            (Status::Disabled, Action::Enable) => Status::Test,
            (from, action) => return Err(IllegalTransition { from, action }),
        };
        Ok(next)
    }

    /// Whether the trigger may be deleted now (only when disabled).
    pub fn can_delete(self) -> Result<(), IllegalTransition> {
        match self {
            Status::Disabled => Ok(()),
            from => Err(IllegalTransition { from, action: Action::Delete }),
        }
    }
}

/// What the owner (or the ingest path, for `Pause`) asks of a trigger's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// test → live.
    Activate,
    /// live → test.
    TestMode,
    /// test or live → paused (done by the ingest path on a body not shaped like the sample).
    Pause,
    /// paused → the mode it was paused from.
    Reactivate,
    /// test, live or paused → disabled.
    Disable,
    /// disabled → test.
    Enable,
    /// disabled → gone.
    Delete,
}

impl Action {
    /// Every action, for exhaustive tests.
    pub const ALL: [Action; 7] = [
        Action::Activate,
        Action::TestMode,
        Action::Pause,
        Action::Reactivate,
        Action::Disable,
        Action::Enable,
        Action::Delete,
    ];

    /// The action's name as in the API path: `activate`, `test-mode`, ….
    pub fn name(self) -> &'static str {
        match self {
            Action::Activate => "activate",
            Action::TestMode => "test-mode",
            Action::Pause => "pause",
            Action::Reactivate => "reactivate",
            Action::Disable => "disable",
            Action::Enable => "enable",
            Action::Delete => "delete",
        }
    }

    /// The action an owner may request by name in the API (not `pause`, nor `delete`).
    pub fn from_api(name: &str) -> Option<Action> {
        match name {
            "activate" => Some(Action::Activate),
            "test-mode" => Some(Action::TestMode),
            "reactivate" => Some(Action::Reactivate),
            "disable" => Some(Action::Disable),
            "enable" => Some(Action::Enable),
            _ => None,
        }
    }
}

/// An action the trigger's current status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IllegalTransition {
    /// The status the trigger is in.
    pub from: Status,
    /// The refused action.
    pub action: Action,
}

impl fmt::Display for IllegalTransition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hint = match (self.from, self.action) {
            (_, Action::Delete) => "; disable it first",
            (Status::Disabled, _) => "; enable it first",
            (Status::Paused { .. }, Action::Activate | Action::TestMode) => "; reactivate it first",
            _ => "",
        };
        write!(f, "cannot {} a trigger that is {}{hint}", self.action.name(), self.from.name())
    }
}

impl std::error::Error for IllegalTransition {}

/// The status as stored and shown: `status` plus `pausedFrom` when paused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDoc {
    /// `test`, `live`, `paused` or `disabled`.
    pub status: String,
    /// The mode a paused trigger returns to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_from: Option<Mode>,
}

/// Where the mapped events of a trigger go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Flow {
    /// The flow's id in the owner's system (free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The delivery target.
    #[serde(default)]
    pub target: FlowTarget,
}

impl Default for Flow {
    fn default() -> Flow {
        Flow { id: None, target: FlowTarget::None }
    }
}

/// A flow's delivery target.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum FlowTarget {
    /// Events stay in the outbox, read with the events API and acknowledged there.
    #[default]
    None,
    /// Each event is POSTed to this `http://` URL.
    Webhook {
        /// The target URL.
        url: String,
    },
}

/// The kind of a mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MappingKind {
    /// A structured JSON mapping.
    Structured,
    /// A JavaScript mapping run in the sandbox.
    Script,
}

/// A trigger's mapping as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MappingSpec {
    /// Structured or script.
    pub kind: MappingKind,
    /// The source text (a structured mapping's JSON text, or a script).
    pub source: String,
    /// Run limits of its scripts (a script mapping, a structured mapping's script leaves).
    #[serde(default)]
    pub limits: Limits,
    /// Whether its scripts' runs reuse warm instances (the default) or each get a new one.
    #[serde(default)]
    pub isolation: Isolation,
}

/// A trigger's request security.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecuritySpec {
    /// Allowed client addresses and CIDR ranges; empty allows everyone.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is believed.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// The signature check, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureSpec>,
    /// Shared secrets (several during rotation).
    #[serde(default)]
    pub secrets: Vec<String>,
}

/// Which signature scheme a trigger uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignatureSpec {
    /// A preset name (`stripe`, `github`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// A custom scheme (see the scheme table in docs/security.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<Value>,
}

/// How a body is compared with the trigger's sample before mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShapeCheck {
    /// The JSONPaths the mapping reads that select something in the sample must select
    /// something in the body, of the types seen in the sample.
    #[default]
    Referenced,
    /// Every property of the sample must be in the body, of the types seen in the sample.
    Sample,
    /// No check.
    Off,
}

/// A per-trigger rate limit (token bucket).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: f64,
    /// Requests allowed in a burst (at least 1).
    #[serde(default = "RateLimit::default_burst")]
    pub burst: u32,
}

impl RateLimit {
    fn default_burst() -> u32 {
        1
    }
}

/// A trigger's deduplication of provider retries (see [`crate::dedup`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DedupSpec {
    /// Where a request's key is: a JSONPath on the body (`$.id`) or `header:NAME`.
    pub key: String,
    /// How long a key is remembered after its event, in seconds (default 86400).
    #[serde(default = "DedupSpec::default_window_seconds")]
    pub window_seconds: u64,
}

impl DedupSpec {
    /// The window when none is given: a day.
    pub const DEFAULT_WINDOW_SECONDS: u64 = 86_400;

    fn default_window_seconds() -> u64 {
        DedupSpec::DEFAULT_WINDOW_SECONDS
    }
}

/// A trigger: everything the ingest path needs to process a request to its URL.
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    /// Its id (`trg_…`).
    pub id: String,
    /// A name for people.
    pub name: String,
    /// The URL token (128 random bits, URL-safe base64).
    pub token: String,
    /// Lifecycle status.
    pub status: Status,
    /// The next request to the URL is stored as the sample.
    pub capturing: bool,
    /// The sample body.
    pub sample: Option<Value>,
    /// The mapping.
    pub mapping: Option<MappingSpec>,
    /// Request security.
    pub security: SecuritySpec,
    /// Where events go.
    pub flow: Flow,
    /// The shape check.
    pub shape_check: ShapeCheck,
    /// The rate limit, if any.
    pub rate_limit: Option<RateLimit>,
    /// The deduplication of retries, if any.
    pub dedup: Option<DedupSpec>,
    /// Creation time (Unix milliseconds).
    pub created_at: i64,
    /// Last change (Unix milliseconds).
    pub updated_at: i64,
    /// Bumped by every change.
    pub version: u64,
}

impl Trigger {
    /// The status as stored and shown.
    pub fn status_doc(&self) -> StatusDoc {
        let paused_from = match self.status {
            Status::Paused { resume } => Some(resume),
            _ => None,
        };
        StatusDoc { status: self.status.name().to_owned(), paused_from }
    }

    /// Reads a status back from its stored form.
    pub fn status_from_doc(doc: &StatusDoc) -> Option<Status> {
        match (doc.status.as_str(), doc.paused_from) {
            ("test", _) => Some(Status::Test),
            ("live", _) => Some(Status::Live),
            ("paused", Some(resume)) => Some(Status::Paused { resume }),
            ("disabled", _) => Some(Status::Disabled),
            _ => None,
        }
    }

    /// Marks a change made at `now`: bumps the version and the update time.
    pub fn touch(&mut self, now: i64) {
        self.version += 1;
        self.updated_at = now.max(self.updated_at);
    }
}

/// The stored form of a [`Trigger`] (a JSON document; the status as [`StatusDoc`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerDoc {
    id: String,
    name: String,
    token: String,
    #[serde(flatten)]
    status: StatusDoc,
    #[serde(default)]
    capturing: bool,
    #[serde(default)]
    sample: Option<Value>,
    #[serde(default)]
    mapping: Option<MappingSpec>,
    #[serde(default)]
    security: SecuritySpec,
    #[serde(default)]
    flow: Flow,
    #[serde(default)]
    shape_check: ShapeCheck,
    #[serde(default)]
    rate_limit: Option<RateLimit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dedup: Option<DedupSpec>,
    created_at: i64,
    updated_at: i64,
    version: u64,
}

impl From<&Trigger> for TriggerDoc {
    fn from(t: &Trigger) -> TriggerDoc {
        TriggerDoc {
            id: t.id.clone(),
            name: t.name.clone(),
            token: t.token.clone(),
            status: t.status_doc(),
            capturing: t.capturing,
            sample: t.sample.clone(),
            mapping: t.mapping.clone(),
            security: t.security.clone(),
            flow: t.flow.clone(),
            shape_check: t.shape_check,
            rate_limit: t.rate_limit,
            dedup: t.dedup.clone(),
            created_at: t.created_at,
            updated_at: t.updated_at,
            version: t.version,
        }
    }
}

impl TryFrom<TriggerDoc> for Trigger {
    type Error = String;

    fn try_from(d: TriggerDoc) -> Result<Trigger, String> {
        let status = Trigger::status_from_doc(&d.status).ok_or_else(|| format!("invalid status {:?}", d.status))?;
        Ok(Trigger {
            id: d.id,
            name: d.name,
            token: d.token,
            status,
            capturing: d.capturing,
            sample: d.sample,
            mapping: d.mapping,
            security: d.security,
            flow: d.flow,
            shape_check: d.shape_check,
            rate_limit: d.rate_limit,
            dedup: d.dedup,
            created_at: d.created_at,
            updated_at: d.updated_at,
            version: d.version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUSES: [Status; 5] = [
        Status::Test,
        Status::Live,
        Status::Paused { resume: Mode::Test },
        Status::Paused { resume: Mode::Live },
        Status::Disabled,
    ];

    fn expected(from: Status, action: Action) -> Option<Status> {
        use Action::*;
        use Status::*;
        match (from, action) {
            (Test, Activate) => Some(Live),
            (Live, TestMode) => Some(Test),
            (Test, Pause) => Some(Paused { resume: Mode::Test }),
            (Live, Pause) => Some(Paused { resume: Mode::Live }),
            (Paused { resume }, Reactivate) => Some(if resume == Mode::Live { Live } else { Test }),
            (Disabled, Disable) => None,
            (_, Disable) => Some(Disabled),
            (Disabled, Enable) => Some(Test),
            _ => None,
        }
    }

    #[test]
    fn every_status_and_action_pair_follows_the_table() {
        for from in STATUSES {
            for action in Action::ALL {
                let got = from.apply(action);
                match expected(from, action) {
                    Some(next) => assert_eq!(got, Ok(next), "{from:?} {action:?}"),
                    None => assert_eq!(got, Err(IllegalTransition { from, action }), "{from:?} {action:?}"),
                }
            }
        }
    }

    #[test]
    fn pause_remembers_the_mode_and_reactivate_returns_to_it() {
        for (start, mode) in [(Status::Test, Mode::Test), (Status::Live, Mode::Live)] {
            let paused = start.apply(Action::Pause).unwrap();
            assert_eq!(paused, Status::Paused { resume: mode });
            assert_eq!(paused.mode(), None);
            assert_eq!(paused.apply(Action::Reactivate), Ok(start));
        }
    }

    #[test]
    fn delete_only_when_disabled() {
        for status in STATUSES {
            assert_eq!(status.can_delete().is_ok(), status == Status::Disabled, "{status:?}");
        }
        let err = Status::Live.can_delete().unwrap_err();
        assert_eq!(err.to_string(), "cannot delete a trigger that is live; disable it first");
    }

    #[test]
    fn enable_returns_to_test_and_the_api_names_round_trip() {
        assert_eq!(Status::Disabled.apply(Action::Enable), Ok(Status::Test));
        for action in Action::ALL {
            match action {
                Action::Pause | Action::Delete => assert_eq!(Action::from_api(action.name()), None),
                _ => assert_eq!(Action::from_api(action.name()), Some(action)),
            }
        }
        let err = Status::Paused { resume: Mode::Live }.apply(Action::Activate).unwrap_err();
        assert_eq!(err.to_string(), "cannot activate a trigger that is paused; reactivate it first");
    }

    #[test]
    fn status_documents_round_trip() {
        for status in STATUSES {
            let trigger = Trigger {
                id: "trg_1".into(),
                name: "n".into(),
                token: "t".into(),
                status,
                capturing: false,
                sample: None,
                mapping: None,
                security: SecuritySpec::default(),
                flow: Flow::default(),
                shape_check: ShapeCheck::default(),
                rate_limit: None,
                dedup: None,
                created_at: 0,
                updated_at: 0,
                version: 1,
            };
            assert_eq!(Trigger::status_from_doc(&trigger.status_doc()), Some(status));
        }
        let bad = StatusDoc { status: "paused".into(), paused_from: None };
        assert_eq!(Trigger::status_from_doc(&bad), None);
    }

    #[test]
    fn modes_name_and_parse() {
        for mode in [Mode::Test, Mode::Live] {
            assert_eq!(Mode::parse(mode.as_str()), Some(mode));
        }
        assert_eq!(Mode::parse("paused"), None);
    }
}
