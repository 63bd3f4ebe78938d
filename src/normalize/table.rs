//! Builds the polars table of the normalized schema (`model::columns`).

use crate::model::columns as col;
use crate::model::SignIn;
use polars::prelude::*;

fn text<'a>(name: &str, records: &'a [SignIn], f: impl Fn(&'a SignIn) -> &'a str) -> Column {
    let values: Vec<&str> = records.iter().map(f).collect();
    Column::new(name.into(), values)
}

/// One row per sign-in, columns in `model::columns::ALL_COLUMNS` order.
/// `paths[i]` is written in `source_file` for `SignIn::source_file == i`.
pub fn to_dataframe(records: &[SignIn], paths: &[String]) -> PolarsResult<DataFrame> {
    frame(records, paths, |_| true)
}

fn frame(
    records: &[SignIn],
    paths: &[String],
    keep: impl Fn(&str) -> bool,
) -> PolarsResult<DataFrame> {
    let n = records.len();
    let time = || {
        Int64Chunked::from_vec(
            col::TIME.into(),
            records.iter().map(|r| r.time_us).collect(),
        )
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into_column()
    };
    let opt_bool = |name: &str, f: fn(&SignIn) -> Option<bool>| -> Column {
        Column::new(name.into(), records.iter().map(f).collect::<Vec<_>>())
    };
    let opt_f64 = |name: &str, f: fn(&SignIn) -> Option<f64>| -> Column {
        Column::new(name.into(), records.iter().map(f).collect::<Vec<_>>())
    };
    let columns = vec![
        keep(col::TIME).then(time),
        keep(col::REQUEST_ID).then(|| text(col::REQUEST_ID, records, |r| &r.request_id)),
        keep(col::CORRELATION_ID)
            .then(|| text(col::CORRELATION_ID, records, |r| &r.correlation_id)),
        keep(col::SESSION_ID).then(|| text(col::SESSION_ID, records, |r| &r.session_id)),
        keep(col::USER).then(|| text(col::USER, records, |r| &r.user_principal_name)),
        keep(col::USER_ID).then(|| text(col::USER_ID, records, |r| &r.user_id)),
        keep(col::USER_DISPLAY_NAME)
            .then(|| text(col::USER_DISPLAY_NAME, records, |r| &r.user_display_name)),
        keep(col::IP).then(|| text(col::IP, records, |r| &r.ip)),
        keep(col::ERROR_CODE).then(|| {
            Column::new(
                col::ERROR_CODE.into(),
                records.iter().map(|r| r.error_code).collect::<Vec<_>>(),
            )
        }),
        keep(col::STATUS).then(|| text(col::STATUS, records, |r| r.status.as_str())),
        keep(col::FAILURE_REASON)
            .then(|| text(col::FAILURE_REASON, records, |r| &r.failure_reason)),
        keep(col::ADDITIONAL_DETAILS)
            .then(|| text(col::ADDITIONAL_DETAILS, records, |r| &r.additional_details)),
        keep(col::APP_NAME).then(|| text(col::APP_NAME, records, |r| &r.app_name)),
        keep(col::APP_ID).then(|| text(col::APP_ID, records, |r| &r.app_id)),
        keep(col::RESOURCE).then(|| text(col::RESOURCE, records, |r| &r.resource)),
        keep(col::CLIENT_APP).then(|| text(col::CLIENT_APP, records, |r| &r.client_app)),
        keep(col::USER_AGENT).then(|| text(col::USER_AGENT, records, |r| &r.user_agent)),
        keep(col::OS).then(|| text(col::OS, records, |r| &r.os)),
        keep(col::BROWSER).then(|| text(col::BROWSER, records, |r| &r.browser)),
        keep(col::DEVICE_ID).then(|| text(col::DEVICE_ID, records, |r| &r.device_id)),
        keep(col::COMPLIANT).then(|| opt_bool(col::COMPLIANT, |r| r.compliant)),
        keep(col::MANAGED).then(|| opt_bool(col::MANAGED, |r| r.managed)),
        keep(col::CITY).then(|| text(col::CITY, records, |r| &r.city)),
        keep(col::STATE).then(|| text(col::STATE, records, |r| &r.state)),
        keep(col::COUNTRY).then(|| text(col::COUNTRY, records, |r| &r.country)),
        keep(col::LATITUDE).then(|| opt_f64(col::LATITUDE, |r| r.latitude)),
        keep(col::LONGITUDE).then(|| opt_f64(col::LONGITUDE, |r| r.longitude)),
        keep(col::ASN).then(|| {
            Column::new(
                col::ASN.into(),
                records.iter().map(|r| r.asn).collect::<Vec<_>>(),
            )
        }),
        keep(col::SIGN_IN_TYPE)
            .then(|| text(col::SIGN_IN_TYPE, records, |r| r.sign_in_type.as_str())),
        keep(col::RISK_LEVEL_DURING_SIGN_IN).then(|| {
            text(col::RISK_LEVEL_DURING_SIGN_IN, records, |r| {
                &r.risk_level_during_sign_in
            })
        }),
        keep(col::RISK_LEVEL_AGGREGATED).then(|| {
            text(col::RISK_LEVEL_AGGREGATED, records, |r| {
                &r.risk_level_aggregated
            })
        }),
        keep(col::RISK_STATE).then(|| text(col::RISK_STATE, records, |r| &r.risk_state)),
        keep(col::RISK_EVENT_TYPES)
            .then(|| text(col::RISK_EVENT_TYPES, records, |r| &r.risk_event_types)),
        keep(col::CONDITIONAL_ACCESS_STATUS).then(|| {
            text(col::CONDITIONAL_ACCESS_STATUS, records, |r| {
                &r.conditional_access_status
            })
        }),
        keep(col::AUTHENTICATION_REQUIREMENT).then(|| {
            text(col::AUTHENTICATION_REQUIREMENT, records, |r| {
                &r.authentication_requirement
            })
        }),
        keep(col::MFA_METHOD).then(|| text(col::MFA_METHOD, records, |r| &r.mfa_method)),
        keep(col::MFA_RESULT).then(|| text(col::MFA_RESULT, records, |r| &r.mfa_result)),
        keep(col::AUTHENTICATION_PROTOCOL)
            .then(|| text(col::AUTHENTICATION_PROTOCOL, records, |r| &r.auth_protocol)),
        keep(col::ORIGINAL_TRANSFER_METHOD).then(|| {
            text(col::ORIGINAL_TRANSFER_METHOD, records, |r| {
                &r.transfer_method
            })
        }),
        keep(col::INCOMING_TOKEN_TYPE)
            .then(|| text(col::INCOMING_TOKEN_TYPE, records, |r| &r.incoming_token)),
        keep(col::UNIQUE_TOKEN_IDENTIFIER)
            .then(|| text(col::UNIQUE_TOKEN_IDENTIFIER, records, |r| &r.token_id)),
        keep(col::SOURCE_FORMAT).then(|| {
            text(col::SOURCE_FORMAT, records, |r| {
                r.source_format.map(|f| f.as_str()).unwrap_or("")
            })
        }),
        keep(col::SOURCE_FILE).then(|| {
            text(col::SOURCE_FILE, records, |r| {
                paths
                    .get(r.source_file as usize)
                    .map(String::as_str)
                    .unwrap_or("")
            })
        }),
        keep(col::SOURCE_RECORD).then(|| {
            Column::new(
                col::SOURCE_RECORD.into(),
                records.iter().map(|r| r.source_record).collect::<Vec<_>>(),
            )
        }),
    ];
    DataFrame::new(n, columns.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_the_declared_schema() {
        let r = SignIn {
            time_us: 1_700_000_000_123_456,
            user_principal_name: "a@b.c".into(),
            error_code: 50126,
            latitude: Some(1.5),
            ..Default::default()
        };
        let df = to_dataframe(&[r.clone(), r], &["f".into()]).unwrap();
        assert_eq!(df.height(), 2);
        let schema = col::schema();
        let names: Vec<&str> = df.get_column_names().iter().map(|s| s.as_str()).collect();
        assert_eq!(names, col::ALL_COLUMNS);
        for (name, dtype) in schema.iter() {
            assert_eq!(df.column(name.as_str()).unwrap().dtype(), dtype, "{name}");
        }
    }
}
