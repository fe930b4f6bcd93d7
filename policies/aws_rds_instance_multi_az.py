def policy(resource):
    if resource.get("DBClusterIdentifier") or resource.get("ReadReplicaSourceDBInstanceIdentifier"):
        return True
    return resource.get("MultiAZ") is True
