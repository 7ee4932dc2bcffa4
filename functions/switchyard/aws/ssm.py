"""SSM Parameter Store adapter: one parameter's value in one region (the maintenance banner's).

A parameter that does not exist reads as None, not as an error: nothing has written it yet (the
first failover of a deployment creates the banner). What a value means is the caller's business.
"""

from __future__ import annotations

from switchyard.aws.clients import DEFAULT, Timeouts, aws_errors, client


def get_parameter(region: str, name: str, *, timeouts: Timeouts = DEFAULT, action: str | None = None) -> str | None:
    """The parameter's value in `region`, or None when it does not exist there.

    `action` names what the caller was doing, for the step error any other failure raises.
    """
    ssm = client("ssm", region, timeouts)
    with aws_errors(action or f"reading parameter {name} in {region}"):
        try:
            return str(ssm.get_parameter(Name=name)["Parameter"]["Value"])
        except ssm.exceptions.ParameterNotFound:
            return None


def put_parameter(
    region: str, name: str, value: str, *, timeouts: Timeouts = DEFAULT, action: str | None = None
) -> None:
    """Create or overwrite the (String) parameter in `region`."""
    with aws_errors(action or f"writing parameter {name} in {region}"):
        client("ssm", region, timeouts).put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
