"""cdk-nag (v3) wiring and the few acknowledgments Switchyard makes.

cdk-nag 3 runs as a CDK policy-validation plugin (`Validations.of(app).add_plugins(...)`); a
finding fails `cdk synth`. A finding is acknowledged with `Validations.of(construct).acknowledge`
and a written reason; wildcard findings (AwsSolutions-IAM5) are acknowledged one by one, in the
exact form cdk-nag prints them (`Resource::<rendered ARN>`, see flatten_cfn_reference), where
the statement is made (infra/access.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

PACK = "AwsSolutions"


def apply_nag(app: cdk.App) -> None:
    from cdk_nag import AwsSolutionsChecks  # dev dependency (requirements-dev.txt)

    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one AwsSolutions finding (`IAM5[Resource::*]`, `L1`, ...) on scope and below."""
    if len(reason) < 40:
        raise ValueError(f"cdk-nag acknowledgment {rule}: give a specific reason, not {reason!r}")
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=f"{PACK}::{PACK}-{rule}", reason=reason))


def flatten_cfn_reference(node: Any) -> str:
    """Render a resolved CloudFormation value the way cdk-nag names its findings.

    Mirrors cdk-nag's flattenCfnReference: Fn::Join is joined, Ref becomes <Name>, Fn::GetAtt
    becomes <Resource.Attribute>, `${` in Fn::Sub strings becomes `<`.
    """
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        for intrinsic, render in _INTRINSICS.items():
            if intrinsic in node:
                return render(node[intrinsic])
    return json.dumps(node, separators=(",", ":"))


def _join(args: Any) -> str:
    delimiter, items = args
    return delimiter.join(flatten_cfn_reference(item) for item in items)


def _get_att(args: Any) -> str:
    resource, attribute = args
    return f"<{flatten_cfn_reference(resource)}.{flatten_cfn_reference(attribute)}>"


_INTRINSICS: dict[str, Callable[[Any], str]] = {
    "Fn::Join": _join,
    "Fn::Sub": flatten_cfn_reference,
    "Fn::GetAtt": _get_att,
    "Fn::ImportValue": flatten_cfn_reference,
    "Ref": lambda name: f"<{flatten_cfn_reference(name)}>",
}
