// =============================================================================
// Preset: Default — the starting point for a new script mapping (any JSON body)
// =============================================================================
//
// WHAT THIS FILE IS
//   A script mapping turns the body of an inbound webhook, which we do not
//   control, into hookmap's fixed target. hookmap calls ONE function, `map`,
//   once per delivery, and uses what it returns.
//
// THE CONTRACT
//   function map(payload, request) -> { payload: { target, detail,
//                                                  notificationDetail, metadata } }
//
//   payload   The parsed JSON body: usually an object, but it may be an array
//             (some providers batch events) or even a bare string or number.
//   request   Facts about the HTTP delivery (read-only):
//               request.method      "POST", "PUT", ...
//               request.headers     header names in lower case -> string values,
//                                   e.g. request.headers["content-type"]
//               request.query       query-string parameters -> string values,
//                                   e.g. ?userId=42 gives request.query.userId === "42"
//               request.receivedAt  when hookmap received it, RFC 3339 string,
//                                   e.g. "2026-11-29T09:41:07.512Z"
//
//   The returned object must be { payload: { ... } } with these keys:
//     target.usersById    REQUIRED. Who the event is for: a non-empty array of
//                         non-empty STRINGS (at most 10,000). Ids are not
//                         converted for you: turn numeric ids into strings
//                         yourself (String(42) -> "42").
//     detail              Optional, shown as key/value pairs on the event card.
//                         Each value must be a scalar (string, number, boolean,
//                         null) or an array of scalars. No nested objects.
//                         Keys are shown as labels, so make them readable.
//     notificationDetail  Optional object, any JSON: what the notification
//                         shows or links to (title, message, url, ...).
//     metadata            Optional object, any JSON: bookkeeping that is kept
//                         with the event but not displayed (event ids, source...).
//   A missing detail / notificationDetail / metadata is treated as {}.
//
// REJECTING AN EVENT
//   Throw an Error; the event is rejected and the message is recorded:
//     throw new Error("no user id in payload.userId");
//   Do this when something you need (above all the user id) is missing rather
//   than returning a made-up value. Returning something that breaks the rules
//   above (e.g. usersById: [42] or a nested object in detail) also rejects it.
//
// CONSOLE
//   console.log / info / warn / error work; their output is captured with the
//   delivery, which helps while you test. Nothing is printed anywhere else.
//
// THE SANDBOX (please read)
//   - Plain JavaScript (ES2023-ish). There is no Node.js or browser API: no
//     require/import, no fetch or network, no setTimeout, no file access.
//   - Be deterministic: the same body and request must give the same result.
//     Do not use Date.now(), new Date() without arguments, or Math.random();
//     when you need "now", use request.receivedAt.
//   - Do not rely on locale features (Intl, toLocaleString, localeCompare):
//     the sandbox may lack locale data. Format numbers and money by hand, e.g.
//     (cents / 100).toFixed(2) + " " + currency.toUpperCase().
//   - Be quick and small: each call is limited to about 50 ms of run time and
//     32 MiB of memory. Loop over what you need, not over everything you can.
//
// WHAT THIS DEFAULT DOES
//   - user id: payload.userId, else payload.user.id, else payload.user_id,
//     else the ?userId= query parameter (handy when the sender cannot put it
//     in the body but you can choose the webhook URL);
//   - detail: the top-level fields of the body that are scalars or arrays of
//     scalars (the first 25), so the card shows something useful at once;
//   - notificationDetail: the whole body, so nothing is lost;
//   - metadata: where and when it came from.
//   Edit it freely: most mappings end up picking a handful of named fields.
// =============================================================================

function map(payload, request) {
  // Work on an object even if the body is an array or a scalar.
  const body = isObject(payload) ? payload : {};

  // 1. Who is it for? `??` takes the first value that is not null/undefined,
  //    and `?.` stops quietly when `user` is absent.
  const userId =
    body.userId ?? body.user?.id ?? body.user_id ?? request.query?.userId;
  if (!(typeof userId === "string" || typeof userId === "number") || String(userId) === "") {
    throw new Error(
      "no user id: expected a string or number in payload.userId, payload.user.id, payload.user_id or ?userId= in the URL"
    );
  }

  // 2. What to show on the card: top-level scalars and arrays of scalars.
  const detail = {};
  for (const key of Object.keys(body).slice(0, 25)) {
    const value = body[key];
    if (isScalar(value) || (Array.isArray(value) && value.every(isScalar))) {
      detail[key] = value;
    }
  }

  return {
    payload: {
      target: { usersById: [String(userId)] }, // ids must be strings
      detail: detail,
      // notificationDetail must be an object: wrap a body that is not one.
      notificationDetail: isObject(payload) ? payload : { body: payload },
      metadata: {
        source: "default",
        method: request.method,
        contentType: request.headers["content-type"] ?? null,
        receivedAt: request.receivedAt,
      },
    },
  };
}

// --- helpers ------------------------------------------------------------------

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

// A value the card can show as-is. Numbers must be finite (NaN is not JSON).
function isScalar(v) {
  return (
    v === null ||
    typeof v === "string" ||
    typeof v === "boolean" ||
    (typeof v === "number" && Number.isFinite(v))
  );
}
