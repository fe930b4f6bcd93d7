import caracal_no_such_module  # not installed anywhere


def rule(event):
    return caracal_no_such_module.matches(event)
