#!/usr/bin/env python3
"""Module graph of the deployer (src/): edges from `crate::` and `super::` paths (comments and test
modules left out), at the depth of the module tree that exists. Prints the edges, then any cycle
(exit 1). Run: .ci/module-graph.py src"""
import os, re, sys, collections
root = sys.argv[1] if len(sys.argv) > 1 else 'src'
mods = {}
for dirpath, _, files in os.walk(root):
    for f in files:
        if not f.endswith('.rs'): continue
        path = os.path.join(dirpath, f)
        rel = os.path.relpath(path, root)[:-3].split(os.sep)
        if rel[-1] in ('mod', 'main'): rel = rel[:-1]
        if rel and rel[-1] == 'tests': continue  # test modules: not part of the build graph
        mods.setdefault('::'.join(rel) or 'main', []).append(path)
known = set(mods)
def module_of(path):
    parts = path.split('::')
    for n in range(len(parts), 0, -1):
        cand = '::'.join(parts[:n])
        if cand in known: return cand
    return None
def strip_tests(text):
    i = text.find('#[cfg(test)]\nmod tests {')
    if i < 0: i = text.find('#[cfg(test)]\npub mod tests {')
    return text if i < 0 else text[:i]
edges = collections.defaultdict(set)
for m, paths in mods.items():
    for p in paths:
        text = strip_tests(open(p).read())
        text = re.sub(r'//[^\n]*', '', text)  # comments name modules without using them
        # expand `use crate::{a, b::c}` groups crudely
        for g in re.finditer(r'crate::\{([^}]*)\}', text):
            for item in g.group(1).split(','):
                item = item.strip().split(' ')[0]
                t = module_of(item.replace('self', '').strip(':'))
                if t and t != m: edges[m].add(t)
        for u in re.finditer(r'crate::((?:[a-z_]+::)*[a-z_]+)', text):
            t = module_of(u.group(1))
            if t and t != m and not m.startswith(t + '::') : edges[m].add(t)
        if m != 'main':
            # a child module uses its parent through `super::`
            for u in re.finditer(r'\bsuper::([a-z_]+)', text):
                parent = m.rsplit('::', 1)[0] if '::' in m else None
                if parent:
                    t = module_of(parent + '::' + u.group(1)) or parent
                    if t != m and not m.startswith(t + '::'): edges[m].add(t)
# collapse: a module's own children are part of it for "upward" purposes: report the graph
for m in sorted(edges):
    print(f"{m} -> {', '.join(sorted(edges[m]))}")
# cycle detection (Tarjan SCC)
index, low, stack, on, sccs, i = {}, {}, [], set(), [], [0]
def strong(v):
    index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
    for w in edges.get(v, ()):
        if w not in index: strong(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: sccs.append(comp)
sys.setrecursionlimit(10000)
for v in list(known):
    if v not in index: strong(v)
print()
print('cycles:', sccs if sccs else 'none')
sys.exit(1 if sccs else 0)
