// Maps a CRM contact event; logs what it saw.
function map(payload, request) {
  console.log("event", payload.event, "via", request.method);
  return {
    payload: {
      target: { usersById: payload.owners.map(function (o) { return String(o.id); }) },
      detail: { contact: payload.contact.name, stage: payload.contact.stage, source: request.query.source },
      metadata: { receivedAt: request.receivedAt },
    },
  };
}
