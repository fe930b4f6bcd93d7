def rule(event):
    return event.get("eventName") == "ConsoleLogin"


def title(event):
    return f"Login by {event.get('user')}"


def severity(event):
    # Compares None with None when the event has no score: a TypeError.
    return "HIGH" if event.get("score") > event.get("baseline") else "LOW"
