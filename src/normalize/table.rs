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
    let n = records.len();
    let time = Int64Chunked::from_vec(
        col::TIME.into(),
        records.iter().map(|r| r.time_us).collect(),
    )
    .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
    .into_column();
    let opt_bool = |name: &str, f: fn(&SignIn) -> Option<bool>| -> Column {
        Column::new(name.into(), records.iter().map(f).collect::<Vec<_>>())
    };
    let opt_f64 = |name: &str, f: fn(&SignIn) -> Option<f64>| -> Column {
        Column::new(name.into(), records.iter().map(f).collect::<Vec<_>>())
    };
    let columns = vec![
        time,
        text(col::REQUEST_ID, records, |r| &r.request_id),
        text(col::CORRELATION_ID, records, |r| &r.correlation_id),
        text(col::SESSION_ID, records, |r| &r.session_id),
        text(col::USER, records, |r| &r.user_principal_name),
        text(col::USER_ID, records, |r| &r.user_id),
        text(col::USER_DISPLAY_NAME, records, |r| &r.user_display_name),
        text(col::IP, records, |r| &r.ip),
        Column::new(
            col::ERROR_CODE.into(),
            records.iter().map(|r| r.error_code).collect::<Vec<_>>(),
        ),
        text(col::STATUS, records, |r| r.status.as_str()),
        text(col::FAILURE_REASON, records, |r| &r.failure_reason),
        text(col::ADDITIONAL_DETAILS, records, |r| &r.additional_details),
        text(col::APP_NAME, records, |r| &r.app_name),
        text(col::APP_ID, records, |r| &r.app_id),
        text(col::RESOURCE, records, |r| &r.resource),
        text(col::CLIENT_APP, records, |r| &r.client_app),
        text(col::USER_AGENT, records, |r| &r.user_agent),
        text(col::OS, records, |r| &r.os),
        text(col::BROWSER, records, |r| &r.browser),
        text(col::DEVICE_ID, records, |r| &r.device_id),
        opt_bool(col::COMPLIANT, |r| r.compliant),
        opt_bool(col::MANAGED, |r| r.managed),
        text(col::CITY, records, |r| &r.city),
        text(col::STATE, records, |r| &r.state),
        text(col::COUNTRY, records, |r| &r.country),
        opt_f64(col::LATITUDE, |r| r.latitude),
        opt_f64(col::LONGITUDE, |r| r.longitude),
        Column::new(
            col::ASN.into(),
            records.iter().map(|r| r.asn).collect::<Vec<_>>(),
        ),
        text(col::SIGN_IN_TYPE, records, |r| r.sign_in_type.as_str()),
        text(col::RISK_LEVEL_DURING_SIGN_IN, records, |r| {
            &r.risk_level_during_sign_in
        }),
        text(col::RISK_LEVEL_AGGREGATED, records, |r| {
            &r.risk_level_aggregated
        }),
        text(col::RISK_STATE, records, |r| &r.risk_state),
        text(col::RISK_EVENT_TYPES, records, |r| &r.risk_event_types),
        text(col::CONDITIONAL_ACCESS_STATUS, records, |r| {
            &r.conditional_access_status
        }),
        text(col::AUTHENTICATION_REQUIREMENT, records, |r| {
            &r.authentication_requirement
        }),
        text(col::MFA_METHOD, records, |r| &r.mfa_method),
        text(col::MFA_RESULT, records, |r| &r.mfa_result),
        text(col::SOURCE_FORMAT, records, |r| {
            r.source_format.map(|f| f.as_str()).unwrap_or("")
        }),
        text(col::SOURCE_FILE, records, |r| {
            paths
                .get(r.source_file as usize)
                .map(String::as_str)
                .unwrap_or("")
        }),
        Column::new(
            col::SOURCE_RECORD.into(),
            records.iter().map(|r| r.source_record).collect::<Vec<_>>(),
        ),
    ];
    DataFrame::new(n, columns)
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
