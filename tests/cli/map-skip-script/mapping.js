// Stripe: an object without a customer has no user; a ping is not an event at all.
function map(payload, request) {
  if (payload.type === "ping") return null;
  const customer = payload.data.object.customer;
  if (!customer) return { skip: "no customer on " + payload.type };
  return { payload: { target: { usersById: [customer] }, detail: { event: payload.type } } };
}
