"""Gates: what a rule's first statement says about the events it can match.

Most CloudTrail rules open with a test of one or two top-level fields, such as

    if event.get("eventName") != "CreateAccessKey" or not succeeded(event):
        return False

or `return event.get("eventSource") == "kms.amazonaws.com" and ...`, or a helper like
`api_call(event, "iam.amazonaws.com", {"CreateRole"})` whose own body is such a test.
`gate(det)` reads that test from the rule's source and returns {field: allowed values}:
for an event whose `event.get(field)` is not among them, the rule returns False without
doing anything else, so the batch loop need not call it. Only tests that cannot raise
and have no side effect are read (`event.get` of a constant key compared with `==`,
`!=`, `in`, `not in` against string constants or a module constant holding strings),
and only those the rule evaluates before anything else; anything else gives no gate and
the rule runs on every event of its log types, as before.
"""

import ast
import functools
import inspect

from .imports import finder

# A gate's allowed values are JSON strings: a value of another type never equals them.
_MAX_ALLOWED = 10_000


def gate(main, source, module_globals):
    """{field: frozenset(values)} that `main` (the rule function compiled from `source`)
    requires, or None when its first statement says nothing certain."""
    if getattr(main, "__globals__", None) is not module_globals:
        return None  # imported from elsewhere: not the text we have
    facts = _module_facts(source)
    if facts is None:
        return None
    tree, safe = facts
    func = _function_node(main, tree)
    if func is None:
        return None
    args = func.args
    if args.posonlyargs or args.kwonlyargs or args.vararg or args.kwarg or len(args.args) != 1:
        return None
    reader = _Reader(args.args[0].arg, {}, _Constants(safe, module_globals))
    first = _first_statement(func)
    found = reader.statement(first) if first is not None else None
    return found or None


# A generator or coroutine function returns an object, not False: never gated.
_NOT_PLAIN = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE


def _function_node(main, tree):
    """The module-level `def` node of `tree` that `main` was compiled from, or None
    (decorated, nested, redefined later, a generator, or compiled from other text)."""
    code = getattr(main, "__code__", None)
    if code is None or getattr(main, "__wrapped__", None) is not None:
        return None
    if code.co_flags & _NOT_PLAIN:
        return None
    found = None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == main.__name__:
            found = node  # the last definition wins, as at run time
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Import, ast.ImportFrom)):
            names = _bound_names(node)
            if main.__name__ in names:
                found = None
    if found is None or isinstance(found, ast.AsyncFunctionDef) or found.decorator_list:
        return None
    if found.lineno != code.co_firstlineno:
        return None
    return found


def _bound_names(node):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return {t.id for t in targets if isinstance(t, ast.Name)}


@functools.lru_cache(maxsize=256)
def _module_facts(source):
    """(tree, names safe to read as constants) of a module's source, or None when it does
    not parse. Cached: the global helper modules are read once, not once per rule."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    return tree, frozenset(_constant_names(tree))


def _constant_names(tree):
    """The module constants a gate may read: names bound once at the top of the module,
    never named by a `global` statement, and never the object of an attribute access or
    item assignment (no `.add`, `.append`, `[k] = v`), so their values stay what they
    were when the rule was compiled."""
    bound = {}
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Import, ast.ImportFrom)):
            for name in _bound_names(node):
                bound[name] = bound.get(name, 0) + 1
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound[node.name] = bound.get(node.name, 0) + 1
    unsafe = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            unsafe.update(node.names)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            unsafe.add(node.value.id)
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                unsafe.add(node.value.id)
        elif isinstance(node, (ast.For, ast.With, ast.NamedExpr, ast.AugAssign)):
            unsafe.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    return {name for name, n in bound.items() if n == 1 and name not in unsafe}


class _Constants:
    """The values of a module's safe constant names (see `_constant_names`)."""

    def __init__(self, safe, module_globals):
        self.safe = safe
        self.globals = module_globals

    def get(self, name):
        """The value of constant `name`, or None when it may change."""
        if name not in self.safe:
            return None
        return self.globals.get(name)


def _leading(operands, read):
    """The gates of the operands before the first one `read` can't vouch for: the
    operands after it may never be evaluated."""
    gates = {}
    for operand in operands:
        found = read(operand)
        if found is None:
            break
        _merge(gates, found)
    return gates


def _merge(into, more):
    """Both gates hold: intersect the allowed values of a field named twice."""
    for field, allowed in more.items():
        into[field] = into[field] & allowed if field in into else allowed
    return into


class _Reader:
    """Reads gates from the AST of one function body whose event parameter is `event`;
    `bound` maps other parameter names to their (constant) values at the call."""

    def __init__(self, event, bound, constants, depth=0):
        self.event = event
        self.bound = bound
        self.constants = constants
        self.depth = depth

    def statement(self, node):
        """Gates of the function's first statement."""
        # `if <test>: return False` (no else): every leading pure operand of an `or`
        # test that is true makes the rule return False.
        if (
            isinstance(node, ast.If)
            and not node.orelse
            and len(node.body) == 1
            and isinstance(node.body[0], ast.Return)
            and _is_false(node.body[0].value)
        ):
            operands = node.test.values if _is_bool_op(node.test, ast.Or) else [node.test]
            return _leading(operands, self.negative)
        # `return <a> and <b> ...`: every leading pure operand must hold.
        if isinstance(node, ast.Return) and node.value is not None:
            return self.positive_chain(node.value)
        return None

    def positive_chain(self, expr):
        operands = expr.values if _is_bool_op(expr, ast.And) else [expr]
        return _leading(operands, self.positive)

    def negative(self, expr):
        """Gates implied by `expr` being false, when `expr` is pure."""
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
            return self.positive(expr.operand)
        return self._compare(expr, ast.NotEq, ast.NotIn)

    def positive(self, expr):
        """Gates implied by `expr` being true, when `expr` is pure and falsy means False."""
        found = self._compare(expr, ast.Eq, ast.In)
        if found is not None:
            return found
        return self._helper(expr)

    def _compare(self, expr, equal, member):
        if not isinstance(expr, ast.Compare) or len(expr.ops) != 1:
            return None
        left, op, right = expr.left, expr.ops[0], expr.comparators[0]
        if isinstance(op, equal):
            field = self._field(left)
            value = self._constant(right)
            if field is None:
                field, value = self._field(right), self._constant(left)
            if field is None or type(value) is not str:
                return None
            return {field: frozenset((value,))}
        if isinstance(op, member):
            field = self._field(left)
            values = self._constant(right)
            if field is None or type(values) not in (set, frozenset, tuple, list):
                return None
            # Exactly str: a subclass may compare equal to other text.
            if len(values) > _MAX_ALLOWED or not all(type(v) is str for v in values):
                return None
            return {field: frozenset(values)}
        return None

    def _field(self, expr):
        """F for `event.get("F")` (no default), else None."""
        if (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr == "get"
            and isinstance(expr.func.value, ast.Name)
            and expr.func.value.id == self.event
            and len(expr.args) == 1
            and not expr.keywords
        ):
            key = self._constant(expr.args[0])
            return key if type(key) is str else None
        return None

    def _constant(self, expr):
        """The value of a literal, a bound parameter or a module constant; None else."""
        if isinstance(expr, ast.Constant):
            return expr.value
        if isinstance(expr, (ast.Set, ast.Tuple, ast.List)):
            values = [self._constant(e) for e in expr.elts]
            return None if any(v is None for v in values) else tuple(values)
        if isinstance(expr, ast.Name):
            if expr.id in self.bound:
                return self.bound[expr.id]
            value = self.constants.get(expr.id)
            if type(value) in (str, set, frozenset, tuple, list):
                return value
        return None

    def _helper(self, expr):
        """Gates of `helper(event, <constants>...)` where `helper` is a function of a
        global module whose first statement is `return <positive chain>`."""
        if self.depth > 0 or not isinstance(expr, ast.Call) or expr.keywords:
            return None
        if not isinstance(expr.func, ast.Name) or not expr.args:
            return None
        if not (isinstance(expr.args[0], ast.Name) and expr.args[0].id == self.event):
            return None
        helper = self.constants.get(expr.func.id)
        module = getattr(helper, "__module__", None)
        if module not in finder.sources or not callable(helper):
            return None
        values = [self._constant(a) for a in expr.args[1:]]
        if any(v is None for v in values):
            return None
        facts = _module_facts(finder.sources[module][0])
        if facts is None:
            return None
        helper_tree, helper_safe = facts
        node = _function_node(helper, helper_tree)
        first = _first_statement(node) if node is not None else None
        if not isinstance(first, ast.Return) or first.value is None:
            return None
        params = node.args
        if params.posonlyargs or params.kwonlyargs or params.vararg or params.kwarg or params.defaults:
            return None
        if len(params.args) != len(expr.args):
            return None
        bound = {p.arg: v for p, v in zip(params.args[1:], values)}
        constants = _Constants(helper_safe, getattr(helper, "__globals__", {}))
        reader = _Reader(params.args[0].arg, bound, constants, self.depth + 1)
        gates = reader.positive_chain(first.value)
        return gates or None


def _first_statement(func):
    """The first statement of a function body after its docstring, or None."""
    body = func.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        if isinstance(body[0].value.value, str):
            body = body[1:]
    return body[0] if body else None


def _is_false(expr):
    return isinstance(expr, ast.Constant) and expr.value is False


def _is_bool_op(expr, op):
    return isinstance(expr, ast.BoolOp) and isinstance(expr.op, op)
