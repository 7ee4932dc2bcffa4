"""Small template fixes that keep the synthesized templates cfn-lint clean."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam


def depend_on_role_policy_only(resource: cdk.CfnResource, role: iam.IRole) -> None:
    """CDK makes a function (or state machine) DependsOn its role *and* the role's default policy.

    The role is already implied by `Fn::GetAtt Role.Arn` (cfn-lint W3005, aws/aws-cdk#24578);
    the policy is not and must stay, so the resource is not invoked before it may act.
    Call after the last statement was added to the role.
    """
    policy = role.node.try_find_child("DefaultPolicy")
    if policy is None or policy.node.default_child is None:
        resource.add_deletion_override("DependsOn")
        return
    resource.add_override("DependsOn", [cdk.Stack.of(resource).get_logical_id(policy.node.default_child)])
