async function map(payload) {
  return { payload: { target: { usersById: [payload.id] } } };
}
