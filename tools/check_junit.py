#!/usr/bin/env python3
"""Reads `rulec test --format junit` with junitparser (PyPI), the JUnit reader CI tools build on, and
checks that it says what the run did.

    .venv/bin/python tools/check_junit.py RULEC

1. The example tests (`rules/`): every case a passing `testcase`, counts that add up, exit status 0.
2. A test file written here with a passing case, a failing one (its expectation and trace in the
   `failure`) and one that cannot run (an `error`), with characters XML must escape in names and
   messages: each reads back as written, and the exit status is 2.
Exits 1 on any failure.
"""
import os
import subprocess
import sys
import tempfile

from junitparser import Error, Failure, JUnitXml

RULES = """collector demo {
  source clarifai/main/general-image-recognition
  destination me/dataset
  key env DEMO_KEY
  pre_queue {
    require max(concepts) < 0.6
  }
}
"""


def event(input_id, value):
    return ('{"id": "out-%s", "status": {"code": 10000}, "model": {"id": "general-image-recognition", '
            '"user_id": "clarifai", "app_id": "main"}, "input": {"id": "%s"}, "data": {"concepts": '
            '[{"id": "dog", "value": %s}]}}' % (input_id, input_id, value))


TESTS = """rules "example.rule"

test "passes <&> \\"quoted\\"" {
  event %s
  expect demo accepted
}

test "fails" {
  event %s
  expect demo accepted
}

test "cannot run" {
  event %s
  expect nobody accepted
}
""" % (event("a", 0.2), event("b", 0.9), event("c", 0.2))


def run(binary, *args):
    p = subprocess.run([binary, "test", "--format", "junit", *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def main(binary):
    problems = []

    def expect(ok, what):
        if not ok:
            problems.append(what)

    status, out, err = run(binary, "rules/")
    expect(status == 0, f"rules/: exit status {status}: {err}")
    xml = JUnitXml.fromstring(out)
    suites = list(xml)
    cases = [case for suite in suites for case in suite]
    expect(len(suites) >= 7, f"rules/: {len(suites)} test suites")
    expect(len(cases) >= 20, f"rules/: {len(cases)} test cases")
    expect(all(case.is_passed for case in cases), "rules/: a case did not pass")
    expect(sum(suite.tests for suite in suites) == len(cases), "rules/: suite counts do not add up")

    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "example.rule"), "w") as f:
            f.write(RULES)
        with open(os.path.join(folder, "example.ruletest"), "w") as f:
            f.write(TESTS)
        status, out, err = run(binary, folder)
        expect(status == 2, f"exit status {status}, expected 2 (a case could not run)")
        xml = JUnitXml.fromstring(out)
        suite = list(xml)[0]
        expect((suite.tests, suite.failures, suite.errors) == (3, 1, 1),
               f"counts {(suite.tests, suite.failures, suite.errors)}")
        by_name = {case.name: case for case in suite}
        expect(set(by_name) == {'passes <&> "quoted"', "fails", "cannot run"}, f"names {sorted(by_name)}")
        passed = by_name.get('passes <&> "quoted"')
        expect(passed is not None and passed.is_passed, "the passing case")
        failed = by_name.get("fails")
        results = failed.result if failed is not None else []
        failure = next((r for r in results if isinstance(r, Failure)), None)
        expect(failure is not None, "the failing case has no failure")
        if failure is not None:
            expect("expected demo accepted" in failure.message and "require max(concepts) < 0.6" in failure.message,
                   f"failure message: {failure.message}")
            expect("max(concepts) = 0.9 < 0.6" in (failure.text or ""), f"failure text lacks the trace: {failure.text}")
        errored = by_name.get("cannot run")
        results = errored.result if errored is not None else []
        expect(any(isinstance(r, Error) for r in results), "the case that cannot run has no error")
        expect("RC5001" in err, f"the error's diagnostic is not on standard error: {err}")

    for p in problems:
        print("check_junit:", p, file=sys.stderr)
    if not problems:
        print("check_junit: rulec test --format junit reads back with junitparser")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
