// =============================================================================
// Preset: Shopify — order and customer webhooks (orders/create, orders/paid,
//         orders/updated, orders/fulfilled, orders/cancelled,
//         customers/create, customers/update, ...) in JSON format.
//
// Docs:   https://shopify.dev/docs/apps/build/webhooks
//         https://shopify.dev/docs/api/webhooks?reference=toml  (topics, payloads)
//         https://shopify.dev/docs/api/admin-rest/latest/resources/order
//
// The topic is NOT in the body: it is the `x-shopify-topic` header
// ("orders/create"). Other headers: `x-shopify-shop-domain`,
// `x-shopify-webhook-id` (unique per delivery), `x-shopify-event-id`,
// `x-shopify-triggered-at`, `x-shopify-api-version`, `x-shopify-hmac-sha256`.
// The body is the resource itself (an Order, a Customer, ...).
//
// User id: the Shopify customer id — order.customer.id for order topics, the
// resource id for customers/* topics — as a string.
// (Shopify ids are < 2^53, so they survive JSON number parsing.)
//
// What authors usually customise:
//   - target your own user id instead, e.g. from a customer metafield, a note
//     attribute (order.note_attributes) or a customer tag like "uid:48213";
//   - how guest checkouts without a customer are handled (throw by default);
//   - the detail fields and the admin link.
// =============================================================================

function map(payload, request) {
  if (!isObject(payload)) throw new Error("Shopify payload must be a JSON object");
  const topic = request.headers["x-shopify-topic"] ?? "";
  const shopDomain = request.headers["x-shopify-shop-domain"] ?? null;
  const resource = topic.split("/")[0];           // "orders", "customers", ...
  const isCustomer = resource === "customers";

  const rawId = isCustomer ? payload.id : (payload.customer?.id ?? payload.customer_id);
  if (!((typeof rawId === "number" && Number.isFinite(rawId)) || (typeof rawId === "string" && rawId !== ""))) {
    throw new Error("Shopify " + (topic || "webhook") + ": no customer id" +
      (isCustomer ? " (payload.id)" : " (payload.customer.id) — guest checkout?"));
  }
  const userId = String(rawId);

  const customer = isCustomer ? payload : (payload.customer ?? {});
  const name = [customer.first_name, customer.last_name].filter(Boolean).join(" ");
  const store = shopDomain ? shopDomain.replace(/\.myshopify\.com$/, "") : null;
  const detail = { "Topic": topic || null };
  let title, message, url = null;

  if (isCustomer) {
    detail["Customer"] = name || null;
    detail["Email"] = payload.email ?? null;
    if (payload.phone) detail["Phone"] = payload.phone;
    if (typeof payload.orders_count === "number") detail["Orders"] = payload.orders_count;
    if (payload.total_spent !== undefined) detail["Total spent"] = (payload.total_spent + " " + (payload.currency ?? "")).trim();
    const tags = splitTags(payload.tags);
    if (tags.length) detail["Tags"] = tags;
    title = "Customer " + (topic.split("/")[1] ?? "event") + ": " + (name || payload.email || userId);
    message = payload.email ?? "";
    if (store) url = "https://admin.shopify.com/store/" + store + "/customers/" + payload.id;
  } else {
    const items = Array.isArray(payload.line_items) ? payload.line_items : [];
    const qty = items.reduce((n, li) => n + (typeof li.quantity === "number" ? li.quantity : 0), 0);
    const currency = payload.currency ?? payload.presentment_currency ?? "";
    detail["Order"] = payload.name ?? (payload.order_number !== undefined ? "#" + payload.order_number : null);
    detail["Total"] = payload.total_price !== undefined ? payload.total_price + " " + currency : null;
    detail["Financial status"] = payload.financial_status ?? null;
    detail["Fulfillment status"] = payload.fulfillment_status ?? "unfulfilled";
    detail["Items"] = qty;
    detail["Products"] = items.slice(0, 10).map((li) => (li.quantity > 1 ? li.quantity + " × " : "") + (li.name ?? li.title ?? "item"));
    if (name) detail["Customer"] = name;
    detail["Email"] = payload.email ?? payload.contact_email ?? customer.email ?? null;
    if (payload.cancel_reason) detail["Cancel reason"] = payload.cancel_reason;
    if (payload.shipping_address?.city) {
      detail["Ship to"] = payload.shipping_address.city + ", " + (payload.shipping_address.country_code ?? "");
    }
    const verb = { create: "New order", paid: "Order paid", fulfilled: "Order fulfilled",
      cancelled: "Order cancelled", updated: "Order updated", partially_fulfilled: "Order partially fulfilled" }[topic.split("/")[1]] ?? "Order";
    title = verb + " " + (detail["Order"] ?? "");
    message = qty + " item" + (qty === 1 ? "" : "s") + (detail["Total"] ? ", " + detail["Total"] : "");
    if (store && payload.id !== undefined) url = "https://admin.shopify.com/store/" + store + "/orders/" + payload.id;
  }
  if (shopDomain) detail["Shop"] = shopDomain;
  if (payload.test === true) detail["Test"] = true;

  return {
    payload: {
      target: { usersById: [userId] },
      detail: detail,
      notificationDetail: {
        title: title,
        message: message,
        url: url,
        statusUrl: payload.order_status_url ?? null,
      },
      metadata: {
        source: "shopify",
        topic: topic || null,
        shopDomain: shopDomain,
        resourceId: payload.id ?? null,
        graphqlId: payload.admin_graphql_api_id ?? null,
        webhookId: request.headers["x-shopify-webhook-id"] ?? null,
        eventId: request.headers["x-shopify-event-id"] ?? null,
        triggeredAt: request.headers["x-shopify-triggered-at"] ?? null,
        apiVersion: request.headers["x-shopify-api-version"] ?? null,
        receivedAt: request.receivedAt,
      },
    },
  };
}

// --- helpers --------------------------------------------------------------------

function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }

// Shopify tags are one comma-separated string: "vip, wholesale" -> ["vip", "wholesale"]
function splitTags(tags) {
  return typeof tags === "string" ? tags.split(",").map((t) => t.trim()).filter(Boolean) : [];
}
