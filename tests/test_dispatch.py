"""The dispatcher reads Connexion's context variables itself (`mock_server._compat`): they must be what
Connexion's own proxies read, or the handler would get another request's operation or grant."""

from __future__ import annotations

from types import SimpleNamespace

from connexion.context import context, operation

from mock_server._compat import connexion_context_variables


def test_connexion_context_variables_are_what_its_proxies_read() -> None:
    variables = connexion_context_variables()
    assert variables is not None, "the installed Connexion is not one _compat was checked against"
    context_variable, operation_variable = variables
    granted = {"token_info": {"sub": "tenant", "principal": "42"}}
    routed = SimpleNamespace(function=object())
    context_token, operation_token = context_variable.set(granted), operation_variable.set(routed)
    try:
        assert context.get("token_info") is granted["token_info"]
        assert operation.function is routed.function
    finally:
        context_variable.reset(context_token)
        operation_variable.reset(operation_token)
