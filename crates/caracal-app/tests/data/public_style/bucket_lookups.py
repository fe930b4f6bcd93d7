from panther_aws_helpers import resource_lookup, s3_lookup_by_name


def policy(resource):
    # Looks up another resource (the account's root user) and the bucket itself by name,
    # through the public helper names.
    root = resource_lookup(f"arn:aws:iam::{resource['AccountId']}:root")
    same = s3_lookup_by_name(resource["Name"])
    return root["ResourceType"] == "AWS.IAM.RootUser" and same["Name"] == resource["Name"]
