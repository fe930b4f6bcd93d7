def get_actor_user(event):
    return event.deep_get("userIdentity", "userName", default="<unknown>")
