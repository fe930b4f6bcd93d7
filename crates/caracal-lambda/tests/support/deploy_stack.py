"""Deploys a CloudFormation template on the emulator and prints what happened as JSON.

Usage: deploy_stack.py ENDPOINT TEMPLATE STACK_NAME [KEY=VALUE ...]

Prints {"status", "reason", "resources": [{"logical", "type", "status", "physical"}],
"unsupported": [types the emulator skipped]}. Exits 0 whenever the emulator answered,
so the Rust test asserts on the content.
"""

import json
import sys
import time
import warnings

import boto3


def main():
    endpoint, template, stack = sys.argv[1:4]
    parameters = [
        {"ParameterKey": k, "ParameterValue": v}
        for k, v in (arg.split("=", 1) for arg in sys.argv[4:])
    ]
    cfn = boto3.client(
        "cloudformation",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with open(template, encoding="utf-8") as f:
        body = f.read()
    cfn.create_stack(
        StackName=stack,
        TemplateBody=body,
        Parameters=parameters,
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    # moto creates stacks synchronously; the loop only guards a slower emulator.
    for _ in range(120):
        described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        if not described["StackStatus"].endswith("IN_PROGRESS"):
            break
        time.sleep(0.5)
    resources = cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    declared = _declared_types(body)
    created = {r["LogicalResourceId"] for r in resources if r.get("LogicalResourceId")}
    unsupported = sorted({t for logical, t in declared.items() if logical not in created})
    print(
        json.dumps(
            {
                "status": described["StackStatus"],
                "reason": described.get("StackStatusReason"),
                "resources": [
                    {
                        "logical": r.get("LogicalResourceId", ""),
                        "type": r.get("ResourceType", ""),
                        "status": r.get("ResourceStatus", ""),
                        "physical": r.get("PhysicalResourceId", ""),
                    }
                    for r in resources
                ],
                "unsupported": unsupported,
            }
        )
    )


def _declared_types(body):
    """Logical id -> type of every resource in the template (top-level keys only)."""
    types = {}
    in_resources = False
    logical = None
    for line in body.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            in_resources = line.startswith("Resources:")
            continue
        if not in_resources:
            continue
        if line.startswith("  ") and not line.startswith("   ") and line.rstrip().endswith(":"):
            logical = line.strip()[:-1]
        elif logical and line.strip().startswith("Type:") and line.startswith("    ") and not line.startswith("     "):
            types[logical] = line.split(":", 1)[1].strip()
    return types


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    main()
