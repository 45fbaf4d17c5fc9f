// =============================================================================
// Preset: GitHub — repository webhooks: push, pull_request, issues,
//         issue_comment, pull_request_review, release, and a generic fallback
//         for any other event that has a sender; `ping` and events without a
//         sender (security_advisory) are skipped.
//
// Docs:   https://docs.github.com/en/webhooks/webhook-events-and-payloads
//         https://docs.github.com/en/webhooks/using-webhooks/handling-webhook-deliveries
//
// The event kind is NOT in the body: it is the `x-github-event` header
// ("push", "pull_request", ...); most kinds also carry `action` in the body
// ("opened", "closed", ...). `x-github-delivery` is a unique delivery GUID and
// `x-hub-signature-256` the HMAC (verify it upstream). Configure the webhook
// with content type application/json (not form-encoded).
//
// User id: the account that triggered the event, `sender.login` (falls back
// to the numeric `sender.id`, as a string). Logins can be renamed; use
// USER_ID_FIELD = "id" if your users are keyed by GitHub's numeric id.
//
// What authors usually customise:
//   - USER_ID_FIELD; or target someone else, e.g. the PR author
//     (pull_request.user.login) or the assignees (issue.assignees[].login);
//   - IGNORE_BOTS to skip events triggered by bots (dependabot[bot], ...);
//   - the per-event detail fields.
// =============================================================================

const USER_ID_FIELD = "login"; // "login" or "id" (of payload.sender)
const IGNORE_BOTS = false;     // true: skip events whose sender is a Bot

function map(payload, request) {
  if (!isObject(payload)) throw new Error("GitHub payload must be a JSON object");
  const event = request.headers["x-github-event"] ?? "unknown";
  if (event === "ping") return { skip: "GitHub ping (sent when the webhook is created): no event to deliver" };

  // A few events are not caused by an account and carry no sender (security_advisory).
  if (!isObject(payload.sender)) return { skip: "GitHub " + event + ": no sender, so no user to notify" };
  const sender = payload.sender;
  if (IGNORE_BOTS && sender.type === "Bot") return { skip: "GitHub " + event + " by the bot " + sender.login };
  const raw = USER_ID_FIELD === "id" ? (sender.id ?? sender.login) : (sender.login ?? sender.id);
  if (!(typeof raw === "string" && raw !== "") && !(typeof raw === "number")) {
    throw new Error("GitHub " + event + ": no sender.login / sender.id in the payload" +
      (event === "unknown" ? " (and no x-github-event header)" : ""));
  }
  const userId = String(raw);

  const repo = payload.repository?.full_name ?? null;
  const action = typeof payload.action === "string" ? payload.action : null;
  const kind = action ? event + "." + action : event;

  const detail = { "Event": kind };
  if (repo) detail["Repository"] = repo;
  let title = "GitHub " + kind.replace(/[._]/g, " ");
  let message = repo ? title + " in " + repo : title;
  let url = payload.repository?.html_url ?? null;

  if (event === "push") {
    const branch = stripRef(payload.ref);
    const commits = Array.isArray(payload.commits) ? payload.commits : [];
    detail["Branch"] = branch;
    detail["Commits"] = commits.length;
    if (payload.forced) detail["Forced"] = true;
    if (payload.deleted) detail["Deleted"] = true;
    if (payload.head_commit) detail["Head commit"] = firstLine(payload.head_commit.message);
    detail["Pusher"] = payload.pusher?.name ?? sender.login ?? null;
    title = commits.length + " commit" + (commits.length === 1 ? "" : "s") + " pushed to " + branch;
    message = title + (repo ? " in " + repo : "") +
      (payload.head_commit ? ": " + firstLine(payload.head_commit.message) : "");
    url = payload.compare ?? url;
  } else if (event === "pull_request" || event === "pull_request_review" ||
             event === "pull_request_review_comment") {
    const pr = payload.pull_request ?? {};
    detail["Pull request"] = "#" + pr.number + " " + (pr.title ?? "");
    detail["Action"] = action;
    detail["State"] = pr.draft ? "draft" : (pr.merged ? "merged" : (pr.state ?? null));
    detail["Author"] = pr.user?.login ?? null;
    detail["Branches"] = (pr.head?.ref ?? "?") + " → " + (pr.base?.ref ?? "?");
    if (typeof pr.commits === "number") detail["Commits"] = pr.commits;
    if (typeof pr.changed_files === "number") {
      detail["Changes"] = pr.changed_files + " files, +" + pr.additions + " −" + pr.deletions;
    }
    const labels = names(pr.labels, "name");
    if (labels.length) detail["Labels"] = labels;
    const reviewers = names(pr.requested_reviewers, "login");
    if (reviewers.length) detail["Reviewers"] = reviewers;
    if (payload.review) detail["Review"] = payload.review.state ?? null;
    title = "PR #" + pr.number + " " + (action ?? "updated") + " by " + (sender.login ?? "someone");
    message = (pr.title ?? "") + (repo ? " (" + repo + ")" : "");
    url = payload.review?.html_url ?? payload.comment?.html_url ?? pr.html_url ?? url;
  } else if (event === "issues" || event === "issue_comment") {
    const issue = payload.issue ?? {};
    detail["Issue"] = "#" + issue.number + " " + (issue.title ?? "");
    detail["Action"] = action;
    detail["State"] = issue.state ?? null;
    detail["Author"] = issue.user?.login ?? null;
    const labels = names(issue.labels, "name");
    if (labels.length) detail["Labels"] = labels;
    const assignees = names(issue.assignees, "login");
    if (assignees.length) detail["Assignees"] = assignees;
    if (payload.comment) detail["Comment"] = truncate(payload.comment.body, 200);
    title = (event === "issue_comment" ? "Comment on #" : "Issue #") + issue.number + " " +
      (action ?? "updated") + " by " + (sender.login ?? "someone");
    message = (issue.title ?? "") + (repo ? " (" + repo + ")" : "");
    url = payload.comment?.html_url ?? issue.html_url ?? url;
  } else if (event === "release") {
    const rel = payload.release ?? {};
    detail["Release"] = rel.name || rel.tag_name || null;
    detail["Tag"] = rel.tag_name ?? null;
    detail["Prerelease"] = rel.prerelease === true;
    title = "Release " + (rel.tag_name ?? "") + " " + (action ?? "");
    url = rel.html_url ?? url;
  } else if (action) {
    detail["Action"] = action;
  }
  detail["Sender"] = sender.login ?? null;

  return {
    payload: {
      target: { usersById: [userId] },
      detail: detail,
      notificationDetail: { title: title, message: message, url: url },
      metadata: {
        source: "github",
        event: event,
        action: action,
        deliveryId: request.headers["x-github-delivery"] ?? null,
        hookId: request.headers["x-github-hook-id"] ?? null,
        repository: repo,
        repositoryId: payload.repository?.id ?? null,
        installationId: payload.installation?.id ?? null,
        senderId: sender.id ?? null,
        senderType: sender.type ?? null,
        receivedAt: request.receivedAt,
      },
    },
  };
}

// --- helpers --------------------------------------------------------------------

function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }

// "refs/heads/main" -> "main", "refs/tags/v1.2.0" -> "v1.2.0"
function stripRef(ref) {
  return typeof ref === "string" ? ref.replace(/^refs\/(heads|tags)\//, "") : null;
}

function firstLine(text) {
  return typeof text === "string" ? text.split("\n")[0] : null;
}

function truncate(text, n) {
  if (typeof text !== "string") return null;
  return text.length > n ? text.slice(0, n - 1) + "…" : text;
}

// [{name: "bug"}, {name: "ui"}] -> ["bug", "ui"]: an array of scalars for the card.
function names(list, key) {
  return Array.isArray(list)
    ? list.map((x) => (isObject(x) ? x[key] : null)).filter((x) => typeof x === "string")
    : [];
}
