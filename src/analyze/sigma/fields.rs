//! The names a Sigma rule for `product: azure, service: signinlogs` may use
//! for a sign-in, and the normalized field each one reads.
//!
//! Rules are written against whichever export their author had: the Log
//! Analytics / Sentinel `SigninLogs` columns (`ResultType`, `IPAddress`),
//! Graph's camelCase properties (`userAgent`, `conditionalAccessStatus`),
//! the nested `properties.*` paths of Azure Monitor records, or the portal
//! CSV's headers (`Client app`, `Username`). One table answers all of them
//! from [`SignIn`], so a rule runs the same on every export. Names are
//! compared without case, spaces, `_`, `-` and parentheses (SigmaHQ's own
//! rules spell `ResultDescription` as `Resultdescription` and `UserAgent`
//! as `userAgent`), and a leading `properties.` is dropped. A name that is
//! not in the table is never true; the loader reports each such name once
//! per rule (see `super::load`).

use std::borrow::Cow;
use std::collections::HashMap;

use rsigma_eval::{Event, EventValue};

use crate::model::{SignIn, SignInType, StatusClass};

/// A normalized field a Sigma name can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Time,
    ErrorCode,
    FailureReason,
    AdditionalDetails,
    /// The outcome word and the failure text together (see [`value`]).
    Status,
    Upn,
    UserId,
    UserDisplayName,
    Ip,
    AppName,
    AppId,
    Resource,
    ClientApp,
    UserAgent,
    Os,
    Browser,
    DeviceId,
    Compliant,
    Managed,
    City,
    State,
    Country,
    Latitude,
    Longitude,
    Asn,
    Category,
    IsInteractive,
    RiskDuring,
    RiskAggregated,
    RiskState,
    RiskEventTypes,
    ConditionalAccess,
    AuthRequirement,
    AuthProtocol,
    TransferMethod,
    IncomingToken,
    TokenId,
    SessionId,
    CorrelationId,
    RequestId,
    MfaMethod,
    MfaResult,
}

/// Every accepted spelling, already in [`normalize`]d form, with the field
/// it reads. README's "Sigma rules" table is this list in prose; keep both
/// in step.
const NAMES: &[(&str, Field)] = &[
    // Time: Log Analytics, Graph, Azure Monitor, portal CSV.
    ("timegenerated", Field::Time),
    ("createddatetime", Field::Time),
    ("time", Field::Time),
    ("dateutc", Field::Time),
    ("date", Field::Time),
    // Outcome.
    ("resulttype", Field::ErrorCode),
    ("errorcode", Field::ErrorCode),
    ("status.errorcode", Field::ErrorCode),
    ("signinerrorcode", Field::ErrorCode),
    ("resultdescription", Field::FailureReason),
    ("failurereason", Field::FailureReason),
    ("status.failurereason", Field::FailureReason),
    ("additionaldetails", Field::AdditionalDetails),
    ("status.additionaldetails", Field::AdditionalDetails),
    ("status", Field::Status),
    ("resultsignature", Field::Status),
    // Who.
    ("userprincipalname", Field::Upn),
    ("username", Field::Upn),
    ("userid", Field::UserId),
    ("userdisplayname", Field::UserDisplayName),
    ("user", Field::UserDisplayName),
    ("identity", Field::UserDisplayName),
    // From where.
    ("ipaddress", Field::Ip),
    ("calleripaddress", Field::Ip),
    ("ip", Field::Ip),
    ("location", Field::Country),
    ("locationdetails.city", Field::City),
    ("location.city", Field::City),
    ("city", Field::City),
    ("locationdetails.state", Field::State),
    ("location.state", Field::State),
    ("state", Field::State),
    ("locationdetails.countryorregion", Field::Country),
    ("location.countryorregion", Field::Country),
    ("country", Field::Country),
    ("locationdetails.geocoordinates.latitude", Field::Latitude),
    ("location.geocoordinates.latitude", Field::Latitude),
    ("latitude", Field::Latitude),
    ("locationdetails.geocoordinates.longitude", Field::Longitude),
    ("location.geocoordinates.longitude", Field::Longitude),
    ("longitude", Field::Longitude),
    ("autonomoussystemnumber", Field::Asn),
    // What.
    ("appdisplayname", Field::AppName),
    ("application", Field::AppName),
    ("appid", Field::AppId),
    ("applicationid", Field::AppId),
    ("resourcedisplayname", Field::Resource),
    ("resource", Field::Resource),
    ("clientappused", Field::ClientApp),
    ("clientapp", Field::ClientApp),
    ("useragent", Field::UserAgent),
    ("devicedetail.operatingsystem", Field::Os),
    ("operatingsystem", Field::Os),
    ("devicedetail.browser", Field::Browser),
    ("browser", Field::Browser),
    ("devicedetail.deviceid", Field::DeviceId),
    ("deviceid", Field::DeviceId),
    ("devicedetail.iscompliant", Field::Compliant),
    ("compliant", Field::Compliant),
    ("devicedetail.ismanaged", Field::Managed),
    ("managed", Field::Managed),
    ("category", Field::Category),
    ("isinteractive", Field::IsInteractive),
    // Risk and policy.
    ("risklevelduringsignin", Field::RiskDuring),
    ("risklevelaggregated", Field::RiskAggregated),
    ("riskstate", Field::RiskState),
    ("riskeventtypesv2", Field::RiskEventTypes),
    ("riskeventtypes", Field::RiskEventTypes),
    ("conditionalaccessstatus", Field::ConditionalAccess),
    ("authenticationrequirement", Field::AuthRequirement),
    ("authenticationprotocol", Field::AuthProtocol),
    ("originaltransfermethod", Field::TransferMethod),
    ("incomingtokentype", Field::IncomingToken),
    ("uniquetokenidentifier", Field::TokenId),
    ("sessionid", Field::SessionId),
    ("correlationid", Field::CorrelationId),
    ("id", Field::RequestId),
    ("originalrequestid", Field::RequestId),
    ("requestid", Field::RequestId),
    ("mfadetail.authmethod", Field::MfaMethod),
    ("mfadetail.authdetail", Field::MfaResult),
];

/// A Sigma field name in the table's spelling: lowercase, without spaces,
/// `_`, `-` or parentheses, and without a leading `properties.` (Azure
/// Monitor nests the Graph object there).
pub fn normalize(name: &str) -> String {
    let lower: String = name
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '(' | ')'))
        .flat_map(char::to_lowercase)
        .collect();
    match lower.strip_prefix("properties.") {
        Some(rest) => rest.to_string(),
        None => lower,
    }
}

/// The field a Sigma name reads, if the table knows it.
pub fn resolve(name: &str) -> Option<Field> {
    let key = normalize(name);
    NAMES.iter().find(|(n, _)| *n == key).map(|&(_, f)| f)
}

/// Field names resolved once, as the rules spell them, so evaluating a
/// sign-in never normalizes a name again.
#[derive(Debug, Default)]
pub struct FieldTable(HashMap<String, Field>);

impl FieldTable {
    /// The table for these rule field names; names that do not resolve are
    /// left out (and so are never true).
    pub fn of<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        FieldTable(
            names
                .into_iter()
                .filter_map(|n| resolve(n).map(|f| (n.to_string(), f)))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<Field> {
        match self.0.get(name) {
            Some(&f) => Some(f),
            // A name the collection walk did not list (none is known, but
            // the engine owns the rule's compiled form): resolve it now.
            None => resolve(name),
        }
    }
}

/// The Azure Monitor category of the log the sign-in came from.
fn category(t: SignInType) -> &'static str {
    match t {
        SignInType::Interactive => "SignInLogs",
        SignInType::NonInteractive => "NonInteractiveUserSignInLogs",
        SignInType::ServicePrincipal => "ServicePrincipalSignInLogs",
        SignInType::ManagedIdentity => "ManagedIdentitySignInLogs",
    }
}

/// The outcome as the portal CSV's `Status` column spells it.
fn outcome(s: StatusClass) -> &'static str {
    match s {
        StatusClass::Success => "Success",
        StatusClass::Interrupted => "Interrupted",
        StatusClass::Failure => "Failure",
    }
}

fn text(s: &str) -> EventValue<'_> {
    EventValue::Str(Cow::Borrowed(s))
}

/// A sign-in's value for a field. Text the export left empty is the empty
/// string, as Graph and Log Analytics write it; a flag or number the export
/// did not carry is absent.
pub fn value(r: &SignIn, f: Field) -> Option<EventValue<'_>> {
    Some(match f {
        Field::Time => EventValue::Str(Cow::Owned(crate::model::time::format_time(r.time_us))),
        Field::ErrorCode => EventValue::Int(r.error_code),
        Field::FailureReason => text(r.failure_reason.as_str()),
        Field::AdditionalDetails => text(r.additional_details.as_str()),
        // Log Analytics' `Status` is an object of code, reason and details,
        // and rules test it both as the portal's outcome word
        // (`Status: Success`) and as text (`Status|contains: MFA Denied`).
        // As a list, a rule matches when any part satisfies it.
        Field::Status => EventValue::Array(vec![
            text(outcome(r.status)),
            text(r.failure_reason.as_str()),
            text(r.additional_details.as_str()),
        ]),
        Field::Upn => text(r.user_principal_name.as_str()),
        Field::UserId => text(r.user_id.as_str()),
        Field::UserDisplayName => text(r.user_display_name.as_str()),
        Field::Ip => text(r.ip.as_str()),
        Field::AppName => text(r.app_name.as_str()),
        Field::AppId => text(r.app_id.as_str()),
        Field::Resource => text(r.resource.as_str()),
        Field::ClientApp => text(r.client_app.as_str()),
        Field::UserAgent => text(r.user_agent.as_str()),
        Field::Os => text(r.os.as_str()),
        Field::Browser => text(r.browser.as_str()),
        Field::DeviceId => text(r.device_id.as_str()),
        Field::Compliant => EventValue::Bool(r.compliant?),
        Field::Managed => EventValue::Bool(r.managed?),
        Field::City => text(r.city.as_str()),
        Field::State => text(r.state.as_str()),
        Field::Country => text(r.country.as_str()),
        Field::Latitude => EventValue::Float(r.latitude?),
        Field::Longitude => EventValue::Float(r.longitude?),
        Field::Asn => EventValue::Int(r.asn?),
        Field::Category => text(category(r.sign_in_type)),
        Field::IsInteractive => EventValue::Bool(r.sign_in_type == SignInType::Interactive),
        Field::RiskDuring => text(r.risk_level_during_sign_in.as_str()),
        Field::RiskAggregated => text(r.risk_level_aggregated.as_str()),
        Field::RiskState => text(r.risk_state.as_str()),
        Field::RiskEventTypes => EventValue::Array(
            r.risk_event_types
                .as_str()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(text)
                .collect(),
        ),
        Field::ConditionalAccess => text(r.conditional_access_status.as_str()),
        Field::AuthRequirement => text(r.authentication_requirement.as_str()),
        Field::AuthProtocol => text(r.auth_protocol.as_str()),
        Field::TransferMethod => text(r.transfer_method.as_str()),
        Field::IncomingToken => text(r.incoming_token.as_str()),
        Field::TokenId => text(r.token_id.as_str()),
        Field::SessionId => text(r.session_id.as_str()),
        Field::CorrelationId => text(r.correlation_id.as_str()),
        Field::RequestId => text(r.request_id.as_str()),
        Field::MfaMethod => text(r.mfa_method.as_str()),
        Field::MfaResult => text(r.mfa_result.as_str()),
    })
}

/// Whether a sign-in carries a value for the field: text that is not
/// empty, a list with such text, or any flag or number the export gave.
pub fn carried(r: &SignIn, f: Field) -> bool {
    fn some(v: &EventValue) -> bool {
        match v {
            EventValue::Str(s) => !s.is_empty(),
            EventValue::Array(items) => items.iter().any(some),
            EventValue::Null => false,
            _ => true,
        }
    }
    // Time and the outcome are on every sign-in (and the time would be
    // formatted only to be thrown away).
    matches!(f, Field::Time | Field::Status | Field::ErrorCode)
        || value(r, f).is_some_and(|v| some(&v))
}

/// Every text field, for Sigma `keywords` (which search all of an event's
/// strings).
const TEXT_FIELDS: &[Field] = &[
    Field::FailureReason,
    Field::AdditionalDetails,
    Field::Upn,
    Field::UserId,
    Field::UserDisplayName,
    Field::Ip,
    Field::AppName,
    Field::AppId,
    Field::Resource,
    Field::ClientApp,
    Field::UserAgent,
    Field::Os,
    Field::Browser,
    Field::DeviceId,
    Field::City,
    Field::State,
    Field::Country,
    Field::RiskDuring,
    Field::RiskAggregated,
    Field::RiskState,
    Field::ConditionalAccess,
    Field::AuthRequirement,
    Field::AuthProtocol,
    Field::TransferMethod,
    Field::IncomingToken,
    Field::TokenId,
    Field::SessionId,
    Field::CorrelationId,
    Field::RequestId,
    Field::MfaMethod,
    Field::MfaResult,
];

/// One normalized sign-in as the Sigma engine sees it. `index` is its
/// place in the run's records; the correlation engine keeps it (as the
/// event's `id`) so a correlation names the sign-ins it counted.
pub struct SignInEvent<'a> {
    pub record: &'a SignIn,
    pub index: usize,
    pub table: &'a FieldTable,
}

impl Event for SignInEvent<'_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        value(self.record, self.table.get(path)?)
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        TEXT_FIELDS.iter().any(|&f| match value(self.record, f) {
            Some(EventValue::Str(s)) => !s.is_empty() && pred(&s),
            _ => false,
        })
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        TEXT_FIELDS
            .iter()
            .filter_map(|&f| match value(self.record, f) {
                Some(EventValue::Str(s)) if !s.is_empty() => Some(s),
                _ => None,
            })
            .collect()
    }

    /// Only the index: the correlation engine stores this per counted
    /// event, and the finding reads the record back from the run.
    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "id": self.index })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_across_spellings() {
        assert_eq!(resolve("ResultType"), Some(Field::ErrorCode));
        assert_eq!(
            resolve("properties.status.errorCode"),
            Some(Field::ErrorCode)
        );
        assert_eq!(resolve("Resultdescription"), Some(Field::FailureReason));
        assert_eq!(resolve("userAgent"), Some(Field::UserAgent));
        assert_eq!(resolve("Client app"), Some(Field::ClientApp));
        assert_eq!(resolve("RiskEventTypes_V2"), Some(Field::RiskEventTypes));
        assert_eq!(resolve("properties.ipAddress"), Some(Field::Ip));
        assert_eq!(resolve("NetworkLocationDetails"), None);
        assert_eq!(resolve("properties.message"), None);
    }

    #[test]
    fn every_table_name_is_normalized() {
        for (n, _) in NAMES {
            assert_eq!(normalize(n), *n, "{n} is not in normalized form");
        }
    }
}
