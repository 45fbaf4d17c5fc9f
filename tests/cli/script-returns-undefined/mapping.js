function map(payload) {
  const x = { payload: { target: { usersById: [payload.id] } } };
}
