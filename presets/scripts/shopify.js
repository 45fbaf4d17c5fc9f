// =============================================================================
// Preset: Shopify — order, checkout and customer webhooks (orders/create,
//         orders/paid, orders/updated, orders/fulfilled, orders/cancelled,
//         checkouts/create, draft_orders/create, customers/create,
//         customers/update, customers/redact, ...) in JSON format; topics
//         without a customer (products/*, refunds/create, fulfillments/*,
//         guest checkouts, ...) are skipped.
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
// User id: the Shopify customer id, as a string:
//   - customers/* (create, update, enable, disable, delete): the resource `id`;
//   - customers/data_request, customers/redact (privacy): `customer.id`;
//   - customers_marketing_consent/update,
//     customers_email_marketing_consent/update: `customer_id`;
//   - orders/*, checkouts/*, draft_orders/* and any other topic whose body
//     carries a customer: `customer.id` (or `customer_id`).
// (Shopify ids are < 2^53, so they survive JSON number parsing.)
//
// Skipped (the request is answered 202 skipped, no event), with the topic in
// the reason: an order or checkout without a customer (a guest checkout);
// topics whose resource names an order but no customer (refunds/create,
// fulfillments/*, fulfillment_events/*, order_transactions/create,
// disputes/*, tender_transactions/create); topics about the shop's catalogue
// or setup (products/*, collections/*, inventory_*, locations/*, shop/update,
// app/uninstalled, themes/*, ...).
//
// What authors usually customise:
//   - target your own user id instead, e.g. from a customer metafield, a note
//     attribute (order.note_attributes) or a customer tag like "uid:48213";
//   - how guest checkouts without a customer are handled (skipped by default);
//   - the detail fields and the admin link.
// =============================================================================

function map(payload, request) {
  if (!isObject(payload)) throw new Error("Shopify payload must be a JSON object");
  const topic = request.headers["x-shopify-topic"] ?? "";
  const shopDomain = request.headers["x-shopify-shop-domain"] ?? null;
  const resource = topic.split("/")[0];           // "orders", "customers", ...
  // customers/* and customers_*_consent/* bodies are the customer (or its consent);
  // the privacy topics customers/data_request and customers/redact wrap it in `customer`.
  const isPrivacy = resource === "customers" && isObject(payload.customer);
  const isCustomer = resource.startsWith("customers") && !isPrivacy;

  const rawId = isCustomer ? (payload.id ?? payload.customer_id) : (payload.customer?.id ?? payload.customer_id);
  if (!((typeof rawId === "number" && Number.isFinite(rawId)) || (typeof rawId === "string" && rawId !== ""))) {
    return { skip: noCustomer(topic || "webhook", resource, payload) };
  }
  const userId = String(rawId);

  const customer = isCustomer ? payload : (isObject(payload.customer) ? payload.customer : {});
  const name = [customer.first_name, customer.last_name].filter(Boolean).join(" ");
  const store = shopDomain ? shopDomain.replace(/\.myshopify\.com$/, "") : null;
  const detail = { "Topic": topic || null };
  let title, message, url = null;

  if (isPrivacy) {
    detail["Customer email"] = customer.email ?? null;
    const orders = payload.orders_requested ?? payload.orders_to_redact;
    if (Array.isArray(orders)) detail["Orders"] = orders.length;
    title = "Privacy request " + topic + " for " + (customer.email ?? userId);
    message = topic === "customers/redact" ? "Erase this customer's data" : "Send this customer their data";
  } else if (isCustomer) {
    detail["Customer"] = name || null;
    detail["Email"] = payload.email ?? null;
    if (payload.phone) detail["Phone"] = payload.phone;
    if (typeof payload.orders_count === "number") detail["Orders"] = payload.orders_count;
    if (payload.total_spent !== undefined) detail["Total spent"] = (payload.total_spent + " " + (payload.currency ?? "")).trim();
    const tags = splitTags(payload.tags);
    if (tags.length) detail["Tags"] = tags;
    title = "Customer " + (topic.split("/")[1] ?? "event") + ": " + (name || payload.email || userId);
    message = payload.email ?? "";
    if (store) url = "https://admin.shopify.com/store/" + store + "/customers/" + userId;
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
    const verb = resource !== "orders" && resource !== "" ? humanise(topic) : { create: "New order", paid: "Order paid", fulfilled: "Order fulfilled",
      cancelled: "Order cancelled", updated: "Order updated", partially_fulfilled: "Order partially fulfilled" }[topic.split("/")[1]] ?? "Order";
    title = verb + " " + (detail["Order"] ?? "");
    message = qty + " item" + (qty === 1 ? "" : "s") + (detail["Total"] ? ", " + detail["Total"] : "");
    if (store && resource === "orders" && payload.id !== undefined) url = "https://admin.shopify.com/store/" + store + "/orders/" + payload.id;
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

// "checkouts/create" -> "Checkout create", "draft_orders/update" -> "Draft order update"
function humanise(topic) {
  const [res, action] = topic.split("/");
  const noun = (res ?? "").replace(/s$/, "").replace(/_/g, " ");
  return (noun.charAt(0).toUpperCase() + noun.slice(1) + " " + (action ?? "").replace(/_/g, " ")).trim();
}

// Why a body without a customer id is skipped, naming the topic.
function noCustomer(topic, resource, payload) {
  const what = "Shopify " + topic + ": ";
  if (["orders", "checkouts", "draft_orders", "carts"].includes(resource)) {
    return what + "no customer on the " + resource.replace(/s$/, "").replace("_", " ") + " (guest checkout)";
  }
  if (resource === "customers" || resource.startsWith("customers_")) {
    return what + "no customer id in the body";
  }
  if (payload.order_id !== undefined && payload.order_id !== null) {
    return what + "names order " + payload.order_id + ", not a customer";
  }
  return what + "not about a customer";
}

// Shopify tags are one comma-separated string: "vip, wholesale" -> ["vip", "wholesale"]
function splitTags(tags) {
  return typeof tags === "string" ? tags.split(",").map((t) => t.trim()).filter(Boolean) : [];
}
