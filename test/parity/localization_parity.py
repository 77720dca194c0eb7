"""Synthetic edits to this machine's standard library, with their gold locations read by `ast`.

The parity test runs this once and compares its gold with the tree-sitter mapping of
src/localization. The rules here are written independently from the TypeScript, the way LocAgent
states them (util/benchmark/gen_oracle_locations.py), on CPython's own parser:

  - removed lines are looked up in the original file, added lines in the patched file;
  - blank lines, lines starting with '#', lines of import statements and of class docstrings
    (at any depth) map to nothing;
  - inside any class, the outermost class C decides: a line of a def directly in C's body gives
    `C.name`, any other line of C nothing;
  - else the outermost function containing the line gives its name;
  - a location the original file does not define is "added" and not scored.

Usage: python3 test/parity/localization_parity.py SEED COUNT > cases.json
Prints {"cases": [{"kind", "path", "original", "patch", "gold": {...}, "added": [...]}]}.

       python3 test/parity/localization_parity.py --outline SEED COUNT > outlines.json
Prints {"files": [{"path", "source", "owner": [per 0-based row], "defined": [...]}]}
for COUNT whole files, to compare the location of every line.
"""

import ast
import difflib
import json
import random
import sys
import sysconfig
from pathlib import Path

FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
MAX_SOURCE_CHARS = 80_000


def blocks(stmt):
    """The statement lists inside a compound statement; definitions and imports live only there."""
    for field in ("body", "orelse", "finalbody"):
        yield getattr(stmt, field, [])
    for part in getattr(stmt, "handlers", []) + getattr(stmt, "cases", []):
        yield part.body


def all_functions(stmts):
    for stmt in stmts:
        if isinstance(stmt, FUNCS):
            yield stmt
        yield from (f for block in blocks(stmt) for f in all_functions(block))


def is_docstring(stmt):
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def outline(tree, n_lines, pad):
    """Owner of each 1-based line (None for lines of imports and class docstrings too) and the set
    of defined locations, for the parsed text read with `pad` more lines in front."""
    owner = [None] * (pad + n_lines + 2)
    own_nothing = []
    functions, classes = [], []

    def walk(stmts, in_class, in_func):
        for stmt in stmts:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                own_nothing.append(stmt)
            elif isinstance(stmt, ast.ClassDef):
                if not in_class:
                    classes.append(stmt)
                if stmt.body and is_docstring(stmt.body[0]):
                    own_nothing.append(stmt.body[0])
                walk(stmt.body, True, in_func)
            elif isinstance(stmt, FUNCS):
                if not in_class and not in_func:
                    functions.append(stmt)
                walk(stmt.body, in_class, True)
            else:
                for block in blocks(stmt):
                    walk(block, in_class, in_func)

    walk(tree.body, False, False)
    defined = set()

    def fill(node, value):
        owner[pad + node.lineno:pad + node.end_lineno + 1] = [value] * (node.end_lineno - node.lineno + 1)

    for f in functions:
        fill(f, f.name)
        defined.add(f.name)
    for c in classes:
        fill(c, None)
    for c in classes:
        for m in c.body:
            if isinstance(m, FUNCS):
                fill(m, f"{c.name}.{m.name}")
                defined.add(f"{c.name}.{m.name}")
    for node in own_nothing:
        fill(node, None)
    return owner, defined


def skipped(text):
    s = text.strip()
    return s == "" or s.startswith("#")


def gold(path, old, new, pad):
    """Gold sets for one file; old and new are (lines without newlines, ast tree), each read with
    `pad` comment lines in front (lines that the patch's hunk headers do not count)."""
    (old_lines, old_tree), (new_lines, new_tree) = old, new
    old_owner, old_defined = outline(old_tree, len(old_lines), pad)
    new_owner, _ = outline(new_tree, len(new_lines), pad)
    edited, added = set(), set()
    # The same matcher settings as difflib.unified_diff, so these are the patch's own changes.
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        for i in range(i1, i2):
            line = pad + i + 1
            if skipped(old_lines[i]) or old_owner[line] is None:
                continue
            edited.add(old_owner[line])
        for j in range(j1, j2):
            line = pad + j + 1
            if skipped(new_lines[j]) or new_owner[line] is None:
                continue
            loc = new_owner[line]
            (edited if loc in old_defined else added).add(loc)
    modules = {f"{path}:{loc.split('.')[0]}" for loc in edited}
    entities = {f"{path}:{loc}" for loc in edited}
    return {"files": [path], "modules": sorted(modules), "entities": sorted(entities)}, sorted(
        f"{path}:{loc}" for loc in added
    )


def indent_of(line):
    return line[: len(line) - len(line.lstrip())]


def edit(rng, lines, tree, serial):
    """One random edit inside a random function or method; returns (kind, new lines)."""
    funcs = list(all_functions(tree.body))
    if not funcs:  # a first edit can delete the file's only def line
        return "none", lines
    f = rng.choice(funcs)
    i = rng.randint(f.lineno, f.end_lineno) - 1
    kind = rng.choice(["modify", "modify", "delete", "insert", "block", "new_def", "rename"])
    new = list(lines)
    if kind == "modify":
        new[i] = new[i] + "  # edited"
    elif kind == "delete":
        del new[i]
    elif kind == "insert":
        new.insert(i + 1, indent_of(lines[i]) + f"edited_{serial} = {serial}")
    elif kind == "block":
        j = min(i + rng.randint(2, 4), f.end_lineno)
        new[i:j] = [line + "  # edited" for line in lines[i:j]] + [indent_of(lines[i]) + "pass"]
    elif kind == "new_def":
        pad = " " * f.col_offset
        params = "self" if f.args.args and f.args.args[0].arg == "self" else ""
        new[f.end_lineno:f.end_lineno] = ["", f"{pad}def added_{serial}({params}):", f"{pad}    return {serial}"]
    else:
        line = lines[f.lineno - 1]
        new[f.lineno - 1] = line.replace(f"def {f.name}", f"def {f.name}_renamed_{serial}", 1)
    return kind, new


def hunks_unique(old, new):
    """Each hunk's old lines (context and removed) occur once only in the old file."""
    for group in difflib.SequenceMatcher(None, old, new).get_grouped_opcodes(3):
        block = old[group[0][1]:group[-1][2]]
        if not block:
            return False
        starts = [i for i, line in enumerate(old) if line == block[0]]
        if sum(old[i:i + len(block)] == block for i in starts) != 1:
            return False
    return True


def corpus():
    root = Path(sysconfig.get_paths()["stdlib"])
    paths = sorted(p for p in root.rglob("*.py") if "site-packages" not in p.parts)
    return root, paths


def load(path):
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None
    if "\r" in text or not text.endswith("\n") or len(text) > MAX_SOURCE_CHARS:
        return None
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    if next(all_functions(tree.body), None) is None:
        return None
    return text, tree


def outlines(seed, count):
    rng = random.Random(seed)
    root, paths = corpus()
    files = []
    for path in rng.sample(paths, len(paths)):
        if len(files) == count:
            break
        loaded = load(path)
        if loaded is None:
            continue
        text, tree = loaded
        n = text.count("\n")
        owner, defined = outline(tree, n, 0)
        files.append({"path": path.relative_to(root).as_posix(), "source": text, "owner": owner[1:n + 1],
                      "defined": sorted(defined)})
    json.dump({"files": files}, sys.stdout)


def main():
    if sys.argv[1] == "--outline":
        return outlines(int(sys.argv[2]), int(sys.argv[3]))
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    root, paths = corpus()
    cases = []
    while len(cases) < count:
        path = rng.choice(paths)
        loaded = load(path)
        if loaded is None:
            continue
        text, tree = loaded
        rel = path.relative_to(root).as_posix()
        lines = text.split("\n")[:-1]
        new, new_tree = lines, tree
        kinds = []
        for _ in range(2 if rng.random() < 0.3 else 1):
            kind, candidate = edit(rng, new, new_tree, len(cases))
            try:
                new_tree = ast.parse("\n".join(candidate) + "\n")
            except (SyntaxError, ValueError):
                continue
            if candidate != new:
                kinds.append(kind)
                new = candidate
        if new == lines:
            continue
        diff = difflib.unified_diff(
            [l + "\n" for l in lines], [l + "\n" for l in new], f"a/{rel}", f"b/{rel}", n=3
        )
        # The hunk headers count from the unpadded file; padding the original moves every hunk, so
        # the reader must search for it as GNU patch does. A hunk whose old lines occur twice in
        # the file may then rightly land on the other copy, so such patches stay unpadded.
        pad = rng.choice([0, 0, 2, 9]) if hunks_unique(lines, new) else 0
        gold_sets, added = gold(rel, (lines, tree), (new, new_tree), pad)
        cases.append(
            {
                "kind": "+".join(kinds),
                "path": rel,
                "original": "# pad\n" * pad + text,
                "patch": "".join(diff),
                "gold": gold_sets,
                "added": added,
            }
        )
    json.dump({"cases": cases}, sys.stdout)


if __name__ == "__main__":
    main()
