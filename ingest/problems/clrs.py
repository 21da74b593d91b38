"""CLRS-30 algorithms on arrays, strings and points, generated natively (no downloads).

The digit is the input size (array length, number of matrices, text length, number of points). Values
are integers, so every gold is exact; where the algorithm's output would depend on tie-breaking, the
question fixes the rule or the instance avoids ties. Activity selection and task scheduling have many
optimal answers and are checked by verifiers.
"""

from __future__ import annotations

import itertools

from .answers import field, read_bool, read_int_list, read_int_set
from .base import Kind, Verdict, VerifiedKind
from .clrs_graphs import KINDS as GRAPH_KINDS


class _ClrsKind(Kind):
    family = "clrs"
    min_size = 2

    def size(self, digit: int) -> int:
        return max(self.min_size, digit)


def _show(values: list[int]) -> str:
    return "[" + ", ".join(map(str, values)) + "]"


# -- sorting ------------------------------------------------------------------------------------------
class _Sort(_ClrsKind):
    answer_hint = "a JSON list of integers: the sorted array"
    algorithm = ""

    def generate(self, rng, digit):
        return {"array": [rng.randint(0, 99) for _ in range(self.size(digit))]}

    def question(self, instance):
        return f"Sort the array below in ascending order using {self.algorithm}.\nA = {_show(instance['array'])}"

    def read(self, answer):
        return read_int_list(answer)


class InsertionSort(_Sort):
    name = "insertion_sort"
    algorithm = "insertion sort"

    def solve(self, instance):
        a = list(instance["array"])
        for j in range(1, len(a)):
            key, i = a[j], j - 1
            while i >= 0 and a[i] > key:
                a[i + 1] = a[i]
                i -= 1
            a[i + 1] = key
        return a


class BubbleSort(_Sort):
    name = "bubble_sort"
    algorithm = "bubble sort"

    def solve(self, instance):
        a = list(instance["array"])
        for i in range(len(a)):
            for j in range(len(a) - 1, i, -1):
                if a[j] < a[j - 1]:
                    a[j], a[j - 1] = a[j - 1], a[j]
        return a


class Heapsort(_Sort):
    name = "heapsort"
    algorithm = "heapsort"

    def solve(self, instance):
        a = list(instance["array"])

        def heapify(i: int, size: int) -> None:
            while True:
                left, right, largest = 2 * i + 1, 2 * i + 2, i
                if left < size and a[left] > a[largest]:
                    largest = left
                if right < size and a[right] > a[largest]:
                    largest = right
                if largest == i:
                    return
                a[i], a[largest] = a[largest], a[i]
                i = largest

        for i in range(len(a) // 2 - 1, -1, -1):
            heapify(i, len(a))
        for end in range(len(a) - 1, 0, -1):
            a[0], a[end] = a[end], a[0]
            heapify(0, end)
        return a


class Quicksort(_Sort):
    name = "quicksort"
    algorithm = "quicksort"

    def solve(self, instance):
        a = list(instance["array"])
        stack = [(0, len(a) - 1)]
        while stack:
            lo, hi = stack.pop()
            if lo >= hi:
                continue
            pivot, i = a[hi], lo - 1  # Lomuto partition, as in CLRS
            for j in range(lo, hi):
                if a[j] <= pivot:
                    i += 1
                    a[i], a[j] = a[j], a[i]
            a[i + 1], a[hi] = a[hi], a[i + 1]
            stack += [(lo, i), (i + 2, hi)]
        return a


# -- searching ----------------------------------------------------------------------------------------
class Quickselect(_ClrsKind):
    name = "quickselect"

    def generate(self, rng, digit):
        n = self.size(digit)
        return {"array": rng.sample(range(1, 10 * n + 1), n), "k": rng.randint(1, n)}

    def question(self, instance):
        return (
            f"Using quickselect, find the {instance['k']}-th smallest element (counting from 1) of the array below."
            f"\nA = {_show(instance['array'])}"
        )

    def solve(self, instance):
        a, k = list(instance["array"]), instance["k"] - 1
        while True:
            pivot = a[len(a) // 2]
            lower = [x for x in a if x < pivot]
            if k < len(lower):
                a = lower
                continue
            if k == len(lower):
                return pivot
            k -= len(lower) + 1
            a = [x for x in a if x > pivot]


class Minimum(_ClrsKind):
    name = "minimum"
    answer_hint = "an integer: a position, counting from 0"

    def generate(self, rng, digit):
        n = self.size(digit)
        return {"array": rng.sample(range(1, 10 * n + 1), n)}

    def question(self, instance):
        return f"Find the position (counting from 0) of the smallest element of the array below.\nA = {_show(instance['array'])}"

    def solve(self, instance):
        a = instance["array"]
        best = 0
        for i in range(1, len(a)):
            if a[i] < a[best]:
                best = i
        return best


class BinarySearch(_ClrsKind):
    name = "binary_search"
    answer_hint = "an integer: a position, counting from 0"

    def generate(self, rng, digit):
        n = self.size(digit)
        values = sorted(rng.sample(range(1, 10 * n + 1), n))
        target = rng.choice(values) if rng.random() < 0.5 else rng.randint(0, 10 * n + 1)
        return {"array": values, "target": target}

    def question(self, instance):
        return (
            f"Use binary search on the sorted array below to find the position (counting from 0) of the value "
            f"{instance['target']}; if it is absent, give the position where it would be inserted to keep the array "
            f"sorted (the number of elements smaller than it).\nA = {_show(instance['array'])}"
        )

    def solve(self, instance):
        lo, hi = 0, len(instance["array"])
        while lo < hi:
            mid = (lo + hi) // 2
            if instance["array"][mid] < instance["target"]:
                lo = mid + 1
            else:
                hi = mid
        return lo


class FindMaximumSubarrayKadane(_ClrsKind):
    name = "find_maximum_subarray_kadane"

    def generate(self, rng, digit):
        return {"array": [rng.randint(-50, 50) for _ in range(self.size(digit))]}

    def question(self, instance):
        return (
            "Using Kadane's algorithm, find the largest sum of a non-empty contiguous subarray of the array below."
            f"\nA = {_show(instance['array'])}"
        )

    def solve(self, instance):
        best = current = instance["array"][0]
        for x in instance["array"][1:]:
            current = max(x, current + x)
            best = max(best, current)
        return best


# -- dynamic programming -----------------------------------------------------------------------------
class MatrixChainOrder(_ClrsKind):
    name = "matrix_chain_order"

    def generate(self, rng, digit):
        return {"dims": [rng.randint(2, 30) for _ in range(self.size(digit) + 1)]}

    def question(self, instance):
        dims = instance["dims"]
        shapes = ", ".join(f"A{i + 1}: {dims[i]}x{dims[i + 1]}" for i in range(len(dims) - 1))
        return (
            "Find the minimum number of scalar multiplications needed to compute the matrix product "
            f"A1·A2·…·A{len(dims) - 1} (the matrix-chain order problem).\n{shapes}"
        )

    def solve(self, instance):
        p = instance["dims"]
        n = len(p) - 1
        cost = [[0] * n for _ in range(n)]
        for length in range(2, n + 1):
            for i in range(n - length + 1):
                j = i + length - 1
                cost[i][j] = min(cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1] for k in range(i, j))
        return cost[0][n - 1]


class LcsLength(_ClrsKind):
    name = "lcs_length"

    def generate(self, rng, digit):
        n = self.size(digit)
        return {"x": "".join(rng.choice("ACGT") for _ in range(n)), "y": "".join(rng.choice("ACGT") for _ in range(n))}

    def question(self, instance):
        return (
            "Compute the length of a longest common subsequence of the two DNA strands below (CLRS LCS-LENGTH).\n"
            f"X = {instance['x']}\nY = {instance['y']}"
        )

    def solve(self, instance):
        x, y = instance["x"], instance["y"]
        prev = [0] * (len(y) + 1)
        for a in x:
            row = [0]
            for j, b in enumerate(y):
                row.append(prev[j] + 1 if a == b else max(prev[j + 1], row[j]))
            prev = row
        return prev[-1]


class OptimalBst(_ClrsKind):
    name = "optimal_bst"

    def generate(self, rng, digit):
        n = self.size(digit)
        return {
            "key_weights": [rng.randint(1, 20) for _ in range(n)],
            "gap_weights": [rng.randint(1, 10) for _ in range(n + 1)],
        }

    def question(self, instance):
        p, q = instance["key_weights"], instance["gap_weights"]
        return (
            f"Build an optimal binary search tree over keys k1 < … < k{len(p)}. Key ki is searched for p[i] times, and "
            "searches falling between keys (before k1, between ki and ki+1, after the last key) happen q[i] times. "
            "The cost of a tree is the sum over keys and gaps of (depth + 1) × count, where the root has depth 0 and a "
            "gap sits one level below the key it hangs from. Give the minimum cost.\n"
            f"p = {_show(p)}\nq = {_show(q)}"
        )

    def solve(self, instance):
        p, q = instance["key_weights"], instance["gap_weights"]
        n = len(p)
        # e[i][j]: cost of keys i+1..j (gap i..j); w[i][j]: their total weight (CLRS OPTIMAL-BST, integer weights)
        e = [[0] * (n + 1) for _ in range(n + 2)]
        w = [[0] * (n + 1) for _ in range(n + 2)]
        for i in range(n + 1):
            e[i][i] = w[i][i] = q[i]
        for length in range(1, n + 1):
            for i in range(n - length + 1):
                j = i + length
                w[i][j] = w[i][j - 1] + p[j - 1] + q[j]
                e[i][j] = min(e[i][r - 1] + e[r][j] for r in range(i + 1, j + 1)) + w[i][j]
        return e[0][n]


# -- greedy (many optimal answers: verifiers) --------------------------------------------------------
class ActivitySelector(_ClrsKind, VerifiedKind):
    name = "activity_selector"
    answer_hint = "a JSON list of activity numbers"

    def generate(self, rng, digit):
        n = self.size(digit)
        starts = [rng.randint(0, 2 * n) for _ in range(n)]
        return {"starts": starts, "finishes": [s + rng.randint(1, 6) for s in starts]}

    def question(self, instance):
        lines = "\n".join(
            f"Activity {i}: from {s} to {f}" for i, (s, f) in enumerate(zip(instance["starts"], instance["finishes"]))
        )
        return (
            "Select as many mutually compatible activities as possible (the activity-selection problem): two "
            "activities are compatible when one finishes no later than the other starts.\n" + lines
        )

    def solve(self, instance):
        chosen, free_at = [], None
        for i in sorted(range(len(instance["starts"])), key=lambda i: (instance["finishes"][i], i)):
            if free_at is None or instance["starts"][i] >= free_at:
                chosen.append(i)
                free_at = instance["finishes"][i]
        return sorted(chosen)

    def optimum(self, instance):
        return len(self.solve(instance))

    def read(self, answer):
        inner = field(answer, "activities", "selected")
        return read_int_list(inner if inner is not None else answer)

    def verify(self, instance, chosen):
        s, f = instance["starts"], instance["finishes"]
        if len(set(chosen)) != len(chosen) or any(not 0 <= i < len(s) for i in chosen):
            return Verdict(False, f"invalid: activities are numbered 0 to {len(s) - 1}, each at most once")
        ordered = sorted(chosen, key=lambda i: s[i])
        for a, b in itertools.pairwise(ordered):
            if s[b] < f[a]:
                return Verdict(False, f"invalid: activities {a} and {b} overlap")
        if len(chosen) != self.optimum(instance):
            return Verdict(False, f"suboptimal: {len(chosen)} activities, {self.optimum(instance)} are possible")
        return Verdict(True, "ok")


def _schedulable(deadlines: list[int], tasks: list[int]) -> bool:
    """Unit tasks can all meet their deadlines iff, for every t, at most t of them are due by t."""
    due = sorted(deadlines[i] for i in tasks)
    return all(count <= d for count, d in enumerate(due, 1))


class TaskScheduling(_ClrsKind, VerifiedKind):
    name = "task_scheduling"
    answer_hint = "a JSON list of task numbers: the tasks finished on time"

    def generate(self, rng, digit):
        n = self.size(digit)
        return {"deadlines": [rng.randint(1, n) for _ in range(n)], "penalties": [rng.randint(1, 50) for _ in range(n)]}

    def question(self, instance):
        lines = "\n".join(
            f"Task {i}: deadline {d}, penalty {w}"
            for i, (d, w) in enumerate(zip(instance["deadlines"], instance["penalties"]))
        )
        return (
            "Schedule unit-time tasks on one processor (CLRS 16.5): task i takes one time unit, the slots are "
            "0-1, 1-2, …, and a task is late if it finishes after its deadline, which costs its penalty. Choose the "
            "tasks to finish on time so that the total penalty of the late tasks is as small as possible.\n" + lines
        )

    def solve(self, instance):
        chosen: list[int] = []
        for i in sorted(range(len(instance["penalties"])), key=lambda i: (-instance["penalties"][i], i)):
            if _schedulable(instance["deadlines"], chosen + [i]):
                chosen.append(i)
        return sorted(chosen)

    def optimum(self, instance):
        early = set(self.solve(instance))
        return sum(w for i, w in enumerate(instance["penalties"]) if i not in early)

    def read(self, answer):
        inner = field(answer, "tasks", "on_time", "early")
        return read_int_list(inner if inner is not None else answer)

    def verify(self, instance, early):
        n = len(instance["deadlines"])
        if len(set(early)) != len(early) or any(not 0 <= i < n for i in early):
            return Verdict(False, f"invalid: tasks are numbered 0 to {n - 1}, each at most once")
        if not _schedulable(instance["deadlines"], early):
            return Verdict(False, "invalid: these tasks cannot all finish by their deadlines")
        penalty = sum(w for i, w in enumerate(instance["penalties"]) if i not in set(early))
        if penalty != self.optimum(instance):
            return Verdict(False, f"suboptimal: total penalty {penalty}, the least is {self.optimum(instance)}")
        return Verdict(True, "ok")


# -- string matching ---------------------------------------------------------------------------------
class _Matcher(_ClrsKind):
    answer_hint = "a JSON list of integers: every shift (0-based) at which the pattern occurs"
    algorithm = ""

    def generate(self, rng, digit):
        n = self.size(digit)
        text = [rng.choice("ab") for _ in range(n)]
        pattern = "".join(rng.choice("ab") for _ in range(rng.randint(1, min(n, 4))))
        if rng.random() < 0.5:
            at = rng.randint(0, n - len(pattern))
            text[at : at + len(pattern)] = pattern
        return {"text": "".join(text), "pattern": pattern}

    def question(self, instance):
        return (
            f"Using {self.algorithm}, find every shift s (counting from 0) at which the pattern occurs in the text "
            f'(overlapping occurrences count).\nText: "{instance["text"]}"\nPattern: "{instance["pattern"]}"'
        )

    def read(self, answer):
        return read_int_set(answer)


class NaiveStringMatcher(_Matcher):
    name = "naive_string_matcher"
    algorithm = "the naive string matcher"

    def solve(self, instance):
        t, p = instance["text"], instance["pattern"]
        return [s for s in range(len(t) - len(p) + 1) if t[s : s + len(p)] == p]


class KmpMatcher(_Matcher):
    name = "kmp_matcher"
    algorithm = "the Knuth-Morris-Pratt matcher"

    def solve(self, instance):
        t, p = instance["text"], instance["pattern"]
        prefix, k = [0] * len(p), 0
        for q in range(1, len(p)):
            while k and p[k] != p[q]:
                k = prefix[k - 1]
            if p[k] == p[q]:
                k += 1
            prefix[q] = k
        shifts, q = [], 0
        for i, ch in enumerate(t):
            while q and p[q] != ch:
                q = prefix[q - 1]
            if p[q] == ch:
                q += 1
            if q == len(p):
                shifts.append(i - len(p) + 1)
                q = prefix[q - 1]
        return shifts


# -- geometry ----------------------------------------------------------------------------------------
def _cross(o: list[int], a: list[int], b: list[int]) -> int:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


class SegmentsIntersect(_ClrsKind):
    name = "segments_intersect"
    answer_hint = "true or false"

    def generate(self, rng, digit):
        span = 5 * self.size(digit)
        return {"points": [[rng.randint(0, span), rng.randint(0, span)] for _ in range(4)]}

    def question(self, instance):
        p1, p2, p3, p4 = instance["points"]
        return (
            f"Do the segment from ({p1[0]}, {p1[1]}) to ({p2[0]}, {p2[1]}) and the segment from ({p3[0]}, {p3[1]}) "
            f"to ({p4[0]}, {p4[1]}) intersect? Touching counts as intersecting."
        )

    def solve(self, instance):
        p1, p2, p3, p4 = instance["points"]
        d1, d2, d3, d4 = _cross(p3, p4, p1), _cross(p3, p4, p2), _cross(p1, p2, p3), _cross(p1, p2, p4)
        if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
            return True

        def on_segment(a, b, c):
            return min(a[0], b[0]) <= c[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= c[1] <= max(a[1], b[1])

        return any(
            d == 0 and on_segment(a, b, c)
            for d, a, b, c in ((d1, p3, p4, p1), (d2, p3, p4, p2), (d3, p1, p2, p3), (d4, p1, p2, p4))
        )

    def read(self, answer):
        inner = field(answer, "intersect", "intersects")
        return read_bool(inner if inner is not None else answer)


class _Hull(_ClrsKind):
    answer_hint = "a JSON list of point numbers: the corners of the convex hull"
    algorithm = ""
    min_size = 3

    def generate(self, rng, digit):
        n = self.size(digit)
        seen, pts = set(), []
        while len(pts) < n:
            p = (rng.randint(0, 2 * n + 4), rng.randint(0, 2 * n + 4))
            if p not in seen:
                seen.add(p)
                pts.append(list(p))
        return {"points": pts}

    def question(self, instance):
        lines = "\n".join(f"Point {i}: ({x}, {y})" for i, (x, y) in enumerate(instance["points"]))
        return (
            f"Using {self.algorithm}, find the corners of the convex hull of the points below: the points that are "
            "vertices of the smallest convex polygon containing them all (points lying on an edge between two "
            f"corners are not corners).\n{lines}"
        )

    def read(self, answer):
        return read_int_set(answer)


class GrahamScan(_Hull):
    name = "graham_scan"
    algorithm = "the Graham scan"

    def solve(self, instance):
        """Monotone-chain variant of the Graham scan; strict turns drop collinear points."""
        pts = instance["points"]
        order = sorted(range(len(pts)), key=lambda i: pts[i])
        if len({tuple(p) for p in pts}) < 3 or all(_cross(pts[order[0]], pts[order[-1]], p) == 0 for p in pts):
            return sorted({order[0], order[-1]})

        def chain(indices):
            out: list[int] = []
            for i in indices:
                while len(out) >= 2 and _cross(pts[out[-2]], pts[out[-1]], pts[i]) <= 0:
                    out.pop()
                out.append(i)
            return out[:-1]

        return sorted(set(chain(order) + chain(order[::-1])))


class JarvisMarch(_Hull):
    name = "jarvis_march"
    algorithm = "the Jarvis march (gift wrapping)"

    def solve(self, instance):
        pts = instance["points"]
        start = min(range(len(pts)), key=lambda i: pts[i])
        hull, current = [], start
        while True:
            hull.append(current)
            candidate = next(i for i in range(len(pts)) if i != current)
            for i in range(len(pts)):
                if i == current:
                    continue
                turn = _cross(pts[current], pts[candidate], pts[i])
                farther = _dist2(pts[current], pts[i]) > _dist2(pts[current], pts[candidate])
                if turn < 0 or (turn == 0 and farther):
                    candidate = i
            current = candidate
            if current == start or len(hull) > len(pts):
                return sorted(set(hull))


def _dist2(a: list[int], b: list[int]) -> int:
    return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2


KINDS = (
    InsertionSort(),
    BubbleSort(),
    Heapsort(),
    Quicksort(),
    Quickselect(),
    Minimum(),
    BinarySearch(),
    FindMaximumSubarrayKadane(),
    MatrixChainOrder(),
    LcsLength(),
    OptimalBst(),
    ActivitySelector(),
    TaskScheduling(),
    NaiveStringMatcher(),
    KmpMatcher(),
    SegmentsIntersect(),
    GrahamScan(),
    JarvisMarch(),
    *GRAPH_KINDS,
)
