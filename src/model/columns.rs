//! Canonical column names of the normalized table and its polars schema.
//!
//! The names are the public interface of `convert` output and of the SQL
//! in `detections --sql`; change them only with a schema version bump.

use polars::prelude::{DataType, Field, Schema, TimeUnit, TimeZone};

pub const TIME: &str = "time";
pub const REQUEST_ID: &str = "request_id";
pub const CORRELATION_ID: &str = "correlation_id";
pub const SESSION_ID: &str = "session_id";
pub const USER: &str = "user_principal_name";
pub const USER_ID: &str = "user_id";
pub const USER_DISPLAY_NAME: &str = "user_display_name";
pub const IP: &str = "ip";
pub const ERROR_CODE: &str = "error_code";
pub const STATUS: &str = "status";
pub const FAILURE_REASON: &str = "failure_reason";
pub const ADDITIONAL_DETAILS: &str = "additional_details";
pub const APP_NAME: &str = "app_name";
pub const APP_ID: &str = "app_id";
pub const RESOURCE: &str = "resource";
pub const CLIENT_APP: &str = "client_app";
pub const USER_AGENT: &str = "user_agent";
pub const OS: &str = "os";
pub const BROWSER: &str = "browser";
pub const DEVICE_ID: &str = "device_id";
pub const COMPLIANT: &str = "compliant";
pub const MANAGED: &str = "managed";
pub const CITY: &str = "city";
pub const STATE: &str = "state";
pub const COUNTRY: &str = "country";
pub const LATITUDE: &str = "latitude";
pub const LONGITUDE: &str = "longitude";
pub const ASN: &str = "asn";
pub const SIGN_IN_TYPE: &str = "sign_in_type";
pub const RISK_LEVEL_DURING_SIGN_IN: &str = "risk_level_during_sign_in";
pub const RISK_LEVEL_AGGREGATED: &str = "risk_level_aggregated";
pub const RISK_STATE: &str = "risk_state";
pub const RISK_EVENT_TYPES: &str = "risk_event_types";
pub const CONDITIONAL_ACCESS_STATUS: &str = "conditional_access_status";
pub const AUTHENTICATION_REQUIREMENT: &str = "authentication_requirement";
pub const MFA_METHOD: &str = "mfa_method";
pub const MFA_RESULT: &str = "mfa_result";
pub const AUTHENTICATION_PROTOCOL: &str = "authentication_protocol";
pub const ORIGINAL_TRANSFER_METHOD: &str = "original_transfer_method";
pub const INCOMING_TOKEN_TYPE: &str = "incoming_token_type";
pub const UNIQUE_TOKEN_IDENTIFIER: &str = "unique_token_identifier";
pub const SOURCE_FORMAT: &str = "source_format";
pub const SOURCE_FILE: &str = "source_file";
pub const SOURCE_RECORD: &str = "source_record";

/// Text columns in schema order (everything not listed in the typed groups
/// below is a UTF-8 string).
pub const TEXT_COLUMNS: &[&str] = &[
    REQUEST_ID,
    CORRELATION_ID,
    SESSION_ID,
    USER,
    USER_ID,
    USER_DISPLAY_NAME,
    IP,
    STATUS,
    FAILURE_REASON,
    ADDITIONAL_DETAILS,
    APP_NAME,
    APP_ID,
    RESOURCE,
    CLIENT_APP,
    USER_AGENT,
    OS,
    BROWSER,
    DEVICE_ID,
    CITY,
    STATE,
    COUNTRY,
    SIGN_IN_TYPE,
    RISK_LEVEL_DURING_SIGN_IN,
    RISK_LEVEL_AGGREGATED,
    RISK_STATE,
    RISK_EVENT_TYPES,
    CONDITIONAL_ACCESS_STATUS,
    AUTHENTICATION_REQUIREMENT,
    MFA_METHOD,
    MFA_RESULT,
    AUTHENTICATION_PROTOCOL,
    ORIGINAL_TRANSFER_METHOD,
    INCOMING_TOKEN_TYPE,
    UNIQUE_TOKEN_IDENTIFIER,
    SOURCE_FORMAT,
    SOURCE_FILE,
];

/// Every column in output order with its polars type.
pub fn schema() -> Schema {
    let mut fields = vec![Field::new(
        TIME.into(),
        DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)),
    )];
    for name in ALL_COLUMNS.iter().skip(1) {
        fields.push(Field::new((*name).into(), dtype_of(name)));
    }
    Schema::from_iter(fields)
}

/// All column names in output order.
pub const ALL_COLUMNS: &[&str] = &[
    TIME,
    REQUEST_ID,
    CORRELATION_ID,
    SESSION_ID,
    USER,
    USER_ID,
    USER_DISPLAY_NAME,
    IP,
    ERROR_CODE,
    STATUS,
    FAILURE_REASON,
    ADDITIONAL_DETAILS,
    APP_NAME,
    APP_ID,
    RESOURCE,
    CLIENT_APP,
    USER_AGENT,
    OS,
    BROWSER,
    DEVICE_ID,
    COMPLIANT,
    MANAGED,
    CITY,
    STATE,
    COUNTRY,
    LATITUDE,
    LONGITUDE,
    ASN,
    SIGN_IN_TYPE,
    RISK_LEVEL_DURING_SIGN_IN,
    RISK_LEVEL_AGGREGATED,
    RISK_STATE,
    RISK_EVENT_TYPES,
    CONDITIONAL_ACCESS_STATUS,
    AUTHENTICATION_REQUIREMENT,
    MFA_METHOD,
    MFA_RESULT,
    AUTHENTICATION_PROTOCOL,
    ORIGINAL_TRANSFER_METHOD,
    INCOMING_TOKEN_TYPE,
    UNIQUE_TOKEN_IDENTIFIER,
    SOURCE_FORMAT,
    SOURCE_FILE,
    SOURCE_RECORD,
];

fn dtype_of(name: &str) -> DataType {
    match name {
        ERROR_CODE | ASN => DataType::Int64,
        COMPLIANT | MANAGED => DataType::Boolean,
        LATITUDE | LONGITUDE => DataType::Float64,
        SOURCE_RECORD => DataType::UInt64,
        TIME => DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)),
        _ => DataType::String,
    }
}
