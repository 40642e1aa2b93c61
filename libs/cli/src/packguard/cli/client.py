"""A thin HTTP client of the packguard API (aiohttp); bodies are the api models."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import aiohttp
from pydantic import BaseModel, ValidationError

from packguard.common.api import (
    API_PREFIX,
    AnalyzeRequest,
    Envelope,
    ErrorEnvelope,
    TaskAccepted,
    TaskView,
    UploadFields,
)

B = TypeVar("B", bound=BaseModel)


class ApiError(Exception):
    """The API answered with an error envelope, or could not be reached (status 0)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class PackguardClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, api_key: str) -> None:
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"}

    async def submit(self, request: AnalyzeRequest) -> TaskAccepted:
        body = request.model_dump(mode="json")
        return await self._call("POST", f"{API_PREFIX}/analyze/", TaskAccepted, body)

    async def upload(self, path: Path, fields: UploadFields) -> TaskAccepted:
        """Upload a local artifact (POST /analyze/upload/); only set fields are sent."""
        form = aiohttp.FormData(default_to_multipart=True)
        for name, value in fields.model_dump(mode="json", exclude_defaults=True).items():
            form.add_field(name, str(value).lower() if isinstance(value, bool) else str(value))
        with path.open("rb") as artifact:
            form.add_field("file", artifact, filename=path.name)
            data = await self._request("POST", f"{API_PREFIX}/analyze/upload/", form=form)
        try:
            return TaskAccepted.model_validate(data)
        except ValidationError as exc:
            raise ApiError(0, "invalid_response", str(exc)) from None

    async def task(self, task_id: UUID) -> TaskView:
        return await self._call("GET", f"{API_PREFIX}/task/{task_id}/", TaskView)

    async def cancel(self, task_id: UUID) -> TaskView:
        return await self._call("DELETE", f"{API_PREFIX}/task/{task_id}/", TaskView)

    async def report(self, task_id: UUID) -> dict[str, Any]:
        data = await self._request("GET", f"{API_PREFIX}/task/{task_id}/report/")
        if not isinstance(data, dict):
            raise ApiError(0, "invalid_response", "the report is not a JSON object")
        return data

    async def _call(
        self, method: str, path: str, model: type[B], body: dict[str, Any] | None = None
    ) -> B:
        data = await self._request(method, path, body)
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise ApiError(0, "invalid_response", str(exc)) from None

    async def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        form: aiohttp.FormData | None = None,
    ) -> Any:
        url = f"{self._base_url}{path}"
        try:
            async with self._session.request(
                method, url, json=body, data=form, headers=self._headers
            ) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ApiError(0, "connection_error", f"cannot reach {self._base_url}: {exc}") from None
        if status >= 400:
            try:
                error = ErrorEnvelope.model_validate_json(raw).error
            except ValidationError:
                raise ApiError(status, "http_error", raw[:200].decode(errors="replace")) from None
            raise ApiError(status, error.code, error.message)
        try:
            return Envelope[Any].model_validate_json(raw).data
        except ValidationError as exc:
            raise ApiError(status, "invalid_response", str(exc)) from None


@contextlib.asynccontextmanager
async def open_client(
    base_url: str, api_key: str, *, timeout_seconds: float = 30.0
) -> AsyncIterator[PackguardClient]:
    timeout = aiohttp.ClientTimeout(total=timeout_seconds)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        yield PackguardClient(session, base_url, api_key)
