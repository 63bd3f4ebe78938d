//! Detection settings: thresholds, presets, the IP allowlist and the TOML
//! file that overrides them.
//!
//! Every detection has a table named after its kind with an `enabled` switch
//! and its thresholds. A preset fills all of them; a TOML file then replaces
//! only the keys it names:
//!
//! ```toml
//! preset = "sentinel"                 # optional: start from this preset
//! allowlist = ["198.51.100.0/24", "2001:db8:1::/48"]
//!
//! [password_spray]
//! min_users = 8
//!
//! [legacy_auth]
//! enabled = false
//! ```
//!
//! Unknown keys are errors, so a misspelt threshold cannot be silently
//! ignored. The `--ip-list` file is loaded separately ([`IpList::parse`]) and
//! kept across TOML merges.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::iplist::{Cidr, CidrTable, IpList};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown detection preset `{0}` (expected one of: {names})", names = PRESETS.join(", "))]
    UnknownPreset(String),
    #[error("detection config is not valid TOML: {0}")]
    Toml(String),
    #[error("detection config: {0}")]
    Schema(String),
    #[error("detection config: `{key}` {message}")]
    Invalid { key: String, message: String },
    #[error("allowlist entry `{entry}`: {message}")]
    Allowlist { entry: String, message: String },
    #[error("{origin}:{line}: {message}")]
    IpList {
        origin: String,
        line: usize,
        message: String,
    },
    #[error("unknown detection `{0}`")]
    UnknownDetection(String),
}

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

/// What a distributed spray groups failures by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SprayGroup {
    /// Same user-agent string (tooling tends to send one).
    UserAgent,
    /// Same application.
    App,
    /// All failures in the tenant together (Elastic, Splunk).
    Tenant,
    /// One account attacked from many IPs (Sentinel's distributed cracking).
    User,
}

impl SprayGroup {
    pub fn as_str(self) -> &'static str {
        match self {
            SprayGroup::UserAgent => "user_agent",
            SprayGroup::App => "app",
            SprayGroup::Tenant => "tenant",
            SprayGroup::User => "user",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordSprayConfig {
    pub enabled: bool,
    pub window_minutes: u32,
    /// Distinct accounts failing from one IP within the window.
    pub min_users: u32,
    /// Error codes counted as a failed password attempt; empty means every
    /// failure.
    pub codes: Vec<i64>,
    /// Key on IP and application, as Sentinel does, instead of IP alone.
    pub per_app: bool,
    /// Ignore IPs where more distinct accounts got in than failed (shared
    /// corporate or carrier egress).
    pub skip_shared_egress: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistributedSprayConfig {
    pub enabled: bool,
    pub window_minutes: u32,
    pub min_ips: u32,
    pub min_users: u32,
    pub min_failures: u32,
    /// Ceiling on the average number of accounts per IP (0 = no ceiling):
    /// a distributed spray tries few accounts from each IP. Lowering it is
    /// the stricter direction.
    pub max_users_per_ip: f64,
    pub group_by: Vec<SprayGroup>,
    pub codes: Vec<i64>,
    /// Do not count a failure from an IP that already let some account in
    /// earlier in the input: typos from known-good egress are the main
    /// noise for this detection.
    pub ignore_known_good_ips: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BruteForceConfig {
    pub enabled: bool,
    pub window_minutes: u32,
    pub min_failures: u32,
    pub min_ips: u32,
    pub codes: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuccessAfterFailuresConfig {
    pub enabled: bool,
    /// How far back from the success failures are counted.
    pub window_minutes: u32,
    pub min_failures: u32,
    /// For the per-IP view: distinct accounts that must have failed from
    /// the IP (the succeeding one among them).
    pub ip_min_users: u32,
    pub codes: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockoutConfig {
    pub enabled: bool,
    pub window_minutes: u32,
    /// Smart-lockout refusals of one account within the window.
    pub min_lockouts: u32,
    pub tenant_window_minutes: u32,
    pub tenant_min_users: u32,
    pub tenant_min_events: u32,
    /// Count 50053 whose failure reason is missing or unrecognised (many
    /// CSV exports drop it). Explicit malicious-IP or risk blocks never count.
    pub include_undetermined: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaliciousIpConfig {
    pub enabled: bool,
    /// Report IPs Entra itself blocked (50053 malicious-IP or
    /// high-confidence-risk reason).
    pub entra_blocked: bool,
    /// Report IPs on the `--ip-list`.
    pub use_ip_list: bool,
    /// Failed share of an IP's sign-ins (interrupts left out).
    pub min_failure_ratio: f64,
    pub ratio_min_users: u32,
    pub ratio_min_failures: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskyUserConfig {
    pub enabled: bool,
    /// Quiet time after which a user's next risky sign-in starts a new finding.
    pub window_minutes: u32,
    pub min_events: u32,
    pub codes: Vec<i64>,
    /// Sign-in or aggregated risk levels that count (case-insensitive).
    pub risk_levels: Vec<String>,
    /// Risk states that count (case-insensitive, `_` ignored).
    pub risk_states: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MfaFatigueConfig {
    pub enabled: bool,
    pub window_minutes: u32,
    /// 500121 failures for one account within the window.
    pub min_failures: u32,
    /// Only report bursts followed by a successful sign-in.
    pub require_success: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnumerationConfig {
    pub enabled: bool,
    pub window_minutes: u32,
    /// Distinct non-existent accounts (50034) tried from one IP.
    pub min_users: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisabledAccountConfig {
    pub enabled: bool,
    /// Quiet time after which an IP's next attempt starts a new finding.
    pub window_minutes: u32,
    pub min_attempts: u32,
    /// An IP that let in this many other accounts or more is treated as
    /// shared egress: its finding stays low instead of being raised.
    pub max_other_users: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegacyAuthConfig {
    pub enabled: bool,
    pub window_minutes: u32,
    pub min_events: u32,
    /// `clientAppUsed` values that mean legacy authentication
    /// (case-insensitive).
    pub client_apps: Vec<String>,
    /// User-agent substrings that mean ROPC (case-insensitive).
    pub user_agents: Vec<String>,
    pub successes_only: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpossibleTravelConfig {
    pub enabled: bool,
    /// Sign-ins further apart than this are not compared.
    pub window_minutes: u32,
    pub min_distance_km: f64,
    pub min_speed_kmh: f64,
    pub interactive_only: bool,
}

/// IPs and networks whose sign-ins no detection looks at (your own egress,
/// VPN concentrators, scanners you run).
#[derive(Debug, Clone, Default)]
pub struct Allowlist {
    entries: Vec<String>,
    table: CidrTable<()>,
}

impl Allowlist {
    pub fn new<S: AsRef<str>>(entries: impl IntoIterator<Item = S>) -> Result<Self, ConfigError> {
        let mut list = Allowlist::default();
        for e in entries {
            list.add(e.as_ref())?;
        }
        Ok(list)
    }

    pub fn add(&mut self, entry: &str) -> Result<(), ConfigError> {
        let net = Cidr::parse(entry).map_err(|message| ConfigError::Allowlist {
            entry: entry.to_string(),
            message,
        })?;
        self.table.insert(net, ());
        self.entries.push(entry.trim().to_string());
        Ok(())
    }

    /// `ip` in the canonical text form of `SignIn::ip`.
    pub fn contains(&self, ip: &str) -> bool {
        self.table.lookup_str(ip).is_some()
    }

    pub fn entries(&self) -> &[String] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Serialize for Allowlist {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.entries.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Allowlist {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let entries = Vec::<String>::deserialize(d)?;
        Allowlist::new(entries).map_err(serde::de::Error::custom)
    }
}

/// Everything the detections read besides the sign-ins themselves.
/// `Default` is the `default` preset.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectionConfig {
    /// Name of the preset the values started from.
    pub preset: String,
    pub allowlist: Allowlist,
    /// Loaded from `--ip-list`; not part of the TOML file.
    #[serde(skip)]
    pub ip_list: IpList,
    pub password_spray: PasswordSprayConfig,
    pub distributed_spray: DistributedSprayConfig,
    pub brute_force: BruteForceConfig,
    pub success_after_failures: SuccessAfterFailuresConfig,
    pub lockout: LockoutConfig,
    pub malicious_ip: MaliciousIpConfig,
    pub risky_user: RiskyUserConfig,
    pub mfa_fatigue: MfaFatigueConfig,
    pub enumeration: EnumerationConfig,
    pub disabled_account: DisabledAccountConfig,
    pub legacy_auth: LegacyAuthConfig,
    pub impossible_travel: ImpossibleTravelConfig,
}

impl Default for DetectionConfig {
    fn default() -> Self {
        default_preset()
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The `default` preset. Each value sits inside the range the anchors use
/// (see the detection docs); where they disagree it leans to catching
/// slower attacks, with shared-egress and known-good-IP filters keeping
/// the noise down instead of high counts.
fn default_preset() -> DetectionConfig {
    DetectionConfig {
        preset: "default".to_string(),
        allowlist: Allowlist::default(),
        ip_list: IpList::default(),
        // Window: Elastic's 30-minute span (Sentinel bins 20 min). Users:
        // Splunk's outlier floor of 10 (Sentinel 5, Elastic 15).
        password_spray: PasswordSprayConfig {
            enabled: true,
            window_minutes: 30,
            min_users: 10,
            codes: CREDENTIAL_CODES.to_vec(),
            per_app: false,
            skip_shared_egress: true,
        },
        // Between Elastic's stuffing class (>=5 IPs, >=10 users, >=30
        // events) and Splunk's spike (>20 IPs, >20 users).
        distributed_spray: DistributedSprayConfig {
            enabled: true,
            window_minutes: 30,
            min_ips: 10,
            min_users: 10,
            min_failures: 20,
            max_users_per_ip: 3.0,
            group_by: vec![SprayGroup::UserAgent, SprayGroup::App],
            codes: CREDENTIAL_CODES.to_vec(),
            ignore_known_good_ips: true,
        },
        // Splunk: more than 20 failures for a user in 10 minutes.
        brute_force: BruteForceConfig {
            enabled: true,
            window_minutes: 10,
            min_failures: 20,
            min_ips: 1,
            codes: CREDENTIAL_CODES.to_vec(),
        },
        // Sentinel: at least 10 failures before the success.
        success_after_failures: SuccessAfterFailuresConfig {
            enabled: true,
            window_minutes: 60,
            min_failures: 10,
            ip_min_users: 5,
            codes: CREDENTIAL_CODES.to_vec(),
        },
        // Per user: every attempt during a lockout returns 50053, so 5 in an
        // hour means the attacker kept going after the first lock (Panther
        // waits for 20). Tenant: Elastic's O365 rule, 10 users.
        lockout: LockoutConfig {
            enabled: true,
            window_minutes: 60,
            min_lockouts: 5,
            tenant_window_minutes: 30,
            tenant_min_users: 10,
            tenant_min_events: 10,
            include_undetermined: true,
        },
        malicious_ip: MaliciousIpConfig {
            enabled: true,
            entra_blocked: true,
            use_ip_list: true,
            min_failure_ratio: 0.9,
            ratio_min_users: 10,
            ratio_min_failures: 20,
        },
        risky_user: RiskyUserConfig {
            enabled: true,
            window_minutes: 24 * 60,
            min_events: 1,
            codes: vec![53011, 530032, 53004],
            risk_levels: strings(&["high"]),
            risk_states: strings(&["atRisk", "confirmedCompromised"]),
        },
        // Splunk: more than 9 in 10 minutes.
        mfa_fatigue: MfaFatigueConfig {
            enabled: true,
            window_minutes: 10,
            min_failures: 10,
            require_success: false,
        },
        // No anchor has a rule; same scale as password spray.
        enumeration: EnumerationConfig {
            enabled: true,
            window_minutes: 30,
            min_users: 10,
        },
        // Sigma: every 50057. Sentinel: fewer than 50 other users.
        disabled_account: DisabledAccountConfig {
            enabled: true,
            window_minutes: 24 * 60,
            min_attempts: 1,
            max_other_users: 50,
        },
        // Sentinel's 12 legacy clients and 3 ROPC user agents.
        legacy_auth: LegacyAuthConfig {
            enabled: true,
            window_minutes: 24 * 60,
            min_events: 1,
            client_apps: strings(&[
                "Authenticated SMTP",
                "AutoDiscover",
                "Exchange ActiveSync",
                "Exchange Online PowerShell",
                "Exchange Web Services",
                "IMAP4",
                "MAPI Over HTTP",
                "Outlook Anywhere (RPC over HTTP)",
                "Outlook Service",
                "POP3",
                "Reporting Web Services",
                "Other clients",
            ]),
            user_agents: strings(&["BAV2ROPC", "CBAinPROD", "CBAinTAR"]),
            successes_only: false,
        },
        // Elastic: 500 km and 800 km/h; a day of gap so a morning in Paris
        // and an afternoon in New York are still compared.
        impossible_travel: ImpossibleTravelConfig {
            enabled: true,
            window_minutes: 24 * 60,
            min_distance_km: 500.0,
            min_speed_kmh: 800.0,
            interactive_only: true,
        },
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
    let mut c = default_preset();
    c.preset = "sentinel".to_string();
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
    let mut c = default_preset();
    c.preset = "splunk".to_string();
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
    let mut c = default_preset();
    c.preset = "elastic".to_string();
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

impl DetectionConfig {
    /// One of [`PRESETS`].
    pub fn preset(name: &str) -> Result<Self, ConfigError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "default" => Ok(default_preset()),
            "sentinel" => Ok(sentinel_preset()),
            "splunk" => Ok(splunk_preset()),
            "elastic" => Ok(elastic_preset()),
            _ => Err(ConfigError::UnknownPreset(name.to_string())),
        }
    }

    /// Applies a TOML file over `base`. A `preset` key in the file replaces
    /// `base` with that preset first. The loaded `--ip-list` of `base` is kept.
    pub fn from_toml_str(text: &str, base: &DetectionConfig) -> Result<Self, ConfigError> {
        let overrides: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Toml(e.to_string()))?;
        let start = match overrides.get("preset") {
            Some(toml::Value::String(name)) => Self::preset(name)?,
            Some(_) => {
                return Err(ConfigError::Invalid {
                    key: "preset".into(),
                    message: "must be a string".into(),
                })
            }
            None => base.clone(),
        };
        let mut merged =
            toml::Table::try_from(&start).map_err(|e| ConfigError::Schema(e.to_string()))?;
        merge(&mut merged, overrides);
        let mut cfg: DetectionConfig = toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Schema(e.message().to_string()))?;
        cfg.ip_list = base.ip_list.clone();
        cfg.validate()?;
        Ok(cfg)
    }

    /// The effective settings as TOML, for `--dump-config`-style output;
    /// feeding it back through [`Self::from_toml_str`] gives the same values.
    pub fn to_toml_string(&self) -> Result<String, ConfigError> {
        toml::to_string(self).map_err(|e| ConfigError::Schema(e.to_string()))
    }

    pub fn is_enabled(&self, kind: &str) -> bool {
        match kind {
            "password_spray" => self.password_spray.enabled,
            "distributed_spray" => self.distributed_spray.enabled,
            "brute_force" => self.brute_force.enabled,
            "success_after_failures" => self.success_after_failures.enabled,
            "lockout" => self.lockout.enabled,
            "malicious_ip" => self.malicious_ip.enabled,
            "risky_user" => self.risky_user.enabled,
            "mfa_fatigue" => self.mfa_fatigue.enabled,
            "enumeration" => self.enumeration.enabled,
            "disabled_account" => self.disabled_account.enabled,
            "legacy_auth" => self.legacy_auth.enabled,
            "impossible_travel" => self.impossible_travel.enabled,
            _ => false,
        }
    }

    /// Turns one detection on or off (`--disable`, `--only`).
    pub fn set_enabled(&mut self, kind: &str, on: bool) -> Result<(), ConfigError> {
        let flag = match kind {
            "password_spray" => &mut self.password_spray.enabled,
            "distributed_spray" => &mut self.distributed_spray.enabled,
            "brute_force" => &mut self.brute_force.enabled,
            "success_after_failures" => &mut self.success_after_failures.enabled,
            "lockout" => &mut self.lockout.enabled,
            "malicious_ip" => &mut self.malicious_ip.enabled,
            "risky_user" => &mut self.risky_user.enabled,
            "mfa_fatigue" => &mut self.mfa_fatigue.enabled,
            "enumeration" => &mut self.enumeration.enabled,
            "disabled_account" => &mut self.disabled_account.enabled,
            "legacy_auth" => &mut self.legacy_auth.enabled,
            "impossible_travel" => &mut self.impossible_travel.enabled,
            _ => return Err(ConfigError::UnknownDetection(kind.to_string())),
        };
        *flag = on;
        Ok(())
    }

    /// Rejects values that would make a detection meaningless (a zero-length
    /// window, a ratio above 1, a speed of zero).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let windows = [
            (
                "password_spray.window_minutes",
                self.password_spray.window_minutes,
            ),
            (
                "distributed_spray.window_minutes",
                self.distributed_spray.window_minutes,
            ),
            (
                "brute_force.window_minutes",
                self.brute_force.window_minutes,
            ),
            (
                "success_after_failures.window_minutes",
                self.success_after_failures.window_minutes,
            ),
            ("lockout.window_minutes", self.lockout.window_minutes),
            (
                "lockout.tenant_window_minutes",
                self.lockout.tenant_window_minutes,
            ),
            ("risky_user.window_minutes", self.risky_user.window_minutes),
            (
                "mfa_fatigue.window_minutes",
                self.mfa_fatigue.window_minutes,
            ),
            (
                "enumeration.window_minutes",
                self.enumeration.window_minutes,
            ),
            (
                "disabled_account.window_minutes",
                self.disabled_account.window_minutes,
            ),
            (
                "legacy_auth.window_minutes",
                self.legacy_auth.window_minutes,
            ),
            (
                "impossible_travel.window_minutes",
                self.impossible_travel.window_minutes,
            ),
        ];
        for (key, minutes) in windows {
            if minutes == 0 {
                return Err(invalid(key, "must be at least 1 minute"));
            }
        }
        let ratio = self.malicious_ip.min_failure_ratio;
        if !(0.0..=1.0).contains(&ratio) {
            return Err(invalid(
                "malicious_ip.min_failure_ratio",
                "must be between 0 and 1",
            ));
        }
        let cap = self.distributed_spray.max_users_per_ip;
        if cap.is_nan() || cap < 0.0 {
            return Err(invalid(
                "distributed_spray.max_users_per_ip",
                "must be 0 (no ceiling) or more",
            ));
        }
        if self.distributed_spray.group_by.is_empty() {
            return Err(invalid(
                "distributed_spray.group_by",
                "needs at least one of user_agent, app, tenant, user",
            ));
        }
        let t = &self.impossible_travel;
        if t.min_speed_kmh.is_nan()
            || t.min_speed_kmh <= 0.0
            || t.min_distance_km.is_nan()
            || t.min_distance_km < 0.0
        {
            return Err(invalid(
                "impossible_travel",
                "min_speed_kmh must be above 0 and min_distance_km 0 or more",
            ));
        }
        Ok(())
    }
}

fn invalid(key: &str, message: &str) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        message: message.to_string(),
    }
}

/// Tables merge key by key; any other value (including arrays) replaces.
fn merge(into: &mut toml::Table, from: toml::Table) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(toml::Value::Table(dst)), toml::Value::Table(src)) => merge(dst, src),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
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

    #[test]
    fn toml_overrides_only_named_keys_and_keeps_the_ip_list() {
        let base = DetectionConfig {
            ip_list: IpList::parse("203.0.113.0/24 feed", "feed.txt").unwrap(),
            ..DetectionConfig::default()
        };
        let text = r#"
            allowlist = ["198.51.100.0/24", "2001:db8:1::/48"]
            [password_spray]
            min_users = 7
            [legacy_auth]
            enabled = false
            client_apps = ["IMAP4"]
        "#;
        let cfg = DetectionConfig::from_toml_str(text, &base).unwrap();
        assert_eq!(cfg.password_spray.min_users, 7);
        assert_eq!(cfg.password_spray.window_minutes, 30);
        assert!(!cfg.is_enabled("legacy_auth"));
        assert!(cfg.is_enabled("password_spray"));
        assert_eq!(cfg.legacy_auth.client_apps, vec!["IMAP4".to_string()]);
        assert!(cfg.allowlist.contains("198.51.100.23"));
        assert!(cfg.allowlist.contains("2001:db8:1:5::1"));
        assert!(!cfg.allowlist.contains("198.51.101.1"));
        assert_eq!(cfg.ip_list.lookup("203.0.113.8"), Some("feed"));
    }

    #[test]
    fn toml_preset_key_starts_from_that_preset() {
        let cfg = DetectionConfig::from_toml_str(
            "preset = \"splunk\"\n[brute_force]\nmin_failures = 50\n",
            &DetectionConfig::default(),
        )
        .unwrap();
        assert_eq!(cfg.preset, "splunk");
        assert_eq!(cfg.password_spray.min_users, 31);
        assert_eq!(cfg.brute_force.min_failures, 50);
    }

    #[test]
    fn toml_errors_name_the_problem() {
        let base = DetectionConfig::default();
        let typo = DetectionConfig::from_toml_str("[password_spray]\nmin_user = 3\n", &base)
            .unwrap_err()
            .to_string();
        assert!(typo.contains("min_user"), "{typo}");
        let bad_cidr = DetectionConfig::from_toml_str("allowlist = [\"10.0.0.0/40\"]\n", &base)
            .unwrap_err()
            .to_string();
        assert!(bad_cidr.contains("10.0.0.0/40"), "{bad_cidr}");
        let zero = DetectionConfig::from_toml_str("[brute_force]\nwindow_minutes = 0\n", &base)
            .unwrap_err()
            .to_string();
        assert!(zero.contains("brute_force.window_minutes"), "{zero}");
        let syntax = DetectionConfig::from_toml_str("[brute_force\n", &base).unwrap_err();
        assert!(matches!(syntax, ConfigError::Toml(_)));
        let group =
            DetectionConfig::from_toml_str("[distributed_spray]\ngroup_by = [\"asn\"]\n", &base)
                .unwrap_err()
                .to_string();
        assert!(group.contains("asn"), "{group}");
    }

    #[test]
    fn dumped_toml_round_trips() {
        for name in PRESETS {
            let cfg = DetectionConfig::preset(name).unwrap();
            let text = cfg.to_toml_string().unwrap();
            let back = DetectionConfig::from_toml_str(&text, &DetectionConfig::default()).unwrap();
            assert_eq!(back.to_toml_string().unwrap(), text, "{name}");
        }
    }

    #[test]
    fn set_enabled_rejects_unknown_kinds() {
        let mut cfg = DetectionConfig::default();
        cfg.set_enabled("mfa_fatigue", false).unwrap();
        assert!(!cfg.is_enabled("mfa_fatigue"));
        assert!(cfg.set_enabled("mfa_fatique", false).is_err());
    }
}
