"""Layers: no module of the library outside switchyard.aws creates or receives an AWS client.

The domain modules orchestrate the adapters in switchyard/aws/ (the tables, the topic, the
executions, the load balancers, DNS, ...), which alone call botocore, each with its region and
timeouts named. What a domain module may take from switchyard.aws.clients is error translation
(and the timeouts it hands an adapter), never a client.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import switchyard

LIBRARY = Path(switchyard.__file__).resolve().parent
# What a domain module may import from switchyard.aws.clients.
ALLOWED_FROM_CLIENTS = {"aws_errors", "ConditionFailed", "Timeouts", "DEFAULT", "SHORT"}
# Names the library gives a client it holds: a parameter so named is a client passed in.
CLIENT_PARAMETERS = {"client", "sfn", "ddb", "dynamodb", "sns", "ssm", "r53", "route53", "elb", "elbv2", "rds", "cw"}


def violations(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        line = f"{path.name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.ImportFrom) and node.module == "switchyard.aws.clients":
            found += [f"{line}: imports {a.name}" for a in node.names if a.name not in ALLOWED_FROM_CLIENTS]
        elif isinstance(node, ast.ImportFrom) and node.module == "switchyard.aws":
            found += [f"{line}: imports the clients module" for a in node.names if a.name == "clients"]
        elif isinstance(node, ast.Import):
            found += [
                f"{line}: imports {a.name}"
                for a in node.names
                if a.name in ("boto3", "switchyard.aws.clients", "botocore.session")
            ]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in ("client", "create_client"):
                found.append(f"{line}: calls {name}(")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            found += [
                f"{line}: {node.name}() takes a client ({a.arg})" for a in arguments if a.arg in CLIENT_PARAMETERS
            ]
    return found


def _modules() -> list[Path]:
    """Every library module but the adapters' (failover/ and any other subpackage included)."""
    return sorted(p for p in LIBRARY.rglob("*.py") if "aws" not in p.relative_to(LIBRARY).parts)


def test_the_check_sees_a_client_made_or_passed_in(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from switchyard.aws.clients import aws_errors, client\n"
        "from switchyard.aws import clients\n"
        "def read(sfn, arn):\n"
        "    return clients.client('stepfunctions', 'us-east-1')\n"
    )
    assert violations(sample) == [
        "sample.py:1: imports client",
        "sample.py:2: imports the clients module",
        "sample.py:3: read() takes a client (sfn)",
        "sample.py:4: calls client(",
    ]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(LIBRARY)))
def test_no_domain_module_creates_or_receives_a_client(path: Path) -> None:
    assert violations(path) == []
