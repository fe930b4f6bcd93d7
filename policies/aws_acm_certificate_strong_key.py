def policy(resource):
    algorithm = str(resource.get("KeyAlgorithm") or "")
    if algorithm.startswith("RSA-") or algorithm.startswith("RSA_"):
        bits = algorithm[4:]
        return bits.isdigit() and int(bits) >= 2048
    return True
