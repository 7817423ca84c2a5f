#!/usr/bin/env python3
"""Parses PostInputs items written by `rulec run` with Clarifai's own classes (`clarifai-grpc`) and
protobuf's own strict parser (`json_format.Parse`, unknown fields refused): each line into an
`Input`, and each batch of up to 128 into a `PostInputsRequest`, as the forwarder sends them.

    .venv/bin/python tools/check_items_with_clarifai.py ITEMS.jsonl [ITEMS.jsonl ...]

Exits 1 when any item or batch does not parse, naming the file and line; 0 otherwise.
"""
import json
import sys

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from google.protobuf import json_format


def main(paths):
    failed = 0
    for path in paths:
        items = []
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                line = line.rstrip("\n")
                if not line:
                    continue
                try:
                    parsed = json_format.Parse(line, resources_pb2.Input())
                    if not parsed.id or not (parsed.data.HasField("image") or parsed.data.HasField("video")
                                             or parsed.data.HasField("text") or parsed.data.HasField("audio")):
                        raise ValueError("an item without an id or media")
                    items.append(json.loads(line))
                except Exception as error:  # noqa: BLE001 - every failure is reported the same way
                    failed += 1
                    print(f"{path}:{number}: not a Clarifai Input: {error}", file=sys.stderr)
        batches = 0
        for start in range(0, len(items), 128):
            try:
                request = json_format.Parse(json.dumps({"inputs": items[start:start + 128]}), service_pb2.PostInputsRequest())
                assert len(request.inputs) == len(items[start:start + 128])
                batches += 1
            except Exception as error:  # noqa: BLE001
                failed += 1
                print(f"{path}: batch from item {start + 1}: not a PostInputsRequest: {error}", file=sys.stderr)
        print(f"{path}: {len(items)} items parsed as clarifai Input, {batches} batches as PostInputsRequest")
        if not items:
            failed += 1
            print(f"{path}: no items to check", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
