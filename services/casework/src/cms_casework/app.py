"""The casework process: its settings, the gRPC API, the feeds it consumes, and its background work (the daily
scheduled work and the pass applying what the feeds raised)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cms.casework.v1 import (
    accounts_service_pb2,
    accounts_service_pb2_grpc,
    arrears_service_pb2,
    arrears_service_pb2_grpc,
    casework_service_pb2,
    casework_service_pb2_grpc,
    collection_reform_service_pb2,
    collection_reform_service_pb2_grpc,
    enforcement_service_pb2,
    enforcement_service_pb2_grpc,
    methods_of_payment_service_pb2,
    methods_of_payment_service_pb2_grpc,
    tracing_service_pb2,
    tracing_service_pb2_grpc,
)
from cms.casework.v1 import events_pb2 as ev
from cms.casework.v1 import money_events_pb2 as money_ev
from cms.casework.v1 import national_runs_pb2 as national_runs_ev
from cms_platform.consumer import Subscription
from cms_platform.events import topic_of
from cms_platform.server import ServiceRegistration
from cms_platform.service import CmsService
from cms_platform.service import main as run_main

from . import downstream
from .accounts import handlers as account_handlers
from .accounts import rules as account_rules
from .accounts import service as accounts
from .accounts.servicer import AccountsServicer
from .arrears import estates as arrears_estates
from .arrears import flows as arrears_flows
from .arrears import handlers as arrears_handlers
from .arrears import rules as arrears_rules
from .arrears.servicer import ArrearsServicer
from .cases import targets
from .collection_reform import flows as collection_reform
from .collection_reform import rules as collection_reform_rules
from .collection_reform.servicer import CollectionReformServicer
from .enforcement import service as enforcement
from .enforcement.servicer import EnforcementServicer
from .feeds import handlers as feeds
from .feeds import service as feed_changes
from .methods_of_payment import flows as methods_of_payment_flows
from .methods_of_payment import handlers as methods_of_payment
from .methods_of_payment.servicer import MethodsOfPaymentServicer
from .national_runs import handlers as national_runs
from .scheduler.service import Scheduler
from .servicer import CaseworkServicer
from .settings import CaseworkSettings
from .tracing.servicer import TracingServicer


class CaseworkService(CmsService):
    name = "casework"
    settings_class = CaseworkSettings
    topics = (
        topic_of(ev.CaseCreated),
        topic_of(money_ev.ReceiptRecorded),
        topic_of(national_runs_ev.NationalRunChunkIssued),
    )
    migrations_dir = Path(__file__).parent / "migrations"
    calls = downstream.TARGETS

    settings: CaseworkSettings

    def __init__(self, settings: CaseworkSettings, **kw: Any):
        super().__init__(settings, **kw)
        accounts.configure(
            account_rules.Policy(
                fees=account_rules.FeeRules(
                    reform_date=settings.collection_fees_reform_date,
                    reform_paying_parent_bp=settings.collection_fees_reform_paying_parent_bp,
                    reform_receiving_parent_bp=settings.collection_fees_reform_receiving_parent_bp,
                    reform_non_compliant_paying_parent_bp=settings.collection_fees_reform_non_compliant_bp,
                ),
                allocation_order=tuple(settings.allocation_order),
            )
        )
        # The arrears context tells the account's charge run who is compliant and which amounts payable are reduced.
        # Compliance from the ledger (CASEWORK_COMPLIANCE_WINDOW_DAYS, or the deprecated
        # CASEWORK_ARREARS_NON_COMPLIANCE_DAYS), and the small-arrears write-off's thresholds.
        arrears_estates.configure(
            write_off=arrears_rules.WriteOffParameters(
                max_pence=settings.arrears_write_off_max_pence,
                quiet_days=settings.arrears_write_off_quiet_days,
            ),
            window_days=settings.compliance_window,
            grace_days=settings.arrears_grace_days,
        )
        accounts.set_compliance_check(arrears_estates.compliant)
        accounts.set_reductions(arrears_flows.amounts_payable_reduced)
        enforcement.configure(
            administrative_liability_orders_from=settings.administrative_liability_orders_from,
            surveillance_review_days=settings.enforcement_surveillance_review_days,
        )
        self.downstream = downstream.connect(
            calculation_address=settings.calculation_address,
            hmrc_address=settings.hmrc_gateway_address,
            dwp_address=settings.dwp_gateway_address,
            cra_address=settings.cra_gateway_address,
            tokens=self.tokens,
            deadline=settings.downstream_deadline_seconds,
        )
        # The end of Direct Pay: the reform what-if and the migration run (collection_reform).
        self._collection_reform = collection_reform.Runner(
            collection_reform.Reform(
                sessions=self.sessions,
                clock=self.clock,
                downstream=self.downstream,
                fees_reform_date=settings.collection_fees_reform_date,
                lease_seconds=settings.collection_reform_lease_seconds,
                chunk_size=(
                    settings.national_run_chunk_size if settings.national_runs_partitioned else None
                ),
            ),
            settings.collection_reform_interval_seconds,
        )
        self.scheduler = Scheduler(
            sessions=self.sessions,
            clock=self.clock,
            downstream=self.downstream,
            arrears_grace_days=settings.arrears_grace_days,
            direct_pay_migration=collection_reform.scheduled_job(
                self._collection_reform, settings.direct_pay_migration_start_date
            ),
            national_run_chunk_size=(
                settings.national_run_chunk_size if settings.national_runs_partitioned else None
            ),
        )
        self._daily = self.scheduler.periodic(settings.scheduler_interval_seconds)
        self.six_week_target = targets.watcher(
            self.sessions, self.clock, settings.six_week_target_interval_seconds
        )
        self._feed_changes = feed_changes.applier(
            sessions=self.sessions,
            clock=self.clock,
            downstream=self.downstream,
            interval_seconds=settings.feed_apply_interval_seconds,
        )
        self._benefit_instructions = methods_of_payment_flows.sender(
            sessions=self.sessions,
            clock=self.clock,
            downstream=self.downstream,
            interval_seconds=settings.benefit_instruction_interval_seconds,
        )

    def registrations(self) -> list[ServiceRegistration]:
        full_name = casework_service_pb2.DESCRIPTOR.services_by_name["CaseworkService"].full_name
        servicer = CaseworkServicer(
            sessions=self.sessions,
            clock=self.clock,
            downstream=self.downstream,
            scheduler=self.scheduler,
        )
        mop_servicer = MethodsOfPaymentServicer(
            sessions=self.sessions,
            clock=self.clock,
            downstream=self.downstream,
            wake_sender=self._benefit_instructions.wake,
        )
        accounts_servicer = AccountsServicer(sessions=self.sessions, clock=self.clock)
        arrears = ArrearsServicer(sessions=self.sessions, clock=self.clock)
        tracing = TracingServicer(
            sessions=self.sessions,
            clock=self.clock,
            downstream=self.downstream,
            min_cra_confidence_percent=self.settings.tracing_min_cra_confidence_percent,
        )
        reform = CollectionReformServicer(
            sessions=self.sessions,
            clock=self.clock,
            wake=self._collection_reform.wake,
            fees_reform_date=self.settings.collection_fees_reform_date,
            migration_start_date=self.settings.direct_pay_migration_start_date,
        )
        enforcement_servicer = EnforcementServicer(
            sessions=self.sessions, clock=self.clock, downstream=self.downstream
        )
        return [
            ServiceRegistration(
                full_name,
                casework_service_pb2_grpc.add_CaseworkServiceServicer_to_server,
                servicer,
                refused=servicer.refused_by_policy,  # every refusal on a case is in its audit trail
            ),
            ServiceRegistration(
                methods_of_payment_service_pb2.DESCRIPTOR.services_by_name[
                    "MethodsOfPaymentService"
                ].full_name,
                methods_of_payment_service_pb2_grpc.add_MethodsOfPaymentServiceServicer_to_server,
                mop_servicer,
                refused=mop_servicer.refused_by_policy,
            ),
            ServiceRegistration(
                accounts_service_pb2.DESCRIPTOR.services_by_name["AccountsService"].full_name,
                accounts_service_pb2_grpc.add_AccountsServiceServicer_to_server,
                accounts_servicer,
                refused=accounts_servicer.refused_by_policy,
            ),
            ServiceRegistration(
                arrears_service_pb2.DESCRIPTOR.services_by_name["ArrearsService"].full_name,
                arrears_service_pb2_grpc.add_ArrearsServiceServicer_to_server,
                arrears,
                refused=arrears.refused_by_policy,
            ),
            ServiceRegistration(
                tracing_service_pb2.DESCRIPTOR.services_by_name["TracingService"].full_name,
                tracing_service_pb2_grpc.add_TracingServiceServicer_to_server,
                tracing,
                refused=tracing.refused_by_policy,
            ),
            ServiceRegistration(
                collection_reform_service_pb2.DESCRIPTOR.services_by_name[
                    "CollectionReformService"
                ].full_name,
                collection_reform_service_pb2_grpc.add_CollectionReformServiceServicer_to_server,
                reform,
                refused=reform.refused_by_policy,
            ),
            ServiceRegistration(
                enforcement_service_pb2.DESCRIPTOR.services_by_name["EnforcementService"].full_name,
                enforcement_service_pb2_grpc.add_EnforcementServiceServicer_to_server,
                enforcement_servicer,
                refused=enforcement_servicer.refused_by_policy,
            ),
        ]

    def start(self, *, migrate: bool = True) -> int:
        port = super().start(migrate=migrate)
        self._daily.start()
        self.six_week_target.start()
        self._feed_changes.start()
        self._benefit_instructions.start()  # methods of payment
        self._collection_reform.start()
        return port

    def stop(self) -> None:
        self._daily.stop()
        self.six_week_target.stop()
        self._feed_changes.stop()
        self._benefit_instructions.stop()  # methods of payment
        self._collection_reform.stop()
        super().stop()

    def subscriptions(self) -> list[Subscription]:
        return [
            feeds.subscription(
                clock=self.clock,
                group=self.settings.feed_consumer_group,
                wake=self._feed_changes.wake,
            ),
            methods_of_payment.subscription(
                clock=self.clock,
                group=self.settings.methods_of_payment_consumer_group,
                wake=self._benefit_instructions.wake,
            ),
            account_handlers.subscription(
                clock=self.clock, group=self.settings.accounts_consumer_group
            ),
            arrears_handlers.subscription(
                clock=self.clock, group=self.settings.arrears_consumer_group
            ),
        ] + (
            # With national runs on, every replica takes their chunks: the scheduled jobs' and the collection
            # reform's (a run issued while on and left unfinished when the setting is turned off waits on its topic
            # until it is on again; a what-if or migration run is then taken up by the runner in one process).
            [
                national_runs.subscription(
                    clock=self.clock,
                    group=self.settings.national_runs_consumer_group,
                    work=self.scheduler.work_chunk,
                    runs={
                        collection_reform_rules.WHAT_IF_RUN: self._collection_reform.what_if_chunk,
                        collection_reform_rules.MIGRATION_RUN: self._collection_reform.migration_chunk,
                    },
                )
            ]
            if self.settings.national_runs_partitioned
            else []
        )

    def close_clients(self) -> None:
        self.downstream.close()


def main(argv: list[str] | None = None) -> int:
    return run_main(CaseworkService, argv)
