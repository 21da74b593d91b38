"""The arm prompts. Versioned: `PROMPT_VERSION` is stored with every response.

The problem text always sits between `<problem>` and `</problem>` so a reader (or the synthetic
endpoint) can find it without knowing the template.
"""

from __future__ import annotations

from .problems import Problem, get_kind

# p2: every kind states its answer type; sim asks for standard-library code that prints JSON.
PROMPT_VERSION = "p2"


SYSTEM = "You are a careful problem solver. Reply with exactly one JSON object and nothing else."

NL = """Solve the problem below by reasoning step by step in natural language. Do not write or use code.

<problem>
{question}
</problem>

Reply with one JSON object: {{"reasoning": "<your step-by-step reasoning>", "answer": <{hint}>}}"""

SIM = """Write a Python program that solves the problem below. Use only the Python standard library; the program
reads no input, files or network, and prints its answer as JSON on its last line (print(json.dumps(answer))).
Then, without running it, simulate its execution step by step and report what it prints.

<problem>
{question}
</problem>

Reply with one JSON object: {{"code": "<the complete Python program>", "simulation": "<your trace>", "answer": <{hint}>}}"""

CONTROLSIM = """Here is a problem and a Python program written to solve it. Without running the program,
simulate its execution step by step and report what it prints on its last line.

<problem>
{question}
</problem>

<code>
{code}
</code>

Reply with one JSON object: {{"simulation": "<your trace>", "answer": <{hint}>}}"""

TEMPLATES = {"nl": NL, "sim": SIM, "controlsim": CONTROLSIM}


def user_prompt(arm: str, problem: Problem, code: str | None = None) -> str:
    hint = get_kind(problem.kind).answer_hint
    if arm == "controlsim":
        if code is None:
            raise ValueError("the controlsim prompt needs the sim answer's code")
        return CONTROLSIM.format(question=problem.question, code=code, hint=hint)
    return TEMPLATES[arm].format(question=problem.question, hint=hint)


def messages(arm: str, problem: Problem, code: str | None = None) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": user_prompt(arm, problem, code)},
    ]


def problem_text(prompt: str) -> str | None:
    """The problem text inside a prompt built here, or None."""
    start, end = prompt.find("<problem>\n"), prompt.find("\n</problem>")
    if start < 0 or end < 0:
        return None
    return prompt[start + len("<problem>\n") : end]


def code_text(prompt: str) -> str | None:
    start, end = prompt.find("<code>\n"), prompt.find("\n</code>")
    if start < 0 or end < 0:
        return None
    return prompt[start + len("<code>\n") : end]
