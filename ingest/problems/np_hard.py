"""NP-hard family (after NPHardEval): paths, tours, schedules, colourings, knapsacks, and two of its
polynomial members (binary search, edit distance).

These kinds have no digit. Their difficulty is a level from 1 to 10, set by the instance index
(`level = index % 10 + 1`) so every level is covered, and kept in `instance_json` as `level`.
Kinds with many right answers are verifier kinds: `check()` says valid or not, optimal or not, and why;
`gold_answer` holds the optimal value (or, for the decision kinds, the decision).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from . import graphs
from .answers import field, literal, read_bool, read_colours, read_int, read_int_list
from .base import Kind, Verdict, VerifiedKind, remembered


class _Leveled:
    family = "np_hard"
    has_digit = False

    def level(self, index: int) -> int:
        return index % 10 + 1


def _path_value(answer: Any, *names: str) -> list[int] | None:
    """A vertex sequence given as a list, or inside an object under one of `names`."""
    inner = field(answer, *names)
    return read_int_list(inner if inner is not None else answer)


# -- shortest path -------------------------------------------------------------------------------
class Spp(_Leveled, VerifiedKind):
    name = "spp"
    answer_hint = "a JSON list of node numbers: the path from the start node to the end node, both included"

    def generate(self, rng, level):
        n = level + 3
        edges = graphs.undirected(rng, n, 0.3, weights=(1, 10))
        source, target = rng.sample(range(n), 2)
        return {"level": level, "n": n, "edges": edges, "source": source, "target": target}

    def question(self, instance):
        lines = "\n".join(f"Edge between node {u} and node {v} has weight {w}." for u, v, w in instance["edges"])
        return (
            f"Find the shortest path from node {instance['source']} to node {instance['target']} in an undirected "
            f"weighted graph with nodes 0 to {instance['n'] - 1}. The length of a path is the sum of the weights "
            f"of its edges. The edges are:\n{lines}"
        )

    def solve(self, instance):
        n, edges = instance["n"], instance["edges"]
        adj = graphs.adjacency(n, edges, False)
        dist = graphs.dijkstra(n, edges, instance["source"], False)
        path, node = [instance["target"]], instance["target"]
        while node != instance["source"]:
            node = min(u for u, w in adj[node] if dist[u] is not None and dist[u] + w == dist[node])
            path.append(node)
        return path[::-1]

    def optimum(self, instance):
        return graphs.dijkstra(instance["n"], instance["edges"], instance["source"], False)[instance["target"]]

    def read(self, answer):
        return _path_value(answer, "path", "route")

    def verify(self, instance, path):
        if not path or path[0] != instance["source"] or path[-1] != instance["target"]:
            return Verdict(
                False, f"invalid: the path must start at {instance['source']} and end at {instance['target']}"
            )
        weights = graphs.edge_weights(instance["edges"], False)
        missing = [(u, v) for u, v in itertools.pairwise(path) if (u, v) not in weights]
        if missing:
            return Verdict(False, f"invalid: no edge between {missing[0][0]} and {missing[0][1]}")
        length, best = sum(weights[e] for e in itertools.pairwise(path)), self.optimum(instance)
        if length != best:
            return Verdict(False, f"suboptimal: length {length}, shortest is {best}")
        return Verdict(True, "ok")


# -- travelling salesman -------------------------------------------------------------------------
def _distances(points: list[list[int]]) -> list[list[int]]:
    return [[round(math.dist(p, q)) for q in points] for p in points]


@remembered
def held_karp(dist: list[list[int]]) -> tuple[int, list[int]]:
    """Optimal tour length and one optimal tour starting at city 0 (exact, O(n^2 2^n))."""
    n = len(dist)
    if n == 1:
        return 0, [0]
    full = 1 << (n - 1)
    inf = float("inf")
    best = [[inf] * n for _ in range(full)]  # best[mask][j]: from 0 through mask (cities 1..n-1), ending at j
    parent = [[-1] * n for _ in range(full)]
    for j in range(1, n):
        best[1 << (j - 1)][j] = dist[0][j]
    for mask in range(1, full):
        row = best[mask]
        for j in range(1, n):
            here = row[j]
            if here == inf or not mask >> (j - 1) & 1:
                continue
            for k in range(1, n):
                bit = 1 << (k - 1)
                if mask & bit:
                    continue
                cand = here + dist[j][k]
                if cand < best[mask | bit][k]:
                    best[mask | bit][k] = cand
                    parent[mask | bit][k] = j
    last = min(range(1, n), key=lambda j: (best[full - 1][j] + dist[j][0], j))
    length = best[full - 1][last] + dist[last][0]
    tour, mask, j = [], full - 1, last
    while j > 0:
        tour.append(j)
        mask, j = mask & ~(1 << (j - 1)), parent[mask][j]
    return int(length), [0, *tour[::-1]]


def _tour_problem(tour: list[int] | None, n: int) -> str | None:
    if tour is None:
        return "no tour given"
    if len(tour) == n + 1 and tour[0] == tour[-1]:
        tour = tour[:-1]
    if len(tour) != n:
        return f"a tour visits all {n} cities once; this one has {len(tour)} stops"
    if sorted(tour) != list(range(n)):
        repeated = sorted({c for c in tour if tour.count(c) > 1})
        outside = sorted({c for c in tour if not 0 <= c < n})
        return f"city {(repeated or outside)[0]} is {'visited twice' if repeated else 'not a city'}"
    return None


def tour_length(dist: list[list[int]], tour: list[int]) -> int:
    if len(tour) > 1 and tour[0] == tour[-1]:
        tour = tour[:-1]
    return sum(dist[a][b] for a, b in zip(tour, tour[1:] + tour[:1]))


class _TspBase(_Leveled, VerifiedKind):
    def generate(self, rng, level):
        n = min(level + 3, 12)
        return {"level": level, "n": n, "distances": _distances(graphs.points(rng, n))}

    def _table(self, instance):
        n, dist = instance["n"], instance["distances"]
        return "\n".join(
            f"The distance between city {i} and city {j} is {dist[i][j]}." for i in range(n) for j in range(i + 1, n)
        )


class Tsp(_TspBase):
    name = "tsp"
    answer_hint = "a JSON list of city numbers: the order in which the tour visits every city once"

    def question(self, instance):
        return (
            f"Find the shortest tour that visits each of the {instance['n']} cities (numbered 0 to {instance['n'] - 1}) "
            f"exactly once and returns to its starting city. The distances are symmetric:\n{self._table(instance)}"
        )

    def solve(self, instance):
        return held_karp(instance["distances"])[1]

    def optimum(self, instance):
        return held_karp(instance["distances"])[0]

    def read(self, answer):
        return _path_value(answer, "tour", "path", "route")

    def verify(self, instance, tour):
        problem = _tour_problem(tour, instance["n"])
        if problem:
            return Verdict(False, f"invalid: {problem}")
        length, best = tour_length(instance["distances"], tour), self.optimum(instance)
        if length != best:
            return Verdict(False, f"suboptimal: tour length {length}, shortest is {best}")
        return Verdict(True, "ok")


def _decision(answer: Any, witness_names: tuple[str, ...], read_witness) -> dict[str, Any] | None:
    """{feasible, witness} from an object, a bare yes/no, or a bare witness (which means yes)."""
    if isinstance(answer, str) and isinstance(literal(answer), (dict, list)):
        answer = literal(answer)
    if isinstance(answer, dict):
        feasible = read_bool(field(answer, "feasible", "answer", "possible"))
        witness = field(answer, *witness_names)
        if feasible is None:
            return None
        return {"feasible": feasible, "witness": None if witness is None else read_witness(witness)}
    feasible = read_bool(answer)
    if feasible is not None:
        return {"feasible": feasible, "witness": None}
    witness = read_witness(answer)
    return None if witness is None else {"feasible": True, "witness": witness}


class TspD(_TspBase):
    name = "tsp_d"
    answer_hint = 'a JSON object {"feasible": true or false, "tour": [city numbers in visiting order] or null}'

    def generate(self, rng, level):
        instance = super().generate(rng, level)
        best = held_karp(instance["distances"])[0]
        slack = max(1, best // 10)
        instance["budget"] = best + rng.randint(0, slack) if rng.random() < 0.5 else best - rng.randint(1, slack)
        return instance

    def question(self, instance):
        return (
            f"Is there a tour that visits each of the {instance['n']} cities (numbered 0 to {instance['n'] - 1}) exactly "
            f"once, returns to its starting city, and has total length at most {instance['budget']}? If there is, "
            f"give one such tour. The distances are symmetric:\n{self._table(instance)}"
        )

    def _feasible(self, instance):
        return held_karp(instance["distances"])[0] <= instance["budget"]

    def solve(self, instance):
        if self._feasible(instance):
            return {"feasible": True, "tour": held_karp(instance["distances"])[1]}
        return {"feasible": False, "tour": None}

    def optimum(self, instance):
        return self._feasible(instance)

    def read(self, answer):
        value = _decision(answer, ("tour", "path", "route"), read_int_list)
        return None if value is None else {"feasible": value["feasible"], "tour": value["witness"]}

    def verify(self, instance, value):
        truth = self._feasible(instance)
        if value["feasible"] != truth:
            return Verdict(
                False, f"wrong decision: a tour within {instance['budget']} {'exists' if truth else 'does not exist'}"
            )
        if not truth:
            return Verdict(True, "ok")
        problem = _tour_problem(value["tour"], instance["n"])
        if problem:
            return Verdict(False, f"invalid witness: {problem}")
        length = tour_length(instance["distances"], value["tour"])
        if length > instance["budget"]:
            return Verdict(False, f"invalid witness: tour length {length} exceeds {instance['budget']}")
        return Verdict(True, "ok")


# -- meeting scheduling ---------------------------------------------------------------------------
def _overlap(a0: int, a1: int, b0: int, b1: int) -> bool:
    return a0 < b1 and b0 < a1


@remembered
def schedule_makespan(durations: list[int], attendees: list[list[int]]) -> tuple[int, list[int]]:
    """Shortest schedule (makespan) with one optimal start list, by branch and bound over active schedules.

    Every meeting starts at 0 or when a conflicting meeting ends (an active schedule); some optimal
    schedule is active, and placing meetings one by one at their earliest feasible start, in every
    order, generates every active schedule.
    """
    m = len(durations)
    conflicts = [[j for j in range(m) if j != i and set(attendees[i]) & set(attendees[j])] for i in range(m)]
    people = sorted({p for group in attendees for p in group})
    load_bound = max(sum(d for d, group in zip(durations, attendees) if p in group) for p in people)
    best_span, best_starts = sum(durations) + 1, None
    starts: list[int | None] = [None] * m
    seen: set[tuple] = set()

    def earliest(i: int) -> int:
        busy = [(starts[j], starts[j] + durations[j]) for j in conflicts[i] if starts[j] is not None]
        for t in sorted({0, *(end for _, end in busy)}):
            if not any(_overlap(t, t + durations[i], b0, b1) for b0, b1 in busy):
                return t
        raise AssertionError("unreachable: the latest end is always free")

    def search(span: int, placed: int) -> None:
        nonlocal best_span, best_starts
        if placed == m:
            if span < best_span:
                best_span, best_starts = span, list(starts)
            return
        # Placing more meetings only adds busy time, so each open meeting ends no earlier than now.
        options = sorted((earliest(i), i) for i in range(m) if starts[i] is None)
        if max(span, load_bound, *(t + durations[i] for t, i in options)) >= best_span:
            return
        for t, i in options:
            starts[i] = t
            state = tuple(starts)
            if state not in seen:  # other orders reach the same partial schedule
                seen.add(state)
                search(max(span, t + durations[i]), placed + 1)
            starts[i] = None

    search(0, 0)
    return best_span, best_starts


class Msp(_Leveled, VerifiedKind):
    name = "msp"
    answer_hint = "a JSON list of integers: the start time of each meeting, in meeting order"

    def generate(self, rng, level):
        meetings = 3 + level // 2
        people = 3 + level // 3
        return {
            "level": level,
            "durations": [rng.randint(1, 4) for _ in range(meetings)],
            "attendees": [sorted(rng.sample(range(people), rng.randint(2, min(3, people)))) for _ in range(meetings)],
        }

    def question(self, instance):
        lines = "\n".join(
            f"Meeting {i} lasts {d} hour{'s' if d > 1 else ''} and needs people {', '.join(map(str, group))}."
            for i, (d, group) in enumerate(zip(instance["durations"], instance["attendees"]))
        )
        return (
            "Schedule the meetings below. Each meeting starts at a whole hour (0, 1, 2, ...) and runs without a break; "
            "a person cannot attend two meetings at the same time. Find start times that make the last meeting end "
            f"as early as possible.\n{lines}"
        )

    def solve(self, instance):
        return schedule_makespan(instance["durations"], instance["attendees"])[1]

    def optimum(self, instance):
        return schedule_makespan(instance["durations"], instance["attendees"])[0]

    def read(self, answer):
        inner = field(answer, "starts", "start_times", "schedule")
        return read_int_list(inner if inner is not None else answer)

    def verify(self, instance, starts):
        durations, attendees = instance["durations"], instance["attendees"]
        if len(starts) != len(durations):
            return Verdict(
                False, f"invalid: {len(durations)} meetings need {len(durations)} start times, got {len(starts)}"
            )
        if any(s < 0 for s in starts):
            return Verdict(False, "invalid: a start time is negative")
        for i, j in itertools.combinations(range(len(starts)), 2):
            shared = set(attendees[i]) & set(attendees[j])
            if shared and _overlap(starts[i], starts[i] + durations[i], starts[j], starts[j] + durations[j]):
                return Verdict(False, f"invalid: meetings {i} and {j} overlap and both need person {min(shared)}")
        span, best = max(s + d for s, d in zip(starts, durations)), self.optimum(instance)
        if span != best:
            return Verdict(False, f"suboptimal: the last meeting ends at {span}, the earliest possible is {best}")
        return Verdict(True, "ok")


# -- knapsack ----------------------------------------------------------------------------------------
@remembered
def knapsack(weights: list[int], values: list[int], capacity: int) -> tuple[int, list[int]]:
    """Best total value and one optimal item set (0/1, exact DP over capacity)."""
    n = len(weights)
    table = [[0] * (capacity + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        w, v = weights[i - 1], values[i - 1]
        for c in range(capacity + 1):
            table[i][c] = table[i - 1][c]
            if w <= c and table[i - 1][c - w] + v > table[i][c]:
                table[i][c] = table[i - 1][c - w] + v
    chosen, c = [], capacity
    for i in range(n, 0, -1):
        if table[i][c] != table[i - 1][c]:
            chosen.append(i - 1)
            c -= weights[i - 1]
    return table[n][capacity], sorted(chosen)


class Ksp(_Leveled, VerifiedKind):
    name = "ksp"
    answer_hint = "a JSON list of item numbers: the items to put in the knapsack"

    def generate(self, rng, level):
        n = level + 3
        weights = [rng.randint(1, 20) for _ in range(n)]
        return {
            "level": level,
            "weights": weights,
            "values": [rng.randint(1, 30) for _ in range(n)],
            "capacity": rng.randint(max(1, sum(weights) // 3), max(1, sum(weights) // 2)),
        }

    def question(self, instance):
        lines = "\n".join(
            f"Item {i} has weight {w} and value {v}."
            for i, (w, v) in enumerate(zip(instance["weights"], instance["values"]))
        )
        return (
            f"Choose items for a knapsack of capacity {instance['capacity']}: the total weight of the chosen items must "
            f"not exceed the capacity, and their total value must be as large as possible. Each item can be chosen "
            f"at most once.\n{lines}"
        )

    def solve(self, instance):
        return knapsack(instance["weights"], instance["values"], instance["capacity"])[1]

    def optimum(self, instance):
        return knapsack(instance["weights"], instance["values"], instance["capacity"])[0]

    def read(self, answer):
        inner = field(answer, "items", "selected", "selected_items", "selecteditemids")
        return read_int_list(inner if inner is not None else answer)

    def verify(self, instance, items):
        n = len(instance["weights"])
        if len(set(items)) != len(items):
            return Verdict(False, "invalid: an item is chosen twice")
        if any(not 0 <= i < n for i in items):
            return Verdict(False, f"invalid: items are numbered 0 to {n - 1}")
        weight = sum(instance["weights"][i] for i in items)
        if weight > instance["capacity"]:
            return Verdict(False, f"invalid: total weight {weight} exceeds capacity {instance['capacity']}")
        value, best = sum(instance["values"][i] for i in items), self.optimum(instance)
        if value != best:
            return Verdict(False, f"suboptimal: total value {value}, the best is {best}")
        return Verdict(True, "ok")


# -- graph colouring -------------------------------------------------------------------------------
def colouring(n: int, edges: list[list[int]], colours: int) -> list[int] | None:
    """A proper colouring with at most `colours` colours, by backtracking (most constrained vertex first)."""
    adj = [set() for _ in range(n)]
    for u, v in edges:
        adj[u].add(v)
        adj[v].add(u)
    assigned: list[int | None] = [None] * n

    def pick() -> int:
        free = [v for v in range(n) if assigned[v] is None]
        return max(free, key=lambda v: (len({assigned[u] for u in adj[v]} - {None}), len(adj[v]), -v))

    def search(left: int) -> bool:
        if left == 0:
            return True
        v = pick()
        used = {assigned[u] for u in adj[v]}
        highest = max((c for c in assigned if c is not None), default=-1)
        for c in range(min(colours, highest + 2)):  # a new colour only as the next unused one
            if c not in used:
                assigned[v] = c
                if search(left - 1):
                    return True
                assigned[v] = None
        return False

    return list(assigned) if search(n) else None  # type: ignore[arg-type]


@remembered
def chromatic(n: int, edges: list[list[int]]) -> tuple[int, list[int]]:
    """The chromatic number and a colouring that attains it."""
    for k in range(1, n + 1):
        found = colouring(n, edges, k)
        if found is not None:
            return k, found
    raise AssertionError("unreachable: n colours always suffice")


def _colouring_problem(n: int, edges: list[list[int]], colours: list[int] | None) -> str | None:
    if colours is None:
        return "no colouring given"
    if len(colours) != n:
        return f"{n} vertices need {n} colours, got {len(colours)}"
    for u, v in edges:
        if colours[u] == colours[v]:
            return f"vertices {u} and {v} are adjacent and share a colour"
    return None


class _GcpBase(_Leveled, VerifiedKind):
    def generate(self, rng, level):
        n = level + 3
        return {"level": level, "n": n, "edges": graphs.undirected(rng, n, 0.25 + 0.02 * level)}

    def _lines(self, instance):
        return "\n".join(f"Vertex {u} is connected to vertex {v}." for u, v in instance["edges"])


class Gcp(_GcpBase):
    name = "gcp"
    answer_hint = "a JSON list: the colour (a small integer) of each vertex, in vertex order"

    def question(self, instance):
        return (
            f"Colour the vertices of the graph below (vertices 0 to {instance['n'] - 1}) so that no two connected vertices "
            f"share a colour, using as few colours as possible.\n{self._lines(instance)}"
        )

    def solve(self, instance):
        return chromatic(instance["n"], instance["edges"])[1]

    def optimum(self, instance):
        return chromatic(instance["n"], instance["edges"])[0]

    def read(self, answer):
        inner = field(answer, "colors", "colours", "coloring", "colouring")
        return read_colours(inner if inner is not None else answer)

    def verify(self, instance, colours):
        problem = _colouring_problem(instance["n"], instance["edges"], colours)
        if problem:
            return Verdict(False, f"invalid: {problem}")
        used, best = len(set(colours)), self.optimum(instance)
        if used != best:
            return Verdict(False, f"suboptimal: {used} colours, the graph needs only {best}")
        return Verdict(True, "ok")


class GcpD(_GcpBase):
    name = "gcp_d"
    answer_hint = 'a JSON object {"feasible": true or false, "coloring": [the colour of each vertex] or null}'

    def generate(self, rng, level):
        instance = super().generate(rng, level)
        need = chromatic(instance["n"], instance["edges"])[0]
        instance["colors"] = need if rng.random() < 0.5 else need - 1
        return instance

    def question(self, instance):
        return (
            f"Can the vertices of the graph below (vertices 0 to {instance['n'] - 1}) be coloured with at most "
            f"{instance['colors']} colours so that no two connected vertices share a colour? If they can, give such a "
            f"colouring.\n{self._lines(instance)}"
        )

    def _feasible(self, instance):
        return chromatic(instance["n"], instance["edges"])[0] <= instance["colors"]

    def solve(self, instance):
        if self._feasible(instance):
            return {"feasible": True, "coloring": chromatic(instance["n"], instance["edges"])[1]}
        return {"feasible": False, "coloring": None}

    def optimum(self, instance):
        return self._feasible(instance)

    def read(self, answer):
        value = _decision(answer, ("coloring", "colouring", "colors", "colours"), read_colours)
        return None if value is None else {"feasible": value["feasible"], "coloring": value["witness"]}

    def verify(self, instance, value):
        truth = self._feasible(instance)
        if value["feasible"] != truth:
            return Verdict(
                False, f"wrong decision: {instance['colors']} colours {'suffice' if truth else 'do not suffice'}"
            )
        if not truth:
            return Verdict(True, "ok")
        problem = _colouring_problem(instance["n"], instance["edges"], value["coloring"])
        if problem:
            return Verdict(False, f"invalid witness: {problem}")
        if len(set(value["coloring"])) > instance["colors"]:
            return Verdict(
                False, f"invalid witness: uses {len(set(value['coloring']))} colours, more than {instance['colors']}"
            )
        return Verdict(True, "ok")


# -- the polynomial members: one right answer each ------------------------------------------------
class Bsp(_Leveled, Kind):
    name = "bsp"
    answer_hint = "an integer: the position of the target, or -1"

    def generate(self, rng, level):
        n = 2 * level + 2
        values = sorted(rng.sample(range(1, 10 * n), n))
        target = rng.choice(values) if rng.random() < 0.75 else rng.choice(sorted(set(range(1, 10 * n)) - set(values)))
        return {"level": level, "array": values, "target": target}

    def question(self, instance):
        return (
            f"Find the position of the target value {instance['target']} in the sorted array below, counting positions "
            f"from 0. If the target is not in the array, answer -1.\nArray: {', '.join(map(str, instance['array']))}"
        )

    def solve(self, instance):
        lo, hi = 0, len(instance["array"]) - 1
        while lo <= hi:
            mid = (lo + hi) // 2
            if instance["array"][mid] == instance["target"]:
                return mid
            lo, hi = (mid + 1, hi) if instance["array"][mid] < instance["target"] else (lo, mid - 1)
        return -1

    def read(self, answer):
        inner = field(answer, "position", "index")
        return read_int(inner if inner is not None else answer)


def edit_distance(s: str, t: str) -> int:
    prev = list(range(len(t) + 1))
    for i, a in enumerate(s, 1):
        row = [i]
        for j, b in enumerate(t, 1):
            row.append(min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a != b)))
        prev = row
    return prev[-1]


class Edp(_Leveled, Kind):
    name = "edp"

    def generate(self, rng, level):
        alphabet = "abcd"
        return {
            "level": level,
            "s": "".join(rng.choice(alphabet) for _ in range(level + 2)),
            "t": "".join(rng.choice(alphabet) for _ in range(level + rng.randint(1, 3))),
        }

    def question(self, instance):
        return (
            "Find the edit distance between the two strings below: the minimum number of single-character insertions, "
            f'deletions and substitutions that turn the first into the second.\nFirst: "{instance["s"]}"\n'
            f'Second: "{instance["t"]}"'
        )

    def solve(self, instance):
        return edit_distance(instance["s"], instance["t"])

    def read(self, answer):
        inner = field(answer, "distance", "operations")
        return read_int(inner if inner is not None else answer)


KINDS = (Spp(), Tsp(), TspD(), Msp(), Ksp(), Gcp(), GcpD(), Bsp(), Edp())
