// =============================================================================
// Preset: HubSpot — Webhooks API subscription events (contact.creation,
//         contact.propertyChange, contact.deletion, contact.privacyDeletion,
//         contact.merge, contact.restore, contact.associationChange, object.*
//         generic events about contacts); a batch with no contact event
//         (company.*, deal.*, ...) is skipped.
//
// Docs:   https://developers.hubspot.com/docs/api/webhooks
//         https://developers.hubspot.com/docs/guides/apps/public-apps/create-generic-webhook-subscriptions
//
// HubSpot batches: the body is a JSON ARRAY of up to 100 events, each like
//   { eventId, subscriptionId, portalId, appId, occurredAt (ms), subscriptionType,
//     attemptNumber, objectId, changeSource, changeFlag?, propertyName?,
//     propertyValue?, objectTypeId? (generic "object.*" events) }
// `x-hubspot-signature-v3` + `x-hubspot-request-timestamp` sign the request.
//
// User id: every event's `objectId` (as a string, duplicates removed, order
// kept) — with contact subscriptions the objectId is the contact's record id;
// contact.associationChange events have no objectId: their `fromObjectId` is
// the contact.
// One delivery therefore targets all contacts in the batch.
//
// What authors usually customise:
//   - OBJECT_TYPES: only keep events about contacts (legacy "contact.*" types,
//     or generic "object.*" events with objectTypeId "0-1");
//   - target a HubSpot property value instead of the record id (e.g. when a
//     propertyChange on "app_user_id" carries your own id in propertyValue);
//   - the summary in detail / notificationDetail.
// =============================================================================

// Keep only events about these objects; empty = keep all. Legacy subscription
// types start with the object name ("contact.propertyChange"); generic ones are
// "object.*" and carry objectTypeId ("0-1" contact, "0-2" company, "0-3" deal,
// "0-5" ticket).
const OBJECT_TYPES = ["contact", "0-1"];

const MAX_LISTED_EVENTS = 50; // how many events to copy into notificationDetail

function map(payload, request) {
  // A single event object is accepted too (e.g. when replaying one by hand).
  if (!Array.isArray(payload) && !isObject(payload)) {
    throw new Error("HubSpot: expected a JSON array of subscription events, found " + (payload === null ? "null" : typeof payload));
  }
  const all = Array.isArray(payload) ? payload : [payload];
  const events = all.filter((e) => isObject(e) && wanted(e));
  if (events.length === 0) {
    const types = unique(all.map((e) => (isObject(e) ? e.subscriptionType : null)));
    return {
      skip: "HubSpot: no events" + (OBJECT_TYPES.length ? " about " + OBJECT_TYPES.join("/") : "") +
        " in the batch" + (types.length ? " (" + types.join(", ") + ")" : " (empty)"),
    };
  }

  const users = [];
  const seen = {};
  for (const e of events) {
    const id = recordOf(e);
    if (!((typeof id === "number" && Number.isFinite(id)) || (typeof id === "string" && id !== ""))) {
      throw new Error("HubSpot " + e.subscriptionType + " event " + e.eventId + " has no objectId" +
        (String(e.subscriptionType).endsWith("associationChange") ? " nor fromObjectId" : ""));
    }
    const s = String(id);
    if (!seen[s]) { seen[s] = true; users.push(s); }
  }
  if (users.length > 10000) throw new Error("HubSpot batch targets more than 10000 records");

  const types = unique(events.map((e) => e.subscriptionType));
  const properties = unique(events.map((e) => e.propertyName));
  const sources = unique(events.map((e) => e.changeSource));
  const times = events.map((e) => e.occurredAt).filter((t) => typeof t === "number");
  const first = times.length ? Math.min.apply(null, times) : null;
  const last = times.length ? Math.max.apply(null, times) : null;
  const portalId = events[0].portalId ?? null;

  const detail = {
    "Events": events.length,
    "Records": users.length,
    "Subscription types": types,
  };
  if (properties.length) detail["Changed properties"] = properties;
  if (sources.length) detail["Change sources"] = sources;
  if (portalId !== null) detail["Portal"] = String(portalId);
  if (first !== null) detail["First occurred"] = new Date(first).toISOString();
  if (last !== null && last !== first) detail["Last occurred"] = new Date(last).toISOString();

  // One line per event, e.g. "contact.propertyChange 65059681032: lifecyclestage = customer"
  const listed = events.slice(0, MAX_LISTED_EVENTS).map((e) => ({
    eventId: e.eventId ?? null,
    objectId: String(recordOf(e)),
    subscriptionType: e.subscriptionType ?? null,
    propertyName: e.propertyName ?? null,
    propertyValue: e.propertyValue ?? null,
    changeSource: e.changeSource ?? null,
    occurredAt: typeof e.occurredAt === "number" ? new Date(e.occurredAt).toISOString() : null,
    ...(e.associationType ? { associationType: e.associationType, toObjectId: e.toObjectId ?? null,
      associationRemoved: e.associationRemoved === true } : {}),
  }));
  const title = events.length === 1
    ? "HubSpot " + humanise(events[0].subscriptionType)
    : events.length + " HubSpot changes to " + users.length + " record" + (users.length === 1 ? "" : "s");

  return {
    payload: {
      target: { usersById: users },
      detail: detail,
      notificationDetail: {
        title: title,
        message: listed.map(describe).join("; "),
        url: portalId !== null && users.length === 1
          ? "https://app.hubspot.com/contacts/" + portalId + "/record/0-1/" + users[0]
          : null,
        events: listed,
        moreEvents: Math.max(0, events.length - listed.length),
      },
      metadata: {
        source: "hubspot",
        portalId: portalId,
        appId: events[0].appId ?? null,
        subscriptionIds: unique(events.map((e) => e.subscriptionId)),
        eventIds: events.map((e) => e.eventId ?? null),
        maxAttemptNumber: Math.max.apply(null, events.map((e) => e.attemptNumber ?? 0)),
        skippedEvents: all.length - events.length,
        signatureVersion: request.headers["x-hubspot-signature-version"] ?? null,
        requestTimestamp: request.headers["x-hubspot-request-timestamp"] ?? null,
        receivedAt: request.receivedAt,
      },
    },
  };
}

// --- helpers --------------------------------------------------------------------

function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }

// The record an event is about: objectId, or the "from" side of an association change.
function recordOf(e) {
  return e.objectId ?? (String(e.subscriptionType).endsWith("associationChange") ? e.fromObjectId : undefined);
}

function wanted(e) {
  if (OBJECT_TYPES.length === 0) return true;
  const type = typeof e.subscriptionType === "string" ? e.subscriptionType : "";
  const objectName = type.split(".")[0];
  if (objectName === "object") return OBJECT_TYPES.includes(String(e.objectTypeId));
  return OBJECT_TYPES.includes(objectName);
}

// Distinct scalar values, first-seen order, null/undefined dropped.
function unique(values) {
  const out = [];
  for (const v of values) {
    if (v === null || v === undefined || typeof v === "object") continue;
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

// "contact.propertyChange" -> "contact property change"
function humanise(type) {
  return String(type ?? "event").replace(/\./g, " ").replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}

function describe(e) {
  let s = e.subscriptionType + " " + e.objectId;
  if (e.associationType) s += ": " + e.associationType + (e.associationRemoved ? " removed" : " added");
  if (e.propertyName) s += ": " + e.propertyName + " = " + e.propertyValue;
  return s;
}
