#!/usr/bin/env python3
"""Extracts the C++ examples of the documentation so the build compiles them.

Every ```cpp block in the given Markdown files must be preceded, on the line
just before its fence, by an HTML comment naming it (invisible when rendered):

    <!-- snippet: helpers-object -->
    ```cpp
    ...
    ```

Each block is written to OUT/NAME.inc with a #line directive, so a compile
error points at the Markdown file and line. A harness under tests/docs/
includes it where its context (the variables and classes the text around it
assumes) is declared. The script fails, naming the file and line, when a
block has no name, a name is used twice, or a block is included by no harness:
a C++ example in the docs cannot silently escape the build.

Files are rewritten only when their content changes, so an edit of one
document recompiles only the harness that includes its snippets.
"""

import argparse
import pathlib
import re
import sys

FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
MARKER = re.compile(r"^\s*<!--\s*snippet:\s*([a-z0-9][a-z0-9-]*)\s*-->\s*$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z0-9-]+)\.inc"', re.MULTILINE)


def snippets_of(path, shown_as, errors):
    """Yields (name, first code line number, code) for each ```cpp block."""
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, language = opening.group(1), opening.group(2)
        start = i + 1
        end = start
        while end < len(lines) and not re.match(r"^\s*```\s*$", lines[end]):
            end += 1
        if end == len(lines):
            errors.append(f"{shown_as}:{i + 1}: the code block opened here is never closed")
            return
        if language == "cpp":
            marker = MARKER.match(lines[i - 1]) if i > 0 else None
            if not marker:
                errors.append(
                    f"{shown_as}:{i + 1}: a ```cpp block without a '<!-- snippet: NAME -->' line "
                    "just before it (every C++ example in the docs is compiled, see "
                    "tests/docs/extract_snippets.py)")
            else:
                code = [line[len(indent):] if line.startswith(indent) else line
                        for line in lines[start:end]]
                yield marker.group(1), start + 1, "\n".join(code) + "\n"
        i = end + 1


def write_if_changed(path, text):
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.write_text(text, encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, type=pathlib.Path,
                        help="the source tree; documents are named relative to it")
    parser.add_argument("--harnesses", required=True, type=pathlib.Path,
                        help="the directory of the .cc files that include the snippets")
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--stamp", required=True, type=pathlib.Path)
    parser.add_argument("documents", nargs="+", type=pathlib.Path)
    args = parser.parse_args()

    errors = []
    found = {}  # name -> "document:line"
    args.out.mkdir(parents=True, exist_ok=True)
    for document in args.documents:
        shown_as = document.resolve().relative_to(args.root.resolve()).as_posix()
        for name, line, code in snippets_of(document, shown_as, errors):
            if name in found:
                errors.append(f"{shown_as}:{line - 1}: snippet name '{name}' is already used at "
                              f"{found[name]}")
                continue
            found[name] = f"{shown_as}:{line - 1}"
            write_if_changed(args.out / f"{name}.inc", f'#line {line} "{shown_as}"\n{code}')

    included = set()
    for harness in sorted(args.harnesses.glob("*.cc")):
        for name in INCLUDE.findall(harness.read_text(encoding="utf-8")):
            if name not in found:
                errors.append(f"{harness.name}: includes '{name}.inc' but no document has a "
                              f"snippet named '{name}'")
            included.add(name)
    for name, where in sorted(found.items()):
        if name not in included:
            errors.append(f"{where}: snippet '{name}' is compiled by no harness: add "
                          f'#include "{name}.inc" to a file in tests/docs/')

    if errors:
        for error in errors:
            print(f"extract_snippets: {error}", file=sys.stderr)
        return 1
    args.stamp.write_text(f"{len(found)} snippets\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
