"""Every exact solver agrees with an independent method (brute force at small sizes, or a second
algorithm such as SciPy's) on hundreds of generated instances."""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, linear_sum_assignment, milp
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree, shortest_path

from evalhouse.ingest.problems import generate, get_kind

SMALL = [2, 3, 4, 5, 6]


def instances(kind: str, digits=SMALL, n: int = 40):
    """`n` instances per digit (kinds without a digit: `n` per level cycle, so every level)."""
    return [p.instance for p in generate([kind], digits, n if get_kind(kind).has_digit else 10 * n)]


def solve(kind: str, instance):
    return get_kind(kind).solve(instance)


def optimum(kind: str, instance):
    return get_kind(kind).optimum(instance)


# -- fine-grained integer programs ------------------------------------------------------------------
def test_assignment_matches_scipy_and_brute_force():
    """ilp_assign (Hungarian, exact ints) equals SciPy's linear_sum_assignment, and brute force up to 7×7."""
    for inst in instances("ilp_assign", [2, 3, 5, 7, 12, 20], 40):
        costs = np.array(inst["costs"])
        rows, cols = linear_sum_assignment(costs)
        gold = solve("ilp_assign", inst)
        assert gold == int(costs[rows, cols].sum())
        if len(costs) <= 7:
            assert gold == min(
                sum(costs[i, p[i]] for i in range(len(p))) for p in itertools.permutations(range(len(costs)))
            )


def test_production_plan_matches_enumeration_and_milp():
    """ilp_prod equals exhaustive enumeration at small sizes and SciPy's MILP (zero gap) at larger ones."""
    for inst in instances("ilp_prod", [2, 3, 4, 5, 10, 20], 35):
        gold = solve("ilp_prod", inst)
        profit, use, cap, ub = inst["profit"], inst["consumption"], inst["capacity"], inst["upper_bounds"]
        if len(profit) <= 5:
            best = 0
            for x in itertools.product(*(range(b + 1) for b in ub)):
                if all(sum(r[j] * x[j] for j in range(len(x))) <= c for r, c in zip(use, cap)):
                    best = max(best, sum(p * xj for p, xj in zip(profit, x)))
            assert gold == best
        result = milp(
            c=-np.array(profit, dtype=float),
            constraints=LinearConstraint(np.array(use, dtype=float), ub=np.array(cap, dtype=float)),
            integrality=np.ones(len(profit)),
            bounds=Bounds(0, np.array(ub, dtype=float)),
            options={"mip_rel_gap": 0},
        )
        x = np.round(result.x).astype(int)
        assert gold == int(np.dot(profit, x))


def test_partition_matches_brute_force():
    """ilp_partition equals the best split over all 2^n subsets."""
    for inst in instances("ilp_partition", [2, 3, 5, 8, 12], 40):
        w = inst["weights"]
        best = min(abs(sum(w) - 2 * sum(c)) for r in range(len(w) + 1) for c in itertools.combinations(w, r))
        assert solve("ilp_partition", inst) == best


# -- NP-hard family ---------------------------------------------------------------------------------
def _dist_matrix(n, edges, directed):
    m = np.full((n, n), np.inf)
    for u, v, w in edges:
        m[u, v] = w
        if not directed:
            m[v, u] = w
    return m


def test_shortest_path_optimum_matches_floyd_warshall():
    """spp's optimum equals SciPy's all-pairs shortest path, and its reference path attains it."""
    kind = get_kind("spp")
    for inst in instances("spp", n=30):
        table = shortest_path(
            csr_matrix(np.nan_to_num(_dist_matrix(inst["n"], inst["edges"], False), posinf=0)), directed=False
        )
        assert optimum("spp", inst) == int(table[inst["source"], inst["target"]])
        assert kind.check(inst, solve("spp", inst)).correct


def test_tsp_matches_brute_force():
    """Held–Karp's tour length equals the best over all tours (cities up to 9)."""
    for inst in instances("tsp", n=20):
        d, n = inst["distances"], inst["n"]
        if n > 8:
            continue
        best = min(sum(d[a][b] for a, b in zip((0, *p), (*p, 0))) for p in itertools.permutations(range(1, n)))
        assert optimum("tsp", inst) == best


def test_tsp_decision_agrees_with_optimum():
    """tsp_d's decision is 'a tour of length ≤ budget exists', decided by brute force; both answers occur."""
    seen = set()
    for inst in instances("tsp_d", n=20):
        d, n = inst["distances"], inst["n"]
        if n > 8:
            continue
        exists = any(
            sum(d[a][b] for a, b in zip((0, *p), (*p, 0))) <= inst["budget"]
            for p in itertools.permutations(range(1, n))
        )
        assert optimum("tsp_d", inst) is exists
        seen.add(exists)
    assert seen == {True, False}


def _brute_makespan(durations, attendees):
    """Every start time for every meeting: the smallest span that some clash-free schedule fits in."""
    m = len(durations)
    clash = [[j for j in range(i) if set(attendees[i]) & set(attendees[j])] for i in range(m)]

    def fits(span, starts):
        i = len(starts)
        if i == m:
            return True
        return any(
            all(t + durations[i] <= starts[j] or starts[j] + durations[j] <= t for j in clash[i])
            and fits(span, starts + [t])
            for t in range(span - durations[i] + 1)
        )

    return next(span for span in range(max(durations), sum(durations) + 1) if fits(span, []))


def test_meeting_schedule_matches_time_indexed_brute_force():
    """msp's branch and bound equals trying every start time for every meeting (up to 4 meetings)."""
    kind = get_kind("msp")
    small = [kind.make(0, index).instance for index in range(600) if kind.level(index) <= 3]  # 3-4 meetings
    for inst in small:
        assert optimum("msp", inst) == _brute_makespan(inst["durations"], inst["attendees"])
    assert len(small) == 180


def test_knapsack_selection_matches_brute_force():
    """ksp's optimum equals the best over all item subsets, and its reference selection attains it."""
    for inst in instances("ksp", n=30):
        w, v, c = inst["weights"], inst["values"], inst["capacity"]
        best = max(
            sum(v[i] for i in range(len(w)) if mask >> i & 1)
            for mask in range(1 << len(w))
            if sum(w[i] for i in range(len(w)) if mask >> i & 1) <= c
        )
        assert optimum("ksp", inst) == best


def _chromatic_by_subsets(n, edges):
    """Chromatic number by dynamic programming over independent sets (a different algorithm)."""
    adj = [0] * n
    for u, v in edges:
        adj[u] |= 1 << v
        adj[v] |= 1 << u
    independent = [all(not (adj[i] & s) for i in range(n) if s >> i & 1) for s in range(1 << n)]
    best = [0] + [n + 1] * ((1 << n) - 1)
    for s in range(1, 1 << n):
        sub = s
        while sub:
            if independent[sub]:
                best[s] = min(best[s], best[s ^ sub] + 1)
            sub = (sub - 1) & s
    return best[(1 << n) - 1]


def test_chromatic_number_matches_subset_dp():
    """gcp's optimum equals the chromatic number computed by DP over independent sets (up to 10 vertices)."""
    for inst in instances("gcp", n=30):
        if inst["n"] <= 10:
            assert optimum("gcp", inst) == _chromatic_by_subsets(inst["n"], inst["edges"])


def test_colouring_decision_matches_subset_dp():
    """gcp_d says feasible exactly when the chromatic number is within the colour budget; both occur."""
    seen = set()
    for inst in instances("gcp_d", n=20):
        if inst["n"] <= 10:
            truth = _chromatic_by_subsets(inst["n"], inst["edges"]) <= inst["colors"]
            assert optimum("gcp_d", inst) is truth
            seen.add(truth)
    assert seen == {True, False}


def test_binary_search_and_edit_distance_match_second_methods():
    """bsp equals list.index (or -1); edp equals a memoised recursion over the three edit operations."""
    for inst in instances("bsp", n=30):
        a, t = inst["array"], inst["target"]
        assert solve("bsp", inst) == (a.index(t) if t in a else -1)
    for inst in instances("edp", n=30):
        s, t = inst["s"], inst["t"]

        @cache
        def ed(i, j):
            if i == len(s) or j == len(t):
                return len(s) - i + len(t) - j
            if s[i] == t[j]:
                return ed(i + 1, j + 1)
            return 1 + min(ed(i + 1, j), ed(i, j + 1), ed(i + 1, j + 1))

        assert solve("edp", inst) == ed(0, 0)


# -- CLRS: arrays, strings, points ------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["insertion_sort", "bubble_sort", "heapsort", "quicksort"])
def test_sorts_match_sorted(kind):
    """Each sorting algorithm's output equals Python's sorted()."""
    for inst in instances(kind, [2, 5, 9, 16, 20], 40):
        assert solve(kind, inst) == sorted(inst["array"])


def test_searches_match_second_methods():
    """quickselect, minimum, binary_search and Kadane agree with sorting, min, bisect and O(n²) scans."""
    import bisect

    for inst in instances("quickselect", [2, 5, 12, 20], 50):
        assert solve("quickselect", inst) == sorted(inst["array"])[inst["k"] - 1]
    for inst in instances("minimum", [2, 5, 12, 20], 50):
        assert solve("minimum", inst) == inst["array"].index(min(inst["array"]))
    for inst in instances("binary_search", [2, 5, 12, 20], 50):
        assert solve("binary_search", inst) == bisect.bisect_left(inst["array"], inst["target"])
    for inst in instances("find_maximum_subarray_kadane", [2, 5, 12, 20], 50):
        a = inst["array"]
        assert solve("find_maximum_subarray_kadane", inst) == max(
            sum(a[i:j]) for i in range(len(a)) for j in range(i + 1, len(a) + 1)
        )


def _chain_brute(p, i, j):
    if i == j:
        return 0
    return min(_chain_brute(p, i, k) + _chain_brute(p, k + 1, j) + p[i] * p[k + 1] * p[j + 1] for k in range(i, j))


def _bst_brute(p, q, i, j, depth):
    """Cost of the best tree over keys i..j-1 (gaps i..j) whose root sits at `depth`, trying every root."""
    if i == j:
        return (depth + 1) * q[i]
    return min(
        (depth + 1) * p[r] + _bst_brute(p, q, i, r, depth + 1) + _bst_brute(p, q, r + 1, j, depth + 1)
        for r in range(i, j)
    )


def test_dynamic_programs_match_brute_force():
    """matrix_chain_order, optimal_bst and lcs_length agree with exhaustive recursion."""
    for inst in instances("matrix_chain_order", [2, 3, 4, 6], 40):
        p = inst["dims"]
        assert solve("matrix_chain_order", inst) == _chain_brute(p, 0, len(p) - 2)
    for inst in instances("optimal_bst", [2, 3, 4, 6], 40):
        p, q = inst["key_weights"], inst["gap_weights"]
        assert solve("optimal_bst", inst) == _bst_brute(p, q, 0, len(p), 0)
    for inst in instances("lcs_length", [2, 3, 5, 7], 40):
        x, y = inst["x"], inst["y"]
        best = max(
            (
                r
                for r in range(len(x) + 1)
                for c in itertools.combinations(x, r)
                if (lambda it: all(ch in it for ch in c))(iter(y))
            ),
            default=0,
        )
        assert solve("lcs_length", inst) == best


def test_greedy_optima_match_brute_force():
    """activity_selector and task_scheduling optima equal the best over all subsets."""
    from evalhouse.ingest.problems.clrs import _schedulable

    for inst in instances("activity_selector", [2, 4, 6, 10], 40):
        s, f = inst["starts"], inst["finishes"]
        best = max(
            r
            for r in range(len(s) + 1)
            for c in itertools.combinations(range(len(s)), r)
            if all(s[b] >= f[a] or s[a] >= f[b] for a, b in itertools.combinations(c, 2))
        )
        assert optimum("activity_selector", inst) == best
    for inst in instances("task_scheduling", [2, 4, 6, 10], 40):
        d, w = inst["deadlines"], inst["penalties"]
        best = min(
            sum(w) - sum(w[i] for i in c)
            for r in range(len(d) + 1)
            for c in itertools.combinations(range(len(d)), r)
            if _schedulable(d, list(c))
        )
        assert optimum("task_scheduling", inst) == best


@pytest.mark.parametrize("kind", ["naive_string_matcher", "kmp_matcher"])
def test_string_matchers_match_find(kind):
    """Both matchers list exactly the shifts str.startswith finds."""
    for inst in instances(kind, [2, 5, 10, 20], 50):
        t, p = inst["text"], inst["pattern"]
        assert solve(kind, inst) == [s for s in range(len(t)) if t.startswith(p, s)]


def test_segments_intersect_matches_exact_rational_test():
    """segments_intersect agrees with solving for the intersection in exact fractions."""
    from fractions import Fraction

    def meets(p1, p2, p3, p4):
        d = (p2[0] - p1[0]) * (p4[1] - p3[1]) - (p2[1] - p1[1]) * (p4[0] - p3[0])
        if d == 0:  # parallel: they meet only if collinear and overlapping
            if (p3[0] - p1[0]) * (p2[1] - p1[1]) - (p3[1] - p1[1]) * (p2[0] - p1[0]) != 0:
                return False
            axis = 0 if p1[0] != p2[0] or p3[0] != p4[0] else 1
            a = sorted([p1[axis], p2[axis]])
            b = sorted([p3[axis], p4[axis]])
            return a[0] <= b[1] and b[0] <= a[1]
        t = Fraction((p3[0] - p1[0]) * (p4[1] - p3[1]) - (p3[1] - p1[1]) * (p4[0] - p3[0]), d)
        u = Fraction((p3[0] - p1[0]) * (p2[1] - p1[1]) - (p3[1] - p1[1]) * (p2[0] - p1[0]), d)
        return 0 <= t <= 1 and 0 <= u <= 1

    seen = set()
    for inst in instances("segments_intersect", [1, 2, 3], 150):
        truth = meets(*inst["points"])
        assert solve("segments_intersect", inst) is truth
        seen.add(truth)
    assert seen == {True, False}


def test_hulls_agree_with_extreme_point_test():
    """graham_scan and jarvis_march find exactly the points that are strict corners by brute force."""

    def is_corner(i, pts):
        # A corner is not inside or on the boundary of any triangle or segment of the other points.
        p = pts[i]
        others = [q for j, q in enumerate(pts) if j != i]
        for a, b in itertools.combinations(others, 2):
            cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
            if cross == 0 and min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1]):
                return False
        for a, b, c in itertools.combinations(others, 3):
            if (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]) == 0:
                continue  # a flat triangle is a segment, tested above
            s1 = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
            s2 = (c[0] - b[0]) * (p[1] - b[1]) - (c[1] - b[1]) * (p[0] - b[0])
            s3 = (a[0] - c[0]) * (p[1] - c[1]) - (a[1] - c[1]) * (p[0] - c[0])
            if (s1 >= 0 and s2 >= 0 and s3 >= 0) or (s1 <= 0 and s2 <= 0 and s3 <= 0):
                return False
        return True

    for kind in ("graham_scan", "jarvis_march"):
        for inst in instances(kind, [3, 4, 6, 8], 30):
            pts = inst["points"]
            assert solve(kind, inst) == [i for i in range(len(pts)) if is_corner(i, pts)], pts


# -- CLRS: graphs ------------------------------------------------------------------------------------
def _matrix(inst, directed, weighted=True):
    m = np.zeros((inst["n"], inst["n"]))
    for e in inst["edges"]:
        m[e[0], e[1]] = e[2] if weighted else 1
        if not directed:
            m[e[1], e[0]] = e[2] if weighted else 1
    return csr_matrix(m)


def test_traversals_match_scipy_and_recursion():
    """bfs distances equal SciPy's unweighted shortest paths; dfs order equals a recursive DFS."""
    for inst in instances("bfs", [2, 5, 10, 20], 40):
        table = shortest_path(_matrix(inst, False, False), unweighted=True, directed=False)
        assert solve("bfs", inst) == [int(x) for x in table[inst["source"]]]
    for inst in instances("dfs", [2, 5, 10, 20], 40):
        n = inst["n"]
        out = {u: sorted(v for a, v in inst["edges"] if a == u) for u in range(n)}
        order: list[int] = []

        def visit(u):
            order.append(u)
            for v in out[u]:
                if v not in order:
                    visit(v)

        for u in range(n):
            if u not in order:
                visit(u)
        assert solve("dfs", inst) == order


def test_components_and_cuts_match_brute_force():
    """SCCs equal SciPy's strong components; cut vertices and bridges equal remove-and-recount."""
    for inst in instances("strongly_connected_components", [2, 5, 10, 20], 40):
        count, labels = connected_components(_matrix(inst, True, False), directed=True, connection="strong")
        expected = sorted(sorted(int(v) for v in np.flatnonzero(labels == c)) for c in range(count))
        assert solve("strongly_connected_components", inst) == expected

    def pieces(n, edges, drop_vertex=None, drop_edge=None):
        kept = [e for e in edges if drop_vertex not in e[:2] and e[:2] != drop_edge]
        m = np.zeros((n, n))
        for u, v in kept:
            m[u, v] = m[v, u] = 1
        alive = [v for v in range(n) if v != drop_vertex]
        _, labels = connected_components(csr_matrix(m[np.ix_(alive, alive)]), directed=False)
        return len(set(labels))

    for inst in instances("articulation_points", [3, 5, 10, 16], 40):
        n, edges = inst["n"], inst["edges"]
        assert solve("articulation_points", inst) == [v for v in range(n) if pieces(n, edges, drop_vertex=v) > 1]
    for inst in instances("bridges", [3, 5, 10, 16], 40):
        n, edges = inst["n"], inst["edges"]
        assert solve("bridges", inst) == sorted(e for e in edges if pieces(n, edges, drop_edge=e) > 1)


def test_topological_order_is_valid():
    """The reference topological order lists every vertex once with every edge pointing forward."""
    for inst in instances("topological_sort", [2, 5, 10, 20], 50):
        order = solve("topological_sort", inst)
        pos = {v: i for i, v in enumerate(order)}
        assert sorted(order) == list(range(inst["n"]))
        assert all(pos[u] < pos[v] for u, v in inst["edges"])


@pytest.mark.parametrize("kind", ["dijkstra", "bellman_ford", "dag_shortest_paths"])
def test_single_source_distances_match_scipy(kind):
    """Distances equal SciPy's shortest_path (Johnson's algorithm handles the negative weights)."""
    for inst in instances(kind, [2, 5, 10, 20], 40):
        n = inst["n"]
        m = np.full((n, n), np.inf)
        for u, v, w in inst["edges"]:
            m[u, v] = w
        # csgraph treats explicit zeros as missing edges: shift nothing, but encode 0 as a tiny float and round.
        dense = np.where(m == 0, 1e-9, m)
        table = shortest_path(csr_matrix(np.where(np.isinf(dense), 0, dense)), method="J", directed=True)
        assert solve(kind, inst) == [round(x) for x in table[inst["source"]]]


def test_floyd_warshall_matches_scipy():
    """The distance matrix equals SciPy's Floyd–Warshall."""
    for inst in instances("floyd_warshall", [2, 5, 10, 16], 40):
        table = shortest_path(_matrix(inst, True), method="FW", directed=True)
        assert solve("floyd_warshall", inst) == [[int(x) for x in row] for row in table]


def test_spanning_trees_match_scipy():
    """Kruskal's total and Prim's edge set equal SciPy's minimum spanning tree."""
    for kind in ("mst_kruskal", "mst_prim"):
        for inst in instances(kind, [2, 5, 10, 20], 40):
            tree = minimum_spanning_tree(_matrix(inst, False)).tocoo()
            if kind == "mst_kruskal":
                assert solve(kind, inst) == int(tree.data.sum())
            else:
                assert solve(kind, inst) == sorted(sorted([int(u), int(v)]) for u, v in zip(tree.row, tree.col))


def test_production_branch_and_bound_agrees_with_the_table_and_milp():
    """The any-resources branch and bound equals the two-resource table on generated instances, and
    enumeration or MILP on legacy-shaped ones (as many resources as products)."""
    import random as _random

    from evalhouse.ingest.problems.ilp import production_bb, production_dp

    for inst in instances("ilp_prod", [2, 4, 8, 12], 25):
        args = inst["profit"], inst["consumption"], inst["capacity"], inst["upper_bounds"]
        assert production_bb(*args) == production_dp(*args)
    rng = _random.Random(5)
    for _trial in range(120):
        n = rng.choice([2, 3, 4, 6])
        profit = [rng.randint(1, 30) for _ in range(n)]
        use = [[rng.randint(0, 30) for _ in range(n)] for _ in range(n)]
        cap = [rng.randint(5, 60) for _ in range(n)]
        ub = [3] * n
        best = max(
            sum(p * x for p, x in zip(profit, xs))
            for xs in itertools.product(range(4), repeat=n)
            if all(sum(r[j] * xs[j] for j in range(n)) <= c for r, c in zip(use, cap))
        )
        assert production_bb(profit, use, cap, ub) == best
