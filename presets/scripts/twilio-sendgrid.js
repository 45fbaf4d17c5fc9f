// =============================================================================
// Preset: Twilio SendGrid — Event Webhook batches: delivery events
//         (processed, delivered, deferred, dropped, bounce) and engagement
//         events (open, click, spamreport, unsubscribe, group_unsubscribe,
//         group_resubscribe); a batch with none of these (only `processed`
//         events, or account_status_change events) is skipped.
//
// Docs:   https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
//         https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
//
// SendGrid batches: the body is a JSON ARRAY of events, each like
//   { email, timestamp (s), event, sg_event_id, sg_message_id, "smtp-id",
//     category (string or array), reason?, status?, url?, useragent?, ip?,
//     asm_group_id?, ...your custom_args (unique_args) at the top level }
// With the signed Event Webhook, `x-twilio-email-event-webhook-signature` and
// `...-timestamp` headers sign the request.
//
// User id, per event: the custom arg USER_ID_ARG (set it when sending:
// "custom_args": {"userId": "48213"}); when absent, the recipient `email`
// if FALLBACK_TO_EMAIL. All distinct users of the batch are targeted.
//
// What authors usually customise:
//   - USER_ID_ARG / FALLBACK_TO_EMAIL;
//   - EVENTS: which event types matter (all but "processed" by default;
//     e.g. only ["bounce", "dropped", "spamreport"] to hear about problems);
//   - the summary on the card.
// =============================================================================

const USER_ID_ARG = "userId";
const FALLBACK_TO_EMAIL = true;
// Event types to keep; empty = all.
const EVENTS = ["bounce", "dropped", "deferred", "delivered", "spamreport", "unsubscribe",
  "group_unsubscribe", "group_resubscribe", "open", "click"];
const MAX_LISTED_EVENTS = 50;

function map(payload, request) {
  // A single event object is accepted too (e.g. when replaying one by hand).
  if (!Array.isArray(payload) && !isObject(payload)) {
    throw new Error("SendGrid: expected a JSON array of events, found " + (payload === null ? "null" : typeof payload));
  }
  const all = Array.isArray(payload) ? payload : [payload];
  const events = all.filter((e) => isObject(e) && typeof e.event === "string" &&
    (EVENTS.length === 0 || EVENTS.includes(e.event)));
  if (events.length === 0) {
    if (all.length === 0) return { skip: "SendGrid: empty batch" };
    const others = countByType(all);
    return { skip: "SendGrid: no event of a mapped type in the batch (" + (others.length ? others.join(", ") : "no `event` fields") + ")" };
  }

  const users = [];
  for (const e of events) {
    const u = userOf(e);
    if (u === null) {
      throw new Error("SendGrid " + e.event + " event " + (e.sg_event_id ?? "") + ": no " + USER_ID_ARG +
        " custom arg" + (FALLBACK_TO_EMAIL ? " nor email" : ""));
    }
    if (!users.includes(u)) users.push(u);
  }
  if (users.length > 10000) throw new Error("SendGrid batch targets more than 10000 users");

  const summary = countByType(events);
  const problems = events.filter((e) => ["bounce", "dropped", "deferred", "spamreport"].includes(e.event));
  const categories = [];
  for (const e of events) {
    for (const c of (Array.isArray(e.category) ? e.category : [e.category])) {
      if (typeof c === "string" && !categories.includes(c)) categories.push(c);
    }
  }
  const times = events.map((e) => e.timestamp).filter((t) => typeof t === "number");

  const detail = {
    "Events": events.length,
    "Summary": summary,
    "Recipients": unique(events.map((e) => e.email)).slice(0, 20),
  };
  if (categories.length) detail["Categories"] = categories;
  if (problems.length) {
    detail["Problems"] = problems.slice(0, 10).map((e) =>
      e.event + " " + e.email + (e.reason || e.response ? ": " + (e.reason ?? e.response) : ""));
  }
  const clicks = unique(events.filter((e) => e.event === "click").map((e) => e.url));
  if (clicks.length) detail["Clicked links"] = clicks.slice(0, 10);
  if (times.length) detail["First event"] = new Date(Math.min.apply(null, times) * 1000).toISOString();

  const listed = events.slice(0, MAX_LISTED_EVENTS).map((e) => ({
    event: e.event,
    email: e.email ?? null,
    userId: userOf(e),
    timestamp: typeof e.timestamp === "number" ? new Date(e.timestamp * 1000).toISOString() : null,
    reason: e.reason ?? null,
    response: e.response ?? null,
    url: e.url ?? null,
    sgEventId: e.sg_event_id ?? null,
  }));

  return {
    payload: {
      target: { usersById: users },
      detail: detail,
      notificationDetail: {
        title: problems.length
          ? problems.length + " email delivery problem" + (problems.length === 1 ? "" : "s")
          : "Email activity: " + summary.join(", "),
        message: summary.join(", "),
        events: listed,
        moreEvents: Math.max(0, events.length - listed.length),
      },
      metadata: {
        source: "sendgrid",
        eventIds: events.map((e) => e.sg_event_id ?? null),
        messageIds: unique(events.map((e) => e.sg_message_id)),
        skippedEvents: all.length - events.length,
        signed: typeof request.headers["x-twilio-email-event-webhook-signature"] === "string",
        receivedAt: request.receivedAt,
      },
    },
  };
}

// --- helpers --------------------------------------------------------------------

function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }

// Count per event type, in first-seen order: ["delivered × 2", "open × 1", ...]
function countByType(events) {
  const counts = {};
  for (const e of events) {
    if (isObject(e) && typeof e.event === "string") counts[e.event] = (counts[e.event] ?? 0) + 1;
  }
  return Object.keys(counts).map((k) => k + " × " + counts[k]);
}

function userOf(e) {
  const v = e[USER_ID_ARG];
  if ((typeof v === "string" && v !== "") || (typeof v === "number" && Number.isFinite(v))) return String(v);
  if (FALLBACK_TO_EMAIL && typeof e.email === "string" && e.email !== "") return e.email.toLowerCase();
  return null;
}

function unique(values) {
  const out = [];
  for (const v of values) if (typeof v === "string" && !out.includes(v)) out.push(v);
  return out;
}
