function map(payload) {
  while (true) {}
}
