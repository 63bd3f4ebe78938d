//! The presets besides `default` (which is every detection's `Default`):
//! the thresholds of the SIEM products' own Entra ID rules, so results can
//! be compared with theirs. Each names only what differs from `default`;
//! a detection the product has no rule for keeps its defaults, so a new
//! detection needs nothing here.
//!
//! The `default` values each sit inside the range these products use (see
//! the detection docs); where they disagree, `default` leans to catching
//! slower attacks, with shared-egress and known-good-IP filters keeping
//! the noise down instead of high counts.

use super::brute_force::BruteForceConfig;
use super::config::ConfigError;
use super::distributed_spray::{DistributedSprayConfig, SprayGroup};
use super::mfa_fatigue::MfaFatigueConfig;
use super::password_spray::PasswordSprayConfig;
use super::DetectionConfig;

/// Preset names accepted by [`DetectionConfig::preset`].
pub const PRESETS: &[&str] = &["default", "sentinel", "splunk", "elastic"];

/// Credential-failure codes most anchors count: bad password, lockout,
/// expired password, no/empty password, credential validation error.
pub(crate) const CREDENTIAL_CODES: &[i64] = &[50126, 50053, 50055, 50056, 50064];

/// The 20 codes of Elastic's Entra brute-force rule. Interrupt codes among
/// them (50076, 50079, 50144) never count as failures here.
const ELASTIC_CODES: &[i64] = &[
    50034, 50126, 50055, 50056, 50057, 50064, 50076, 50079, 50105, 70000, 70008, 70043, 80002,
    80005, 50144, 50135, 50142, 120000, 120002, 120020,
];

/// One of [`PRESETS`] (case and surrounding blanks ignored).
pub(crate) fn preset(name: &str) -> Result<DetectionConfig, ConfigError> {
    match name.trim().to_ascii_lowercase().as_str() {
        "default" => Ok(DetectionConfig::default()),
        "sentinel" => Ok(sentinel_preset()),
        "splunk" => Ok(splunk_preset()),
        "elastic" => Ok(elastic_preset()),
        _ => Err(ConfigError::UnknownPreset(name.to_string())),
    }
}

/// The `default` values under another preset's name, for a preset to
/// change.
fn from_default(name: &str) -> DetectionConfig {
    DetectionConfig {
        preset: name.to_string(),
        ..DetectionConfig::default()
    }
}

/// `sentinel`: Microsoft Sentinel's Entra ID analytic rules.
///
/// Gaps: Sentinel counts in fixed bins (20 min for spray, 1 day for the
/// rest); we slide, so a burst split by a bin edge fires here and may not
/// there. Distributed cracking counts distinct locations (country, state,
/// city) per user; we count distinct IPs. The Azure-Portal-only scope and
/// the "(2 IPs and 5 failures)" branch of the brute-force rule, the
/// session split at 20-minute pauses and the 25x-over-baseline test of the
/// success-after-failures rule, and the disabled-account ratio test are
/// not modelled. Sentinel has no per-user lockout or enumeration rule; its
/// lockout hunt lists every 50053, which `min_lockouts = 1` mirrors.
/// Legacy auth alerts only on new user/client/app/IP combinations there;
/// here every success is reported.
fn sentinel_preset() -> DetectionConfig {
    let mut c = from_default("sentinel");
    c.password_spray = PasswordSprayConfig {
        enabled: true,
        window_minutes: 20,
        min_users: 5,
        codes: vec![50053, 50126, 50055],
        per_app: true,
        skip_shared_egress: true,
    };
    c.distributed_spray = DistributedSprayConfig {
        enabled: true,
        window_minutes: 24 * 60,
        min_ips: 3,
        min_users: 1,
        min_failures: 31,
        max_users_per_ip: 0.0,
        group_by: vec![SprayGroup::User],
        codes: vec![50126, 50053, 50055, 50056],
        ignore_known_good_ips: false,
    };
    c.brute_force = BruteForceConfig {
        enabled: true,
        window_minutes: 24 * 60,
        min_failures: 20,
        min_ips: 1,
        codes: Vec::new(),
    };
    c.success_after_failures.window_minutes = 24 * 60;
    c.lockout.min_lockouts = 1;
    c.mfa_fatigue = MfaFatigueConfig {
        enabled: true,
        window_minutes: 5,
        min_failures: 11,
        require_success: true,
    };
    c.legacy_auth.successes_only = true;
    c.impossible_travel.window_minutes = 10;
    c
}

/// `splunk`: Splunk ESCU Azure AD detections.
///
/// Gaps: Splunk buckets time in fixed 5- or 10-minute spans; we slide.
/// Its multi-source spike needs more than 20 IP-user pairs and exactly one
/// user agent tenant-wide; we group by user agent and require 21 failures.
/// The 3-sigma variants and the "more than one IP in 30 minutes" rule have
/// no equivalent (impossible travel keeps its distance and speed test with
/// a 30-minute window). Splunk has no lockout, enumeration, disabled-account
/// or success-after-failures rule; those keep the defaults.
fn splunk_preset() -> DetectionConfig {
    let mut c = from_default("splunk");
    c.password_spray = PasswordSprayConfig {
        enabled: true,
        window_minutes: 5,
        min_users: 31,
        codes: vec![50126],
        per_app: false,
        skip_shared_egress: false,
    };
    c.distributed_spray = DistributedSprayConfig {
        enabled: true,
        window_minutes: 5,
        min_ips: 21,
        min_users: 21,
        min_failures: 21,
        max_users_per_ip: 0.0,
        group_by: vec![SprayGroup::UserAgent],
        codes: vec![50126],
        ignore_known_good_ips: false,
    };
    c.brute_force = BruteForceConfig {
        enabled: true,
        window_minutes: 10,
        min_failures: 21,
        min_ips: 1,
        codes: vec![50126],
    };
    c.mfa_fatigue = MfaFatigueConfig {
        enabled: true,
        window_minutes: 10,
        min_failures: 10,
        require_success: false,
    };
    c.impossible_travel.window_minutes = 30;
    c
}

/// `elastic`: Elastic detection-rules for Entra ID.
///
/// Gaps: Elastic's password-spraying class counts the whole tenant in a
/// 15-minute bucket and needs a single failure description; we key on the
/// source IP. Its credential-stuffing class (users > IPs) is the tenant
/// grouping of `distributed_spray` without our users-per-IP ceiling. It
/// filters single-factor sign-ins and Microsoft's own ASN, which we do not.
/// The TOTP brute-force rule counts OATH failures over distinct sessions;
/// we count every 500121. Legacy auth is a new-terms rule there (first
/// success per user in 7 days); here every success is reported. Elastic has
/// no per-user lockout, enumeration, disabled-account or
/// success-after-failures rule; those keep the defaults.
fn elastic_preset() -> DetectionConfig {
    let mut c = from_default("elastic");
    c.password_spray = PasswordSprayConfig {
        enabled: true,
        window_minutes: 30,
        min_users: 15,
        codes: ELASTIC_CODES.to_vec(),
        per_app: false,
        skip_shared_egress: false,
    };
    c.distributed_spray = DistributedSprayConfig {
        enabled: true,
        window_minutes: 10,
        min_ips: 5,
        min_users: 10,
        min_failures: 30,
        max_users_per_ip: 0.0,
        group_by: vec![SprayGroup::Tenant],
        codes: ELASTIC_CODES.to_vec(),
        ignore_known_good_ips: false,
    };
    c.brute_force = BruteForceConfig {
        enabled: true,
        window_minutes: 5,
        min_failures: 30,
        min_ips: 1,
        codes: ELASTIC_CODES.to_vec(),
    };
    c.lockout.tenant_window_minutes = 30;
    c.lockout.tenant_min_users = 25;
    c.lockout.tenant_min_events = 30;
    c.mfa_fatigue = MfaFatigueConfig {
        enabled: true,
        window_minutes: 10,
        min_failures: 20,
        require_success: false,
    };
    c.legacy_auth.successes_only = true;
    c.impossible_travel.window_minutes = 90;
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_differ_where_the_anchors_differ() {
        let d = DetectionConfig::default();
        assert_eq!(d.preset, "default");
        let s = DetectionConfig::preset("Sentinel").unwrap();
        assert_eq!(
            (s.password_spray.window_minutes, s.password_spray.min_users),
            (20, 5)
        );
        assert!(s.password_spray.per_app);
        let sp = DetectionConfig::preset("splunk").unwrap();
        assert_eq!(
            (
                sp.password_spray.window_minutes,
                sp.password_spray.min_users
            ),
            (5, 31)
        );
        assert_eq!(sp.brute_force.codes, vec![50126]);
        let e = DetectionConfig::preset("elastic").unwrap();
        assert_eq!(e.distributed_spray.group_by, vec![SprayGroup::Tenant]);
        assert_eq!(e.lockout.tenant_min_users, 25);
        for name in PRESETS {
            DetectionConfig::preset(name).unwrap().validate().unwrap();
        }
        let err = DetectionConfig::preset("qradar").unwrap_err().to_string();
        assert!(err.contains("qradar") && err.contains("sentinel"), "{err}");
    }
}
