"""Compiled detections of one pack and the batch loops the Rust side calls.

`eval_policies` and `eval_rules` take a batch the Rust decoder built (or its JSON text)
and return compact lists read by Rust (src/engine.rs `read_verdicts`, src/outcome.rs).
Their loops are the hot path of the engine: each detection call costs one store into the
watchdog slot and nothing else (see watchdog.py).
"""

import fnmatch
import json
import re
import types

from .alerts import OPTIONAL, alert_fields, optional_slots
from .event import DataModel, PantherEvent, event_class
from .gates import gate
from .lazy import ImmutableDict, event_loads, loads
from .output import capped
from .partial import partial
from .watchdog import PROGRESS_DETECTION, PROGRESS_ITEM, describe, guarded, length_hint, published, sequence, slot


class Detection:
    """One compiled policy or rule and what evaluating it needs."""

    def __init__(self, index, kind, det_id, severity, source, filename, resource_types, log_types, suppressions):
        self.index = index
        self.kind = kind
        self.id = det_id
        self.severity = severity
        self.module = types.ModuleType("caracal_detection_" + re.sub(r"\W", "_", det_id))
        self.module.__file__ = filename
        code = compile(source, filename, "exec")
        guarded(lambda ns: exec(code, ns), self.module.__dict__)
        self.main = getattr(self.module, kind, None)
        if not callable(self.main):
            raise AttributeError(f"{filename} defines no {kind}() function")
        self.optional = {name: getattr(self.module, name) for name in OPTIONAL if callable(getattr(self.module, name, None))}
        self.optional_slots = optional_slots(self.optional.items())
        self.resource_types = frozenset(resource_types or ())
        self.log_types = tuple(log_types or ())
        self.gate = None
        if kind == "rule":
            try:
                self.gate = gate(self.main, source, self.module.__dict__)
            except Exception:  # noqa: BLE001 - a gate is an optimization; none is always correct
                self.gate = None
        pattern = "|".join(fnmatch.translate(g) for g in suppressions or ())
        self.suppress = re.compile(pattern).match if pattern else None


# Distinct gate-field values remembered per log type before the table starts over.
MAX_GATED_KEYS = 4096


class _Failed:
    """The result of a policy call that raised (its message is in the errors list)."""

    __slots__ = ()

    def __repr__(self):
        return "<failed>"


FAILED = _Failed()


class DetectionSkipped(Exception):
    """Raised in place of a detection the supervising process took out of a batch (it
    killed its worker process on an item of the batch)."""


def _skipped(main, message, start, view):
    """`main` on the items before position `start` of the batch; from there on it
    raises `DetectionSkipped(message)` instead."""

    def skipped(subject):
        if view[PROGRESS_ITEM] >= start:
            raise DetectionSkipped(message)
        return main(subject)

    return skipped


def _publishing(main, index, view):
    """`main`, storing `index` in the progress view before each call (precise mode)."""

    def published_call(subject):
        view[PROGRESS_DETECTION] = index
        return main(subject)

    return published_call


class Engine:
    """Compiled detections of one pack, indexed for batch evaluation."""

    def __init__(self):
        self.policies = []
        self.rules = []
        self.data_models = {}
        self.by_log_type = {}
        self.policies_by_type = {}
        self.all_type_policies = []
        self.groups = {}
        self.group_table = []
        self.routes = {}
        self.skipped = {}
        self.precise = False

    def configure(self, skipped, precise):
        """Sets what the next batches run: `skipped` [(kind, index, message, start)]
        raise `DetectionSkipped(message)` from the batch's item `start` on instead of
        running; `precise` publishes the index of each detection before its call
        (slower: what a worker runs after a crash, so that its supervisor learns which
        detection was running)."""
        wanted = {(kind, index): (message, start) for kind, index, message, start in skipped}
        if wanted == self.skipped and bool(precise) == self.precise:
            return
        self.skipped = wanted
        self.precise = bool(precise)
        # Groups and routes hold the functions to call: built again on first use.
        self.groups = {}
        self.group_table = []
        self.routes = {}

    def _callable(self, det):
        """What the batch loops call for `det`: its main function, or a stand-in."""
        main = det.main
        if self.precise:
            main = _publishing(main, det.index, published[0])
        skip = self.skipped.get((det.kind, det.index))
        if skip is not None:
            main = _skipped(main, skip[0], skip[1], published[0])
        return main

    def add_data_model(self, model_id, log_types, mappings, source, filename):
        """Compiles a data model (`mappings`: its JSON list) for `log_types`."""
        module = None
        if source is not None:
            module = types.ModuleType("caracal_datamodel_" + re.sub(r"\W", "_", model_id))
            module.__file__ = filename
            code = compile(source, filename, "exec")
            guarded(lambda ns: exec(code, ns), module.__dict__)
        model = DataModel(model_id, json.loads(mappings), module)
        for lt in log_types:
            self.data_models[lt] = model
        self.routes = {}

    def add_detection(self, kind, det_id, severity, source, filename, resource_types, log_types, suppressions):
        """Compiles a policy or rule; returns its index among the engine's policies or
        rules. Raises what its module raises (a missing import, a syntax error)."""
        index = len(self.policies) if kind == "policy" else len(self.rules)
        det = Detection(index, kind, det_id, severity, source, filename, resource_types, log_types, suppressions)
        if kind == "policy":
            self.policies.append(det)
            if det.resource_types:
                for rt in det.resource_types:
                    self.policies_by_type[rt] = self.policies_by_type.get(rt, ()) + (det,)
            else:
                self.all_type_policies.append(det)
        else:
            self.rules.append(det)
            for lt in det.log_types:
                self.by_log_type.setdefault(lt, []).append(det)
            self.routes = {}
        return index

    def detection(self, kind, index):
        """The policy or rule at `index`."""
        return (self.policies if kind == "policy" else self.rules)[index]

    def _policy_group(self, resource_type):
        """The policies that apply to a resource type, numbered once per engine.

        Returns (group number, (policy(), ...), (suppress or None, ...) or None)."""
        dets = self.policies_by_type.get(resource_type, ()) + tuple(self.all_type_policies)
        suppress = tuple(d.suppress for d in dets) if any(d.suppress is not None for d in dets) else None
        group = (len(self.group_table), tuple(self._callable(d) for d in dets), suppress)
        self.group_table.append([d.index for d in dets])
        self.groups[resource_type] = group
        return group

    def eval_policies(self, resources):
        """Runs the applicable policies on every resource; compact on purpose.

        `resources`: the list the Rust side decoded, or its JSON text. Returns (groups,
        rows, results, errors, suppressed): groups [[policy index, ...], ...] lists the
        applicable policies of each resource type; rows has one group number per
        resource; results one value per applicable resource x policy in that order
        (what policy() returned, `FAILED` when it raised); errors [(result position,
        "Type: message")]; suppressed the result positions whose resource id a
        `Suppressions` glob matches. The Rust side turns results into statuses.
        """
        if type(resources) is not list:
            resources = loads(resources)
        rows = []
        row = rows.append
        results = []
        push = results.append
        errors = []
        suppressed = []
        groups = self.groups
        current = slot()
        view = published[0]
        try:
            with capped():
                for ri, res in enumerate(resources):
                    view[PROGRESS_ITEM] = ri
                    rt = res.get("ResourceType")
                    group = groups.get(rt) or self._policy_group(rt)
                    row(group[0])
                    res = partial(res)
                    # The watchdog times each call by this iterator's progress.
                    current[0] = it = iter(group[1])
                    for main in it:
                        try:
                            push(main(res))
                        except BaseException as exc:  # noqa: BLE001 - every failure is an ERROR status
                            errors.append((len(results), describe(exc)))
                            push(FAILED)
                    if group[2] is not None:
                        rid = res.get("ResourceId") or ""
                        first = len(results) - len(group[2])
                        for k, suppress in enumerate(group[2]):
                            if suppress is not None and suppress(rid):
                                suppressed.append(first + k)
        finally:
            current[0] = 0
        return self.group_table, rows, results, errors, suppressed

    def _route(self, log_type):
        """(event class, (rule(), ...) or None, (Detection, ...), gated) for one log type,
        built once. `gated` is None, or (gate fields, {field values: (rules, dets)}) when
        some rules have gates (gates.py): then an event runs only the rules its values of
        those fields can match. Not while detections are skipped or published one by one,
        whose stand-ins must run on every event."""
        rules = self.by_log_type.get(log_type)
        cls = event_class(self.data_models.get(log_type))
        if not rules:
            route = (cls, None, (), None)
        else:
            gated = None
            fields = sorted({f for d in rules if d.gate for f in d.gate})
            if fields and not self.skipped and not self.precise:
                gated = (tuple(fields), {})
            route = (cls, tuple(self._callable(d) for d in rules), tuple(rules), gated)
        self.routes[log_type] = route
        return route

    def _gated(self, route, key):
        """The rules of `route` whose gates admit the field values `key`; cached."""
        fields, table = route[3]
        values = dict(zip(fields, key))
        dets = tuple(
            d for d in route[2] if d.gate is None or all(values[f] in allowed for f, allowed in d.gate.items())
        )
        entry = (tuple(self._callable(d) for d in dets), dets)
        if len(table) >= MAX_GATED_KEYS:
            table.clear()
        table[key] = entry
        return entry

    def eval_rules(self, events):
        """Runs the rules of each event's p_log_type; returns the matches and errors.

        `events`: the list the Rust side decoded, or its JSON text. Returns a list with
        one entry per outcome, read by the Rust side (src/outcome.rs) by the field names
        of alerts.py: an error (`ERROR_FIELDS`, message "rule: Type: message") or an
        alert (`ALERT_FIELDS`).
        """
        if type(events) is not list:
            events = event_loads(events)
        out = []
        current = slot()
        view = published[0]
        n = sequence[0]
        routes = self.routes
        append = out.append
        try:
            with capped():
                for ei, event in enumerate(events):
                    route = routes.get(event.get("p_log_type")) or self._route(event.get("p_log_type"))
                    mains = route[1]
                    if mains is None:
                        continue
                    view[PROGRESS_ITEM] = ei
                    # ImmutableDict -> PantherEvent of the log type's data model, no copy.
                    event.__class__ = route[0]
                    dets = route[2]
                    gated = route[3]
                    if gated is not None:
                        get = event.get
                        key = tuple([get(f) for f in gated[0]])
                        try:
                            entry = gated[1].get(key) or self._gated(route, key)
                        except TypeError:
                            # An unhashable value (a list, an object): every rule runs,
                            # and one that compares it the way its gate does raises.
                            entry = (mains, dets)
                        mains, dets = entry
                    # The watchdog times each call by this iterator's progress.
                    current[0] = it = iter(mains)
                    for main in it:
                        try:
                            result = main(event)
                        except BaseException as exc:  # noqa: BLE001
                            det = dets[len(mains) - length_hint(it) - 1]
                            # An error entry: alerts.ERROR_FIELDS.
                            append([ei, det.index, "rule: " + describe(exc)])
                            continue
                        if result is not False:
                            det = dets[len(mains) - length_hint(it) - 1]
                            if result is True:
                                n = alert_fields(det, event, ei, current, n, append)
                                current[0] = it
                            else:
                                message = f"rule: TypeError: rule() returned {type(result).__name__}, not bool"
                                append([ei, det.index, message])
        finally:
            current[0] = 0
            sequence[0] = n + 1
        return out

    def test_subject(self, det, payload):
        """What a test's Resource / Log becomes before the detection sees it: the same
        objects as in production (a rule's event gets the data model of its `p_log_type`;
        as panther-analysis-tool, a test event without one gets none, even when the rule
        names a single log type)."""
        text = json.dumps(payload if payload is not None else {})
        if det.kind == "rule":
            subject = event_loads(text)
            model = self.data_models.get(subject.get("p_log_type"))
            if type(subject) is ImmutableDict:
                # Already frozen: an event by a class swap, as eval_rules makes it.
                subject.__class__ = event_class(model)
            else:
                subject = PantherEvent(subject, model)
        else:
            subject = partial(loads(text))
        return subject
