#!/usr/bin/env python3
"""Writes the seed corpora under OUT/<target>/ (default OUT: fuzz/corpus) from the repository's
own data: golden mapping cases, the JSONPath compliance suite, preset samples, security presets
signed with known secrets. The corpora are not committed: `.ci/run` writes them before fuzzing, and
`cargo test` (tests/it/fuzz_replay.rs) writes them to a temporary folder and replays them.

Usage: python3 fuzz/seeds.py [OUT]"""
import glob, hashlib, hmac, base64, json, os, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "fuzz", "corpus")

def write(target, name, data):
    folder = os.path.join(OUT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "seed-" + name), "wb") as f:
        f.write(data)

def read(path):
    with open(path, "rb") as f:
        return f.read()

samples = sorted(glob.glob(os.path.join(ROOT, "tests/golden/*/sample.json")) + glob.glob(os.path.join(ROOT, "presets/scripts/*.sample.json")))
for case in sorted(glob.glob(os.path.join(ROOT, "tests/golden/*/"))):
    name = os.path.basename(case.rstrip("/"))
    write("structured_mapping", name, read(case + "mapping.json") + b"\0" + read(case + "sample.json"))
for path in samples:
    name = os.path.basename(os.path.dirname(path)) if path.endswith("/sample.json") else os.path.basename(path)
    write("properties", name, read(path))

cts = json.load(open(os.path.join(ROOT, "tests/conformance/jsonpath-cts.json")))
for i, case in enumerate(cts["tests"]):
    document = json.dumps(case.get("document", None)).encode()
    write("jsonpath", "cts-%03d" % i, case["selector"].encode() + b"\0" + document)

BODY = read(os.path.join(ROOT, "benches/data/stripe-payment-intent-succeeded.json"))
NOW = 1700000000
for path in sorted(glob.glob(os.path.join(ROOT, "presets/security/*.json"))):
    scheme = json.load(open(path))
    secret = "whsec_" + base64.b64encode(b"fuzz-secret").decode() if scheme.get("secretEncoding") == "base64" else "fuzz-secret"
    key = base64.b64decode(secret[6:]) if secret.startswith("whsec_") else secret.encode()
    ts = str(NOW)
    headers = {"webhook-id": "msg_1", "svix-id": "msg_1", "x-request-id": "req_1"}
    fmt = scheme["data"].get("timestamp", {}).get("format", "unix")
    if fmt == "unix_ms":
        ts = str(NOW * 1000)
    elif fmt == "rfc3339":
        ts = "2023-11-14T22:13:20Z"
    message = scheme["template"]
    message = message.replace("[timestamp]", ts).replace("[url]", "https://example.com/hooks/fuzz")
    for name, value in headers.items():
        message = message.replace("[header:%s]" % name, value)
    message = message.encode().replace(b"[payload]", BODY)
    digestmod = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}[scheme["algorithm"]]
    mac = hmac.new(key, message, digestmod).digest()
    sig = {"hex": mac.hex(), "base64": base64.b64encode(mac).decode(), "base64url": base64.urlsafe_b64encode(mac).decode().rstrip("=")}[scheme["digest"]]
    data = scheme["data"]
    prefix = data["signature"].get("parsePrefix", "")
    lines = {}
    if "timestamp" in data:
        tprefix = data["timestamp"].get("parsePrefix", "")
        lines.setdefault(data["timestamp"]["header"], []).append(tprefix + ts)
    lines.setdefault(data["signature"]["header"], []).append(prefix + sig)
    delim = {}
    for part in ("signature", "timestamp"):
        if part in data:
            delim[data[part]["header"]] = data[part].get("listDelimiter", ",")
    header_text = "\n".join("%s: %s" % (h, delim.get(h, ",").join(v)) for h, v in lines.items())
    header_text += "\nwebhook-id: msg_1\nsvix-id: msg_1\nx-request-id: req_1"
    seed = json.dumps(scheme).encode() + b"\0" + header_text.encode() + b"\0" + BODY + b"\0" + secret.encode() + b"\0" + str(NOW).encode()
    write("signature", os.path.basename(path)[:-5], seed)

for name, allow, proxies, peer, xff in [
    ("v4-cidr", "10.0.0.0/8\n192.168.1.7", "", "10.1.2.3", ""),
    ("proxy-chain", "203.0.113.0/24", "10.0.0.1\n10.0.0.2", "10.0.0.1", "198.51.100.9, 203.0.113.5, 10.0.0.2"),
    ("v6", "2001:db8::/32\n::1", "", "::ffff:127.0.0.1", ""),
    ("spoofed", "203.0.113.0/24", "", "198.51.100.1", "203.0.113.5"),
    ("ported", "203.0.113.5", "127.0.0.1", "127.0.0.1", "[2001:db8::1]:443, 203.0.113.5:8080"),
]:
    write("allowlist", name, "\0".join([allow, proxies, peer, xff]).encode())

for path in sorted(glob.glob(os.path.join(ROOT, "presets/scripts/*.js"))):
    name = os.path.basename(path)[:-3]
    write("script", name, read(path) + b"\0" + read(path[:-3] + ".sample.json"))
for name, source in [
    ("loop", "function map(p) { while (true) {} }"),
    ("recursion", "function map(p) { return map(p); }"),
    ("regex", "function map(p) { return /(a+)+$/.test('a'.repeat(30) + '!'); }"),
    ("grow", "function map(p) { var a = []; for (;;) a.push(a.length); }"),
    ("pollute", "function map(p) { Object.prototype.x = 1; return {payload: {target: {usersById: [String(p.id)]}}}; }"),
    ("cycle", "function map(p) { var o = {}; o.o = o; return o; }"),
    ("throw", "function map(p) { throw {}; }"),
    ("syntax", "function map(p) { return {; }"),
]:
    write("script", "hostile-" + name, source.encode() + b'\0{"id": 7}')

# ingest: see hookmap::fuzzing::ingest for the layout. One byte per choice: method (0 POST,
# 1 PUT, 2 GET, 3 PATCH, 4 DELETE, 5 a short name follows), trigger (0 signed, 1 shaped,
# 2 unknown), content type (0 none, 1 JSON, 2 JSON; charset, 3 +json, 4 form, 5 text/plain,
# 6 a short value follows), signature (0 valid, 1 stale, 2 wrong secret, 3 missing), query
# flag (1: a short query follows), headers (1, a name choice, a value: 0 content-length,
# 1 stripe-signature, 2 x-forwarded-for, 3 content-type, 4 expect, 5 a short name follows),
# 0, then the body. A short string is a length byte and the bytes.
def short(text):
    data = text.encode()
    assert len(data) < 256
    return bytes([len(data)]) + data

def ingest(name, body, method=0, trigger=0, content_type=1, signature=0, query=None, headers=()):
    data = bytes([method]) if isinstance(method, int) else b"\x05" + short(method)
    data += bytes([trigger]) + (bytes([content_type]) if isinstance(content_type, int) else b"\x06" + short(content_type))
    data += bytes([signature]) + (b"\x00" if query is None else b"\x01" + short(query))
    names = ["content-length", "stripe-signature", "x-forwarded-for", "content-type", "expect"]
    for header, value in headers:
        data += b"\x01" + (bytes([names.index(header)]) if header in names else b"\x05" + short(header)) + short(value)
    write("ingest", name, data + b"\x00" + body)

for case in sorted(glob.glob(os.path.join(ROOT, "tests/golden/*/"))):
    name = os.path.basename(case.rstrip("/"))
    if name.startswith("stripe-"):
        ingest(name, read(case + "sample.json"))
    else:
        ingest(name, read(case + "sample.json"), trigger=1, content_type=0, signature=3)
STRIPE = read(os.path.join(ROOT, "tests/golden/stripe-payment-intent-succeeded/sample.json"))
no_user = json.loads(STRIPE)
no_user["data"]["object"]["metadata"]["x-user-id"] = ""
for name, body, options in [
    ("put-plus-json", STRIPE, dict(method=1, content_type=3)),
    ("charset", STRIPE, dict(content_type=2)),
    ("stale-signature", STRIPE, dict(signature=1)),
    ("wrong-secret", STRIPE, dict(signature=2)),
    ("unsigned", STRIPE, dict(signature=3)),
    ("get", STRIPE, dict(method=2)),
    ("options", STRIPE, dict(method="OPTIONS")),
    ("unknown-trigger", STRIPE, dict(trigger=2)),
    ("text-plain", STRIPE, dict(content_type=5)),
    ("ndjson", STRIPE, dict(content_type="application/x-ndjson")),
    ("query", STRIPE, dict(query="a=1&b=%20&a=2")),
    ("declared-too-large", STRIPE, dict(headers=[("content-length", "999999999")])),
    ("declared-drained", STRIPE, dict(headers=[("content-length", "20000")])),
    ("forwarded-outside", STRIPE, dict(headers=[("x-forwarded-for", "198.51.100.1")])),
    ("forwarded-inside", STRIPE, dict(headers=[("x-forwarded-for", "198.51.100.1, 203.0.113.9")])),
    ("second-signature", STRIPE, dict(headers=[("stripe-signature", "t=1,v1=00")])),
    ("second-content-type", STRIPE, dict(headers=[("content-type", "text/plain")])),
    ("expect", STRIPE, dict(headers=[("expect", "100-continue"), ("x-request-id", "req_1")])),
    ("no-user", json.dumps(no_user).encode(), {}),
    ("not-json", b'{"id": "evt_1", ', {}),
    ("empty", b"", {}),
    ("form-signed", b"id=evt_1&type=payment_intent.succeeded", dict(content_type=4)),
    ("form-shaped", b"ticket_id=1&requester_id=2&watchers=3&watchers=4", dict(trigger=1, content_type=4, signature=3)),
    ("form-malformed", b"a=%zz", dict(trigger=1, content_type=4, signature=3)),
]:
    ingest("request-" + name, body, **options)
# The shaped trigger skips closed tickets and has an event for ticket 4242 from the start.
ZENDESK = json.loads(read(os.path.join(ROOT, "tests/golden/zendesk-trigger-webhook-custom-body/sample.json")))
for name, change in [("skipped-closed", {"status": "Closed"}), ("duplicate-first-ticket", {"ticket_id": 4242})]:
    ingest("request-" + name, json.dumps({**ZENDESK, **change}).encode(), trigger=1, content_type=1, signature=3)
