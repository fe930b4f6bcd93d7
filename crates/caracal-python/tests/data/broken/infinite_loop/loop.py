def rule(event):
    n = 0
    while True:
        n += 1
