// =============================================================================
// Preset: Jira (Cloud and Data Center) — issue webhooks: jira:issue_created,
//         jira:issue_updated (incl. assigned / transitioned / commented),
//         jira:issue_deleted, comment_created, comment_updated, comment_deleted.
//         Events without an issue (worklog_*, sprint_*, project_*, jira:version_*,
//         board_*, user_*, ...) and issues with neither assignee nor reporter
//         are skipped.
//
// Docs:   https://developer.atlassian.com/cloud/jira/platform/webhooks/
//         https://developer.atlassian.com/server/jira/platform/webhooks/
//
// Body: { timestamp (ms), webhookEvent, issue_event_type_name?, user (who
// acted), issue: { id, key, self, fields: { summary, status, priority,
// assignee, reporter, issuetype, project, labels, ... } }, changelog?:
// { items: [{ field, fromString, toString }] }, comment? }.
// Jira Cloud adds `x-atlassian-webhook-identifier` (unique per delivery) and
// `x-atlassian-webhook-retry` headers.
//
// User id: the Atlassian accountId of the first of USER_ROLES present on the
// issue (assignee, else reporter). Jira Data Center has no accountId: the
// user `key` / `name` is used instead.
//
// What authors usually customise:
//   - USER_ROLES (e.g. ["reporter"] for a customer-facing flow, or add
//     "watchers" handling);
//   - SKIP_SELF: do not notify people about their own changes;
//   - which events to accept, and the detail fields.
// =============================================================================

const USER_ROLES = ["assignee", "reporter"];
const SKIP_SELF = false; // true: skip when the target is the user who acted

function map(payload, request) {
  if (!isObject(payload) || typeof payload.webhookEvent !== "string") {
    throw new Error("not a Jira webhook: expected an object with `webhookEvent`");
  }
  const issue = isObject(payload.issue) ? payload.issue : null;
  if (!issue) return { skip: "Jira " + payload.webhookEvent + ": no issue in the event (only issue and comment events are mapped)" };
  const f = isObject(issue.fields) ? issue.fields : {};

  let userId = null, role = null;
  for (const r of USER_ROLES) {
    const id = userIdOf(f[r]);
    if (id !== null) { userId = id; role = r; break; }
  }
  if (userId === null) {
    return { skip: "Jira " + payload.webhookEvent + " " + issue.key + ": no " + USER_ROLES.join(" or ") +
      " on the issue (a user with an accountId, key or name)" };
  }
  const actor = userIdOf(payload.user) ?? userIdOf(payload.comment?.author);
  if (SKIP_SELF && actor === userId) return { skip: "Jira " + issue.key + ": change made by the target user" };

  const event = payload.webhookEvent;
  const kind = payload.issue_event_type_name ?? event.replace(/^jira:/, "");
  const items = Array.isArray(payload.changelog?.items) ? payload.changelog.items : [];
  const changes = items.map((i) => i.field + ": " + (i.fromString ?? "—") + " → " + (i.toString ?? "—"));

  const detail = {
    "Issue": issue.key + " " + (f.summary ?? ""),
    "Event": kind,
    "Type": f.issuetype?.name ?? null,
    "Status": f.status?.name ?? null,
    "Priority": f.priority?.name ?? null,
    "Project": f.project?.name ?? f.project?.key ?? null,
    "Assignee": f.assignee?.displayName ?? null,
    "Reporter": f.reporter?.displayName ?? null,
  };
  if (Array.isArray(f.labels) && f.labels.length) detail["Labels"] = f.labels.filter((l) => typeof l === "string");
  if (changes.length) detail["Changes"] = changes;
  if (payload.comment?.body) detail["Comment"] = truncate(textOf(payload.comment.body), 200);
  detail["By"] = payload.user?.displayName ?? payload.comment?.author?.displayName ?? null;

  const who = detail["By"] ?? "Someone";
  const verbs = {
    issue_created: "created", issue_assigned: "assigned", issue_generic: "transitioned",
    issue_commented: "commented on", issue_comment_edited: "edited a comment on",
    issue_updated: "updated", issue_resolved: "resolved", issue_closed: "closed",
    issue_deleted: "deleted", comment_created: "commented on", comment_updated: "edited a comment on",
  };
  const title = who + " " + (verbs[kind] ?? kind.replace(/_/g, " ")) + " " + issue.key;

  return {
    payload: {
      target: { usersById: [userId] },
      detail: detail,
      notificationDetail: {
        title: title,
        message: (f.summary ?? "") + (changes.length ? " — " + changes.join("; ") : ""),
        url: browseUrl(issue),
      },
      metadata: {
        source: "jira",
        webhookEvent: event,
        issueEventType: payload.issue_event_type_name ?? null,
        issueId: issue.id ?? null,
        issueKey: issue.key ?? null,
        targetRole: role,
        actorAccountId: actor,
        changelogId: payload.changelog?.id ?? null,
        timestamp: typeof payload.timestamp === "number" ? new Date(payload.timestamp).toISOString() : null,
        webhookIdentifier: request.headers["x-atlassian-webhook-identifier"] ?? null,
        retry: request.headers["x-atlassian-webhook-retry"] ?? null,
        receivedAt: request.receivedAt,
      },
    },
  };
}

// --- helpers --------------------------------------------------------------------

function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }

// Cloud users have accountId; Data Center users have key / name.
function userIdOf(u) {
  if (!isObject(u)) return null;
  for (const k of ["accountId", "key", "name"]) {
    if (typeof u[k] === "string" && u[k] !== "") return u[k];
  }
  return null;
}

// "https://acme.atlassian.net/rest/api/2/issue/10042" -> ".../browse/KEY-1"
function browseUrl(issue) {
  const m = typeof issue.self === "string" ? /^(https?:\/\/.+?)\/rest\/api\//.exec(issue.self) : null;
  return m && issue.key ? m[1] + "/browse/" + issue.key : null;
}

// Comment bodies are wiki text (REST v2) or Atlassian Document Format (v3).
function textOf(body) {
  if (typeof body === "string") return body;
  const out = [];
  const walk = (n) => {
    if (!isObject(n)) return;
    if (n.type === "text" && typeof n.text === "string") out.push(n.text);
    if (Array.isArray(n.content)) n.content.forEach(walk);
  };
  walk(body);
  return out.join(" ");
}

function truncate(text, n) { return text.length > n ? text.slice(0, n - 1) + "…" : text; }
