//! Every number a report shows that the summary, the tables and the
//! findings do not already carry: the 50053 causes, the user agents behind
//! failures, the failure series and heatmap the charts draw, the accounts
//! each top IP failed against (and the IPs each top account failed from),
//! and the activity of each finding's accounts and IPs. Computed once
//! here, so the HTML page, the Markdown summary, the charts and the
//! workbook render the same facts, and no report writer reads the raw
//! sign-ins.

mod activity;
mod agents;
mod lockouts;
mod series;

pub use activity::{FindingActivity, SignInTable};
pub use agents::AgentRow;
pub use lockouts::CauseRow;
pub use series::{FailureSeries, Heatmap};

use crate::analyze::aggregate::Tables;
use crate::model::{Finding, SignIn};
use std::collections::BTreeMap;

/// The first findings (in report order) whose actors' activity is charted.
pub const ACTIVITY_FINDINGS: usize = 100;
/// The first findings (in report order) that, when medium or above, get a
/// table of their actors' sign-ins; and the rows such a table keeps.
pub const SIGNIN_TABLE_FINDINGS: usize = 30;
pub const SIGNIN_TABLE_ROWS: usize = 100;
/// The failing IPs and accounts (top of their tables) whose peers are
/// counted: the bars of the ranked charts.
pub const RANKED: usize = 15;

pub struct Breakdown<'a> {
    /// AADSTS50053 by cause, in `LockoutCause::ALL` order, causes with no
    /// sign-in left out.
    pub lockout_causes: Vec<CauseRow>,
    /// Accounts refused for user or sign-in risk (53004, 53011, 530032),
    /// sorted.
    pub risk_blocked_users: Vec<String>,
    /// User agents with at least one failure, most failures first.
    pub user_agents: Vec<AgentRow>,
    pub failures: FailureSeries,
    pub heatmap: Heatmap,
    /// For the top [`RANKED`] failing IPs: the distinct accounts their
    /// failed sign-ins named. The IP table counts accounts over all
    /// sign-ins, which for a shared office address would call every
    /// colleague a target.
    pub ip_targets: BTreeMap<String, u64>,
    /// For the top [`RANKED`] failing accounts: the distinct IPs their
    /// failed sign-ins came from.
    pub user_sources: BTreeMap<String, u64>,
    /// For the first [`ACTIVITY_FINDINGS`] findings, in order: their
    /// actors' sign-ins over the finding's span (`None` when the finding
    /// has no usable time span).
    pub activity: Vec<Option<FindingActivity>>,
    /// For the first [`SIGNIN_TABLE_FINDINGS`] findings, in order: their
    /// actors' sign-ins a day either side (`None` below medium or when
    /// there are none).
    pub sign_in_tables: Vec<Option<SignInTable<'a>>>,
    /// IPs with at least one failure, sorted.
    pub failing_ips: Vec<String>,
    /// Countries any sign-in came from, sorted.
    pub countries: Vec<String>,
}

/// Computes the breakdown of `records` (sorted by time, as normalize
/// leaves them), given the tables and findings of the same records. The
/// independent parts run side by side on the pool.
pub fn breakdown<'a>(
    records: &'a [SignIn],
    tables: &Tables,
    findings: &[Finding],
) -> Breakdown<'a> {
    // Each part is timed under `-v`, as the analysis parts are.
    fn part<T>(name: &'static str, f: impl FnOnce() -> T) -> T {
        let _t = crate::trace::Stage::start(name);
        f()
    }
    let ((lockouts, agents), ((series, countries), (activity, sign_in_tables))) = rayon::join(
        || {
            rayon::join(
                || part("part: 50053 causes", || lockouts::of(records)),
                || part("part: user agents", || agents::of(records)),
            )
        },
        || {
            rayon::join(
                || {
                    rayon::join(
                        || part("part: failure series", || series::of(records, tables)),
                        || series::countries(tables),
                    )
                },
                || {
                    rayon::join(
                        || {
                            part("part: finding activity", || {
                                activity::charts(records, findings)
                            })
                        },
                        || {
                            part("part: finding sign-ins", || {
                                activity::tables(records, findings)
                            })
                        },
                    )
                },
            )
        },
    );
    let (lockout_causes, risk_blocked_users) = lockouts;
    Breakdown {
        lockout_causes,
        risk_blocked_users,
        user_agents: agents,
        failures: series.failures,
        heatmap: series.heatmap,
        ip_targets: series.ip_targets,
        user_sources: series.user_sources,
        activity,
        sign_in_tables,
        failing_ips: series.failing_ips,
        countries,
    }
}
