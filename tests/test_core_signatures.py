"""Every public method of the native contexts has a signature that
``inspect.signature`` reads (from ``__text_signature__``), and the parser
behind it enforces that signature: one argument too many, or one required
argument too few, raises TypeError."""

from __future__ import annotations

import inspect

import pytest
from backends import BACKENDS, Backend

NATIVE = [backend for backend in BACKENDS if backend.native]

#: What each public method takes, as its docstring's signature says.
EXPECTED = {
    "submit": "(*operations)",
    "cancel": "(*operations)",
    "close": "()",
    "bind": "(loop, /)",
    "serves_running_loop": "()",
    "on_ready": "()",
    "aread": "(nbytes, fd, offset=0, /)",
    "read_cached": "(nbytes, fd, offset=0, /)",
    "areadinto": "(buffer, fd, offset=0, /)",
    "awrite": "(buffer, fd, offset=0, /)",
    "afsync": "(fd, /)",
    "afdsync": "(fd, /)",
    "poll": "()",
    "process_events": "(max_requests=512, min_requests=0, timeout=0)",
    "flush": "()",
}


@pytest.fixture(params=NATIVE, ids=[backend.name for backend in NATIVE])
def context_type(request: pytest.FixtureRequest) -> type:
    backend: Backend = request.param
    context: type = backend.module.Context
    return context


def public_methods(context_type: type) -> list[str]:
    return sorted(
        name
        for name in dir(context_type)
        if not name.startswith("_")
        and inspect.ismethoddescriptor(getattr(context_type, name))
    )


def test_every_public_method_has_a_signature(context_type: type) -> None:
    names = public_methods(context_type)
    assert "aread" in names
    assert "submit" in names
    context = context_type(max_requests=2)
    try:
        for name in names:
            signature = inspect.signature(getattr(context, name))
            if name in EXPECTED:
                assert str(signature) == EXPECTED[name], name
    finally:
        context.close()


def test_the_constructor_has_a_signature(context_type: type) -> None:
    signature = inspect.signature(context_type)
    assert "max_requests" in signature.parameters
    assert signature.parameters["max_requests"].default == 32


def test_each_parser_enforces_its_signature(context_type: type) -> None:
    context = context_type(max_requests=2)
    try:
        for name in public_methods(context_type):
            method = getattr(context, name)
            parameters = inspect.signature(method).parameters.values()
            if any(p.kind is p.VAR_POSITIONAL for p in parameters):
                continue
            positional = [
                p
                for p in parameters
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
            required = [p for p in positional if p.default is p.empty]
            with pytest.raises(TypeError):
                method(*[0] * (len(positional) + 1))
            if required:
                with pytest.raises(TypeError):
                    method(*[0] * (len(required) - 1))
    finally:
        context.close()
