"""`rulec lsp` driven by a real LSP client (pytest-lsp, on pygls and lsprotocol): diagnostics on open
and on incremental change, formatting, document symbols, hover and completion, and half-typed files
that never bring it down.

    RULEC=.build/debug/rulec tools/.venv/bin/python -m pytest tools/lsp -q
"""
import json
import os
import sys

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

RULEC = os.path.abspath(os.environ.get("RULEC", ".build/debug/rulec"))
URI = "file:///tmp/rulec-lsp-test/collectors.rule"

GOOD = """collector demo {
  source clarifai/main/general-image-recognition
  destination me/dataset
  key env DEMO_KEY
  pre_queue {
    require max(concepts) < 0.6
  }
}
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[RULEC, "lsp"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=pytest_lsp.client_capabilities("visual-studio-code")))
    yield
    await lsp_client.shutdown_session()


def open_document(client, text, uri=URI, version=1):
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(uri=uri, language_id="rulec", version=version, text=text)))


async def diagnostics_after(client, action, uri=URI):
    action()
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return list(client.diagnostics.get(uri, []))


@pytest.mark.asyncio
async def test_diagnostics_on_open_and_on_incremental_change(client: LanguageClient):
    bad = GOOD.replace("max(concepts)", "maxx(concepts)")
    found = await diagnostics_after(client, lambda: open_document(client, bad))
    assert [d.code for d in found] == ["RC3002"]
    d = found[0]
    assert (d.range.start.line, d.range.start.character, d.range.end.character) == (5, 12, 16)
    assert d.severity == types.DiagnosticSeverity.Error
    assert "did you mean 'max'?" in d.message
    # Fix it by deleting one 'x' (an incremental change): the diagnostic goes.
    def fix():
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=2),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=5, character=15), end=types.Position(line=5, character=16)), text="")]))
    assert await diagnostics_after(client, fix) == []


@pytest.mark.asyncio
async def test_positions_count_utf16_units(client: LanguageClient):
    # A description with characters outside the BMP before the error: columns are UTF-16 units.
    text = GOOD.replace("  source", '  description "🐶🐱 pets"\n  source').replace("max(concepts) < 0.6", "maxx(concepts) < 0.6")
    found = await diagnostics_after(client, lambda: open_document(client, text))
    assert [d.code for d in found] == ["RC3002"] and found[0].range.start.line == 6
    emoji = 'description "🐶🐱 pets" require maxx'
    text2 = GOOD.replace("    require max(concepts) < 0.6", '    drop if metadata.name == "🐶🐱" or maxx(concepts) < 0.6')
    found = await diagnostics_after(client, lambda: client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text2)])))
    line = text2.split("\n")[5]
    column = len(line[: line.index("maxx")].encode("utf-16-le")) // 2
    assert [(d.code, d.range.start.character) for d in found] == [("RC3002", column)], emoji


@pytest.mark.asyncio
async def test_formatting_symbols_hover_completion(client: LanguageClient):
    messy = GOOD.replace("  pre_queue {", "  pre_queue    {").replace("< 0.6", "<0.6")
    await diagnostics_after(client, lambda: open_document(client, messy))
    edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=types.TextDocumentIdentifier(uri=URI), options=types.FormattingOptions(tab_size=2, insert_spaces=True)))
    assert len(edits) == 1 and edits[0].new_text == GOOD
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=URI)))
    assert [s.name for s in symbols] == ["demo"] and [c.name for c in symbols[0].children] == ["pre_queue"]
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=URI), position=types.Position(line=5, character=13)))
    assert hover is not None and "max(concepts)" in hover.contents.value
    completion = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=URI), position=types.Position(line=5, character=4)))
    labels = {item.label for item in completion.items}
    assert {"require", "sample", "margin", "entropy"} <= labels


@pytest.mark.asyncio
async def test_half_typed_files_never_bring_it_down(client: LanguageClient):
    await diagnostics_after(client, lambda: open_document(client, ""))
    version = 1
    # Type the file a character at a time; the server answers every change.
    for k in range(1, len(GOOD) + 1, 7):
        version += 1
        found = await diagnostics_after(client, lambda: client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=GOOD[:k] + "“\x00")])))
        assert all(d.range.start.line >= 0 for d in found)
    found = await diagnostics_after(client, lambda: client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=version + 1),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=GOOD)])))
    assert found == []


@pytest.mark.asyncio
async def test_definition_of_a_map_file(client: LanguageClient, tmp_path):
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "pets.csv").write_text("source,target\ndog,canine\n")
    uri = (tmp_path / "pets.rule").as_uri()
    text = GOOD.replace("  pre_queue {", '  map file "maps/pets.csv"\n  pre_queue {').replace("max(concepts) < 0.6", "concept(canine) > 0.5")
    await diagnostics_after(client, lambda: open_document(client, text, uri=uri), uri=uri)
    found = await client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=4, character=16)))
    locations = found if isinstance(found, list) else [found]
    assert [l.uri for l in locations] == [(tmp_path / "maps" / "pets.csv").as_uri()]


def configure(client, **settings):
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"rulec": settings}))


async def labels_at(client, uri, line, character):
    completion = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=character)))
    return {item.label: item for item in completion.items}


@pytest.mark.asyncio
async def test_completion_from_a_recording_and_a_concepts_file(client: LanguageClient, tmp_path):
    recording = tmp_path / "recorded.jsonl"
    output = {"status": {"code": 10000}, "model": {"id": "m", "userId": "u", "appId": "a"},
              "input": {"id": "in-1", "data": {"metadata": {"device": {"os": "ios", "os-version": 14}, "source": "mobile"}}},
              "data": {"concepts": [{"id": "ai_dog", "name": "dog", "value": 0.4}]}}
    recording.write_text(json.dumps(output) + "\nnot json\n" + json.dumps({"outputs": [{"data": {"concepts": [{"name": "cat"}]}}]}) + "\n")
    concepts = tmp_path / "concepts.txt"
    concepts.write_text("dog\ncat\nzebra\n")
    uri = (tmp_path / "typed.rule").as_uri()
    text = GOOD.replace("    require max(concepts) < 0.6", "    require concept(unicorn) > 0.5\n    drop if metadata.device.")
    found = await diagnostics_after(client, lambda: open_document(client, text, uri=uri), uri=uri)
    assert "RC3012" not in [d.code for d in found]
    # Settings from the editor: the concepts file changes what the checker says at once.
    found = await diagnostics_after(client, lambda: configure(client, recording=str(recording), concepts=str(concepts)), uri=uri)
    assert any("no concept 'unicorn'" in d.message for d in found)
    keys = await labels_at(client, uri, 6, len("    drop if metadata.device."))
    assert set(keys) == {"os", "os-version"}
    assert keys["os-version"].insert_text == '"os-version"' and keys["os"].insert_text == "os"
    top = await labels_at(client, uri, 6, len("    drop if metadata."))
    assert set(top) == {"device", "source"}
    words = await labels_at(client, uri, 5, len("    require concept("))
    assert {"dog", "cat", "zebra", "ai_dog", "require", "max"} <= set(words)
    # A recording that cannot be read is said, not a crash.
    configure(client, recording=str(tmp_path / "missing.jsonl"))
    message = await client.wait_for_notification(types.WINDOW_SHOW_MESSAGE)
    assert "cannot read the recording" in message.message


@pytest.mark.asyncio
async def test_definition_of_a_collector_across_files(client: LanguageClient, tmp_path):
    (tmp_path / "a.rule").write_text(GOOD)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.rule").write_text("# twin\n\n" + GOOD)
    test = ('rules "a.rule"\n\ntest "confident" {\n'
            '  event {"status": {"code": 10000}, "model": {"id": "general-image-recognition", "user_id": "clarifai", "app_id": "main"},'
            ' "input": {"id": "in-1"}, "data": {"concepts": [{"id": "dog", "value": 0.97}]}}\n'
            '  expect demo accepted\n}\n')
    uri = (tmp_path / "a.ruletest").as_uri()
    # The case fails (a confident output is dropped): a diagnostic on its expectation.
    found = await diagnostics_after(client, lambda: open_document(client, test, uri=uri), uri=uri)
    assert len(found) == 1 and found[0].range.start.line == 4 and "fails" in found[0].message and "dropped" in found[0].message
    # From the test's expectation to the collector, in another file.
    at_demo = await client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=4, character=10)))
    assert [(l.uri, l.range.start.line, l.range.start.character) for l in at_demo] == [((tmp_path / "a.rule").as_uri(), 0, 10)]
    at_rules = await client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=9)))
    assert at_rules.uri == (tmp_path / "a.rule").as_uri()
    # From a collector's id: every definition of that id beside the file (a twin in a subfolder too).
    rule_uri = (tmp_path / "a.rule").as_uri()
    await diagnostics_after(client, lambda: open_document(client, GOOD, uri=rule_uri), uri=rule_uri)
    both = await client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=rule_uri), position=types.Position(line=0, character=11)))
    assert sorted((l.uri, l.range.start.line) for l in both) == [
        ((tmp_path / "a.rule").as_uri(), 0), ((tmp_path / "sub" / "b.rule").as_uri(), 2)]
    # Fixing the expectation clears the diagnostic.
    fixed = test.replace("expect demo accepted", "expect demo dropped in pre_queue")
    found = await diagnostics_after(client, lambda: client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)])), uri=uri)
    assert found == []
