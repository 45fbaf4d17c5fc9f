// =============================================================================
// Preset: Zendesk — event-subscribed webhooks (zen:event-type:ticket.*,
//         zen:event-type:user.*), and trigger/automation webhooks whose JSON
//         body carries the ticket (e.g. {"ticket": {"id": "{{ticket.id}}", ...}});
//         organization events (zen:event-type:organization.*) are skipped.
//
// Docs:   https://developer.zendesk.com/api-reference/webhooks/event-types/webhook-event-types/
//         https://developer.zendesk.com/api-reference/webhooks/event-types/ticket-events/
//         https://developer.zendesk.com/api-reference/webhooks/event-types/user-events/
//         https://support.zendesk.com/hc/en-us/articles/4408886858138  (placeholders)
//
// Event webhooks send one envelope per event:
//   { type: "zen:event-type:ticket.status_changed", account_id, id, time,
//     zendesk_event_version, subject: "zen:ticket:35436",
//     detail: { id, requester_id, assignee_id, status, priority, subject,
//               tags, via: { channel }, ... }   (ids are strings),
//     event: { current, previous, meta? } }
// `x-zendesk-webhook-id`, `x-zendesk-webhook-signature` and
// `...-signature-timestamp` headers identify and sign the request.
//
// User id:
//   - ticket events: detail[TICKET_USER_FIELD] (the requester by default);
//   - user events:   detail.id (the user the event is about);
//   - trigger bodies: ticket.requester.id / ticket.requester_id / requester_id.
//   Organization events and other domains have no user: they are skipped.
//
// Links: Zendesk does not put the subdomain in the payload. Add it to the
// webhook URL, e.g. https://hooks.example.com/in/zd?subdomain=acme, and
// notificationDetail.url links to the ticket in Agent Workspace.
//
// What authors usually customise:
//   - TICKET_USER_FIELD ("assignee_id" to notify the agent instead);
//   - which event types to accept;
//   - the trigger body shape, if you write your own JSON in the trigger.
// =============================================================================

const TICKET_USER_FIELD = "requester_id";
const PREFIX = "zen:event-type:";

function map(payload, request) {
  if (!isObject(payload)) throw new Error("Zendesk payload must be a JSON object");
  const subdomain = request.query?.subdomain ?? null;
  if (typeof payload.type === "string" && payload.type.startsWith(PREFIX)) {
    return mapEvent(payload, request, subdomain);
  }
  return mapTriggerBody(payload, request, subdomain);
}

function mapEvent(p, request, subdomain) {
  const kind = p.type.slice(PREFIX.length);          // "ticket.status_changed"
  const domain = kind.split(".")[0];                  // "ticket", "user", ...
  const d = isObject(p.detail) ? p.detail : {};
  const ev = isObject(p.event) ? p.event : {};

  let userId = null;
  if (domain === "ticket") userId = idOf(d[TICKET_USER_FIELD]);
  else if (domain === "user") userId = idOf(d.id);
  if (userId === null && domain !== "ticket" && domain !== "user") {
    return { skip: "Zendesk " + kind + ": not about a user (only ticket and user events are mapped)" };
  }
  if (userId === null) {
    throw new Error("Zendesk " + kind + ": no user id in detail." + (domain === "ticket" ? TICKET_USER_FIELD : "id"));
  }

  const detail = { "Event": kind };
  let title, message, url = null;
  if (domain === "ticket") {
    detail["Ticket"] = "#" + d.id;
    if (d.subject) detail["Subject"] = d.subject;
    if (d.status) detail["Status"] = lower(d.status);
    if (d.priority) detail["Priority"] = lower(d.priority);
    if (d.type) detail["Type"] = lower(d.type);
    if (d.via?.channel) detail["Channel"] = d.via.channel;
    if (Array.isArray(d.tags) && d.tags.length) detail["Tags"] = d.tags.filter((t) => typeof t === "string");
    const change = changeText(ev);
    if (change) detail["Change"] = change;
    if (ev.comment?.body) detail["Comment"] = truncate(ev.comment.body, 200);
    title = "Ticket #" + d.id + " " + humanise(kind.split(".")[1] ?? "updated");
    message = (d.subject ?? "") + (change ? " (" + change + ")" : "");
    if (subdomain && d.id) url = "https://" + subdomain + ".zendesk.com/agent/tickets/" + d.id;
  } else {
    if (d.email) detail["Email"] = d.email;
    if (d.role) detail["Role"] = d.role;
    const change = changeText(ev);
    if (change) detail["Change"] = change;
    title = "User " + humanise(kind.split(".")[1] ?? "updated");
    message = d.email ?? "";
    if (subdomain && d.id) url = "https://" + subdomain + ".zendesk.com/agent/users/" + d.id;
  }

  return {
    payload: {
      target: { usersById: [userId] },
      detail: detail,
      notificationDetail: { title: title, message: message, url: url },
      metadata: {
        source: "zendesk",
        kind: "event",
        eventId: p.id ?? null,
        eventType: p.type,
        subject: p.subject ?? null,
        accountId: p.account_id ?? null,
        time: p.time ?? null,
        zendeskEventVersion: p.zendesk_event_version ?? null,
        actorId: idOf(d.actor_id) ?? idOf(ev.meta?.actor_id) ?? null,
        sequence: ev.meta?.sequence ?? null,
        webhookId: request.headers["x-zendesk-webhook-id"] ?? null,
        invocationId: request.headers["x-zendesk-webhook-invocation-id"] ?? null,
        receivedAt: request.receivedAt,
      },
    },
  };
}

// Trigger/automation webhooks: the body is whatever JSON the trigger's author
// wrote with placeholders; the common shape is { ticket: { id, ... } }.
function mapTriggerBody(p, request, subdomain) {
  const t = isObject(p.ticket) ? p.ticket : p;
  const userId = idOf(t.requester?.id) ?? idOf(t.requester_id) ?? idOf(p.requester_id) ?? idOf(p.user_id);
  if (userId === null) {
    throw new Error("Zendesk: no user id (expected an event webhook `type`, or ticket.requester.id / requester_id in a trigger body)");
  }
  const detail = {};
  if (t.id !== undefined) detail["Ticket"] = "#" + t.id;
  for (const [label, v] of [["Subject", t.title ?? t.subject], ["Status", t.status],
    ["Priority", t.priority], ["Assignee", t.assignee?.name ?? t.assignee_name],
    ["Group", t.group?.name ?? t.group_name], ["Updated", t.updated_at]]) {
    if (typeof v === "string" && v !== "") detail[label] = v;
  }
  const tags = typeof t.tags === "string" ? t.tags.split(" ").filter(Boolean) : (Array.isArray(t.tags) ? t.tags : []);
  if (tags.length) detail["Tags"] = tags.filter((x) => typeof x === "string");
  return {
    payload: {
      target: { usersById: [userId] },
      detail: detail,
      notificationDetail: {
        title: "Ticket " + (detail["Ticket"] ?? "") + " updated",
        message: t.title ?? t.subject ?? "",
        url: t.url ? (String(t.url).startsWith("http") ? t.url : "https://" + t.url)
          : (subdomain && t.id !== undefined ? "https://" + subdomain + ".zendesk.com/agent/tickets/" + t.id : null),
      },
      metadata: {
        source: "zendesk",
        kind: "trigger",
        ticketId: t.id ?? null,
        webhookId: request.headers["x-zendesk-webhook-id"] ?? null,
        invocationId: request.headers["x-zendesk-webhook-invocation-id"] ?? null,
        receivedAt: request.receivedAt,
      },
    },
  };
}

// --- helpers --------------------------------------------------------------------

function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }

// Zendesk ids arrive as strings in event webhooks and as numbers elsewhere;
// "0" / 0 means "none".
function idOf(v) {
  if (typeof v === "number" && Number.isFinite(v) && v !== 0) return String(v);
  if (typeof v === "string" && v !== "" && v !== "0") return v;
  return null;
}

function lower(v) { return typeof v === "string" ? v.toLowerCase() : v; }

// "status_changed" -> "status changed"
function humanise(s) { return String(s).replace(/_/g, " "); }

// event.previous / event.current when they are scalars: "open → solved"
function changeText(ev) {
  const s = (v) => ["string", "number", "boolean"].includes(typeof v);
  if (!s(ev.current)) return null;
  const cur = lower(String(ev.current));
  return s(ev.previous) ? lower(String(ev.previous)) + " → " + cur : cur;
}

function truncate(text, n) {
  text = String(text);
  return text.length > n ? text.slice(0, n - 1) + "…" : text;
}
