"""Serves the Python modules the caracal binary carries (the files beside this one, each
embedded with `include_str!` in src/interp.rs) to `import`, from memory.

Run first, by the Rust side, as the module `_caracal_embedded`; `install` puts a finder in
front of `sys.meta_path`. Modules keep their path as file name (`<caracal>/` + path), and
the finder gives their source to tracebacks.
"""

import importlib.abc
import importlib.util
import sys


class EmbeddedFinder(importlib.abc.MetaPathFinder, importlib.abc.InspectLoader):
    """Finds and loads modules from {path relative to python/: source}."""

    def __init__(self, files):
        self.modules = {}  # module name -> (source, file name, is a package)
        for path, source in files.items():
            if not path.endswith(".py"):
                raise ValueError(f"embedded module {path!r} is not a .py file")
            name = path[: -len(".py")].replace("/", ".")
            package = name == "__init__" or name.endswith(".__init__")
            if package:
                name = name[: -len(".__init__")]
            self.modules[name] = (source, "<caracal>/" + path, package)

    def find_spec(self, name, path=None, target=None):
        found = self.modules.get(name)
        if found is None:
            return None
        spec = importlib.util.spec_from_loader(name, self, origin=found[1], is_package=found[2])
        spec.has_location = True  # __file__ is the origin
        return spec

    def _module(self, name):
        found = self.modules.get(name)
        if found is None:
            raise ImportError(f"no embedded module {name!r}", name=name)
        return found

    def get_source(self, name):
        return self._module(name)[0]

    def is_package(self, name):
        return self._module(name)[2]

    def get_code(self, name):
        source, filename, _ = self._module(name)
        return compile(source, filename, "exec", dont_inherit=True)


def install(files):
    """Makes the modules of `files` ({"pkg/__init__.py": source, ...}) importable, in
    front of every other finder; returns the finder."""
    finder = EmbeddedFinder(files)
    sys.meta_path.insert(0, finder)
    return finder
