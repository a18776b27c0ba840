"""A tracking server's REST API as the copier reads and writes it (httpx, pooled connections)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
CHUNK = 1024 * 1024


class RestError(Exception):
    def __init__(self, status: int, body: str, what: str) -> None:
        self.status = status
        self.body = body
        super().__init__(f"{what}: HTTP {status}: {body[:500]}")

    @property
    def error_code(self) -> str:
        try:
            import json

            return str(json.loads(self.body).get("error_code", ""))
        except ValueError:
            return ""


class Rest:
    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 120) -> None:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self.base = base_url.rstrip("/")
        self.http = httpx.Client(
            base_url=self.base,
            headers=headers,
            timeout=timeout,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
        )

    def close(self) -> None:
        self.http.close()

    def _check(self, answer: httpx.Response, what: str) -> Any:
        if answer.status_code != 200:
            raise RestError(answer.status_code, answer.text, what)
        return answer.json() if answer.content else {}

    def get(self, path: str, **params: Any) -> Any:
        return self._check(self.http.get(API + path, params=params), f"GET {path}")

    def post(self, path: str, body: dict[str, Any], prefix: str = API) -> Any:
        return self._check(self.http.post(prefix + path, json=body), f"POST {path}")

    def pages(
        self, path: str, body: dict[str, Any], key: str, method: str = "POST"
    ) -> Iterator[dict[str, Any]]:
        """Every item of a paginated search (``next_page_token``)."""
        token = None
        while True:
            page_body = {**body, **({"page_token": token} if token else {})}
            page = self.post(path, page_body) if method == "POST" else self.get(path, **page_body)
            yield from page.get(key, [])
            token = page.get("next_page_token")
            if not token:
                return

    # ---------------------------------------------------------------- proxied artifacts

    def list_artifacts(self, rel: str) -> list[dict[str, Any]]:
        answer = self.http.get(ARTIFACTS, params={"path": rel})
        return list(self._check(answer, f"list artifacts {rel}").get("files", []))

    def download(self, rel: str) -> Any:
        """A streaming response (context manager) of one artifact file."""
        return self.http.stream("GET", f"{ARTIFACTS}/{rel}")

    def upload(self, rel: str, chunks: Iterator[bytes]) -> None:
        self._check(self.http.put(f"{ARTIFACTS}/{rel}", content=chunks), f"upload {rel}")
