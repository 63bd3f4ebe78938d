//! The one normalized sign-in record every reader produces.
//!
//! Text fields use the empty string for "absent": the exports themselves do
//! not distinguish a missing value from an empty one, and it keeps the
//! record cheap to build.

use serde::{Deserialize, Serialize};

use super::{Id, Text};

/// Outcome class, always derived from the error code (never from status
/// text, which some collectors rewrite or get wrong).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum StatusClass {
    #[default]
    Success,
    Interrupted,
    Failure,
}

impl StatusClass {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusClass::Success => "success",
            StatusClass::Interrupted => "interrupted",
            StatusClass::Failure => "failure",
        }
    }
}

/// Which sign-in log the record belongs to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum SignInType {
    #[default]
    Interactive,
    NonInteractive,
    ServicePrincipal,
    ManagedIdentity,
}

impl SignInType {
    pub fn as_str(self) -> &'static str {
        match self {
            SignInType::Interactive => "interactive",
            SignInType::NonInteractive => "non_interactive",
            SignInType::ServicePrincipal => "service_principal",
            SignInType::ManagedIdentity => "managed_identity",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "interactive" => SignInType::Interactive,
            "non_interactive" => SignInType::NonInteractive,
            "service_principal" => SignInType::ServicePrincipal,
            "managed_identity" => SignInType::ManagedIdentity,
            _ => return None,
        })
    }
}

/// The export shape a record was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceFormat {
    /// Microsoft Graph `auditLogs/signIns` objects: portal JSON downloads,
    /// Graph pages and what collectors write from them.
    GraphJson,
    /// Azure Monitor diagnostic-setting records (storage blobs, Event Hub).
    AzureMonitor,
    /// Log Analytics / Sentinel `SigninLogs` query exported to CSV.
    LogAnalyticsCsv,
    /// Entra admin center "Download CSV".
    PortalCsv,
    /// Purview unified audit log (CSV exports or raw AuditData JSON).
    PurviewAudit,
    /// AD FS sign-ins that Entra Connect Health forwards (Azure Monitor
    /// category or Log Analytics table `ADFSSignInLogs`): the on-premises
    /// federation server's own sign-ins, with its own error codes.
    Adfs,
}

impl SourceFormat {
    pub const ALL: [SourceFormat; 6] = [
        SourceFormat::GraphJson,
        SourceFormat::AzureMonitor,
        SourceFormat::LogAnalyticsCsv,
        SourceFormat::PortalCsv,
        SourceFormat::PurviewAudit,
        SourceFormat::Adfs,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::GraphJson => "graph_json",
            SourceFormat::AzureMonitor => "azure_monitor",
            SourceFormat::LogAnalyticsCsv => "log_analytics_csv",
            SourceFormat::PortalCsv => "portal_csv",
            SourceFormat::PurviewAudit => "purview_audit",
            SourceFormat::Adfs => "adfs",
        }
    }

    /// When the same sign-in arrives in several formats, the copy from the
    /// richest format is kept (lower is richer). The audit log carries the
    /// fewest fields, so it loses every tie.
    pub fn richness_rank(self) -> u8 {
        match self {
            SourceFormat::GraphJson => 0,
            SourceFormat::AzureMonitor => 1,
            SourceFormat::LogAnalyticsCsv => 2,
            SourceFormat::PortalCsv => 3,
            SourceFormat::PurviewAudit => 4,
            // Never the same sign-in as an Entra record; ranked last, as
            // the SQL detections rank a format they do not list.
            SourceFormat::Adfs => 5,
        }
    }
}

/// One sign-in in the normalized schema (see `model::columns`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SignIn {
    /// Microseconds since the Unix epoch, UTC.
    pub time_us: i64,
    pub request_id: Id,
    pub correlation_id: Id,
    pub session_id: Text,
    /// Lowercased.
    pub user_principal_name: Text,
    pub user_id: Text,
    pub user_display_name: Text,
    /// Canonical text form (IPv4 dotted, IPv6 compressed lowercase); no port.
    pub ip: Text,
    pub error_code: i64,
    pub status: StatusClass,
    pub failure_reason: Text,
    pub additional_details: Text,
    pub app_name: Text,
    pub app_id: Text,
    pub resource: Text,
    pub client_app: Text,
    pub user_agent: Text,
    pub os: Text,
    pub browser: Text,
    pub device_id: Text,
    pub compliant: Option<bool>,
    pub managed: Option<bool>,
    pub city: Text,
    pub state: Text,
    /// Two-letter code as Entra gives it.
    pub country: Text,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub asn: Option<i64>,
    pub sign_in_type: SignInType,
    pub risk_level_during_sign_in: Text,
    pub risk_level_aggregated: Text,
    pub risk_state: Text,
    /// Comma-separated, as `riskEventTypes_v2` lists them.
    pub risk_event_types: Text,
    pub conditional_access_status: Text,
    pub authentication_requirement: Text,
    pub mfa_method: Text,
    pub mfa_result: Text,
    /// `authenticationProtocol` in Graph's spelling (`deviceCode`, `ropc`,
    /// `oAuth2`, `none`, ...); empty when the export lacks the field. See
    /// `ingest::fields::protocol_value`.
    pub auth_protocol: Text,
    /// `originalTransferMethod` (`deviceCodeFlow`,
    /// `authenticationTransfer`, `none`); empty when absent.
    pub transfer_method: Text,
    /// `incomingTokenType` (`primaryRefreshToken`, `refreshToken`,
    /// `saml20`, `none`, ...); empty when absent.
    pub incoming_token: Text,
    /// `uniqueTokenIdentifier`: the token this sign-in issued or used.
    /// Nearly every sign-in has its own, so it is an [`Id`], held in the
    /// record rather than interned.
    pub token_id: Id,
    pub source_format: Option<SourceFormat>,
    /// Index into the run's input list (sorted by path, so stable).
    pub source_file: u32,
    /// 1-based record number within that input (line for JSON Lines, row
    /// for CSV, element for JSON arrays).
    pub source_record: u64,
    /// Why a 50053 was answered, settled once by `model::lockout::settle`
    /// (undetermined on every other code). Derived, so not serialized.
    #[serde(skip)]
    pub lockout: super::lockout::Lockout,
}

impl SignIn {
    /// Made on a device the tenant manages: Entra reports it compliant
    /// (Intune) or managed (joined). A rented server or an attacker's own
    /// machine presents neither.
    pub fn on_managed_device(&self) -> bool {
        self.compliant == Some(true) || self.managed == Some(true)
    }
}

/// One authentication step from a portal `*_AuthDetails_*` file; joined to
/// its sign-in by request id, never counted as a sign-in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AuthDetail {
    pub request_id: String,
    pub method: String,
    pub succeeded: Option<bool>,
    pub result_detail: String,
}
