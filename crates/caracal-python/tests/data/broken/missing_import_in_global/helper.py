import caracal_no_such_dependency  # not installed anywhere


def helper():
    return caracal_no_such_dependency.value()
