// =============================================================================
// Preset: Intercom — webhook notifications for conversation topics
//         (conversation.user.created, conversation.user.replied,
//         conversation.admin.replied, conversation.admin.closed, ...) and
//         contact topics (contact.user.created, contact.lead.created, ...),
//         contact.tag.created / deleted, event.created; `ping`, ignored topics
//         and topics without a contact (company.*, admin.*, conversation.deleted,
//         ...) are skipped.
//
// Docs:   https://developers.intercom.com/docs/webhooks
//         https://developers.intercom.com/docs/references/webhooks/webhook-models
//
// Every delivery is a notification_event:
//   { type: "notification_event", app_id, id: "notif_...", topic,
//     created_at (s), delivery_attempts, first_sent_at,
//     data: { type: "notification_event_data", item: <Conversation | Contact> } }
// `x-hub-signature` carries an HMAC-SHA1 of the body (sha1=...).
//
// User id: the contact's `external_id` (the user id YOUR app gave Intercom)
// when present, else Intercom's contact id. For conversations: every contact
// on data.item.contacts.contacts[].
//
// What authors usually customise:
//   - PREFER_EXTERNAL_ID (false: always Intercom contact ids);
//   - which topics to accept (admin-only topics like conversation.admin.noted
//     are usually dropped);
//   - the detail fields.
// =============================================================================

const PREFER_EXTERNAL_ID = true;
const IGNORE_TOPICS = ["conversation.admin.noted"]; // internal notes: not for the customer

function map(payload, request) {
  if (!isObject(payload) || payload.type !== "notification_event" || !isObject(payload.data)) {
    throw new Error("not an Intercom notification_event");
  }
  const topic = String(payload.topic ?? "");
  if (topic === "ping") return { skip: "Intercom ping (sent from the Developer Hub): no event to deliver" };
  if (IGNORE_TOPICS.includes(topic)) return { skip: "Intercom " + topic + ": in this mapping's IGNORE_TOPICS" };
  const item = isObject(payload.data.item) ? payload.data.item : {};
  const appId = payload.app_id ?? null;

  let contacts;
  if (item.type === "conversation" || item.type === "ticket") {
    contacts = Array.isArray(item.contacts?.contacts) ? item.contacts.contacts : [];
  } else if (item.type === "contact" || item.type === "user" || item.type === "lead") {
    contacts = [item];
  } else if (isObject(item.contact)) {
    contacts = [item.contact];                    // contact_tag: {tag, contact}
  } else if (item.type === "event") {
    // data events: user_id is your own id, intercom_user_id Intercom's
    contacts = [{ external_id: item.user_id, id: item.intercom_user_id, email: item.email }];
  } else {
    contacts = [];
  }
  const users = [];
  for (const c of contacts) {
    const id = PREFER_EXTERNAL_ID && nonEmpty(c.external_id) ? c.external_id
      : (nonEmpty(c.id) ? c.id : (nonEmpty(c.user_id) ? c.user_id : null));
    if (id !== null && !users.includes(String(id))) users.push(String(id));
  }
  if (users.length === 0) {
    return { skip: "Intercom " + topic + ": no contact (external_id / id) on the " + (item.type ?? "item") };
  }

  const detail = { "Topic": topic };
  let title, message = "", url = null;
  if (item.type === "conversation" || item.type === "ticket") {
    const parts = Array.isArray(item.conversation_parts?.conversation_parts) ? item.conversation_parts.conversation_parts : [];
    const lastPart = parts.length ? parts[parts.length - 1] : null;
    const text = plain(lastPart?.body ?? item.source?.body ?? "");
    detail["Conversation"] = String(item.id);
    if (item.title || item.source?.subject) detail["Title"] = item.title || plain(item.source.subject);
    detail["State"] = item.state ?? (item.open ? "open" : "closed");
    if (item.priority && item.priority !== "not_priority") detail["Priority"] = item.priority;
    if (item.admin_assignee_id !== undefined && item.admin_assignee_id !== null) detail["Assignee"] = String(item.admin_assignee_id);
    const author = lastPart?.author ?? item.source?.author;
    if (author) detail["From"] = author.name ?? author.email ?? author.type ?? null;
    if (text) detail["Message"] = truncate(text, 200);
    const tags = Array.isArray(item.tags?.tags) ? item.tags.tags.map((t) => t.name).filter((n) => typeof n === "string") : [];
    if (tags.length) detail["Tags"] = tags;
    title = {
      "conversation.user.created": "New conversation",
      "conversation.user.replied": "Customer replied",
      "conversation.admin.replied": "New reply from " + (author?.name ?? "support"),
      "conversation.admin.closed": "Conversation closed",
      "conversation.admin.assigned": "Conversation assigned",
    }[topic] ?? "Conversation " + topic.split(".").slice(1).join(" ");
    message = truncate(text, 300);
    if (appId) url = "https://app.intercom.com/a/apps/" + appId + "/conversations/" + item.id;
  } else if (item.type === "event" || isObject(item.contact)) {
    const c = contacts[0];
    if (item.type === "event") detail["Event"] = item.event_name ?? null;
    if (item.tag?.name) detail["Tag"] = item.tag.name;
    detail["Email"] = c.email ?? null;
    title = item.type === "event" ? "Event " + (item.event_name ?? "") : "Contact " + topic.split(".").slice(1).join(" ") + " " + (item.tag?.name ?? "");
    message = c.name ?? c.email ?? "";
    if (appId && c.id) url = "https://app.intercom.com/a/apps/" + appId + "/users/" + c.id;
  } else {
    detail["Contact"] = item.name ?? null;
    detail["Email"] = item.email ?? null;
    detail["Role"] = item.role ?? item.type ?? null;
    if (item.location?.country) detail["Country"] = item.location.country;
    title = "Contact " + topic.split(".").slice(1).join(" ");
    message = item.name ?? item.email ?? "";
    if (appId && item.id) url = "https://app.intercom.com/a/apps/" + appId + "/users/" + item.id;
  }

  return {
    payload: {
      target: { usersById: users },
      detail: detail,
      notificationDetail: { title: title, message: message, url: url },
      metadata: {
        source: "intercom",
        topic: topic,
        notificationId: payload.id ?? null,
        appId: appId,
        itemType: item.type ?? null,
        itemId: item.id ?? null,
        intercomContactIds: contacts.map((c) => c.id ?? null),
        deliveryAttempts: payload.delivery_attempts ?? null,
        createdAt: typeof payload.created_at === "number" ? new Date(payload.created_at * 1000).toISOString() : null,
        receivedAt: request.receivedAt,
      },
    },
  };
}

// --- helpers --------------------------------------------------------------------

function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
function nonEmpty(v) { return (typeof v === "string" && v !== "") || (typeof v === "number" && Number.isFinite(v)); }

// Intercom bodies are HTML: "<p>Hi <b>there</b></p>" -> "Hi there"
function plain(html) {
  return String(html)
    .replace(/<br\s*\/?>/gi, "\n").replace(/<\/p>\s*<p>/gi, "\n").replace(/<[^>]*>/g, "")
    .replace(/&nbsp;/g, " ").replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">")
    .replace(/&quot;/g, "\"").replace(/&#39;/g, "'")
    .trim();
}

function truncate(text, n) { return text.length > n ? text.slice(0, n - 1) + "…" : text; }
