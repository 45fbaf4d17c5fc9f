#!/usr/bin/env python3
"""Prints N compact NDJSON Stripe events (the benchmark event with varied ids, amounts and users)."""
import json, sys

event = json.load(open("benches/data/stripe-payment-intent-succeeded.json"))
for i in range(int(sys.argv[1])):
    event["id"] = f"evt_{i:08d}"
    event["data"]["object"]["amount"] = 1000 + i
    event["data"]["object"]["metadata"]["userId"] = f"u_{i % 977}"
    print(json.dumps(event, separators=(",", ":")))
