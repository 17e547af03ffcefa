#!/usr/bin/env python3
"""Reports import cycles between the top-level modules of a crate (`crate::a` used in module b).

Usage: scripts/module_cycles.py runtime/src [macros/src ...]. Exits 1 when a cycle exists.
A module's own submodules count as the module; `super::` inside a submodule is its parent.
"""
import os
import re
import sys

USE = re.compile(r"\bcrate::(?:\{\s*)?([A-Za-z_][A-Za-z0-9_]*)")
REEXPORT = re.compile(r"^pub use ([a-z_][a-z0-9_]*)::(\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)\s*;", re.M)
GROUP = re.compile(r"\bcrate::\{([^;]*?)\}\s*;", re.S)


def top_module(root, path):
    rel = os.path.relpath(path, root)
    parts = rel[:-3].split(os.sep)
    if parts[0] in ("lib", "main"):
        return None
    return parts[0]


def strip_comments(text):
    # Doc links (`[`crate::Api`]`) are not imports.
    return re.sub(r"//[^\n]*", "", text)


def strip_tests(text):
    # Tests may import what they like; `#[cfg(test)] mod tests { ... }` is cut at its line.
    index = text.find("#[cfg(test)]\nmod tests")
    return text if index < 0 else text[:index]


def reexports(root):
    """`crate::App` names `app` when lib.rs says `pub use app::App;`."""
    names = {}
    for lib in ("lib.rs", "main.rs"):
        path = os.path.join(root, lib)
        if not os.path.exists(path):
            continue
        for module, items in REEXPORT.findall(open(path, encoding="utf-8").read()):
            for item in items.strip("{}").split(","):
                item = item.strip().split(" as ")[-1].strip()
                if item:
                    names[item] = module
    return names


def graph(root):
    edges = {}
    names = reexports(root)
    for dirpath, _, files in os.walk(root):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(dirpath, name)
            module = top_module(root, path)
            if module is None:
                continue
            text = strip_comments(strip_tests(open(path, encoding="utf-8").read()))
            targets = set(USE.findall(text))
            for group in GROUP.findall(text):
                for item in re.split(r",(?![^{]*\})", group):
                    item = item.strip()
                    if item:
                        targets.add(re.split(r"::|\s", item)[0])
            targets = {names.get(t, t) for t in targets}
            edges.setdefault(module, set()).update(t for t in targets if t != module)
    return edges


def cycles(edges):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in edges:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    failed = False
    for root in sys.argv[1:]:
        edges = graph(root)
        for component in cycles(edges):
            failed = True
            inner = {m: sorted(t for t in edges[m] if t in component) for m in component}
            print(f"{root}: cycle among {', '.join(component)}")
            for module, targets in inner.items():
                print(f"    {module} -> {', '.join(targets)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
