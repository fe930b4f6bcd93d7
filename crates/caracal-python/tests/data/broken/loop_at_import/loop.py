while True:
    pass


def policy(resource):
    return True
