function map(payload) {
  console.warn("looking for", payload.kind);
  if (!payload.user) {
    throw new Error("no user in a " + payload.kind + " event");
  }
  return { payload: { target: { usersById: [payload.user] } } };
}
