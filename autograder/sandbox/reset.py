"""Reset the student's interpreter between running the notebook and probing it.

:func:`snapshot` records, before any cell runs, what the checks rely on;
:func:`fresh_checks` puts it back afterwards and imports the checks again from
disk, so nothing the notebook patched (``assert`` helpers, numpy, the checks, the
profiler hooks the delegation watch uses) takes part in judging it.
"""

import importlib
import sys


def snapshot():
    """What the checks rely on, as it was before the notebook ran: the import machinery, the profiler
    hooks of ``sys``, and the namespaces of ``builtins`` and of numpy's modules."""
    modules = {name: dict(vars(module)) for name, module in list(sys.modules.items())
               if module is not None and (name == "builtins" or name == "numpy" or name.startswith("numpy."))}
    hooks = {name: getattr(sys, name) for name in ("setprofile", "getprofile", "settrace", "gettrace")}
    return list(sys.meta_path), list(sys.path_hooks), list(sys.path), modules, hooks


def fresh_checks(saved):
    """Undo what the notebook may have patched — the import machinery, ``sys``'s hooks, builtins,
    numpy — drop every nbbackprop module and import the checks again from disk, which the student's
    process cannot write. Returns ``(nbbackprop.checks, nbbackprop.checks.engine)`` as fresh modules.
    (Objects the notebook created stay; only the checks' tools are reset.)"""
    meta_path, path_hooks, path, modules, hooks = saved
    sys.meta_path[:], sys.path_hooks[:], sys.path[:] = meta_path, path_hooks, path
    sys.path_importer_cache.clear()
    for name, attribute in hooks.items():
        setattr(sys, name, attribute)
    sys.setprofile(None)
    for name, namespace in modules.items():
        module = sys.modules.get(name)
        if module is not None:  # every name the checks could use is put back; names added are harmless
            module.__dict__.update(namespace)
    for name in [name for name in sys.modules if name == "nbbackprop" or name.startswith("nbbackprop.")]:
        del sys.modules[name]
    return importlib.import_module("nbbackprop.checks"), importlib.import_module("nbbackprop.checks.engine")
