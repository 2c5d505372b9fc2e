#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora from the project's fixtures (deterministic).

Usage: seeds.py OUT_DIR. Each target gets OUT_DIR/<target>/ with one file per seed, in the
input layout its fuzz_targets/<target>.rs documents.
"""
import csv
import io
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = pathlib.Path(sys.argv[1])
# Keep seeds small: libFuzzer mutates faster on short inputs; the first lines carry the
# structure.
MAX_LINES = 25

# The order of closebook_engine::ingest::Kind::ALL and stripe::sync::ObjectType::ALL.
KINDS = ["ledger", "balances", "allocations", "accounts", "webhook_events", "withdrawals"]
OBJECTS = ["balance_transaction", "charge", "refund", "dispute", "payout", "transfer", "account", "event"]


def write(target, name, data):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


for folder in ["demo", "seed-example"]:
    for i, kind in enumerate(KINDS):
        path = ROOT / "fixtures" / folder / f"{kind}.csv"
        if not path.exists():
            continue
        lines = path.read_text().splitlines()[:MAX_LINES]
        text = "\n".join(lines) + "\n"
        write("import", f"{folder}-{kind}.csv", bytes([i]) + text.encode())
        rows = list(csv.DictReader(io.StringIO(text)))
        jsonl = "".join(json.dumps(r) + "\n" for r in rows)
        write("import", f"{folder}-{kind}.jsonl", bytes([0x80 | i]) + jsonl.encode())

objects = json.loads((ROOT / "fixtures/stripe/objects.json").read_text())
for i, name in enumerate(OBJECTS):
    page = {"object": "list", "url": f"/v1/{name}s", "has_more": False, "data": [objects[name]]}
    write("stripe_page", name, bytes([i]) + json.dumps(page).encode())
    write("stripe_page", name + "-empty", bytes([i]) + b'{"object":"list","url":"/v1/x","has_more":false,"data":[]}')

write("approval_file", "genuine", b"\x01")
write("approval_file", "empty-object", b"\x00{}")
write("approval_file", "patch-signature", b"\x01\x40\"signature\": \"00\"")

requests = [
    (0, b"/v1/balance_transactions?limit=100&created[gte]=1730419200&created[lt]=1733011200"),
    (0, b"/v1/balance_transactions?limit=10&starting_after=txn_1&expand[]=data.source"),
    (0, b"/v1/balance"),
    (0, b"/v1/accounts?limit=100"),
    (0, b"/v1/events?limit=100&type=transfer.*"),
    (0, b"/v1/transfers/tr_1/reversals?limit=100"),
    (8 | 1, b"/v1/transfers\namount=1250&currency=usd&destination=acct_1&transfer_group=closebook_batch_1&metadata[line]=1"),
    (1, b"/v1/transfers\namount=-5&currency=usd"),
    (4, b"/v1/balance"),
    (16, b"/v1/balance"),
    # Regression (found by this target): a path id that is not UTF-8 got a plain-text 400.
    (0, b"/v1/transfers/r77777=t1252&c]=1nss%ncs%bbbbbbbbbbbbbbbbbbbbbbbncy=8imit=7100"),
    (0, b"/v1/transfers/r%ff%fe"),
]
for n, (selector, rest) in enumerate(requests):
    write("sim_request", f"request-{n}", bytes([selector]) + rest)
