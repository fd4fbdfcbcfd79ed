"""The mock's edge, in front of Connexion's exception handling: every step, in one pass.

Each step has a module of its own; this is only their order, which is what they promise each other:

1. the request's facts, once (`edge.facts`); every later step reads them;
2. the OAuth servers' endpoints, then issued tokens replaced by the tokens they stand for (`edge.oauth`):
   outside the request log, so codes, secrets and tokens are never logged;
3. the landing page (`edge.landing`), then paths no router should see refused (`edge.hygiene`);
4. the body, read once within the size limit, too deep JSON refused (`edge.body`);
5. the login operation (`edge.oauth`): inside the body limits, outside the log;
6. the request log (`edge.log`), around what follows; the admin API's own requests are not logged;
7. for a request to an operation: Prism's `Prefer` (`resilience.prefer`), the vendor's limits
   (`resilience.admission`), then the fault that fires, if any (`resilience.injection`), which hands
   the request on to Connexion.

One middleware rather than one per step: each step was a layer of its own, and the layers' calls and
awaits cost more than most steps' own work. A step that answers ends the request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.datastructures import Headers

from mock_server.edge.facts import request_facts
from mock_server.edge.log import Recording
from mock_server.engine.facts import FACTS
from mock_server.resilience.injection import FaultInjection

if TYPE_CHECKING:
    from starlette.responses import Response
    from starlette.types import ASGIApp, Receive, Scope, Send

    from mock_server.edge.body import RequestBody
    from mock_server.edge.hygiene import PathHygiene
    from mock_server.edge.landing import LandingPage
    from mock_server.edge.log import RequestLogger
    from mock_server.edge.oauth import OAuthServing
    from mock_server.engine.facts import RequestFacts
    from mock_server.engine.rendering import ErrorRendering
    from mock_server.engine.routes import RouteTable
    from mock_server.resilience.admission import Admission
    from mock_server.resilience.faults import Faults
    from mock_server.resilience.prefer import Prefer


class Edge:
    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: RouteTable,
        oauth: OAuthServing,
        landing: LandingPage,
        hygiene: PathHygiene,
        body: RequestBody,
        logger: RequestLogger,
        prefer: Prefer,
        admission: Admission,
        faults: Faults,
        rendering: ErrorRendering,
    ) -> None:
        self.app = app
        self.routes = routes
        self.oauth = oauth
        self.landing = landing
        self.hygiene = hygiene
        self.body = body
        self.logger = logger
        self.prefer = prefer
        self.admission = admission
        self.faults = FaultInjection(app, faults=faults, rendering=rendering)  # it hands the request on

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)  # read by several steps
        facts = scope[FACTS] = request_facts(scope, receive, self.routes, headers)
        try:
            await self._serve(scope, receive, send, facts, headers)
        finally:
            # The facts refer back to the scope (and the server's `receive`, to its connection): left
            # in the scope, each answered request would be a reference cycle for the collector to find.
            del scope[FACTS]

    async def _serve(self, scope: Scope, receive: Receive, send: Send, facts: RequestFacts, headers: Headers) -> None:
        answer = await self._before_body(scope, receive, facts)
        if answer is not None:
            await answer(scope, receive, send)
            return
        answer, receive_body = await self.body.read(scope, receive, facts, headers)
        if answer is not None:
            await answer(scope, receive, send)
            return
        if receive_body is None:  # the client has gone: nobody to answer
            return
        login = self.oauth.login
        if login is not None and (answer := login.answer(scope, facts)) is not None:
            await answer(scope, receive_body, send)
            return
        if not self.logger.logs(scope):
            await self._operation(scope, receive_body, send, facts, headers)
            return
        recording = Recording(send)
        try:
            await self._operation(scope, receive_body, recording.send, facts, headers)
        finally:
            self.logger.add(scope, facts, recording)

    async def _before_body(self, scope: Scope, receive: Receive, facts: RequestFacts) -> Response | None:
        oauth = self.oauth
        if oauth.endpoints is not None and (answer := await oauth.endpoints.answer(scope, receive, facts)) is not None:
            return answer
        if oauth.issued is not None and (answer := oauth.issued.answer(facts)) is not None:
            return answer
        if (answer := self.landing.answer(scope)) is not None:
            return answer
        return self.hygiene.answer(facts)

    async def _operation(
        self, scope: Scope, receive: Receive, send: Send, facts: RequestFacts, headers: Headers
    ) -> None:
        route = facts.route
        if route is None:
            await self.app(scope, receive, send)
            return
        refusal = self.prefer.refusal(headers, facts, route)
        if refusal is None:
            refusal, release = self.admission.admit(facts, route)
            if refusal is None:
                try:
                    await self.faults.inject(scope, receive, send, facts, route)
                finally:
                    release()
                return
        await refusal(scope, receive, send)
