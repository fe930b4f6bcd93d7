def policy(resource):
    return resource.get("EbsEncryptionByDefault") is True
