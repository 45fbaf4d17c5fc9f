// =============================================================================
// Preset: Stripe — any webhook Event (invoice.*, payment_intent.*, charge.*,
//         checkout.session.*, customer.subscription.*, customer.*, ...)
//
// Docs:   https://docs.stripe.com/webhooks                 (delivery, headers)
//         https://docs.stripe.com/api/events/object        (the Event object)
//         https://docs.stripe.com/api/events/types         (event types)
//
// Stripe POSTs an Event: { id: "evt_...", object: "event", type, created,
// livemode, api_version, data: { object: <the resource>, previous_attributes? },
// request: { id, idempotency_key } }. There is no event-type header; the type
// is in the body. `stripe-signature` carries the HMAC (verify it upstream).
//
// User id, first match wins:
//   1. data.object.metadata.userId / user_id  (your own id, set when you
//      create the customer, checkout session, subscription, ...; for
//      subscription invoices also subscription_details.metadata)
//   2. data.object.customer                   ("cus_...", or expanded object)
//   3. data.object.id when the object IS a customer (customer.* events)
// Events whose object has none of these (product.*, price.*, payout.*,
// balance.available, a guest payment without a customer, ...) are skipped.
//
// What authors usually customise:
//   - USER_ID_METADATA_KEYS below (the metadata key holding your user id), or
//     dropping the fallback to Stripe customer ids if your users are not
//     keyed by "cus_...";
//   - which event types to accept (the rest are skipped, see ACCEPT_TYPES);
//   - the detail labels and the dashboard link.
// =============================================================================

// Metadata keys that may hold your own user id, in order of preference.
const USER_ID_METADATA_KEYS = ["userId", "user_id"];

// Event types to accept; an empty list accepts all of them.
// e.g. ["invoice.payment_succeeded", "invoice.payment_failed"]
const ACCEPT_TYPES = [];

// Currencies without minor units (amounts are already whole units).
// https://docs.stripe.com/currencies#zero-decimal
const ZERO_DECIMAL = ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
  "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"];

function map(payload, request) {
  if (!isObject(payload) || typeof payload.type !== "string" || !isObject(payload.data)) {
    throw new Error("not a Stripe event: expected an object with `type` and `data.object`");
  }
  const type = payload.type;
  if (ACCEPT_TYPES.length > 0 && !ACCEPT_TYPES.includes(type)) {
    return { skip: "Stripe " + type + ": not in this mapping's ACCEPT_TYPES" };
  }
  const obj = isObject(payload.data.object) ? payload.data.object : {};

  // --- user id ---------------------------------------------------------------
  // Invoices created by a subscription carry the subscription's metadata in
  // subscription_details (parent.subscription_details since API 2025-03-31).
  let userId = userIdFromMetadata([obj.metadata, obj.subscription_details?.metadata,
    obj.parent?.subscription_details?.metadata]);
  if (userId === null) {
    const c = obj.customer;
    if (nonEmpty(c)) userId = String(c);                       // "cus_..."
    else if (isObject(c) && nonEmpty(c.id)) userId = String(c.id); // expanded
    else if (obj.object === "customer" && nonEmpty(obj.id)) userId = String(obj.id);
  }
  if (userId === null) {
    return {
      skip: "Stripe " + type + ": no user on the " + (obj.object ?? "object") + " (no metadata." +
        USER_ID_METADATA_KEYS.join("/") + ", no customer)",
    };
  }

  // --- detail (card) ----------------------------------------------------------
  const currency = typeof obj.currency === "string" ? obj.currency : null;
  // The object's headline amount: checkout total, payment/charge/refund amount,
  // invoice amount due (it stays the invoice amount once paid).
  const amountField = ["amount_total", "amount", "amount_due", "amount_paid"]
    .find((k) => typeof obj[k] === "number");
  const amount = amountField && currency ? money(obj[amountField], currency) : null;
  const email = obj.customer_email ?? obj.receipt_email ?? obj.customer_details?.email ??
    obj.billing_details?.email ?? obj.email ?? null;

  const detail = { "Event": type, "Object": obj.object ?? null, "ID": obj.id ?? null };
  if (amount !== null) detail["Amount"] = amount;
  if (obj.status !== undefined) detail["Status"] = scalar(obj.status);
  if (obj.number) detail["Number"] = String(obj.number);               // invoices
  if (obj.description) detail["Description"] = String(obj.description);
  if (email) detail["Customer email"] = String(email);
  if (obj.customer_name ?? obj.name) detail["Customer name"] = String(obj.customer_name ?? obj.name);
  if (obj.billing_reason) detail["Billing reason"] = String(obj.billing_reason);
  if (obj.last_payment_error?.message) detail["Error"] = String(obj.last_payment_error.message);
  if (obj.failure_message) detail["Error"] = String(obj.failure_message);
  const changed = isObject(payload.data.previous_attributes)
    ? Object.keys(payload.data.previous_attributes) : [];
  if (changed.length) detail["Changed fields"] = changed;
  detail["Live mode"] = payload.livemode === true;
  if (typeof payload.created === "number") detail["Created"] = isoFromSeconds(payload.created);

  // --- notification -------------------------------------------------------------
  const title = humanise(type);
  const parts = [];
  if (obj.number) parts.push(String(obj.number));
  if (amount !== null) parts.push(amount);
  if (obj.status) parts.push(String(obj.status));
  return {
    payload: {
      target: { usersById: [userId] },
      detail: detail,
      notificationDetail: {
        title: title,
        message: parts.length ? title + ": " + parts.join(", ") : title,
        url: dashboardUrl(obj, payload.livemode === true),
        hostedInvoiceUrl: obj.hosted_invoice_url ?? null,
      },
      metadata: {
        source: "stripe",
        eventId: payload.id ?? null,
        eventType: type,
        objectId: obj.id ?? null,
        apiVersion: payload.api_version ?? null,
        livemode: payload.livemode === true,
        requestId: payload.request?.id ?? null,
        idempotencyKey: payload.request?.idempotency_key ?? null,
        pendingWebhooks: payload.pending_webhooks ?? null,
        receivedAt: request.receivedAt,
      },
    },
  };
}

// --- helpers --------------------------------------------------------------------

function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
function nonEmpty(v) { return (typeof v === "string" && v !== "") || (typeof v === "number" && Number.isFinite(v)); }
function scalar(v) { return v === null || ["string", "number", "boolean"].includes(typeof v) ? v : JSON.stringify(v); }

// 4900, "usd" -> "49.00 USD"; 1200, "jpy" -> "1200 JPY". No locale formatting.
function money(minor, currency) {
  const c = currency.toLowerCase();
  const text = ZERO_DECIMAL.includes(c) ? String(Math.round(minor)) : (minor / 100).toFixed(2);
  return text + " " + c.toUpperCase();
}

function userIdFromMetadata(metas) {
  for (const meta of metas) {
    if (!isObject(meta)) continue;
    for (const key of USER_ID_METADATA_KEYS) {
      if (nonEmpty(meta[key])) return String(meta[key]);
    }
  }
  return null;
}

function isoFromSeconds(s) { return new Date(s * 1000).toISOString(); }

// "invoice.payment_succeeded" -> "Invoice payment succeeded"
function humanise(type) {
  const t = type.replace(/[._]/g, " ");
  return t.charAt(0).toUpperCase() + t.slice(1);
}

// Link to the object in the Stripe Dashboard (test-mode links under /test).
function dashboardUrl(obj, livemode) {
  const paths = {
    invoice: "invoices", payment_intent: "payments", charge: "payments",
    customer: "customers", subscription: "subscriptions",
    "checkout.session": "checkout/sessions", refund: "refunds", dispute: "disputes",
  };
  const p = paths[obj.object];
  if (!p || !obj.id) return null;
  return "https://dashboard.stripe.com/" + (livemode ? "" : "test/") + p + "/" + obj.id;
}
