"""A Provisioner engine as main.py builds it (database, key, clients, runner), pointed at a sandbox
server, with every ERPNext exchange recorded. Tenants are named so their abbreviations differ."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.fernet import Fernet

from bench.timeline import RecordingTransport
from engine.clients import EngineClients
from engine.runner import Runner
from engine.security import SecretBox
from engine.validation import DEFAULT_REQUESTS_PER_SECOND
from storage.db import Database
from storage.tables import Engine, Tenant

WORDS = ('Alpha', 'Bravo', 'Charlie', 'Delta', 'Echo', 'Foxtrot', 'Golf', 'Hotel', 'India', 'Juliett', 'Kilo',
         'Lima', 'Mike', 'November', 'Oscar', 'Papa', 'Quebec', 'Romeo', 'Sierra', 'Tango', 'Uniform', 'Victor',
         'Whiskey', 'Xray', 'Yankee', 'Zulu')


def tenant_name(number: int) -> str:
    """Three words picked by the digits of `number` in base 26: distinct initials for 17,576 tenants."""
    a, rest = divmod(number % 17_576, 676)
    b, c = divmod(rest, 26)
    return f'{WORDS[a]} {WORDS[b]} {WORDS[c]} Stores'


@dataclass
class World:
    db: Database
    secrets: SecretBox
    engine_id: int
    recorder: RecordingTransport
    clients: EngineClients
    runner: Runner

    @classmethod
    def build(cls, database_url: str, erp_url: str, *, max_concurrent_runs: int = 64,
              requests_per_second: int = DEFAULT_REQUESTS_PER_SECOND) -> World:
        """`requests_per_second` is the engine row's request budget (the shipped default unless raised)."""
        db = Database.from_url(database_url)
        secrets = SecretBox(Fernet.generate_key())
        with db.session() as session:
            engine = Engine(name='Bench ERPNext', base_url=erp_url, api_key='sandbox',
                            api_secret_encrypted=secrets.encrypt('sandbox'),
                            max_concurrent_runs=max_concurrent_runs, requests_per_second=requests_per_second)
            session.add(engine)
            session.flush()
            engine_id = engine.id
        recorder = RecordingTransport()
        clients = EngineClients(db, secrets, transport_for=lambda engine: recorder)
        return cls(db, secrets, engine_id, recorder, clients, Runner(db, clients.get))

    def add_tenants(self, numbers: range | list[int], *, stores: int = 1) -> list[int]:
        with self.db.session() as session:
            tenants = [Tenant(name=tenant_name(n), company_name=tenant_name(n), country='United States',
                              currency='USD', admin_email=f'admin{n}@tenant{n}.test', stores=stores,
                              engine_id=self.engine_id, created_by='bench') for n in numbers]
            session.add_all(tenants)
            session.flush()
            return [tenant.id for tenant in tenants]

    async def aclose(self) -> None:
        await self.clients.aclose()
        await self.recorder.aclose()
        self.db.dispose()
