"""Random graphs for the graph kinds, drawn only through `random.Random` so they are the same everywhere.

Edges are JSON-friendly lists: `[u, v]` or `[u, v, w]`, sorted, vertices numbered from 0.
"""

from __future__ import annotations

import heapq
import random


def undirected(
    rng: random.Random, n: int, extra: float, weights: tuple[int, int] | None = None, distinct: bool = False
) -> list[list[int]]:
    """A connected simple graph: a random spanning tree plus each other pair with probability `extra`."""
    pairs = {(rng.randrange(v), v) for v in range(1, n)}
    for u in range(n):
        for v in range(u + 1, n):
            if (u, v) not in pairs and rng.random() < extra:
                pairs.add((u, v))
    ordered = sorted(pairs)
    rng.shuffle(ordered)  # so tree edges are not the low-numbered ones
    relabel = list(range(n))
    rng.shuffle(relabel)
    edges = sorted(sorted((relabel[u], relabel[v])) for u, v in ordered)
    return _weigh(rng, edges, weights, distinct)


def directed(
    rng: random.Random, n: int, extra: float, weights: tuple[int, int] | None = None, root: int = 0
) -> list[list[int]]:
    """A digraph in which every vertex is reachable from `root`: a random arborescence plus extra arcs."""
    order = [v for v in range(n) if v != root]
    rng.shuffle(order)
    order = [root, *order]
    arcs = {(order[rng.randrange(i)], order[i]) for i in range(1, n)}
    for u in range(n):
        for v in range(n):
            if u != v and (u, v) not in arcs and rng.random() < extra:
                arcs.add((u, v))
    return _weigh(rng, sorted([u, v] for u, v in arcs), weights, False)


def dag(
    rng: random.Random, n: int, extra: float, weights: tuple[int, int] | None = None, root: int | None = None
) -> list[list[int]]:
    """A DAG (arcs follow a hidden random order); with `root`, every vertex is reachable from it."""
    order = list(range(n))
    rng.shuffle(order)
    if root is not None:
        order.remove(root)
        order.insert(0, root)
    arcs = set()
    for i in range(1, n):
        if root is not None:
            arcs.add((order[rng.randrange(i)], order[i]))
        for j in range(i):
            if rng.random() < extra:
                arcs.add((order[j], order[i]))
    return _weigh(rng, sorted([u, v] for u, v in arcs), weights, False)


def _weigh(rng, edges, weights, distinct):
    if weights is None:
        return edges
    lo, hi = weights
    if distinct:
        values = rng.sample(range(lo, hi + 1), len(edges))
        return [[u, v, w] for (u, v), w in zip(edges, values)]
    return [[u, v, rng.randint(lo, hi)] for u, v in edges]


def adjacency(n: int, edges: list[list[int]], directed_: bool) -> list[list[tuple[int, int]]]:
    """Neighbours of each vertex as (vertex, weight), in increasing vertex order."""
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for edge in edges:
        u, v, w = edge[0], edge[1], edge[2] if len(edge) > 2 else 1
        adj[u].append((v, w))
        if not directed_:
            adj[v].append((u, w))
    for row in adj:
        row.sort()
    return adj


def dijkstra(n: int, edges: list[list[int]], source: int, directed_: bool) -> list[int | None]:
    """Shortest distances from `source` with non-negative integer weights (None when unreachable)."""
    adj = adjacency(n, edges, directed_)
    dist: list[int | None] = [None] * n
    heap = [(0, source)]
    while heap:
        d, u = heapq.heappop(heap)
        if dist[u] is not None:
            continue
        dist[u] = d
        for v, w in adj[u]:
            if dist[v] is None:
                heapq.heappush(heap, (d + w, v))
    return dist


def edge_weights(edges: list[list[int]], directed_: bool) -> dict[tuple[int, int], int]:
    weights = {}
    for u, v, w in edges:
        weights[(u, v)] = w
        if not directed_:
            weights[(v, u)] = w
    return weights


def points(rng: random.Random, n: int, size: int = 100) -> list[list[int]]:
    """`n` distinct integer points in a size×size square."""
    chosen: list[list[int]] = []
    seen = set()
    while len(chosen) < n:
        p = (rng.randint(0, size), rng.randint(0, size))
        if p not in seen:
            seen.add(p)
            chosen.append(list(p))
    return chosen
