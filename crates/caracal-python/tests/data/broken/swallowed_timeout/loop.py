def rule(event):
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass
