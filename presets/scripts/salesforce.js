// =============================================================================
// Preset: Salesforce — Change Data Capture events (ContactChangeEvent,
//         LeadChangeEvent, CaseChangeEvent, ...) relayed as JSON, and sObject
//         records posted by Flow "HTTP Callout" / Apex (JSON.serialize(record)).
//
// Docs:   https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_event_fields_header.htm
//         https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_message_structure.htm
//         https://help.salesforce.com/s/articleView?id=sf.flow_http_callout.htm
//
// Salesforce has no JSON "webhook" of its own (Outbound Messages are SOAP/XML).
// JSON reaches us in one of these shapes, all accepted here:
//   a) a CDC event message as delivered by CometD / Pub/Sub API and forwarded
//      by a relay: { channel, data: { schema, payload: { ChangeEventHeader,
//      ...changed fields }, event: { replayId } } } — or just its `data`, or
//      just its `payload`;
//   b) a record: { attributes: { type: "Case", url }, Id, ...fields }, or an
//      array of records.
// Header field names are matched case-insensitively (Apex serialises the
// EventBus.ChangeEventHeader with lower-case names: recordids, changetype...).
//
// User id:
//   - records/changes of PERSON_OBJECTS (Contact, Lead, User): their record
//     ids (CDC `recordIds` may hold several; wildcard ids like "003*" dropped);
//   - other objects: the first of USER_FIELDS present (ContactId, OwnerId).
//   Changes and records with neither are skipped: CDC updates carry only the
//   changed fields, and GAP_* / DELETE events none.
//
// Links: pass your My Domain host in the webhook URL, e.g.
//   https://hooks.example.com/in/sf?instance=acme.my.salesforce.com
// and notificationDetail.url points at the record in Lightning.
//
// What authors usually customise:
//   - PERSON_OBJECTS / USER_FIELDS, or a custom field holding your own user
//     id (e.g. "App_User_Id__c") as the first entry of USER_FIELDS;
//   - which change types to accept (e.g. drop "DELETE");
//   - MAX_FIELDS shown on the card.
// =============================================================================

const PERSON_OBJECTS = ["Contact", "Lead", "User"];
const USER_FIELDS = ["ContactId", "OwnerId"];
const MAX_FIELDS = 20;

function map(payload, request) {
  // Unwrap { data: { payload } } / { payload } / bare record(s).
  let body = payload;
  if (isObject(body) && isObject(body.data) && isObject(body.data.payload)) body = body.data;
  const replayId = isObject(body) ? (body.event?.replayId ?? null) : null;
  const schema = isObject(body) ? (body.schema ?? null) : null;
  if (isObject(body) && isObject(body.payload)) body = body.payload;

  const instance = request.query?.instance ?? null;
  if (isObject(body) && isObject(body.ChangeEventHeader ?? body.changeEventHeader)) {
    return mapChangeEvent(body, request, instance,
      { channel: payload.channel ?? null, replayId: replayId, schema: schema });
  }
  const records = (Array.isArray(body) ? body : [body]).filter(isObject);
  if (records.length && records.every((r) => isObject(r.attributes) || typeof r.Id === "string")) {
    return mapRecords(records, request, instance);
  }
  throw new Error("Salesforce: expected a Change Data Capture event (ChangeEventHeader) or an sObject record (attributes.type + Id)");
}

function mapChangeEvent(ev, request, instance, delivery) {
  const h = ev.ChangeEventHeader ?? ev.changeEventHeader;
  const entity = field(h, "entityName");
  const changeType = field(h, "changeType");
  const recordIds = asArray(field(h, "recordIds")).filter((id) => typeof id === "string" && !id.includes("*"));

  let users;
  if (PERSON_OBJECTS.includes(entity)) users = recordIds;
  else {
    const u = firstField(ev, USER_FIELDS);
    users = u === null ? [] : [u];
  }
  if (users.length === 0) {
    // An update carries only the changed fields; GAP_* and DELETE events carry none.
    return { skip: "Salesforce " + entity + " " + changeType + ": no user (not a " + PERSON_OBJECTS.join("/") +
      " change, and no " + USER_FIELDS.join("/") + " among the fields sent)" };
  }

  const changed = asArray(field(h, "changedFields")).filter((f) => typeof f === "string");
  const committed = field(h, "commitTimestamp");
  const detail = {
    "Object": entity,
    "Change": changeType,
    "Records": recordIds.length,
  };
  if (changed.length) detail["Changed fields"] = changed;
  const by = field(h, "commitUser");
  if (by) detail["Changed by"] = by;
  if (typeof committed === "number") detail["Committed"] = new Date(committed).toISOString();
  Object.assign(detail, scalarFields(ev, ["ChangeEventHeader", "changeEventHeader"], detail));

  const one = recordIds.length === 1 ? recordIds[0] : null;
  return {
    payload: {
      target: { usersById: users },
      detail: detail,
      notificationDetail: {
        title: entity + " " + String(changeType).toLowerCase() + (one ? " " + one : ""),
        message: changed.length
          ? "Changed: " + changed.filter((f) => f !== "LastModifiedDate").join(", ")
          : entity + " " + String(changeType).toLowerCase(),
        url: instance && one ? lightningUrl(instance, entity, one) : null,
      },
      metadata: {
        source: "salesforce",
        kind: "change-data-capture",
        entityName: entity,
        changeType: changeType,
        recordIds: recordIds,
        commitUser: by ?? null,
        commitNumber: field(h, "commitNumber") ?? null,
        transactionKey: field(h, "transactionKey") ?? null,
        sequenceNumber: field(h, "sequenceNumber") ?? null,
        changeOrigin: field(h, "changeOrigin") ?? null,
        channel: delivery.channel,
        replayId: delivery.replayId,
        schema: delivery.schema,
        receivedAt: request.receivedAt,
      },
    },
  };
}

function mapRecords(records, request, instance) {
  const users = [];
  for (const r of records) {
    const type = r.attributes?.type ?? null;
    const u = PERSON_OBJECTS.includes(type) && typeof r.Id === "string" ? r.Id : firstField(r, USER_FIELDS);
    if (u !== null && !users.includes(u)) users.push(u);
  }
  if (users.length === 0) {
    return { skip: "Salesforce " + (records[0].attributes?.type ?? "record") + " record: no user (not a " +
      PERSON_OBJECTS.join("/") + ", and no " + USER_FIELDS.join("/") + ")" };
  }
  const r = records[0];
  const type = r.attributes?.type ?? "Record";
  const detail = { "Object": type, "Id": r.Id ?? null };
  if (records.length > 1) detail["Records"] = records.length;
  Object.assign(detail, scalarFields(r, ["attributes", "Id"], detail));
  const label = r.CaseNumber ?? r.Name ?? r.Subject ?? r.Id ?? "";
  return {
    payload: {
      target: { usersById: users },
      detail: detail,
      notificationDetail: {
        title: type + " " + label,
        message: r.Subject ?? r.Description ?? r.Name ?? null,
        url: instance && r.Id ? lightningUrl(instance, type, r.Id) : null,
      },
      metadata: {
        source: "salesforce",
        kind: "record",
        objectType: type,
        recordIds: records.map((x) => x.Id ?? null),
        apiUrl: r.attributes?.url ?? null,
        receivedAt: request.receivedAt,
      },
    },
  };
}

// --- helpers --------------------------------------------------------------------

function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
function isScalar(v) {
  return v === null || typeof v === "string" || typeof v === "boolean" ||
    (typeof v === "number" && Number.isFinite(v));
}

function asArray(v) { return Array.isArray(v) ? v : []; }

// Header field by name, falling back to the all-lower-case name.
function field(obj, name) {
  return obj[name] !== undefined ? obj[name] : obj[name.toLowerCase()];
}

function firstField(obj, names) {
  for (const n of names) if (typeof obj[n] === "string" && obj[n] !== "") return obj[n];
  return null;
}

// Up to MAX_FIELDS scalar fields for the card; compound fields (Name,
// MailingAddress) are flattened one level: "Name.LastName".
function scalarFields(obj, skip, already) {
  const out = {};
  let n = 0;
  for (const k of Object.keys(obj)) {
    if (n >= MAX_FIELDS) break;
    if (skip.includes(k) || k in already) continue;
    const v = obj[k];
    if (isScalar(v)) { out[k] = v; n++; }
    else if (isObject(v)) {
      for (const k2 of Object.keys(v)) {
        if (n < MAX_FIELDS && isScalar(v[k2]) && v[k2] !== null) { out[k + "." + k2] = v[k2]; n++; }
      }
    }
  }
  return out;
}

function lightningUrl(instance, objectType, id) {
  const host = String(instance).replace(/^https?:\/\//, "").replace(/\/+$/, "");
  return "https://" + host + "/lightning/r/" + objectType + "/" + id + "/view";
}
