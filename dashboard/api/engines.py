"""ERPNext engines: list and read (anyone), register, edit and delete (admin), health check (support+)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from dashboard import state
from dashboard.api.deps import AdminOnly, AnyUser, DbDep, IdPath, SecretsDep, SupportPlus, TransportDep
from engine.clients import EngineClients
from engine.services import engines
from engine.validation import EngineCreate, EngineUpdate
from storage.tables import Engine

router = APIRouter(prefix='/engines', tags=['engines'])


class EnginePublic(BaseModel):
    """An engine as shown to users: never the API secret."""

    id: int
    name: str
    base_url: str
    api_key: str
    max_concurrent_runs: int
    requests_per_second: int
    health: str
    version: str | None
    last_checked_at: datetime | None
    last_error: str | None
    created_at: datetime

    @classmethod
    def of(cls, engine: Engine) -> EnginePublic:
        return cls.model_validate(engine, from_attributes=True)


class EngineCheckPublic(BaseModel):
    engine_id: int
    health: str
    checked_at: datetime
    user: str | None
    version: str | None
    error: str | None


@router.get('')
def list_engines(_: AnyUser, db: DbDep) -> list[EnginePublic]:
    return [EnginePublic.of(engine) for engine in engines.list_engines(db)]


@router.get('/{engine_id}', responses={404: {'description': 'no engine with this id'}})
def get_engine(engine_id: IdPath, _: AnyUser, db: DbDep) -> EnginePublic:
    return EnginePublic.of(engines.get_engine(db, engine_id))


@router.post('', status_code=status.HTTP_201_CREATED)
def create_engine(body: EngineCreate, admin: AdminOnly, db: DbDep, secrets: SecretsDep) -> EnginePublic:
    return EnginePublic.of(engines.create_engine(db, secrets, body, actor=admin.username))


@router.patch('/{engine_id}')
async def update_engine(engine_id: IdPath, body: EngineUpdate, admin: AdminOnly, db: DbDep,
                        secrets: SecretsDep, request: Request) -> EnginePublic:
    """Change the fields given; `api_secret` is write-only and replaced only when sent. The next
    run on the engine uses the new settings (`requests_per_second` included)."""
    engine = await engines.edit_engine(db, secrets, engine_id, body, actor=admin.username,
                                       clients=_process_clients(request))
    return EnginePublic.of(engine)


@router.delete('/{engine_id}', status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               responses={404: {'description': 'no engine with this id'},
                          409: {'description': 'tenants or runs use the engine'}})
async def delete_engine(engine_id: IdPath, admin: AdminOnly, db: DbDep, request: Request) -> Response:
    """Delete an engine no tenant (and no run) uses: 409 naming how many tenants use it otherwise.
    Its open `engine_offline` alert is resolved and its health checks stop; audited."""
    await engines.delete_engine(db, engine_id, actor=admin.username, clients=_process_clients(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post('/{engine_id}/check')
async def check_engine(engine_id: IdPath, user: SupportPlus, db: DbDep, secrets: SecretsDep,
                       transport: TransportDep) -> EngineCheckPublic:
    """Call ERPNext now (ping, credentials, versions) and store the engine's health."""
    result = await engines.check_engine(db, secrets, engine_id, transport=transport, actor=user.username)
    return EngineCheckPublic(engine_id=result.engine_id, health=result.health, checked_at=result.checked_at,
                             user=result.user, version=result.version, error=result.error)


def _process_clients(request: Request) -> EngineClients | None:
    """The running process's engine clients (an app without a process, e.g. in tests, has none)."""
    return state.process_clients(request.app)
