#!/usr/bin/env python3
"""The import graph of a Rust crate's modules, and the edges a layered design forbids.

    scripts/import-graph.py [SRC_DIR]        (default: crates/kube-doctor/src)

Reads every `use crate::...` / `use super::...` tree and every inline `crate::a::b` or
`super::a` path, resolves each to the deepest module that exists, and prints:
  - back-edges: a module importing an item defined in one of its ancestors' own files
    (`use super::Collector` from collect/step3.rs), i.e. a child depending on its parent;
  - step-to-step edges: one `stepN_*` module importing another;
  - module cycles between the crate's top-level modules (commands -> serve -> commands).
Exit status 0 always; it is a report (the redesign of issue 11 used it before and after).
A regex reading of Rust, not a compiler: macros and `#[path]` are not followed.
"""
import os
import re
import sys
from collections import defaultdict

SRC = sys.argv[1] if len(sys.argv) > 1 else "crates/kube-doctor/src"


def module_of(path):
    rel = os.path.relpath(path, SRC)[:-3].split(os.sep)
    if rel[-1] in ("mod", "main", "lib"):
        rel = rel[:-1]
    return tuple(rel)


modules = {}
for root, _, files in os.walk(SRC):
    for f in files:
        if f.endswith(".rs"):
            p = os.path.join(root, f)
            modules[module_of(p)] = p


def strip_tests(text):
    # Test modules may reach anywhere; the design is about the code that ships.
    i = text.find("#[cfg(test)]\nmod tests")
    return text if i < 0 else text[:i]


def use_trees(text):
    """Every path a file imports, flattened from `use` trees, plus inline crate/super paths."""
    out = []
    for m in re.finditer(r"\buse\s+((?:crate|super)(?:::[^;]*)?);", text, re.S):
        tree = re.sub(r"\s+as\s+\w+", "", m.group(1))
        out.extend(flatten(re.sub(r"\s+", "", tree)))
    for m in re.finditer(r"(?<![\w:])((?:crate|super)(?:::\w+)+)", text):
        out.append(m.group(1).split("::"))
    return out


def flatten(tree, prefix=()):
    # a::b::{c, d::{e, f}} -> [a,b,c], [a,b,d,e], [a,b,d,f]
    if "{" not in tree:
        return [list(prefix) + [p for p in tree.split("::") if p]]
    head, rest = tree.split("{", 1)
    inner = rest[: rest.rfind("}")]
    head_parts = [p for p in head.split("::") if p]
    items, depth, cur = [], 0, ""
    for c in inner:
        if c == "," and depth == 0:
            items.append(cur)
            cur = ""
            continue
        depth += c == "{"
        depth -= c == "}"
        cur += c
    if cur:
        items.append(cur)
    out = []
    for it in items:
        if it in ("self",):
            out.append(list(prefix) + head_parts)
        elif it:
            out.extend(flatten(it, tuple(prefix) + tuple(head_parts)))
    return out


def resolve(src_mod, path):
    """(target module, item or None) for an import path seen in src_mod."""
    if path[0] == "crate":
        base, rest = (), path[1:]
    else:
        base, rest = src_mod, path
        while rest and rest[0] == "super":
            base, rest = base[:-1], rest[1:]
    mod = base
    i = 0
    while i < len(rest) and mod + (rest[i],) in modules:
        mod = mod + (rest[i],)
        i += 1
    item = rest[i] if i < len(rest) else None
    return mod, item


def is_step(m):
    return bool(m) and re.match(r"step\d_", m[-1]) is not None


back, step_edges, top = [], [], defaultdict(set)
for src_mod, path in sorted(modules.items()):
    text = strip_tests(open(path, encoding="utf-8").read())
    for p in use_trees(text):
        if not p or p[0] not in ("crate", "super"):
            continue
        tgt, item = resolve(src_mod, p)
        if tgt == src_mod:
            continue
        if len(tgt) < len(src_mod) and src_mod[: len(tgt)] == tgt and item is not None:
            back.append(("::".join(src_mod), "::".join(tgt) or "crate", item))
        if is_step(src_mod) and is_step(tgt):
            step_edges.append(("::".join(src_mod), "::".join(tgt)))
        if src_mod and tgt and src_mod[0] != tgt[0]:
            top[src_mod[0]].add(tgt[0])

back = sorted(set(back))
step_edges = sorted(set(step_edges))
cycles = sorted({tuple(sorted((a, b))) for a in top for b in top[a] if a in top.get(b, ())})
print(f"{SRC}: {len(modules)} modules")
print(f"back-edges (a module importing its ancestor's own items): {len(back)}")
for s, t, i in back:
    print(f"  {s} -> {t}::{i}")
print(f"step-to-step edges: {len(step_edges)}")
for s, t in step_edges:
    print(f"  {s} -> {t}")
print(f"cycles between top-level modules: {len(cycles)}")
for a, b in cycles:
    print(f"  {a} <-> {b}")
