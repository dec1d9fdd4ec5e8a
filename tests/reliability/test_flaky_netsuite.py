"""NetSuite misbehaving the way it does in production: 5xx, dropped connections, answers slower
than the client waits, and bursts of 429 — the sync still ends with one record per billing
record, every record synced or failed with its reason, and retries bounded."""

from __future__ import annotations

import random
import threading

from tests.reliability.audit import audit
from tests.reliability.conftest import fragile_context

FLAKY = {"error_5xx": 0.10, "drop": 0.05, "slow": 0.05, "slow_seconds": 0.5, "seed": 7}


class BurstsOf429(threading.Thread):
    """Fires a burst of 429s each time NetSuite's write count passes one of ``at_writes``."""

    def __init__(self, state, at_writes: tuple[int, ...], size: int):
        super().__init__(daemon=True)
        self.state, self.pending, self.size = state, list(at_writes), size
        self.fired = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while self.pending and not self._stop_event.wait(0.01):
            if self.state.counters.writes >= self.pending[0]:
                self.pending.pop(0)
                self.state.burst_429(self.size)
                self.fired += self.size

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def total_requests(counters) -> int:
    """Every request NetSuite received, including the ones its faults turned away."""
    return sum(counters.requests.values()) + counters.faults.get("5xx", 0) + counters.rejected_429


def test_flaky_netsuite_sync_has_no_duplicates_and_bounded_retries(make_isp, tally):
    from addon.sync.operations import run_operation

    setup = make_isp(customers=50, invoices=120, payments=80)
    state = setup.env.netsuite.state
    state.set_faults(**FLAKY)
    records = sum(
        len(setup.env.splynx.state.all(e)) for e in ("customers", "invoices", "credit_notes", "payments")
    )
    bursts = BurstsOf429(state, at_writes=(1, 80, 160), size=5)
    bursts.start()
    try:
        run = run_operation("sync", context=fragile_context(setup))
    finally:
        bursts.stop()
    # The rerun a cron job would make the next night, opened by one more burst.
    state.burst_429(5)
    bursts.fired += 5
    rerun = run_operation("sync", context=fragile_context(setup))

    faults = dict(state.counters.faults)
    tally["faults_injected"] += sum(faults.values()) + bursts.fired
    assert faults.get("5xx") and faults.get("drop") and faults.get("slow"), faults
    assert run.status in ("succeeded", "partial") and rerun.status in ("succeeded", "partial"), (
        run.message,
        rerun.message,
    )

    result = audit(setup.env.splynx.state, state.store)
    tally["duplicates"] += result.duplicates
    tally["cents_lost"] += int(result.cents_lost * 100)
    result.assert_clean()
    assert sum(result.synced.values()) >= records * 0.95, (result.synced, result.not_synced)

    requests = total_requests(state.counters)
    assert requests <= 1.5 * records, f"{requests} NetSuite requests for {records} records"

    # Once NetSuite behaves again, one more run links whatever was left and creates nothing new.
    state.set_faults(error_5xx=0.0, drop=0.0, slow=0.0)
    run_operation("sync", context=fragile_context(setup))
    final = audit(setup.env.splynx.state, state.store, require_all_synced=True)
    tally["duplicates"] += final.duplicates
    final.assert_clean()


def _seed_where_first_request_drops_and_second_does_not(rate: float) -> int:
    # The sandbox draws one number per request for 'drop' (no 5xx, no slow configured):
    # pick the first seed whose first draw drops and second does not, so the scenario is exact.
    for seed in range(1000):
        rng = random.Random(seed)
        if rng.random() < rate <= rng.random():
            return seed
    raise AssertionError("no such seed")


def test_a_create_whose_answer_was_lost_is_found_by_external_id_not_repeated(configured):
    from addon.netsuite import NetSuiteClient
    from addon.sync.context import SyncContext, netsuite_config

    state = configured.netsuite.state
    state.set_faults(drop=0.5, seed=_seed_where_first_request_drops_and_second_does_not(0.5))
    client = NetSuiteClient(netsuite_config(SyncContext.from_settings().values))
    body = {
        "companyName": "Lost Answer Ltd",
        "externalId": "splynx-customer-424242",
        "subsidiary": {"id": "1"},
    }
    netsuite_id = client.create("customer", body)

    assert state.counters.faults["drop"] == 1, "the create's answer was not lost"
    assert state.counters.requests["POST customer"] == 1, "the POST was repeated blindly"
    matches = [r for r in state.store.records("customer") if r.get("externalId") == "splynx-customer-424242"]
    assert [r["id"] for r in matches] == [netsuite_id]


def test_a_record_created_by_a_lost_attempt_is_linked_on_the_rerun_not_duplicated(make_isp):
    from addon.extension import session
    from addon.models import Link
    from addon.sync.operations import run_operation

    setup = make_isp(customers=8, invoices=10, payments=6)
    state = setup.env.netsuite.state
    first_customer = setup.env.splynx.state.all("customers")[0]
    # What a crash right after NetSuite committed leaves: the record exists, no link does.
    orphan = state.store.insert(
        "customer",
        {"companyName": first_customer["name"], "externalId": f"splynx-customer-{first_customer['id']}",
         "subsidiary": "1"},
    )  # fmt: skip
    run = run_operation("export_customers")
    assert run.status == "succeeded", run.message
    link = session().query(Link).filter_by(entity="customer", billing_id=str(first_customer["id"])).one()
    assert link.netsuite_id == str(orphan)
    audit(setup.env.splynx.state, state.store, require_all_synced=True, entities=("customer",)).assert_clean()
