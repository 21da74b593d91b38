"""CLRS-30 graph algorithms, generated natively: traversal, components, shortest paths, spanning trees.

The digit is the number of vertices. Each question names its tie-breaking rule where the algorithm's
output would otherwise depend on it, so the answer is unique; topological order, which has many right
answers, is checked by a verifier.
"""

from __future__ import annotations

from typing import Any

from . import graphs
from .answers import read_edge_set, read_int_list, read_int_matrix, read_int_set, read_partition
from .base import Kind, Verdict, VerifiedKind


class _GraphKind(Kind):
    family = "clrs"
    answer_hint = "a JSON list of integers"

    def size(self, digit: int) -> int:
        return max(3, digit)

    def read(self, answer):
        return read_int_list(answer)


def _arc_lines(edges: list[list[int]], weighted: bool, directed_: bool) -> str:
    join = "->" if directed_ else "--"
    if weighted:
        return "\n".join(f"{u} {join} {v} weight {w}" for u, v, w in edges)
    return "\n".join(f"{u} {join} {v}" for u, v in edges)


# -- traversal ------------------------------------------------------------------------------------
class Bfs(_GraphKind):
    name = "bfs"

    def generate(self, rng, digit):
        n = self.size(digit)
        return {"n": n, "edges": graphs.undirected(rng, n, 1.5 / n), "source": rng.randrange(n)}

    def question(self, instance):
        return (
            f"Run breadth-first search on the undirected graph below (vertices 0 to {instance['n'] - 1}) from vertex "
            f"{instance['source']}. Give, for every vertex in order 0 to {instance['n'] - 1}, its distance from the "
            f"source in edges.\nEdges:\n{_arc_lines(instance['edges'], False, False)}"
        )

    def solve(self, instance):
        n, adj = instance["n"], graphs.adjacency(instance["n"], instance["edges"], False)
        dist = [-1] * n
        dist[instance["source"]] = 0
        queue = [instance["source"]]
        for u in queue:
            for v, _ in adj[u]:
                if dist[v] < 0:
                    dist[v] = dist[u] + 1
                    queue.append(v)
        return dist


class Dfs(_GraphKind):
    name = "dfs"

    def generate(self, rng, digit):
        n = self.size(digit)
        return {"n": n, "edges": graphs.directed(rng, n, 1.0 / n, root=rng.randrange(n))}

    def question(self, instance):
        return (
            f"Run depth-first search (as in CLRS) on the directed graph below (vertices 0 to {instance['n'] - 1}): "
            "start at vertex 0, always explore the out-neighbours of a vertex in increasing order, and when the "
            "search ends, restart from the smallest vertex not yet discovered. Give the vertices in the order they "
            f"are discovered.\nEdges:\n{_arc_lines(instance['edges'], False, True)}"
        )

    def solve(self, instance):
        n, adj = instance["n"], graphs.adjacency(instance["n"], instance["edges"], True)
        seen, order = [False] * n, []
        for start in range(n):
            if seen[start]:
                continue
            seen[start] = True
            order.append(start)
            stack = [iter(adj[start])]
            while stack:
                for v, _ in stack[-1]:
                    if not seen[v]:
                        seen[v] = True
                        order.append(v)
                        stack.append(iter(adj[v]))
                        break
                else:
                    stack.pop()
        return order


class TopologicalSort(_GraphKind, VerifiedKind):
    name = "topological_sort"
    answer_hint = "a JSON list of all vertices in a topological order"

    def generate(self, rng, digit):
        n = self.size(digit)
        return {"n": n, "edges": graphs.dag(rng, n, 2.0 / n)}

    def question(self, instance):
        return (
            f"Give a topological order of the directed acyclic graph below (vertices 0 to {instance['n'] - 1}): every "
            f"vertex once, and for every edge u -> v, u before v.\nEdges:\n{_arc_lines(instance['edges'], False, True)}"
        )

    def solve(self, instance):
        n = instance["n"]
        indegree = [0] * n
        for edge in instance["edges"]:
            indegree[edge[1]] += 1
        adj = graphs.adjacency(n, instance["edges"], True)
        ready = [v for v in range(n) if indegree[v] == 0]
        order = []
        while ready:
            u = ready.pop(0)
            order.append(u)
            for v, _ in adj[u]:
                indegree[v] -= 1
                if indegree[v] == 0:
                    ready.append(v)
        return order

    def verify(self, instance, order):
        n = instance["n"]
        if sorted(order) != list(range(n)):
            return Verdict(False, f"invalid: the order must list each of the {n} vertices exactly once")
        position = {v: i for i, v in enumerate(order)}
        for u, v in instance["edges"]:
            if position[u] > position[v]:
                return Verdict(False, f"invalid: edge {u} -> {v} but {v} comes first")
        return Verdict(True, "ok")


# -- components ------------------------------------------------------------------------------------
class StronglyConnectedComponents(_GraphKind):
    name = "strongly_connected_components"
    answer_hint = "a JSON list of lists: the vertices of each strongly connected component"

    def generate(self, rng, digit):
        n = self.size(digit)
        arcs = sorted({(rng.randrange(n), rng.randrange(n)) for _ in range(int(1.6 * n))})
        return {"n": n, "edges": [[u, v] for u, v in arcs if u != v]}

    def question(self, instance):
        return (
            f"Find the strongly connected components of the directed graph below (vertices 0 to {instance['n'] - 1}). "
            "Every vertex belongs to exactly one component (possibly alone).\n"
            f"Edges:\n{_arc_lines(instance['edges'], False, True)}"
        )

    def solve(self, instance):
        """Tarjan's algorithm, iterative."""
        n, adj = instance["n"], graphs.adjacency(instance["n"], instance["edges"], True)
        index, low, on_stack = [None] * n, [0] * n, [False] * n
        stack, components, counter = [], [], 0
        for root in range(n):
            if index[root] is not None:
                continue
            work = [(root, iter(adj[root]))]
            index[root] = low[root] = counter
            counter += 1
            stack.append(root)
            on_stack[root] = True
            while work:
                u, it = work[-1]
                advanced = False
                for v, _ in it:
                    if index[v] is None:
                        index[v] = low[v] = counter
                        counter += 1
                        stack.append(v)
                        on_stack[v] = True
                        work.append((v, iter(adj[v])))
                        advanced = True
                        break
                    if on_stack[v]:
                        low[u] = min(low[u], index[v])
                if advanced:
                    continue
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[u])
                if low[u] == index[u]:
                    component = []
                    while True:
                        v = stack.pop()
                        on_stack[v] = False
                        component.append(v)
                        if v == u:
                            break
                    components.append(sorted(component))
        return sorted(components)

    def read(self, answer):
        return read_partition(answer)


def _cut_structure(n: int, edges: list[list[int]]) -> tuple[list[int], list[list[int]]]:
    """Articulation points and bridges of a connected undirected graph (Hopcroft–Tarjan low-links)."""
    adj = graphs.adjacency(n, edges, False)
    disc, low, parent = [-1] * n, [0] * n, [-1] * n
    points, bridges, timer = set(), [], 0
    for root in range(n):
        if disc[root] >= 0:
            continue
        disc[root] = low[root] = timer
        timer += 1
        children = 0
        work = [(root, iter(adj[root]))]
        while work:
            u, it = work[-1]
            for v, _ in it:
                if disc[v] < 0:
                    parent[v] = u
                    disc[v] = low[v] = timer
                    timer += 1
                    if u == root:
                        children += 1
                    work.append((v, iter(adj[v])))
                    break
                if v != parent[u]:
                    low[u] = min(low[u], disc[v])
            else:
                work.pop()
                if work:
                    p = work[-1][0]
                    low[p] = min(low[p], low[u])
                    if low[u] > disc[p]:
                        bridges.append(sorted([p, u]))
                    if p != root and low[u] >= disc[p]:
                        points.add(p)
        if children > 1:
            points.add(root)
    return sorted(points), sorted(bridges)


class ArticulationPoints(_GraphKind):
    name = "articulation_points"
    answer_hint = "a JSON list of vertices (empty if there are none)"

    def generate(self, rng, digit):
        n = self.size(digit)
        return {"n": n, "edges": graphs.undirected(rng, n, 0.6 / n)}

    def question(self, instance):
        return (
            f"Find the articulation points (cut vertices) of the connected undirected graph below (vertices 0 to "
            f"{instance['n'] - 1}): the vertices whose removal disconnects the graph.\n"
            f"Edges:\n{_arc_lines(instance['edges'], False, False)}"
        )

    def solve(self, instance):
        return _cut_structure(instance["n"], instance["edges"])[0]

    def read(self, answer):
        return read_int_set(answer)


class Bridges(_GraphKind):
    name = "bridges"
    answer_hint = "a JSON list of edges [u, v] (empty if there are none)"

    def generate(self, rng, digit):
        n = self.size(digit)
        return {"n": n, "edges": graphs.undirected(rng, n, 0.6 / n)}

    def question(self, instance):
        return (
            f"Find the bridges of the connected undirected graph below (vertices 0 to {instance['n'] - 1}): the edges "
            f"whose removal disconnects the graph.\nEdges:\n{_arc_lines(instance['edges'], False, False)}"
        )

    def solve(self, instance):
        return _cut_structure(instance["n"], instance["edges"])[1]

    def read(self, answer):
        return read_edge_set(answer)


# -- shortest paths --------------------------------------------------------------------------------
class _Distances(_GraphKind):
    def question(self, instance):
        return (
            f"{self.task} (vertices 0 to {instance['n'] - 1}, every vertex reachable from the source). Give the "
            f"shortest-path distance from vertex {instance['source']} to every vertex, in order 0 to "
            f"{instance['n'] - 1}.\nEdges (directed, weighted):\n{_arc_lines(instance['edges'], True, True)}"
        )


def bellman_ford(n: int, edges: list[list[int]], source: int) -> list[int]:
    inf = float("inf")
    dist: list[Any] = [inf] * n
    dist[source] = 0
    for _ in range(n - 1):
        changed = False
        for u, v, w in edges:
            if dist[u] + w < dist[v]:
                dist[v] = dist[u] + w
                changed = True
        if not changed:
            break
    return [int(d) for d in dist]


class Dijkstra(_Distances):
    name = "dijkstra"
    task = "Run Dijkstra's algorithm on the directed graph below, whose weights are non-negative"

    def generate(self, rng, digit):
        n, source = self.size(digit), rng.randrange(self.size(digit))
        return {"n": n, "source": source, "edges": graphs.directed(rng, n, 1.5 / n, weights=(1, 20), root=source)}

    def solve(self, instance):
        return graphs.dijkstra(instance["n"], instance["edges"], instance["source"], True)


class BellmanFord(_Distances):
    name = "bellman_ford"
    task = (
        "Run the Bellman-Ford algorithm on the directed graph below, which has negative weights but no negative cycle"
    )

    def generate(self, rng, digit):
        n, source = self.size(digit), rng.randrange(self.size(digit))
        potential = [rng.randint(0, 10) for _ in range(n)]
        arcs = graphs.directed(rng, n, 1.5 / n, weights=(0, 10), root=source)
        # w(u, v) = base + p(u) - p(v): every cycle keeps its non-negative base length, yet arcs go negative.
        return {"n": n, "source": source, "edges": [[u, v, w + potential[u] - potential[v]] for u, v, w in arcs]}

    def solve(self, instance):
        return bellman_ford(instance["n"], instance["edges"], instance["source"])


class DagShortestPaths(_Distances):
    name = "dag_shortest_paths"
    task = "Find single-source shortest paths in the directed acyclic graph below (weights may be negative)"

    def generate(self, rng, digit):
        n, source = self.size(digit), rng.randrange(self.size(digit))
        return {"n": n, "source": source, "edges": graphs.dag(rng, n, 1.5 / n, weights=(-5, 15), root=source)}

    def solve(self, instance):
        order = TopologicalSort().solve(instance)
        adj = graphs.adjacency(instance["n"], instance["edges"], True)
        inf = float("inf")
        dist: list[Any] = [inf] * instance["n"]
        dist[instance["source"]] = 0
        for u in order:
            if dist[u] != inf:
                for v, w in adj[u]:
                    dist[v] = min(dist[v], dist[u] + w)
        return [int(d) for d in dist]


class FloydWarshall(_GraphKind):
    name = "floyd_warshall"
    answer_hint = "a JSON list of lists of integers: row i, column j is the distance from i to j"

    def generate(self, rng, digit):
        n = self.size(digit)
        cycle = list(range(n))
        rng.shuffle(cycle)
        arcs = {(cycle[i], cycle[(i + 1) % n]) for i in range(n)}
        for u in range(n):
            for v in range(n):
                if u != v and rng.random() < 1.0 / n:
                    arcs.add((u, v))
        return {"n": n, "edges": [[u, v, rng.randint(1, 20)] for u, v in sorted(arcs)]}

    def question(self, instance):
        return (
            f"Run the Floyd-Warshall algorithm on the strongly connected directed graph below (vertices 0 to "
            f"{instance['n'] - 1}). Give the matrix of shortest-path distances: row i, column j is the distance "
            f"from i to j (0 on the diagonal).\nEdges (directed, weighted):\n{_arc_lines(instance['edges'], True, True)}"
        )

    def solve(self, instance):
        n = instance["n"]
        inf = float("inf")
        dist: list[list[Any]] = [[0 if i == j else inf for j in range(n)] for i in range(n)]
        for u, v, w in instance["edges"]:
            dist[u][v] = min(dist[u][v], w)
        for k in range(n):
            for i in range(n):
                for j in range(n):
                    if dist[i][k] + dist[k][j] < dist[i][j]:
                        dist[i][j] = dist[i][k] + dist[k][j]
        return [[int(d) for d in row] for row in dist]

    def read(self, answer):
        return read_int_matrix(answer)


# -- minimum spanning trees -------------------------------------------------------------------------
def kruskal(n: int, edges: list[list[int]]) -> list[list[int]]:
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    tree = []
    for u, v, w in sorted(edges, key=lambda e: (e[2], e[0], e[1])):
        ru, rv = find(u), find(v)
        if ru != rv:
            parent[ru] = rv
            tree.append([u, v, w])
    return tree


class _Mst(_GraphKind):
    def generate(self, rng, digit):
        n = self.size(digit)
        return {"n": n, "edges": graphs.undirected(rng, n, 2.5 / n, weights=(1, 99), distinct=True)}

    def _lines(self, instance):
        return _arc_lines(instance["edges"], True, False)


class MstKruskal(_Mst):
    name = "mst_kruskal"
    answer_hint = "an integer"

    def question(self, instance):
        return (
            f"Run Kruskal's algorithm on the connected undirected graph below (vertices 0 to {instance['n'] - 1}; all "
            f"weights differ). Give the total weight of the minimum spanning tree.\nEdges:\n{self._lines(instance)}"
        )

    def solve(self, instance):
        return sum(w for _, _, w in kruskal(instance["n"], instance["edges"]))

    def read(self, answer):
        return Kind.read(self, answer)


class MstPrim(_Mst):
    name = "mst_prim"
    answer_hint = "a JSON list of edges [u, v]: the edges of the minimum spanning tree"

    def question(self, instance):
        return (
            f"Run Prim's algorithm on the connected undirected graph below (vertices 0 to {instance['n'] - 1}; all "
            f"weights differ, so the minimum spanning tree is unique). Give the edges of the minimum spanning tree."
            f"\nEdges:\n{self._lines(instance)}"
        )

    def solve(self, instance):
        n, adj = instance["n"], graphs.adjacency(instance["n"], instance["edges"], False)
        inside, tree = {0}, []
        while len(inside) < n:
            _w, u, v = min((w, u, v) for u in inside for v, w in adj[u] if v not in inside)
            inside.add(v)
            tree.append(sorted([u, v]))
        return sorted(tree)

    def read(self, answer):
        return read_edge_set(answer)


KINDS = (
    Bfs(),
    Dfs(),
    TopologicalSort(),
    StronglyConnectedComponents(),
    ArticulationPoints(),
    Bridges(),
    Dijkstra(),
    BellmanFord(),
    DagShortestPaths(),
    FloydWarshall(),
    MstKruskal(),
    MstPrim(),
)
