function map(payload) {
  console.log("doubling", payload.kind);
  let s = "x";
  const all = [];
  for (let i = 0; i < 40; i++) { s = s + s; all.push(s); }
  return null;
}
