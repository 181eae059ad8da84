"""One Streamlit session spoken to over its websocket, exactly as a browser does.

The load test drives many of these at once; the rerun benchmark times one. Uses the
`websockets` client library and Streamlit's own protobuf messages.
"""

from __future__ import annotations

import asyncio

WIDGETS = ("slider", "number_input", "button", "selectbox")  # what the clients read back
RERUN_TIMEOUT_MS = 30_000
OPEN_TIMEOUT_MS = 120_000  # twenty sessions arriving at once
TRAIN_TIMEOUT_MS = 180_000


class StreamlitSocket:
    """One Streamlit session spoken to over its websocket, as the browser does.

    Uses the `websockets` client library and Streamlit's own protobuf messages: a
    BackMsg.rerun_script carrying the changed widget's state goes out, ForwardMsgs come
    back (the page's elements) until script_finished. Only the moved widget's state is
    sent; the others keep their values in the session, as with a browser.
    """

    def __init__(
        self, url: str, page: str = "", timeout: float = RERUN_TIMEOUT_MS / 1000, cookie: str | None = None
    ):
        """cookie: 'name=value' sent with the websocket's upgrade request, as a browser
        sends the cookies of the page (behind deploy/nginx.conf: the sticky route)."""
        self.url, self.page, self.timeout, self.cookie = url, page, timeout, cookie
        self.ws, self.widgets, self.headings = None, {}, []
        self.query = ""

    async def connect(self) -> None:
        import websockets

        ws_url = self.url.replace("http://", "ws://", 1) + "/_stcore/stream"
        self.ws = await websockets.connect(
            ws_url,
            subprotocols=["streamlit"],
            origin=self.url,
            max_size=None,
            open_timeout=OPEN_TIMEOUT_MS / 1000,
            additional_headers={"Cookie": self.cookie} if self.cookie else None,
        )

    async def rerun(self, widget_state=None) -> tuple[dict, list[str]]:
        """Rerun the script; returns (widgets by label, problems seen). The headings the
        run drew are in self.headings."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        back = BackMsg()
        back.rerun_script.query_string = self.query
        back.rerun_script.page_name = self.page  # "" is the default page (Explain)
        if widget_state is not None:
            back.rerun_script.widget_states.widgets.append(widget_state)
        await self.ws.send(back.SerializeToString())
        problems, self.headings = [], []
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), self.timeout)
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                el = msg.delta.new_element
                et = el.WhichOneof("type")
                if et == "exception":
                    problems.append(f"exception shown: {el.exception.message[:200]}")
                elif et == "heading":
                    self.headings.append(el.heading.body)
                elif et in WIDGETS:
                    w = getattr(el, et)
                    self.widgets[w.label] = w
            elif kind == "script_finished":
                if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # e.g. the router's first run on a fresh server: the rerun follows
                if msg.script_finished != ForwardMsg.FINISHED_SUCCESSFULLY:
                    problems.append(f"script finished with status {msg.script_finished}")
                return self.widgets, problems

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def open_socket(url: str, page: str = "", cookie: str | None = None) -> StreamlitSocket:
    sock = StreamlitSocket(
        url, page, timeout=(TRAIN_TIMEOUT_MS if page else RERUN_TIMEOUT_MS) / 1000, cookie=cookie
    )
    await sock.connect()
    _, problems = await sock.rerun()
    if problems:
        raise RuntimeError("; ".join(problems))
    return sock
