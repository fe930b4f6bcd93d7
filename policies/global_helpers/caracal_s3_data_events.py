"""Whether a CloudTrail summary (AWS.CloudTrail.Meta) logs S3 object data events for
every bucket, for reads or writes (CIS 3.8 / 3.9). Importable as caracal_s3_data_events."""

ALL_BUCKETS = ("arn:aws:s3", "arn:aws:s3:::")


def _classic(selector, kind):
    if selector.get("ReadWriteType") not in ("All", kind):
        return False
    return any(
        d.get("Type") == "AWS::S3::Object" and any(v in ALL_BUCKETS for v in d.get("Values") or [])
        for d in selector.get("DataResources") or []
    )


def _advanced(selector, kind):
    fields = {f.get("Field"): f for f in selector.get("FieldSelectors") or []}

    def equals(name):
        return (fields.get(name) or {}).get("Equals") or []

    if "Data" not in equals("eventCategory") or "AWS::S3::Object" not in equals("resources.type"):
        return False
    if "resources.ARN" in fields:
        # Limited to some buckets or prefixes.
        return False
    read_only = equals("readOnly")
    if not read_only:
        return True
    wanted = "true" if kind == "ReadOnly" else "false"
    return wanted in [str(v).lower() for v in read_only]


def logs_s3_data_events(meta, kind):
    """True when a multi-region, logging trail records `kind` ("ReadOnly" or "WriteOnly")
    S3 object events for all buckets."""
    return any(_classic(s, kind) for s in meta.get("GlobalEventSelectors") or []) or any(
        _advanced(s, kind) for s in meta.get("GlobalAdvancedEventSelectors") or []
    )
