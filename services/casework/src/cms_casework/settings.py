"""casework's settings (environment prefix CASEWORK_): where the other services are, the deadline of a call to
them, and how often the background work runs."""

import datetime as dt
from typing import ClassVar

from pydantic import Field

from cms_platform.settings import ServiceSettings, prefixed


class CaseworkSettings(ServiceSettings):
    model_config = prefixed("CASEWORK_")
    service_name: ClassVar[str] = "casework"
    default_grpc_port: ClassVar[int] = 50052

    calculation_address: str = "127.0.0.1:50051"
    hmrc_gateway_address: str = "127.0.0.1:50053"
    dwp_gateway_address: str = "127.0.0.1:50054"
    cra_gateway_address: str = "127.0.0.1:50055"
    # Deadline for a call to another service when our own caller left more time than this.
    downstream_deadline_seconds: float = 5.0
    # The scheduled work (monthly Child Benefit check, annual reviews, PV reviews, SLA, surveillance reviews,
    # correspondence dispatch) runs at the clock's date this often; a date already done does nothing more.
    # 0 turns the background pass off (RunScheduledWork still runs it on demand).
    scheduler_interval_seconds: float = 3600.0
    # How often cms_casework_applications_past_six_weeks is counted (cases.targets); 0 turns it off.
    six_week_target_interval_seconds: float = 300.0
    # Changes raised from the gateways' feeds (verified at source) are applied as soon as their event is recorded
    # (the recalculation needs the calculation service, outside the event's transaction), and this often besides:
    # the safety net for a wake lost in a crash and for a case that could not be applied yet. 0 turns both off.
    feed_apply_interval_seconds: float = 2.0
    # The consumer group reading the gateways' feeds; one per environment sharing a broker.
    feed_consumer_group: str = "casework-feeds"
    # ---- National runs (docs/architecture.md, "National runs on partitions") ----
    # On: the annual review, the monthly Child Benefit check, the reform what-if and the Direct Pay migration run as
    # national runs, their cases written as chunks to a partitioned work topic that every replica's consumer group
    # takes, so adding replicas adds throughput. Off: each run in the process that starts it (or holds its lease).
    national_runs_partitioned: bool = False
    # Cases a chunk of a national run.
    national_run_chunk_size: int = Field(default=100, ge=1, le=5000)
    # The consumer group taking national runs' chunks: one for every replica of an environment.
    national_runs_consumer_group: str = "casework-national-runs"
    # ---- Methods of payment ----
    # The consumer group following remittances, payment plans and case closures for methods of payment; one per
    # environment sharing a broker.
    methods_of_payment_consumer_group: str = "casework-methods-of-payment"
    # Instructions to dwp-gateway (deductions from benefit) are sent as soon as they are recorded, and this often
    # besides (the retry of one the gateway could not take yet). 0 turns both off.
    benefit_instruction_interval_seconds: float = 2.0

    # ---- Accounts (docs/domain/money.md, "The account") ----
    # The consumer group reading casework's own events for the accounts (plans issued, cases closed).
    accounts_consumer_group: str = "casework-accounts"
    # Where money received goes, in order (MPA Regs 2009 reg 4: as the CMS thinks fit); each of CURRENT_MAINTENANCE,
    # ARREARS (oldest first) and COLLECTION_FEES once; what is left is held as credit. A JSON list in the environment.
    allocation_order: list[str] = ["CURRENT_MAINTENANCE", "ARREARS", "COLLECTION_FEES"]
    # The day the announced collection fee reform takes effect for charges due from it; unset = never.
    collection_fees_reform_date: dt.date | None = None
    # The reform's fees in basis points: compliant paying parent, receiving parent, non-compliant paying parent.
    collection_fees_reform_paying_parent_bp: int = 200
    collection_fees_reform_receiving_parent_bp: int = 200
    collection_fees_reform_non_compliant_bp: int = 2000

    # ---- Arrears ----
    # Days after a due date before an unpaid amount counts as missed (a Collect & Pay missed payment, an arrears
    # agreement's instalment broken). Design assumption: 3 days, for a payment made on the due date to clear
    # (docs/domain/money.md §8); 0 makes anything unpaid the day after its due date arrears.
    arrears_grace_days: int = 3
    # The consumer group reading receipts for arrears agreements' compliance; one per environment sharing a broker.
    arrears_consumer_group: str = "casework-arrears"

    # The least confidence (0-100) a credit reference agency's address link needs before a trace takes it as the
    # client's whereabouts (docs/domain/money.md "Finding people and money"); below it the CRA step finds nothing usable.
    tracing_min_cra_confidence_percent: int = Field(default=60, ge=0, le=100)

    # ---- Collection reform (docs/domain/money.md, "The end of Direct Pay") ----
    # The day every Direct Pay case moves to Collect & Pay (SCHEDULED_JOB_DIRECT_PAY_MIGRATION runs from it; a team
    # leader may also start a run by RPC). Unset = never. Set it with CASEWORK_COLLECTION_FEES_REFORM_DATE: the moved
    # cases' charges carry the reform's fees only from that date.
    direct_pay_migration_start_date: dt.date | None = None
    # Running what-ifs and migration runs are taken up this often (and at once when one is started); a run a
    # stopped process left is taken up once its lease has run out. 0 turns the background runner off.
    collection_reform_interval_seconds: float = 2.0
    # How long a runner holds a what-if or migration run without renewing its hold (it renews after each case or
    # batch); longer than one case's move takes.
    collection_reform_lease_seconds: float = 300.0
    # Deprecated alias of CASEWORK_COMPLIANCE_WINDOW_DAYS (the window used to count missed payments the arrears
    # check recorded; compliance now comes from the ledger): when set and the new setting is not, it gives the window.
    arrears_non_compliance_days: int | None = None
    # Small arrears on a closed case may be written off (MPA Regs 2009 as amended by SI 2024/87): under this many
    # pence (£7), with no ongoing liability and no payment for `arrears_write_off_quiet_days` days.
    arrears_write_off_max_pence: int = 700
    arrears_write_off_quiet_days: int = 90

    # ---- Compliance (docs/domain/money.md, "Write-offs, deaths and compliance") ----
    # A paying parent is compliant when every charge due in this rolling window (to today) was paid in full by its
    # due date plus CASEWORK_ARREARS_GRACE_DAYS; it decides the reform's 2% / 20% paying parent's fee. 0 leaves no
    # history to judge (everyone counts as compliant). Unset: CASEWORK_ARREARS_NON_COMPLIANCE_DAYS, else 90.
    compliance_window_days: int | None = None

    @property
    def compliance_window(self) -> int:
        """CASEWORK_COMPLIANCE_WINDOW_DAYS, else the deprecated CASEWORK_ARREARS_NON_COMPLIANCE_DAYS, else 90."""
        for days in (self.compliance_window_days, self.arrears_non_compliance_days):
            if days is not None:
                return days
        return 90

    # ---- Enforcement ----
    # The day administrative liability orders (Child Support (Enforcement) Act 2023) become available: from then a
    # team leader may make one without a court; unset = not available (its commencement date is not known).
    administrative_liability_orders_from: dt.date | None = None
    # How far ahead the review of the case surveillance that enforcement starts is set (the CRA's review date).
    enforcement_surveillance_review_days: int = 90
