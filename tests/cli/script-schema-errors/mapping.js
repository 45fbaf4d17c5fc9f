function map(p) {
  return { payload: { target: { usersById: [p.id, ""] }, detail: { nested: { a: 1 } }, extra: true } };
}
