"""Cold-start benchmark: import + initialisation of every step handler in fresh processes.

Each sample is a new `python` process that simulates the Lambda environment (AWS_LAMBDA_FUNCTION_NAME,
LAMBDA_TASK_ROOT, _X_AMZN_TRACE_ID so that Powertools' Tracer is active and patches botocore with
the X-Ray SDK, fake credentials, the step's own variables and `steps.RUNTIME_ENV`; PYTHONPATH is the
shipped code only). Inside the child, `time.perf_counter()` brackets the import of the handler
module, module-level initialisation included (settings validated, Logger/Tracer/Metrics created).

The baseline (`bare_boto3_ms`) is the smallest sensible handler, timed the same way in the same run:
`import boto3` and one `boto3.client("dynamodb")` at module level. Bare and handler samples are
interleaved round-robin (the bare one every few handlers, each round in a rotated order) so the
machine's noise hits both alike; each figure is the median of its samples. The same samples'
CPU time (`time.process_time`) is reported too (`*_cpu_*`): on a busy machine it moves much less
than wall time, so it is a cross-check of the ratio.

`first_call` invokes representative handlers (ApplyStage, PlanShift, CheckGates) twice in a fresh
process right after their import, with canned AWS answers (a botocore `before-call` hook, no
network; X-Ray still records each call): the first invocation minus the second is what a
container's first call pays on top of the cold init, with two parts measured inside it: creating
the AWS clients (`clients_ms`, lazy and once per container) and building the pydantic models that
are built on first use (`deferred_models_ms`, `deferred_models`).

    python -m bench.cold_init                  # table; --runs N, --functions DIR (another checkout)
    python -m bench.cold_init --importtime steps.apply_stage   # `-X importtime`, top self times
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.first_call import first_calls

REPO = Path(__file__).resolve().parents[1]
FUNCTIONS = REPO / "functions"
SHOP_YAML = REPO / "topologies" / "shop.yaml"
REGION = "us-east-1"

# The values the step settings models read (CDK sets only the names a step's model declares).
STEP_ENV_VALUES = {
    "TABLE_NAME": "switchyard-shop",
    "LOCK_TABLE": "switchyard-shop-lock",
    "LOCK_REGION": "us-east-1",
    "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:x",
    "STATE_MACHINE_PREFIX": "arn:aws:states:us-east-1:123456789012:stateMachine:switchyard-shop-",
}

LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "switchyard-bench",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "LANG": "C.UTF-8",
    "TZ": ":UTC",
}

_CHILD = """\
import sys, time
t0, c0 = time.perf_counter(), time.process_time()
{body}
t1, c1 = time.perf_counter(), time.process_time()
sys.stdout.write(repr(((t1 - t0) * 1000.0, (c1 - c0) * 1000.0)))
"""

BARE_BODY = 'import os\nimport boto3\n_client = boto3.client("dynamodb", region_name=os.environ["AWS_REGION"])'
BARE = "(bare boto3)"


def _handler_body(module: str) -> str:
    return f"import {module}\nassert callable({module}.handler)"


def _stage_topology(workdir: Path) -> Path:
    """The JSON copy of the example topology, as CDK stages it next to the code (TOPOLOGY_FILE)."""
    if str(FUNCTIONS) not in sys.path:
        sys.path.insert(0, str(FUNCTIONS))
    from switchyard.topology import load_topology

    target = workdir / "topology.json"
    topo = load_topology(SHOP_YAML)
    target.write_text(json.dumps(topo.model_dump(mode="json", exclude_none=True), indent=2) + "\n", encoding="utf-8")
    return target


def _steps(functions: Path) -> list[tuple[str, str, list[str]]]:
    """(name, module, env var names) of every step, read from the registry of `functions`."""
    probe = (
        "import json\nfrom steps import STEPS, RUNTIME_ENV\nfrom switchyard.settings import env_var_names\n"
        "print(json.dumps({'steps': [[s.name, s.module, env_var_names(s.env)] for s in STEPS],"
        " 'runtime': RUNTIME_ENV}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env={**_base_env(functions), **STEP_ENV_VALUES},
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout)
    _RUNTIME_ENV.clear()
    _RUNTIME_ENV.update(data["runtime"])
    return [(name, module, names) for name, module, names in data["steps"]]


_RUNTIME_ENV: dict[str, str] = {}


def _base_env(functions: Path) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LAMBDA_TASK_ROOT": str(functions),
        "PYTHONPATH": str(functions),
        **LAMBDA_ENV,
        **_RUNTIME_ENV,
    }
    return env


def _run_child(body: str, env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall ms, CPU ms) of the body in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", _CHILD.format(body=body)], env=env, cwd=cwd, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"benchmark child failed ({out.returncode}):\n{out.stderr[-3000:]}")
    wall, cpu = ast.literal_eval(out.stdout.strip().splitlines()[-1])
    return float(wall), float(cpu)


def measure(
    runs: int = 7,
    *,
    functions: Path | str = FUNCTIONS,
    bare_per_round: int = 8,
    first_call: bool = True,
    progress: bool = False,
) -> dict[str, Any]:
    """Median cold init (ms) of every step handler and of the bare boto3 handler, in one run."""
    if runs < 5:
        raise ValueError("runs must be at least 5 (the figure is a median over fresh processes)")
    functions = Path(functions).resolve()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="switchyard-bench-") as tmp:
        topology_file = _stage_topology(Path(tmp))
        steps = _steps(functions)
        base = _base_env(functions)
        values = {**STEP_ENV_VALUES, "TOPOLOGY_FILE": str(topology_file)}
        jobs: dict[str, tuple[str, dict[str, str]]] = {BARE: (BARE_BODY, base)}
        for name, module, names in steps:
            jobs[name] = (_handler_body(module), {**base, **{n: values[n] for n in names}})

        # Warm-up (discarded): byte-compile everything once, fill the OS page cache.
        every_env = {**base, **values}
        _run_child(BARE_BODY, every_env, functions)
        _run_child("\n".join(f"import {module}" for _, module, _ in steps), every_env, functions)

        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in jobs}
        handler_names = [name for name, _, _ in steps]
        every = max(1, round(len(handler_names) / bare_per_round))
        for round_no in range(runs):
            # Rotate the order each round so no handler always follows the same neighbour.
            shift = (round_no * 7) % len(handler_names)
            order = handler_names[shift:] + handler_names[:shift]
            for i, name in enumerate(order):
                if i % every == 0:
                    samples[BARE].append(_run_child(*jobs[BARE], functions))
                samples[name].append(_run_child(*jobs[name], functions))
            if progress:
                print(f"  round {round_no + 1}/{runs} done ({time.perf_counter() - started:.0f} s)", file=sys.stderr)

        first = first_calls(functions, base, values) if first_call else {}

    wall = {name: [w for w, _ in values_] for name, values_ in samples.items()}
    cpu = {name: [c for _, c in values_] for name, values_ in samples.items()}
    medians = {name: round(statistics.median(v), 1) for name, v in wall.items()}
    cpu_medians = {name: round(statistics.median(v), 1) for name, v in cpu.items()}
    bare, bare_cpu = medians.pop(BARE), cpu_medians.pop(BARE)
    worst = max(medians, key=lambda name: medians[name])
    worst_cpu = max(cpu_medians, key=lambda name: cpu_medians[name])
    return {
        "cold_init_ms": medians,
        "bare_boto3_ms": bare,
        "cold_init_ratio_max": round(medians[worst] / bare, 3),
        "worst_handler": worst,
        "runs": runs,
        "bare_samples": len(samples[BARE]),
        "cold_init_min_ms": {name: round(min(v), 1) for name, v in wall.items() if name != BARE},
        "cold_init_max_ms": {name: round(max(v), 1) for name, v in wall.items() if name != BARE},
        "bare_boto3_min_max_ms": [round(min(wall[BARE]), 1), round(max(wall[BARE]), 1)],
        # The same samples' CPU time (time.process_time): much less sensitive to other processes
        # on a busy machine than wall time, so a cross-check of the ratio.
        "cold_init_cpu_ms": cpu_medians,
        "bare_boto3_cpu_ms": bare_cpu,
        "cold_init_cpu_ratio_max": round(cpu_medians[worst_cpu] / bare_cpu, 3),
        "worst_handler_cpu": worst_cpu,
        "first_call": first,
        "python": sys.version.split()[0],
        "seconds": round(time.perf_counter() - started, 1),
    }


# -- command line -------------------------------------------------------------------------------


def importtime(module: str, functions: Path | str = FUNCTIONS, top: int = 25) -> str:
    """`python -X importtime` of one handler (or `bare`) in the benchmark's environment."""
    functions = Path(functions).resolve()
    with tempfile.TemporaryDirectory(prefix="switchyard-bench-") as tmp:
        topology_file = _stage_topology(Path(tmp))
        _steps(functions)
        env = {**_base_env(functions), **STEP_ENV_VALUES, "TOPOLOGY_FILE": str(topology_file)}
        body = BARE_BODY if module == "bare" else _handler_body(module)
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", body],
            env=env,
            cwd=functions,
            capture_output=True,
            text=True,
            check=False,
        )
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        rows.append((int(self_us), int(cumulative), name))
    rows.sort(reverse=True)
    lines = [f"{'self ms':>8} {'cum ms':>8}  module"]
    lines += [f"{s / 1000:8.1f} {c / 1000:8.1f}  {n}" for s, c, n in rows[:top]]
    lines.append(f"{sum(r[0] for r in rows) / 1000:8.1f}           total self time, {len(rows)} modules")
    return "\n".join(lines)


def format_table(result: dict[str, Any]) -> str:
    bare, bare_cpu = result["bare_boto3_ms"], result["bare_boto3_cpu_ms"]
    cpu = result["cold_init_cpu_ms"]
    lines = [f"{'handler':<20} {'median ms':>10} {'min':>8} {'max':>8} {'/ bare':>7} {'cpu ms':>8} {'/ bare':>7}"]
    for name, ms in sorted(result["cold_init_ms"].items(), key=lambda item: -item[1]):
        lo, hi = result["cold_init_min_ms"][name], result["cold_init_max_ms"][name]
        lines.append(
            f"{name:<20} {ms:>10.1f} {lo:>8.1f} {hi:>8.1f} {ms / bare:>7.2f}"
            f" {cpu[name]:>8.1f} {cpu[name] / bare_cpu:>7.2f}"
        )
    lo, hi = result["bare_boto3_min_max_ms"]
    lines.append(f"{'bare boto3':<20} {bare:>10.1f} {lo:>8.1f} {hi:>8.1f} {1:>7.2f} {bare_cpu:>8.1f} {1:>7.2f}")
    lines.append(
        f"worst: {result['worst_handler']}  ratio {result['cold_init_ratio_max']:.3f} (goal <= 1.3);"
        f" CPU time: {result['worst_handler_cpu']} {result['cold_init_cpu_ratio_max']:.3f};"
        f" {result['runs']} runs per handler, {result['bare_samples']} bare samples, {result['seconds']} s"
    )
    for name, first in result.get("first_call", {}).items():
        if "error" in first:
            lines.append(f"first call {name}: probe failed: {first['error']}")
        else:
            lines.append(
                f"first call {name}: {first['first_call_ms']:.1f} ms, second {first['second_call_ms']:.1f} ms:"
                f" {first['first_call_extra_ms']:.1f} ms paid once, of which creating clients"
                f" {first['clients_ms']:.1f} ms, building deferred models {first['deferred_models_ms']:.1f} ms"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--functions", default=str(FUNCTIONS), help="the functions/ directory to measure")
    parser.add_argument("--no-first-call", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the result as JSON too")
    parser.add_argument("--importtime", metavar="MODULE", help="profile one module's import (or 'bare') and exit")
    args = parser.parse_args(argv)
    if args.importtime:
        print(importtime(args.importtime, args.functions))
        return 0
    result = measure(args.runs, functions=args.functions, first_call=not args.no_first_call, progress=True)
    print(format_table(result))
    if args.json:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
