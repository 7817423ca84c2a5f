"""The VS Code extension's TextMate grammars (editors/vscode/syntaxes), run by a real TextMate
engine (textmate-grammar-python, on Oniguruma) over every example file in rules/: every token gets a
scope of its own (no character is left with only the file's scope, none is `invalid`), and the
scopes mean what they say on the constructs a reader looks for.

    tools/.venv/bin/python -m pytest tools/grammar -q
"""
import json
import logging
import pathlib
import shutil
import subprocess

import pytest
from textmate_grammar.parsers.base import LanguageParser

logging.getLogger("textmate_grammar").setLevel(logging.ERROR)  # it logs every string it does not descend into

ROOT = pathlib.Path(__file__).resolve().parents[2]
SYNTAXES = ROOT / "editors" / "vscode" / "syntaxes"


def parser(name):
    return LanguageParser(json.loads((SYNTAXES / name).read_text()))


RULES = parser("rulec.tmLanguage.json")
TESTS = parser("rulec-test.tmLanguage.json")


def tokens(language, text):
    """(line, column, text, innermost scope) for every token the grammar gives a scope."""
    element = language.parse_string(text)
    found = []
    for (line, column), token, scopes in element.flatten():
        found.append((line, column, token, scopes))
    return found


def unscoped(language, text):
    """Non-blank characters that carry no scope but the file's, and tokens scoped invalid."""
    covered = {}
    problems = []
    for line, column, token, scopes in tokens(language, text):
        inner = [s for s in scopes if s != language.token]
        for k in range(len(token)):
            covered[(line, column + k)] = inner
        if any(s.startswith("invalid") for s in scopes):
            problems.append(f"{line + 1}:{column + 1} {token!r} is {scopes[-1]}")
    for line, content in enumerate(text.split("\n")):
        for column, character in enumerate(content):
            if not character.isspace() and not covered.get((line, column)):
                problems.append(f"{line + 1}:{column + 1} {character!r} has no scope")
    return problems


EXAMPLES = sorted((ROOT / "rules").rglob("*.rule"))
TEST_FILES = sorted((ROOT / "rules").rglob("*.ruletest"))


def test_the_examples_are_there():
    assert len(EXAMPLES) >= 7 and len(TEST_FILES) >= 7


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_token_of_a_rule_file_has_a_scope(path):
    assert unscoped(RULES, path.read_text()) == []


@pytest.mark.parametrize("path", TEST_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_token_of_a_test_file_has_a_scope(path):
    assert unscoped(TESTS, path.read_text()) == []


def scope_of(language, text, token):
    for _, _, t, scopes in tokens(language, text):
        if t == token:
            return scopes[-1]
    raise AssertionError(f"{token!r} not found in {[t for _, _, t, _ in tokens(language, text)]}")


def test_scopes_mean_what_they_say():
    text = (ROOT / "rules" / "combined.rule").read_text()
    assert scope_of(RULES, text, "collector") == "storage.type.collector.rulec"
    assert scope_of(RULES, text, "uncertain-pets") == "entity.name.type.collector.rulec"
    assert scope_of(RULES, text, "require") == "keyword.control.rulec"
    assert scope_of(RULES, text, "margin") == "support.function.rulec"
    assert scope_of(RULES, text, "0.6") == "constant.numeric.rulec"
    assert scope_of(RULES, text, "25%") == "constant.numeric.rulec"
    assert scope_of(RULES, text, "starts_with") == "keyword.operator.word.rulec"
    assert scope_of(RULES, text, "day") == "keyword.other.unit.rulec"
    assert scope_of(RULES, text, "aa7f35c01e0642fda5cf400f543e7c40") == "entity.name.resource.rulec"
    assert scope_of(RULES, text, "ACME_PETS_KEY") == "variable.other.constant.environment.rulec"
    # Keywords are contextual: after a dot they are metadata paths, as the parser reads them.
    line = "  pre_queue {\n    drop if metadata.source == \"x\" and metadata.limit > 2\n  }\n"
    assert scope_of(RULES, line, "source") == "variable.other.property.rulec"
    assert scope_of(RULES, line, "limit") == "variable.other.property.rulec"
    # Typographic quotes pasted from a document stand out.
    assert scope_of(RULES, 'description “pets”\n', "“pets”").startswith("invalid.illegal")
    assert scope_of(RULES, "# a comment\n", " a comment") == "comment.line.number-sign.rulec"
    assert scope_of(RULES, "# a comment\n", "#") == "punctuation.definition.comment.rulec"
    test = (ROOT / "rules" / "uncertain.ruletest").read_text()
    assert scope_of(TESTS, test, "expect") == "keyword.control.expect.rulec-test"
    assert scope_of(TESTS, test, "uncertain-general") == "entity.name.type.collector.rulec-test"
    assert scope_of(TESTS, test, "accepted") == "constant.language.outcome.rulec-test"
    assert scope_of(TESTS, test, "status") == "support.type.property-name.json.rulec-test"


def test_a_character_no_rule_reads_is_flagged():
    assert unscoped(RULES, "collector a {\n  pre_queue { require max(concepts) < 0.5 ; }\n}\n") == ["2:43 ';' is invalid.illegal.character.rulec"]


def test_the_extension_names_what_exists():
    extension = ROOT / "editors" / "vscode"
    manifest = json.loads((extension / "package.json").read_text())
    contributes = manifest["contributes"]
    languages = {language["id"]: language for language in contributes["languages"]}
    assert languages["rulec"]["extensions"] == [".rule"] and languages["rulec-test"]["extensions"] == [".ruletest"]
    for language in languages.values():
        json.loads((extension / language["configuration"]).read_text())
    for grammar in contributes["grammars"]:
        assert grammar["language"] in languages
        assert json.loads((extension / grammar["path"]).read_text())["scopeName"] == grammar["scopeName"]
    assert set(contributes["configuration"]["properties"]) == {"rulec.path", "rulec.concepts", "rulec.recording"}
    main = extension / manifest["main"]
    assert "\"lsp\"" in main.read_text()
    if shutil.which("node"):
        subprocess.run(["node", "--check", str(main)], check=True)
