"""Execution environments: unpack and load the zip, warm reuse, and the sandbox of one run."""

from __future__ import annotations

import ctypes
import importlib.util
import io
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
import weakref
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from lab.localcloud.runtime.model import (
    Environment, RuntimeState, TASK_ROOT, _Discarded, _Fault, _RoutedLogHandler, _RoutedStream,
    _request_id,
)
from lab.localcloud.runtime.workers import WorkerPool

if TYPE_CHECKING:
    from lab.localcloud import LocalCloud


# -- environments -----------------------------------------------------------------------------

def _environment(cloud: LocalCloud, state: RuntimeState, function: Any) -> Environment:
    """The warm environment of ``function``, or a new one (cold start) if the code changed."""
    fingerprint = _fingerprint(function)
    environment = state.environments.get(function.function_arn)
    if environment is not None and environment.fingerprint == fingerprint:
        return environment
    if environment is not None:
        _forget_modules(environment)
    if state.root is None:
        state.root = Path(tempfile.mkdtemp(prefix="eventlab-lambda-"))
        state.cleanup = weakref.finalize(state, shutil.rmtree, str(state.root), True)
    digest = _code_digest(function)
    token = _request_id().replace("-", "")
    name = function.function_name
    environment = Environment(
        fingerprint=fingerprint,
        root=state.root / f"{name}-{digest[:16]}",
        module_name=f"_eventlab_lambda_{token}",
        log_group=f"/aws/lambda/{name}",
        log_stream=f"{cloud.clock.now():%Y/%m/%d}/[{function.version}]{token}",
        workers=WorkerPool(f"lambda:{name}"),
    )
    state.environments[function.function_arn] = environment
    return environment


def _fingerprint(function: Any) -> tuple[Any, ...]:
    variables = json.dumps(function.environment_vars or {}, sort_keys=True, default=str)
    return (id(function), _code_digest(function), function.handler, variables,
            function.memory_size, function.timeout, function.run_time, str(function.version))


def _code_digest(function: Any) -> str:
    return str(getattr(function, "code_digest", "") or getattr(function, "code_sha_256", "")
               or "no-code").replace("/", "_")


def _retire(state: RuntimeState, function: Any) -> None:
    environment = state.environments.pop(function.function_arn, None)
    if environment is not None:
        _forget_modules(environment)


def _forget_modules(environment: Environment) -> None:
    """Retire an environment: its modules leave sys.modules and its idle threads end."""
    environment.workers.close()
    for name, module in environment.siblings.items():
        if sys.modules.get(name) is module:
            del sys.modules[name]
    environment.siblings.clear()
    environment.handler = None


def _load(function: Any, environment: Environment) -> Callable[..., Any]:
    """Unpack the zip (once per code version) and import the handler module under a unique name."""
    runtime = str(function.run_time or "")
    if not runtime.startswith("python"):
        raise _Fault("Runtime.InvalidRuntime",
                     f"The local cloud runs Python functions only; {runtime or 'this package'} "
                     "cannot run here.")
    _unpack(getattr(function, "code_bytes", b""), environment.root)
    sys.path_importer_cache.pop(str(environment.root), None)  # it may predate the folder
    setting = str(function.handler or "")
    module_name, _, attribute = setting.rpartition(".")
    if not module_name or not attribute:
        raise _Fault("Runtime.MalformedHandlerName",
                     f"Bad handler '{setting}': not enough values to unpack (expected 2, got 1)")
    path = environment.root / f"{module_name.replace('.', '/')}.py"
    if not path.is_file():
        raise _Fault("Runtime.ImportModuleError",
                     f"Unable to import module '{module_name}': No module named '{module_name}'")
    spec = importlib.util.spec_from_file_location(environment.module_name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[environment.module_name] = module
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    except SyntaxError as error:
        sys.modules.pop(environment.module_name, None)
        trace = [f'  File "{TASK_ROOT}/{path.name}" Line {error.lineno}\n    {error.text}']
        raise _Fault("Runtime.UserCodeSyntaxError",
                     f"Syntax error in module '{module_name}': {error}", trace) from None
    except ImportError as error:
        sys.modules.pop(environment.module_name, None)
        raise _Fault("Runtime.ImportModuleError",
                     f"Unable to import module '{module_name}': {error}") from None
    except BaseException:
        sys.modules.pop(environment.module_name, None)
        raise
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise _Fault("Runtime.HandlerNotFound",
                     f"Handler '{attribute}' missing on module '{module_name}'")
    return handler


def _unpack(code: bytes, root: Path) -> None:
    if root.is_dir():
        return
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=root.parent))
    try:
        with zipfile.ZipFile(io.BytesIO(code or b"")) as archive:
            archive.extractall(staging)
        staging.rename(root)
    except (zipfile.BadZipFile, OSError) as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise _Fault("Runtime.ImportModuleError",
                     f"Unable to unpack the deployment package: {error}") from None


# -- the sandbox of a run ---------------------------------------------------------------------

@contextmanager
def _sandbox(cloud: LocalCloud, state: RuntimeState, function: Any,
             environment: Environment) -> Iterator[None]:
    """Environment variables, sys.path and the zip's modules, for the duration of one run.

    Whatever the handler changes in ``os.environ`` and ``sys.path`` is undone afterwards; the
    paths it adds (a vendored folder) come back on its next warm run, as in a real environment.
    Runs nest (a handler's upload runs another function); when an outer run times out first,
    it restores everything and the inner runs it abandoned restore nothing when they end.
    """
    token = object()
    saved_environ, saved_path = EnvironSnapshot(), list(sys.path)
    root = str(environment.root)
    before = sys.modules.copy()
    with state.lock:
        if not state.sandboxes:
            _patch_process(cloud, state)
        state.sandboxes.append(token)
    try:
        os.environ.update(_variables(function, environment))
        sys.path[:0] = [root, *environment.paths]
        sys.modules.update(environment.siblings)
        yield
    finally:
        for name, module in list(environment.siblings.items()):
            if sys.modules.get(name) is module:
                del sys.modules[name]
        for name in sys.modules.keys() - before.keys() if sys.modules != before else ():
            module = sys.modules.get(name)
            if str(getattr(module, "__file__", None) or "").startswith(root + os.sep):
                environment.siblings[name] = sys.modules.pop(name)
        added = [path for path in sys.path if path not in saved_path and path != root]
        environment.paths = list(dict.fromkeys([*environment.paths, *added]))
        with state.lock:
            if token in state.sandboxes:  # else abandoned: an outer run restored everything
                del state.sandboxes[state.sandboxes.index(token):]
                _restore(saved_environ, saved_path)
                if not state.sandboxes:
                    _unpatch_process(state)


def _restore(environ: EnvironSnapshot, path: list[str]) -> None:
    """Put ``os.environ`` and ``sys.path`` back as they were before the outermost open run."""
    sys.path[:] = path
    environ.restore()


class EnvironSnapshot:
    """``os.environ`` as it was, to put back after a run, touching only what differs.

    Runs happen on every upload, so the snapshot is a copy of ``os.environ``'s encoded data (a
    C-level dict copy, where ``dict(os.environ)`` decodes every variable) when this Python keeps
    it in ``_data``, as CPython has since 3.2; elsewhere a plain decoded copy. Restoring goes
    through ``os.environ`` itself, so the process environment (``putenv``) follows.
    """

    def __init__(self) -> None:
        data = getattr(os.environ, "_data", None)
        self._encoded = data.copy() if isinstance(data, dict) else None
        self._plain = dict(os.environ) if self._encoded is None else None

    def restore(self) -> None:
        """Make ``os.environ`` what it was at the snapshot (nothing to do when it still is)."""
        if self._encoded is None:
            _put_back(dict(os.environ), self._plain or {}, lambda name: name, lambda value: value)
            return
        current = os.environ._data  # type: ignore[attr-defined]
        if current != self._encoded:
            _put_back(dict(current), self._encoded, os.environ.decodekey,  # type: ignore[attr-defined]
                      os.environ.decodevalue)  # type: ignore[attr-defined]


def _put_back(current: dict[Any, Any], saved: dict[Any, Any], name: Callable[[Any], str],
              value: Callable[[Any], str]) -> None:
    """Make ``os.environ`` equal to ``saved`` again, given what it holds now (same encoding)."""
    for key in current.keys() - saved.keys():
        del os.environ[name(key)]
    for key, saved_value in saved.items():
        if current.get(key) != saved_value:
            os.environ[name(key)] = value(saved_value)


def _variables(function: Any, environment: Environment) -> dict[str, str]:
    """The function's environment variables plus those Lambda sets itself."""
    variables = {str(k): str(v) for k, v in (function.environment_vars or {}).items()}
    variables.update({
        "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": str(function.version),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": environment.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": environment.log_stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": function.region,
        "AWS_DEFAULT_REGION": function.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.run_time or 'python3.12'}",
        "LAMBDA_TASK_ROOT": str(environment.root),
        "_HANDLER": str(function.handler or ""),
    })
    return variables


def _patch_process(cloud: LocalCloud, state: RuntimeState) -> None:
    """For the outermost run: time.time follows the clock; stdout, stderr, logging are routed.

    ``time.sleep`` wakes up when the sleeping thread's run reaches its deadline, so that the
    watchdog's stop exception lands at once instead of after the sleep.
    """
    clock = cloud.clock
    real_sleep = time.sleep

    def local_time() -> float:
        return clock.now().timestamp()

    def sleep(seconds: float) -> None:
        watch = state.watchdog.current(threading.get_ident()) if state.watchdog else None
        if watch is None:
            return real_sleep(seconds)
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        watch.fired.wait(seconds)
        return None

    handler = _RoutedLogHandler(state.routes)
    state.saved = {"time": time.time, "sleep": real_sleep, "stdout": sys.stdout,
                   "stderr": sys.stderr, "log_handler": handler}
    time.time = local_time
    time.sleep = sleep
    sys.stdout = _RoutedStream(state.saved["stdout"], state.routes)
    sys.stderr = _RoutedStream(state.saved["stderr"], state.routes)
    logging.getLogger().addHandler(handler)


def _unpatch_process(state: RuntimeState) -> None:
    """When the outermost run ends: put everything back exactly as it was."""
    saved, state.saved = state.saved, {}
    time.time = saved["time"]
    time.sleep = saved["sleep"]
    sys.stdout = saved["stdout"]
    sys.stderr = saved["stderr"]
    logging.getLogger().removeHandler(saved["log_handler"])


def _peak_memory() -> int:
    """The process's peak resident memory in bytes (0 where the platform does not say).

    Cheap enough for every run, unlike tracemalloc, which doubles the cost of a handler's work.
    """
    try:
        import resource
    except ImportError:  # Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _stop(thread: threading.Thread) -> None:
    """Raise ``_Discarded`` in a timed-out handler thread so it stops at its next Python line."""
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident),
                                                   ctypes.py_object(_Discarded))
