#!/usr/bin/env python3
"""Writes recordings of model outputs made by Clarifai's own classes (the `clarifai-grpc` package)
and serialised by protobuf's own `json_format`, in both of its spellings: the proto field names
(`created_at`) and the default lowerCamelCase (`createdAt`). The Swift tests read the committed
files, so they need no Python; re-run this after changing the outputs:

    python3 -m venv .venv && .venv/bin/pip install clarifai-grpc
    .venv/bin/python tools/clarifai_fixtures.py Tests/RulesTests/Golden/clarifai

`outputs.snake.jsonl` and `outputs.camel.jsonl` hold one output a line, then one MultiOutputResponse
line holding more outputs. `response.camel.json` is all of them in one MultiOutputResponse as
`MessageToJson` writes it by default (indented over many lines), and `outputs.snake.json` a JSON
array of the outputs, indented.
"""
import json
import sys
from pathlib import Path

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2, status_pb2
from google.protobuf import json_format, struct_pb2, timestamp_pb2


def timestamp(text):
    t = timestamp_pb2.Timestamp()
    t.FromJsonString(text)
    return t


def concepts(pairs):
    return [resources_pb2.Concept(id="ai_" + name.replace(" ", "_"), name=name, value=value, app_id="main")
            for name, value in pairs]


def model(user, app, model_id, version):
    return resources_pb2.Model(id=model_id, user_id=user, app_id=app, name=model_id,
                               model_version=resources_pb2.ModelVersion(id=version))


GENERAL = model("clarifai", "main", "general-image-recognition", "aa7f35c01e0642fda5cf400f543e7c40")
DETECTOR = model("acme", "prod-vision", "forklift-detector", "8d1f6c0b2e9a4c77b3f05e1d2a6c9b40")
VIDEO = model("acme", "prod-vision", "forklift-video", "1c3e5a7b9d2f4e6a8c0b2d4f6a8c0e2a")
TICKETS = model("acme", "support", "ticket-router", "2f7c9e1a4b6d4c08a3e5f7b9d1c3e5a7")


def metadata(**fields):
    s = struct_pb2.Struct()
    s.update(fields)
    return s


def output(k, mdl, created, data, input_data, code=status_code_pb2.SUCCESS):
    return resources_pb2.Output(
        id=f"out-{k:04d}", status=status_pb2.Status(code=code, description="Ok"),
        created_at=timestamp(created), model=mdl,
        input=resources_pb2.Input(id=f"in-{k:04d}", data=input_data), data=data)


def image(k, **meta):
    return resources_pb2.Data(image=resources_pb2.Image(url=f"https://cdn.example.com/{k}.jpg"),
                              metadata=metadata(**meta))


def box(top, left, bottom, right, pairs, rid):
    return resources_pb2.Region(
        id=rid, value=0.9,
        region_info=resources_pb2.RegionInfo(bounding_box=resources_pb2.BoundingBox(
            top_row=top, left_col=left, bottom_row=bottom, right_col=right)),
        data=resources_pb2.Data(concepts=concepts(pairs)))


def outputs():
    out = []
    # Image classification: uncertain, confident, and one of each on one day for `limit`.
    for k, (day, pairs) in enumerate([
        ("2024-03-02T08:00:01.793919Z", [("dog", 0.55), ("cat", 0.41), ("pet", 0.3)]),
        ("2024-03-02T09:30:00Z", [("dog", 0.52), ("puppy", 0.5)]),
        ("2024-03-02T10:15:30.5+01:00", [("cat", 0.58), ("kitten", 0.2)]),
        ("2024-03-03T00:00:00.123Z", [("dog", 0.97), ("pet", 0.9)]),
        ("2024-03-03T07:07:07.000000001Z", [("cat", 0.5), ("dog", 0.49)]),
    ]):
        out.append(output(k, GENERAL, day, resources_pb2.Data(concepts=concepts(pairs)),
                          image(k, source="mobile" if k % 2 else "kiosk", user_id=f"user-{k}",
                                nested={"device": {"os": "android", "version": 10 + k}}, tags=["a", "b"][: k % 3])))
    # Detection: regions with boxes.
    for k, regions in enumerate([
        [box(0.1, 0.1, 0.6, 0.7, [("forklift", 0.92)], "r1"), box(0.0, 0.0, 0.05, 0.05, [("person", 0.8)], "r2")],
        [box(0.2, 0.2, 0.3, 0.3, [("forklift", 0.95)], "r3")],
        [],
    ], start=10):
        out.append(output(k, DETECTOR, f"2024-03-02T12:00:0{k - 10}Z", resources_pb2.Data(regions=regions),
                          image(k, site=f"warehouse-{k}")))
    # Video: frames.
    for k in range(20, 22):
        frames = [resources_pb2.Frame(id=f"f{k}-{i}", frame_info=resources_pb2.FrameInfo(index=i, time=1000 * i),
                                      data=resources_pb2.Data(concepts=concepts([("forklift", 0.3 + 0.2 * i)])))
                  for i in range(3)]
        out.append(output(k, VIDEO, "2024-03-02T13:00:00Z", resources_pb2.Data(frames=frames),
                          resources_pb2.Data(video=resources_pb2.Video(url=f"https://cdn.example.com/{k}.mp4"))))
    # Text classification, and a failed output.
    for k, text in enumerate(["My invoice shows a double charge", "Out of office until Monday."], start=30):
        out.append(output(k, TICKETS, "2024-03-02T14:00:00Z",
                          resources_pb2.Data(concepts=concepts([("billing", 0.45), ("spam", 0.4)])),
                          resources_pb2.Data(text=resources_pb2.Text(raw=text), metadata=metadata(channel="email"))))
    out.append(output(39, TICKETS, "2024-03-02T14:00:01Z", resources_pb2.Data(),
                      resources_pb2.Data(text=resources_pb2.Text(raw="x")), code=status_code_pb2.FAILURE))
    return out


def main():
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "Tests/RulesTests/Golden/clarifai")
    folder.mkdir(parents=True, exist_ok=True)
    all_outputs = outputs()
    singles, batched = all_outputs[:-4], all_outputs[-4:]
    response = service_pb2.MultiOutputResponse(status=status_pb2.Status(code=status_code_pb2.SUCCESS), outputs=batched)
    for name, proto_names in [("outputs.snake.jsonl", True), ("outputs.camel.jsonl", False)]:
        lines = [json_format.MessageToJson(o, preserving_proto_field_name=proto_names, indent=None, sort_keys=True) for o in singles]
        lines.append(json_format.MessageToJson(response, preserving_proto_field_name=proto_names, indent=None, sort_keys=True))
        (folder / name).write_text("\n".join(lines) + "\n")
    everything = service_pb2.MultiOutputResponse(status=status_pb2.Status(code=status_code_pb2.SUCCESS), outputs=all_outputs)
    (folder / "response.camel.json").write_text(json_format.MessageToJson(everything, sort_keys=True) + "\n")
    array = [json.loads(json_format.MessageToJson(o, preserving_proto_field_name=True, sort_keys=True)) for o in all_outputs]
    (folder / "outputs.snake.json").write_text(json.dumps(array, indent=2) + "\n")


if __name__ == "__main__":
    main()
