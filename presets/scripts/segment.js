// =============================================================================
// Preset: Segment (Twilio Segment) — messages forwarded by the Webhooks
//         destination: track, identify, page, screen, group, alias.
//
// Docs:   https://segment.com/docs/connections/spec/          (common fields)
//         https://segment.com/docs/connections/spec/track/
//         https://segment.com/docs/connections/spec/identify/
//         https://segment.com/docs/connections/destinations/catalog/webhooks/
//         (also at https://www.twilio.com/docs/segment/connections/spec)
//
// The body is one Segment message: { type, userId?, anonymousId?, messageId,
// timestamp, context, integrations, event + properties (track), traits
// (identify), name + properties (page/screen), groupId + traits (group) }.
// With a shared secret, `x-signature` carries an HMAC-SHA1 of the body.
//
// User id: `userId`; anonymous visitors fall back to `anonymousId` unless
// ALLOW_ANONYMOUS is false (then the message is skipped).
//
// What authors usually customise:
//   - ALLOW_ANONYMOUS;
//   - TRACK_EVENTS: only accept some event names (e.g. "Order Completed");
//   - which properties / traits go on the card (MAX_PROPERTIES, SKIP_KEYS,
//     SECRET_KEYS).
// =============================================================================

const ALLOW_ANONYMOUS = true;
const TRACK_EVENTS = [];   // e.g. ["Order Completed", "Trial Started"]; empty = all
const MAX_PROPERTIES = 15; // scalar properties/traits copied onto the card
const SKIP_KEYS = ["products"];     // not copied onto the card (still in notificationDetail)
const SECRET_KEYS = ["password"];   // dropped everywhere

function map(payload, request) {
  if (!isObject(payload) || typeof payload.type !== "string") {
    throw new Error("not a Segment message: expected an object with `type`");
  }
  const type = payload.type;
  if (type === "track" && TRACK_EVENTS.length && !TRACK_EVENTS.includes(payload.event)) {
    return { skip: "Segment track " + JSON.stringify(payload.event ?? null) + ": not in this mapping's TRACK_EVENTS" };
  }

  let userId = nonEmpty(payload.userId) ? String(payload.userId) : null;
  let anonymous = false;
  if (userId === null && ALLOW_ANONYMOUS && nonEmpty(payload.anonymousId)) {
    userId = String(payload.anonymousId);
    anonymous = true;
  }
  if (userId === null && !ALLOW_ANONYMOUS && nonEmpty(payload.anonymousId)) {
    return { skip: "Segment " + type + " from an anonymous visitor (ALLOW_ANONYMOUS is false)" };
  }
  if (userId === null) {
    throw new Error("Segment " + type + ": no userId" + (ALLOW_ANONYMOUS ? " or anonymousId" : "") + " in the message");
  }

  const ctx = isObject(payload.context) ? payload.context : {};
  const detail = { "Type": type };
  let title, message, bag;
  if (type === "track") {
    detail["Event"] = payload.event ?? null;
    bag = payload.properties;
    title = String(payload.event ?? "Track");
  } else if (type === "identify") {
    bag = payload.traits ?? ctx.traits;
    title = "Profile updated";
  } else if (type === "page" || type === "screen") {
    detail["Name"] = payload.name ?? payload.properties?.title ?? null;
    bag = payload.properties;
    title = (type === "page" ? "Viewed page " : "Viewed screen ") + (payload.name ?? payload.properties?.path ?? "");
  } else if (type === "group") {
    detail["Group"] = payload.groupId ?? null;
    bag = payload.traits;
    title = "Joined group " + (payload.traits?.name ?? payload.groupId ?? "");
  } else if (type === "alias") {
    detail["Previous ID"] = payload.previousId ?? null;
    title = "Alias " + payload.previousId + " → " + userId;
  } else {
    title = "Segment " + type;
  }
  if (anonymous) detail["Anonymous"] = true;
  detail["Timestamp"] = payload.timestamp ?? payload.originalTimestamp ?? null;
  if (ctx.page?.url) detail["URL"] = ctx.page.url;
  if (ctx.library?.name) detail["Library"] = ctx.library.name + (ctx.library.version ? " " + ctx.library.version : "");

  // Scalar properties / traits, under their own names ("revenue", "plan"...),
  // unless a label above already uses the name.
  const props = {};
  let n = 0;
  if (isObject(bag)) {
    for (const k of Object.keys(bag)) {
      if (n >= MAX_PROPERTIES) break;
      if (SKIP_KEYS.includes(k) || SECRET_KEYS.includes(k) || k in detail) continue;
      const v = bag[k];
      if (isScalar(v) || (Array.isArray(v) && v.length && v.every(isScalar))) { props[k] = v; n++; }
    }
  }
  Object.assign(detail, props);

  // Commerce events: "Order Completed" → "3 products, 129.90 USD"
  const products = Array.isArray(bag?.products) ? bag.products : null;
  const money = typeof bag?.total === "number" ? bag.total : (typeof bag?.revenue === "number" ? bag.revenue : null);
  message = [
    products ? products.length + " product" + (products.length === 1 ? "" : "s") : null,
    money !== null ? money.toFixed(2) + " " + String(bag.currency ?? "USD").toUpperCase() : null,
  ].filter(Boolean).join(", ") || (ctx.page?.title ?? "");

  return {
    payload: {
      target: { usersById: [userId] },
      detail: detail,
      notificationDetail: {
        title: title,
        message: message,
        url: ctx.page?.url ?? null,
        properties: withoutKeys(bag, SECRET_KEYS),
      },
      metadata: {
        source: "segment",
        type: type,
        event: payload.event ?? null,
        messageId: payload.messageId ?? null,
        userId: payload.userId ?? null,
        anonymousId: payload.anonymousId ?? null,
        timestamp: payload.timestamp ?? null,
        sentAt: payload.sentAt ?? null,
        receivedAtSegment: payload.receivedAt ?? null,
        library: ctx.library ?? null,
        ip: ctx.ip ?? null,
        signed: typeof request.headers["x-signature"] === "string",
        receivedAt: request.receivedAt,
      },
    },
  };
}

// --- helpers --------------------------------------------------------------------

function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
function withoutKeys(obj, keys) {
  const out = {};
  if (isObject(obj)) for (const k of Object.keys(obj)) if (!keys.includes(k)) out[k] = obj[k];
  return out;
}
function nonEmpty(v) { return (typeof v === "string" && v !== "") || (typeof v === "number" && Number.isFinite(v)); }
function isScalar(v) {
  return v === null || typeof v === "string" || typeof v === "boolean" ||
    (typeof v === "number" && Number.isFinite(v));
}
