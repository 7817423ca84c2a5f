#!/usr/bin/env python3
"""Seeded generator of Clarifai-shaped recordings (JSON Lines of model outputs) for `rulec run`.

Each line is one output object, or (with --responses) a PostModelOutputs response holding a few outputs.
About 20 concepts per output sorted by value, ~10% detection outputs with regions, a few text outputs,
nested metadata, ~2% failed outputs, created_at increasing. Lines are about 2 KB.

    python3 tools/generate_recording.py --events 2000 --seed 7 > samples/recording.jsonl
"""
import argparse
import json
import random
import sys
import zlib
from datetime import datetime, timedelta, timezone

GENERAL = ["dog", "puppy", "cat", "kitten", "retriever", "people", "outdoors", "indoors", "animal", "pet",
           "grass", "no person", "portrait", "cute", "mammal", "fur", "street", "car", "tree", "sky",
           "water", "food", "window", "furniture", "wood", "snow", "beach", "city", "night", "light"]
GENERAL_IDS = {name: "ai_" + format(zlib.crc32(name.encode()), "08x") for name in GENERAL}
WAREHOUSE = ["forklift", "pallet-jack", "person", "pallet", "shelf", "box", "truck", "helmet", "vest", "ladder",
             "cart", "door", "sign", "cone", "barrier", "crate", "container", "drum", "rack", "conveyor"]
TICKETS = ["billing", "refund", "shipping", "login", "cancel", "upgrade", "bug", "feature", "invoice", "account",
           "password", "delivery", "damaged", "return", "payment", "discount", "warranty", "privacy", "spam", "other"]
TEXTS = ["My invoice shows a double charge for March and I would like the extra payment refunded please.",
         "I cannot log in since the last update; the password reset mail never arrives in my inbox.",
         "Out of office until Monday.", "Please unsubscribe me from this list.",
         "The parcel arrived damaged, the box was crushed and two plates are broken. What can I do?",
         "Where is my delivery? It was due last week and the tracking page has not changed for days."]

MODELS = [
    # (user, app, model, version, kind, vocabulary, weight)
    ("clarifai", "main", "general-image-recognition", "aa7f35c01e0642fda5cf400f543e7c40", "image", GENERAL, 55),
    ("acme", "prod-vision", "forklift-detector", "8d1f6c0b2e9a4c77b3f05e1d2a6c9b40", "image", WAREHOUSE, 10),
    ("acme", "prod-vision", "forklift-classifier", "8d1f6c0b2e9a4c77b3f05e1d2a6c9b40", "image", WAREHOUSE, 15),
    ("acme", "support", "ticket-router", "2f7c9e1a4b6d4c08a3e5f7b9d1c3e5a7", "text", TICKETS, 20),
]


def hexid(rng, n=32):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def concepts(rng, vocabulary, app, ids=None, count=20):
    names = rng.sample(vocabulary, min(count, len(vocabulary)))
    # A peaked distribution: sometimes confident, sometimes uncertain.
    sharpness = rng.choice([0.3, 0.6, 1.0, 2.0, 4.0])
    raw = [rng.random() ** sharpness for _ in names]
    top = rng.random() ** 0.5
    values = sorted((round(top * r / max(raw), 4) for r in raw), reverse=True)
    return [{"id": (ids or {}).get(n, n), "name": n, "value": v, "app_id": app} for n, v in zip(names, values)]


def output(rng, index, when):
    user, app, model, version, kind, vocabulary, _ = rng.choices(MODELS, weights=[m[6] for m in MODELS])[0]
    input_id = f"in-{index:07d}"
    metadata = {
        "source": rng.choice(["mobile", "mobile", "web", "kiosk", "test-harness"]),
        "country": rng.choice(["US", "CA", "FR", "DE", "BR", "IN"]),
        "user_id": f"user-{rng.randrange(400)}",
        "camera": rng.choice(["cam-1", "cam-2", "test-cam", "dock-3"]),
        "language": rng.choice(["en", "en", "en", "de", "fr", "es"]),
        "tags": rng.sample(["outdoor", "indoor", "night", "day", "blurry", "crowd"], rng.randrange(0, 4)),
        "nested": {"device": {"os": rng.choice(["ios", "android", "linux", None]), "version": rng.randrange(10, 18)},
                   "session": hexid(rng, 16)},
        "upload": {"bytes": rng.randrange(10_000, 4_000_000), "client": "collector-demo/1.4"},
    }
    if kind == "text":
        data = {"text": {"raw": rng.choice(TEXTS)}, "metadata": metadata}
    else:
        data = {"image": {"url": f"https://cdn.example.com/{app}/{input_id}.jpg"}, "metadata": metadata}
    out = {
        "id": hexid(rng),
        "status": {"code": 10000, "description": "Ok"},
        "created_at": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rng.randrange(10**6):06d}Z",
        "model": {"id": model, "name": model.replace("-", " ").title(), "app_id": app, "user_id": user,
                  "model_type_id": "text-classifier" if kind == "text" else "visual-classifier",
                  "model_version": {"id": version, "status": {"code": 21100, "description": "Model is trained and ready"},
                                    "app_id": app, "user_id": user}},
        "input": {"id": input_id, "data": data},
        "data": {},
    }
    if rng.random() < 0.02:
        out["status"] = {"code": 30002, "description": "Download failed; check URL", "details": "404 Not Found"}
        return out
    if model == "forklift-detector":
        regions = []
        for _ in range(rng.randrange(2, 7)):
            top, left = rng.random() * 0.7, rng.random() * 0.7
            cs = concepts(rng, WAREHOUSE, app, count=1)
            regions.append({"id": hexid(rng),
                            "region_info": {"bounding_box": {"top_row": round(top, 4), "left_col": round(left, 4),
                                                             "bottom_row": round(top + rng.random() * 0.3, 4),
                                                             "right_col": round(left + rng.random() * 0.3, 4)}},
                            "data": {"concepts": cs}, "value": cs[0]["value"]})
        out["data"] = {"regions": regions, "concepts": concepts(rng, vocabulary, app, count=8)}
    elif model == "ticket-router":
        # The router is configured to return its top few concepts only.
        out["data"] = {"concepts": concepts(rng, vocabulary, app, count=rng.choice([1, 2, 3, 20]))}
    else:
        out["data"] = {"concepts": concepts(rng, vocabulary, app, GENERAL_IDS if vocabulary is GENERAL else None)}
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--responses", action="store_true", help="group outputs into PostModelOutputs responses")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    when = datetime(2024, 3, 2, 8, 0, 0, tzinfo=timezone.utc)
    write = sys.stdout.write
    index = 0
    while index < args.events:
        when += timedelta(milliseconds=rng.randrange(50, 4000))
        if args.responses and rng.random() < 0.2:
            n = min(rng.randrange(2, 5), args.events - index)
            outs = [output(rng, index + k, when) for k in range(n)]
            write(json.dumps({"status": {"code": 10000, "description": "Ok", "req_id": hexid(rng, 16)}, "outputs": outs},
                             separators=(",", ":")) + "\n")
            index += n
        else:
            write(json.dumps(output(rng, index, when), separators=(",", ":")) + "\n")
            index += 1


if __name__ == "__main__":
    main()
