# Runtimes AWS has deprecated (the Lambda runtime deprecation schedule). Extend this set
# as runtimes reach their deprecation date.
DEPRECATED = {
    "nodejs",
    "nodejs4.3",
    "nodejs4.3-edge",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "nodejs18.x",
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    "python3.9",
    "ruby2.5",
    "ruby2.7",
    "java8",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "dotnet5.0",
    "dotnet6",
    "go1.x",
    "provided",
}


def policy(resource):
    runtime = resource.get("Runtime")
    if not runtime:
        return True
    return runtime not in DEPRECATED
