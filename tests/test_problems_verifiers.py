"""Verifiers say valid or invalid and why, and optimal or not where the kind asks for it."""

from __future__ import annotations

from evalhouse.ingest.problems import get_kind

TRIANGLE_PLUS = {  # 4 cities on a line-ish layout: the optimal tour is 0-1-2-3
    "level": 1,
    "n": 4,
    "distances": [[0, 1, 5, 4], [1, 0, 3, 6], [5, 3, 0, 2], [4, 6, 2, 0]],
}


def verdict(kind, instance, answer):
    v = get_kind(kind).check(instance, answer)
    return v.correct, v.reason


def test_tsp_verdicts():
    """A valid optimal tour passes from any start and direction; repeats, gaps and longer tours fail, saying why."""
    assert get_kind("tsp").gold(TRIANGLE_PLUS) == "10"
    assert verdict("tsp", TRIANGLE_PLUS, [2, 1, 0, 3]) == (True, "ok")
    assert verdict("tsp", TRIANGLE_PLUS, [0, 1, 2, 3, 0]) == (True, "ok")
    assert verdict("tsp", TRIANGLE_PLUS, {"tour": [3, 2, 1, 0]}) == (True, "ok")
    assert verdict("tsp", TRIANGLE_PLUS, [0, 2, 1, 3]) == (False, "suboptimal: tour length 18, shortest is 10")
    assert verdict("tsp", TRIANGLE_PLUS, [0, 1, 1, 3]) == (False, "invalid: city 1 is visited twice")
    assert verdict("tsp", TRIANGLE_PLUS, [0, 1, 2]) == (
        False,
        "invalid: a tour visits all 4 cities once; this one has 3 stops",
    )
    assert verdict("tsp", TRIANGLE_PLUS, "a nice tour") == (False, "unreadable_answer")


def test_tsp_decision_verdicts():
    """tsp_d needs the right decision, and a witness tour within budget when the answer is yes."""
    yes = {**TRIANGLE_PLUS, "budget": 12}
    no = {**TRIANGLE_PLUS, "budget": 9}
    assert get_kind("tsp_d").gold(yes) == "true" and get_kind("tsp_d").gold(no) == "false"
    assert verdict("tsp_d", yes, {"feasible": True, "tour": [0, 1, 2, 3]}) == (True, "ok")
    assert verdict("tsp_d", yes, [0, 1, 2, 3]) == (True, "ok")
    assert verdict("tsp_d", yes, {"feasible": True, "tour": [0, 2, 1, 3]}) == (
        False,
        "invalid witness: tour length 18 exceeds 12",
    )
    assert verdict("tsp_d", yes, {"feasible": True}) == (False, "invalid witness: no tour given")
    assert verdict("tsp_d", yes, False)[1] == "wrong decision: a tour within 12 exists"
    assert verdict("tsp_d", no, {"feasible": False, "tour": None}) == (True, "ok")
    assert verdict("tsp_d", no, "NO") == (True, "ok")
    assert (
        verdict("tsp_d", no, {"feasible": "True", "tour": [0, 1, 2, 3]})[1]
        == "wrong decision: a tour within 9 does not exist"
    )


def test_shortest_path_verdicts():
    """spp accepts any shortest path, and says which edge is missing or how much longer a path is."""
    inst = {
        "level": 1,
        "n": 4,
        "source": 0,
        "target": 3,
        "edges": [[0, 1, 1], [1, 3, 1], [0, 2, 1], [2, 3, 1], [0, 3, 5]],
    }
    assert get_kind("spp").gold(inst) == "2"
    assert verdict("spp", inst, [0, 1, 3]) == (True, "ok")
    assert verdict("spp", inst, [0, 2, 3]) == (True, "ok")
    assert verdict("spp", inst, {"path": [0, 3], "distance": 5}) == (False, "suboptimal: length 5, shortest is 2")
    assert verdict("spp", inst, [0, 1, 2, 3]) == (False, "invalid: no edge between 1 and 2")
    assert verdict("spp", inst, [1, 3]) == (False, "invalid: the path must start at 0 and end at 3")


def test_colouring_verdicts():
    """gcp accepts any optimal colouring, with ints or letters, as a list or a vertex map."""
    square = {"level": 1, "n": 4, "edges": [[0, 1], [1, 2], [2, 3], [0, 3]]}
    assert get_kind("gcp").gold(square) == "2"
    assert verdict("gcp", square, [0, 1, 0, 1]) == (True, "ok")
    assert verdict("gcp", square, ["B", "A", "B", "A"]) == (True, "ok")
    assert verdict("gcp", square, {"0": "red", "1": "blue", "2": "red", "3": "blue"}) == (True, "ok")
    assert verdict("gcp", square, [0, 1, 2, 1]) == (False, "suboptimal: 3 colours, the graph needs only 2")
    assert verdict("gcp", square, [0, 0, 1, 1]) == (False, "invalid: vertices 0 and 1 are adjacent and share a colour")
    decide = {**square, "colors": 1}
    assert verdict("gcp_d", decide, {"feasible": False, "coloring": None}) == (True, "ok")
    assert verdict("gcp_d", {**square, "colors": 2}, {"feasible": True, "coloring": [0, 1, 0, 1]}) == (True, "ok")
    assert verdict("gcp_d", {**square, "colors": 3}, {"feasible": True, "coloring": [0, 0, 1, 1]})[1].startswith(
        "invalid witness"
    )


def test_schedule_and_knapsack_verdicts():
    """msp and ksp name the clash, the overweight or the shortfall."""
    meetings = {"level": 1, "durations": [2, 1, 3], "attendees": [[0, 1], [1, 2], [0, 2]]}
    assert get_kind("msp").gold(meetings) == "6"
    assert verdict("msp", meetings, [0, 2, 3]) == (True, "ok")
    assert verdict("msp", meetings, [0, 1, 3]) == (False, "invalid: meetings 0 and 1 overlap and both need person 1")
    assert verdict("msp", meetings, [0, 2, 4]) == (
        False,
        "suboptimal: the last meeting ends at 7, the earliest possible is 6",
    )
    assert verdict("msp", meetings, [0, 2]) == (False, "invalid: 3 meetings need 3 start times, got 2")
    sack = {"level": 1, "weights": [3, 4, 5], "values": [4, 5, 6], "capacity": 8}
    assert get_kind("ksp").gold(sack) == "10"
    assert verdict("ksp", sack, [0, 2]) == (True, "ok")
    assert verdict("ksp", sack, [1, 2]) == (False, "invalid: total weight 9 exceeds capacity 8")
    assert verdict("ksp", sack, [0, 1]) == (False, "suboptimal: total value 9, the best is 10")
    assert verdict("ksp", sack, [0, 0]) == (False, "invalid: an item is chosen twice")


def test_clrs_verifier_verdicts():
    """Topological order, activity selection and task scheduling accept every optimal answer."""
    dag = {"n": 4, "edges": [[0, 1], [0, 2], [1, 3], [2, 3]]}
    assert verdict("topological_sort", dag, [0, 2, 1, 3]) == (True, "ok")
    assert verdict("topological_sort", dag, [0, 1, 2, 3]) == (True, "ok")
    assert verdict("topological_sort", dag, [0, 3, 1, 2]) == (False, "invalid: edge 1 -> 3 but 3 comes first")
    acts = {"starts": [0, 1, 3, 4], "finishes": [2, 3, 5, 6]}
    assert verdict("activity_selector", acts, [0, 2]) == (True, "ok")
    assert verdict("activity_selector", acts, [1, 3]) == (True, "ok")
    assert verdict("activity_selector", acts, [0, 1]) == (False, "invalid: activities 0 and 1 overlap")
    assert verdict("activity_selector", acts, [0]) == (False, "suboptimal: 1 activities, 2 are possible")
    tasks = {"deadlines": [1, 1, 2], "penalties": [10, 20, 5]}
    assert get_kind("task_scheduling").gold(tasks) == "10"
    assert verdict("task_scheduling", tasks, [1, 2]) == (True, "ok")
    assert verdict("task_scheduling", tasks, [0, 1]) == (
        False,
        "invalid: these tasks cannot all finish by their deadlines",
    )
    assert verdict("task_scheduling", tasks, [0, 2]) == (False, "suboptimal: total penalty 20, the least is 10")
