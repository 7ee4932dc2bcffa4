"""Small template fixes that keep the synthesized templates cfn-lint clean."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import IConstruct


def cfn_resource(construct: IConstruct) -> cdk.CfnResource:
    """The CloudFormation resource behind an L2 construct (its default child)."""
    child = construct.node.default_child
    if not isinstance(child, cdk.CfnResource):
        raise TypeError(f"{construct.node.path}: no CloudFormation resource behind it (default child is {child!r})")
    return child


def depend_on_role_policy_only(construct: IConstruct, role: iam.IRole) -> None:
    """CDK makes a function (or state machine) DependsOn its role *and* the role's default policy.

    The role is already implied by `Fn::GetAtt Role.Arn` (cfn-lint W3005, aws/aws-cdk#24578);
    the policy is not and must stay, so the resource is not invoked before it may act.
    `construct` is the function or state machine (L2); call after the last statement was added
    to the role.
    """
    resource = cfn_resource(construct)
    policy = role.node.try_find_child("DefaultPolicy")
    if policy is None or policy.node.default_child is None:
        resource.add_deletion_override("DependsOn")
        return
    resource.add_override("DependsOn", [cdk.Stack.of(resource).get_logical_id(cfn_resource(policy))])
