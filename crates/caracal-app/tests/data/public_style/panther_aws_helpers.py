"""A minimal copy of the public module's resource lookup (boto3 table read lazily);
caracal answers `resource_lookup` from its store, tests mock it."""

import boto3

_TABLE = None


class BadLookup(Exception):
    """The resource is unknown."""


def resource_table():
    global _TABLE  # pylint: disable=global-statement
    if _TABLE is None:
        _TABLE = boto3.resource("dynamodb").Table("panther-resources")
    return _TABLE


def resource_lookup(resource_id):
    response = resource_table().get_item(Key={"id": resource_id})
    if "Item" not in response:
        raise BadLookup(resource_id + " not found")
    return response["Item"]["attributes"]


def s3_lookup_by_name(name):
    return resource_lookup("arn:aws:s3:::" + name)
