// =============================================================================
// Preset: ServiceNow — task records (incident, sc_req_item, change_request,
//         problem, ...) posted by a Business Rule / Flow Designer REST step.
//
// Docs:   https://developer.servicenow.com/dev.do#!/reference/api/latest/rest/c_TableAPI
//         https://developer.servicenow.com/dev.do#!/reference/api/latest/server/sn_ws-namespace/c_RESTMessageV2API
//         https://docs.servicenow.com/csh?topicname=outbound-rest-web-service.html
//
// ServiceNow has no fixed webhook body: an outbound REST message (RESTMessageV2
// from a Business Rule, or a Flow Designer REST step) posts what its author
// builds. The usual choice — and what this preset expects — is the record in
// Table API JSON, optionally wrapped as { "result": { ... } } (a forwarded
// Table API response) and/or with the operation alongside:
//   { "operation": "update", "table": "incident", "record": { ...fields } }
// Reference fields may be plain sys_id strings, { link, value } (Table API
// default) or { display_value, value, link } (sysparm_display_value=all);
// all three work. Choice fields (state, priority...) may be codes ("2") or
// display values ("In Progress").
//
// User id: the sys_id of USER_FIELDS[0..] (caller_id for incidents,
// requested_for for requested items, requested_by for change requests,
// opened_by as the last resort). A record with none of them (a CMDB item, a
// user record...) is skipped.
//
// What authors usually customise:
//   - USER_FIELDS (e.g. "assigned_to" to notify the assignee instead);
//   - targeting by user_name or email instead of sys_id: send
//     sysparm_display_value=all style fields and use displayOf() below;
//   - the state / priority labels if your instance renamed them.
// =============================================================================

const USER_FIELDS = ["caller_id", "requested_for", "requested_by", "opened_by"];

// Out-of-box incident choice labels (used when the body holds codes).
const INCIDENT_STATES = { "1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved", "7": "Closed", "8": "Canceled" };
const PRIORITIES = { "1": "1 - Critical", "2": "2 - High", "3": "3 - Moderate", "4": "4 - Low", "5": "5 - Planning" };
const LEVELS = { "1": "1 - High", "2": "2 - Medium", "3": "3 - Low" }; // impact, urgency
const OPERATIONS = { insert: "created", update: "updated", delete: "deleted" };

function map(payload, request) {
  if (!isObject(payload)) throw new Error("ServiceNow payload must be a JSON object");
  let rec = payload;
  if (isObject(rec.result)) rec = rec.result;
  if (isObject(rec.record)) rec = rec.record;

  let userId = null;
  let userField = null;
  for (const f of USER_FIELDS) {
    const v = valueOf(rec[f]);
    if (typeof v === "string" && v !== "") { userId = v; userField = f; break; }
  }
  if (userId === null) {
    const id = valueOf(rec.number) ?? valueOf(rec.name) ?? valueOf(rec.sys_id);
    return { skip: "ServiceNow " + (payload.table ?? valueOf(rec.sys_class_name) ?? "record") + (id ? " " + id : "") +
      ": no user in " + USER_FIELDS.join(" / ") };
  }

  const table = payload.table ?? valueOf(rec.sys_class_name) ?? "task";
  const number = valueOf(rec.number);
  const stateCode = valueOf(rec.state);
  const state = displayOf(rec.state, table === "incident" ? INCIDENT_STATES : null);
  const priority = displayOf(rec.priority, PRIORITIES);
  const operation = payload.operation ?? request.query?.operation ?? null;

  const detail = {
    "Number": number,
    "Table": table,
    "Short description": valueOf(rec.short_description),
    "State": state,
    "Priority": priority,
  };
  // [label, field, choice labels]; empty values and bare references are left out.
  const optional = [
    ["Category", rec.category, null], ["Impact", rec.impact, LEVELS], ["Urgency", rec.urgency, LEVELS],
    ["Assignment group", rec.assignment_group, null], ["Assigned to", rec.assigned_to, null],
    ["Opened at", rec.opened_at, null], ["Updated at", rec.sys_updated_on, null],
    ["Updated by", rec.sys_updated_by, null],
  ];
  for (const [label, f, labels] of optional) {
    const v = displayOf(f, labels);
    if (v !== null && v !== "") detail[label] = v;
  }
  if (operation) detail["Operation"] = operation;

  const base = instanceBase(rec);
  const sysId = valueOf(rec.sys_id);
  return {
    payload: {
      target: { usersById: [userId] },
      detail: detail,
      notificationDetail: {
        title: (number ?? table) + (operation ? " " + (OPERATIONS[operation] ?? operation) : "") +
          (state ? " (" + state + ")" : ""),
        message: valueOf(rec.short_description) ?? "",
        url: base && sysId ? base + "/nav_to.do?uri=" + table + ".do?sys_id=" + sysId : null,
      },
      metadata: {
        source: "servicenow",
        table: table,
        sysId: sysId,
        number: number,
        operation: operation,
        stateCode: stateCode,
        userField: userField,
        instance: base,
        modCount: valueOf(rec.sys_mod_count),
        receivedAt: request.receivedAt,
      },
    },
  };
}

// --- helpers --------------------------------------------------------------------

function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }

// The stored value of a field: "abc", {value: "abc", link}, {value, display_value}.
function valueOf(f) {
  if (f === undefined || f === null) return null;
  if (isObject(f)) return f.value === undefined ? null : f.value;
  return f;
}

// What a person should see: display_value when sent, else a label from
// `labels` for a code, else the value itself. A reference sent as
// {link, value} only has a sys_id, which means nothing on a card: null.
function displayOf(f, labels) {
  if (isObject(f) && typeof f.display_value === "string") return f.display_value;
  if (isObject(f) && typeof f.link === "string") return null;
  const v = valueOf(f);
  if (v === null) return null;
  if (labels && labels[String(v)]) return labels[String(v)];
  return typeof v === "object" ? JSON.stringify(v) : v;
}

// "https://dev12345.service-now.com" from any reference link in the record.
function instanceBase(rec) {
  for (const k of Object.keys(rec)) {
    const link = isObject(rec[k]) ? rec[k].link : null;
    if (typeof link === "string") {
      const m = /^(https:\/\/[^/]+)\//.exec(link);
      if (m) return m[1];
    }
  }
  return null;
}
