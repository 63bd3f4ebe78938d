//! Static facts the generator draws from: places, networks, Microsoft
//! first-party applications, client fingerprints, names and the texts
//! Entra writes next to each error code.
//!
//! Application and resource ids are Microsoft's published first-party ids.
//! Every IP address the generator hands out comes from ranges reserved for
//! documentation and benchmarking (192.0.2.0/24, 198.51.100.0/24,
//! 203.0.113.0/24, 198.18.0.0/15, 2001:db8::/32), so no real host is
//! implicated; locations and AS numbers are attached to them by the tenant.

/// A geolocation as Entra reports it. Coordinates are `f32` because Entra
/// stores them in single precision (hence values like 17.385000228881836).
#[derive(Debug, Clone, Copy)]
pub struct Place {
    pub city: &'static str,
    pub state: &'static str,
    pub country: &'static str,
    pub lat: f32,
    pub lon: f32,
    /// UTC offset in hours during the generated period (workday shaping).
    pub utc_offset: i64,
}

const fn place(
    city: &'static str,
    state: &'static str,
    country: &'static str,
    lat: f32,
    lon: f32,
    utc_offset: i64,
) -> Place {
    Place {
        city,
        state,
        country,
        lat,
        lon,
        utc_offset,
    }
}

pub const SEATTLE: usize = 0;
pub const REDMOND: usize = 1;
pub const BELLEVUE: usize = 2;
pub const KIRKLAND: usize = 3;
pub const TACOMA: usize = 4;
pub const CHICAGO: usize = 5;
pub const EVANSTON: usize = 6;
pub const NAPERVILLE: usize = 7;
pub const LONDON: usize = 8;
pub const READING: usize = 9;
pub const MUNICH: usize = 10;
pub const TORONTO: usize = 11;
pub const DALLAS: usize = 12;
pub const MOSCOW: usize = 13;
pub const AMSTERDAM: usize = 14;
pub const FRANKFURT: usize = 15;
pub const LAGOS: usize = 16;
pub const HANOI: usize = 17;
pub const SAO_PAULO: usize = 18;
pub const SINGAPORE: usize = 19;
pub const BUCHAREST: usize = 20;
pub const BEIJING: usize = 21;
pub const ASHBURN: usize = 22;
pub const BOYDTON: usize = 23;
pub const QUINCY: usize = 24;
pub const ISTANBUL: usize = 25;
pub const JAKARTA: usize = 26;
pub const MUMBAI: usize = 27;
pub const SEOUL: usize = 28;
pub const MEXICO_CITY: usize = 29;
pub const WARSAW: usize = 30;
pub const PARIS: usize = 31;
pub const KYIV: usize = 32;
pub const BANGKOK: usize = 33;

pub static PLACES: &[Place] = &[
    place("Seattle", "Washington", "US", 47.6062, -122.3321, -8),
    place("Redmond", "Washington", "US", 47.674, -122.1215, -8),
    place("Bellevue", "Washington", "US", 47.6101, -122.2015, -8),
    place("Kirkland", "Washington", "US", 47.6815, -122.2087, -8),
    place("Tacoma", "Washington", "US", 47.2529, -122.4443, -8),
    place("Chicago", "Illinois", "US", 41.8781, -87.6298, -6),
    place("Evanston", "Illinois", "US", 42.0451, -87.6877, -6),
    place("Naperville", "Illinois", "US", 41.7508, -88.1535, -6),
    place("London", "England", "GB", 51.5074, -0.1278, 0),
    place("Reading", "England", "GB", 51.4543, -0.9781, 0),
    place("München", "Bayern", "DE", 48.1351, 11.582, 1),
    place("Toronto", "Ontario", "CA", 43.6532, -79.3832, -5),
    place("Dallas", "Texas", "US", 32.7767, -96.797, -6),
    place("Moscow", "Moscow", "RU", 55.7558, 37.6173, 3),
    place("Amsterdam", "Noord-Holland", "NL", 52.3676, 4.9041, 1),
    place("Frankfurt am Main", "Hessen", "DE", 50.1109, 8.6821, 1),
    place("Lagos", "Lagos", "NG", 6.5244, 3.3792, 1),
    place("Hanoi", "Ha Noi", "VN", 21.0278, 105.8342, 7),
    place("São Paulo", "Sao Paulo", "BR", -23.5505, -46.6333, -3),
    place("Singapore", "Singapore", "SG", 1.3521, 103.8198, 8),
    place("Bucharest", "Bucuresti", "RO", 44.4268, 26.1025, 2),
    place("Beijing", "Beijing", "CN", 39.9042, 116.4074, 8),
    place("Ashburn", "Virginia", "US", 39.0438, -77.4874, -5),
    place("Boydton", "Virginia", "US", 36.6676, -78.3875, -5),
    place("Quincy", "Washington", "US", 47.2343, -119.8526, -8),
    place("Istanbul", "Istanbul", "TR", 41.0082, 28.9784, 3),
    place("Jakarta", "Jakarta", "ID", -6.2088, 106.8456, 7),
    place("Mumbai", "Maharashtra", "IN", 19.076, 72.8777, 5),
    place("Seoul", "Seoul", "KR", 37.5665, 126.978, 9),
    place(
        "Mexico City",
        "Ciudad de Mexico",
        "MX",
        19.4326,
        -99.1332,
        -6,
    ),
    place("Warsaw", "Mazowieckie", "PL", 52.2297, 21.0122, 1),
    place("Paris", "Ile-de-France", "FR", 48.8566, 2.3522, 1),
    place("Kyiv", "Kyiv City", "UA", 50.4501, 30.5234, 2),
    place("Bangkok", "Bangkok", "TH", 13.7563, 100.5018, 7),
];

/// The metro areas users live in, keyed by their office place.
pub fn metro(office: usize) -> &'static [usize] {
    match office {
        SEATTLE => &[SEATTLE, REDMOND, BELLEVUE, KIRKLAND, TACOMA],
        CHICAGO => &[CHICAGO, EVANSTON, NAPERVILLE],
        LONDON => &[LONDON, READING],
        MUNICH => &[MUNICH],
        TORONTO => &[TORONTO],
        DALLAS => &[DALLAS],
        _ => &[SEATTLE],
    }
}

/// Places used by the distributed spray's rotating proxies.
pub const PROXY_PLACES: &[usize] = &[
    AMSTERDAM,
    FRANKFURT,
    LAGOS,
    HANOI,
    SAO_PAULO,
    SINGAPORE,
    BUCHAREST,
    ISTANBUL,
    JAKARTA,
    MUMBAI,
    SEOUL,
    MEXICO_CITY,
    WARSAW,
    PARIS,
    KYIV,
    BANGKOK,
    ASHBURN,
    MOSCOW,
];

/// (ASN, what it is) pairs; the numbers are public registry facts.
pub const ASN_LUMEN: i64 = 3356;
pub const ASN_ATT: i64 = 7018;
pub const ASN_BT: i64 = 2856;
pub const ASN_COMCAST: i64 = 7922;
pub const ASN_TELEKOM: i64 = 3320;
pub const ASN_ROGERS: i64 = 812;
pub const ASN_TMOBILE: i64 = 21928;
pub const ASN_VERIZON_WIRELESS: i64 = 22394;
pub const ASN_VODAFONE_UK: i64 = 25135;
pub const ASN_MICROSOFT: i64 = 8075;
pub const ASN_M247: i64 = 9009;
pub const ASN_HETZNER: i64 = 24940;
pub const ASN_DIGITALOCEAN: i64 = 14061;
pub const ASN_OVH: i64 = 16276;
pub const ASN_ROSTELECOM: i64 = 12389;
pub const ASN_VIETTEL: i64 = 7552;
pub const ASN_CLARO_BR: i64 = 28573;
pub const ASN_CHINANET: i64 = 4134;
pub const ASN_RCS_RDS: i64 = 8708;
pub const ASN_MTN_NG: i64 = 29465;
pub const PROXY_ASNS: &[i64] = &[
    ASN_M247,
    ASN_HETZNER,
    ASN_DIGITALOCEAN,
    ASN_OVH,
    ASN_CLARO_BR,
    ASN_RCS_RDS,
    ASN_MTN_NG,
    ASN_VIETTEL,
    9121,
    55836,
    4766,
    17974,
    8151,
    5617,
    3215,
    6849,
];

/// The organisation each AS number above is registered to (public
/// registry names, shortened), for the synthetic ASN database.
pub fn asn_org(asn: i64) -> Option<&'static str> {
    Some(match asn {
        ASN_LUMEN => "Level 3 Parent, LLC",
        ASN_ATT => "AT&T Enterprises, LLC",
        ASN_BT => "British Telecommunications PLC",
        ASN_COMCAST => "Comcast Cable Communications, LLC",
        ASN_TELEKOM => "Deutsche Telekom AG",
        ASN_ROGERS => "Rogers Communications Canada Inc.",
        ASN_TMOBILE => "T-Mobile USA, Inc.",
        ASN_VERIZON_WIRELESS => "Verizon Business",
        ASN_VODAFONE_UK => "Vodafone Limited",
        ASN_MICROSOFT => "Microsoft Corporation",
        ASN_M247 => "M247 Europe SRL",
        ASN_HETZNER => "Hetzner Online GmbH",
        ASN_DIGITALOCEAN => "DigitalOcean, LLC",
        ASN_OVH => "OVH SAS",
        ASN_ROSTELECOM => "PJSC Rostelecom",
        ASN_VIETTEL => "Viettel Group",
        ASN_CLARO_BR => "Claro NXT Telecomunicacoes Ltda",
        ASN_CHINANET => "Chinanet",
        ASN_RCS_RDS => "RCS & RDS SA",
        ASN_MTN_NG => "MTN NIGERIA Communication limited",
        9121 => "Turk Telekomunikasyon Anonim Sirketi",
        55836 => "Reliance Jio Infocomm Limited",
        4766 => "Korea Telecom",
        17974 => "PT Telekomunikasi Indonesia",
        8151 => "UNINET",
        5617 => "Orange Polska Spolka Akcyjna",
        3215 => "Orange S.A.",
        6849 => "JSC Ukrtelecom",
        _ => return None,
    })
}

/// Tenant that owns Microsoft first-party applications.
pub const MICROSOFT_SERVICES_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct App {
    pub name: &'static str,
    pub id: &'static str,
}

pub const OFFICE_HOME: App = App {
    name: "OfficeHome",
    id: "4765445b-32c6-49b0-83e6-1d93765276ca",
};
pub const OUTLOOK_WEB: App = App {
    name: "One Outlook Web",
    id: "9199bf20-a13f-4107-85dc-02114787ef48",
};
pub const AZURE_PORTAL: App = App {
    name: "Azure Portal",
    id: "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
};
pub const MY_SIGNINS: App = App {
    name: "My Signins",
    id: "19db86c3-b2b9-44cc-b339-36da233a3be2",
};
pub const MS_OFFICE: App = App {
    name: "Microsoft Office",
    id: "d3590ed6-52b3-4102-aeff-aad2292ab01c",
};
pub const TEAMS: App = App {
    name: "Microsoft Teams",
    id: "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
};
pub const OUTLOOK_MOBILE: App = App {
    name: "Outlook Mobile",
    id: "27922004-5251-4030-b22d-91ecd9a37ea4",
};
pub const AUTH_BROKER: App = App {
    name: "Microsoft Authentication Broker",
    id: "29d9ed98-a469-4536-ade2-f981bc1d605e",
};
pub const ONEDRIVE_SYNC: App = App {
    name: "OneDrive SyncEngine",
    id: "ab9b8c07-8f02-4f72-87fa-80105867a763",
};
pub const EDGE: App = App {
    name: "Microsoft Edge",
    id: "ecd6b820-32c2-49b6-98a6-444530e5a77a",
};
pub const EXCHANGE_APP: App = App {
    name: "Office 365 Exchange Online",
    id: "00000002-0000-0ff1-ce00-000000000000",
};

pub const RES_EXCHANGE: App = App {
    name: "Office 365 Exchange Online",
    id: "00000002-0000-0ff1-ce00-000000000000",
};
pub const RES_SHAREPOINT: App = App {
    name: "Office 365 SharePoint Online",
    id: "00000003-0000-0ff1-ce00-000000000000",
};
/// The resource a device is joined or registered with.
pub const RES_DEVICE_REGISTRATION: App = App {
    name: "Device Registration Service",
    id: "01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9",
};
pub const RES_GRAPH: App = App {
    name: "Microsoft Graph",
    id: "00000003-0000-0000-c000-000000000000",
};
pub const RES_AZURE_MGMT: App = App {
    name: "Windows Azure Service Management API",
    id: "797f4846-ba00-4fd7-ba43-dac1f8f63013",
};
pub const RES_TEAMS: App = App {
    name: "Microsoft Teams Services",
    id: "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",
};
pub const RES_AAD: App = App {
    name: "Windows Azure Active Directory",
    id: "00000002-0000-0000-c000-000000000000",
};
pub const RES_KEY_VAULT: App = App {
    name: "Azure Key Vault",
    id: "cfa8b339-82a2-471a-a3c9-0fc0be7a4093",
};
pub const RES_STORAGE: App = App {
    name: "Azure Storage",
    id: "e406a681-f3d4-42a8-90b6-c2b029497af1",
};

/// Every app that also acts as a resource, for id lookups by name.
pub static RESOURCES: &[App] = &[
    RES_EXCHANGE,
    RES_SHAREPOINT,
    RES_GRAPH,
    RES_AZURE_MGMT,
    RES_TEAMS,
    RES_AAD,
    RES_KEY_VAULT,
    RES_STORAGE,
    OFFICE_HOME,
    OUTLOOK_WEB,
    MY_SIGNINS,
];

pub static FIRST_PARTY_APPS: &[App] = &[
    OFFICE_HOME,
    OUTLOOK_WEB,
    AZURE_PORTAL,
    MY_SIGNINS,
    MS_OFFICE,
    TEAMS,
    OUTLOOK_MOBILE,
    AUTH_BROKER,
    ONEDRIVE_SYNC,
    EDGE,
    EXCHANGE_APP,
];

pub fn resource_id(name: &str) -> Option<&'static str> {
    RESOURCES.iter().find(|r| r.name == name).map(|r| r.id)
}

pub fn is_first_party(app_id: &str) -> bool {
    FIRST_PARTY_APPS.iter().any(|a| a.id == app_id) || RESOURCES.iter().any(|a| a.id == app_id)
}

/// A client fingerprint: what the user agent says and what Entra derives
/// from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    pub ua: &'static str,
    pub os: &'static str,
    pub browser: &'static str,
    /// The audit log's coarser `BrowserType`.
    pub browser_type: &'static str,
}

pub const WIN_EDGE: Client = Client {
    ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.0.0",
    os: "Windows10",
    browser: "Edge 122.0.0",
    browser_type: "Edge",
};
pub const WIN_CHROME: Client = Client {
    ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    os: "Windows10",
    browser: "Chrome 122.0.0",
    browser_type: "Chrome",
};
pub const MAC_SAFARI: Client = Client {
    ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3.1 Safari/605.1.15",
    os: "MacOs",
    browser: "Safari 17.3.1",
    browser_type: "Safari",
};
pub const MAC_CHROME: Client = Client {
    ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    os: "MacOs",
    browser: "Chrome 122.0.0",
    browser_type: "Chrome",
};
pub const WIN_OFFICE: Client = Client {
    ua: "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
    os: "Windows10",
    browser: "Rich Client 16.0.17328",
    browser_type: "Other",
};
pub const WIN_TEAMS: Client = Client {
    ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0 Teams/24004.1403.2634.2418/49",
    os: "Windows10",
    browser: "Edge 120.0.0",
    browser_type: "Edge",
};
pub const WIN_WAM: Client = Client {
    ua: "Windows-AzureAD-Authentication-Provider/1.0",
    os: "Windows10",
    browser: "Rich Client 10.0.22631",
    browser_type: "Other",
};
pub const MAC_OFFICE: Client = Client {
    ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Microsoft Outlook/16.82.24021116",
    os: "MacOs",
    browser: "Rich Client 4.58.0.0",
    browser_type: "Other",
};
pub const IOS_OUTLOOK: Client = Client {
    ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Outlook-iOS/4.2406.0",
    os: "Ios 17.3.1",
    browser: "Mobile Safari",
    browser_type: "Safari",
};
pub const ANDROID_TEAMS: Client = Client {
    ua: "Dalvik/2.1.0 (Linux; U; Android 14; SM-S918B Build/UP1A.231005.007)",
    os: "Android 14",
    browser: "Rich Client 4.4.0",
    browser_type: "Other",
};
pub const LINUX_CHROME_SPRAY: Client = Client {
    ua: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36",
    os: "Linux",
    browser: "Chrome 118.0.0",
    browser_type: "Chrome",
};
pub const FIREFOX_115_WIN: Client = Client {
    ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0",
    os: "Windows10",
    browser: "Firefox 115.0",
    browser_type: "Firefox",
};
pub const LINUX_FIREFOX: Client = Client {
    ua: "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/118.0",
    os: "Linux",
    browser: "Firefox 118.0",
    browser_type: "Firefox",
};
pub const AXIOS: Client = Client {
    ua: "axios/1.6.8",
    os: "",
    browser: "",
    browser_type: "Other",
};
pub const PY_REQUESTS: Client = Client {
    ua: "python-requests/2.31.0",
    os: "",
    browser: "",
    browser_type: "Other",
};
/// An outdated Chrome build that one slow spray sends every attempt with.
pub const STALE_CHROME: Client = Client {
    ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/103.0.5060.134 Safari/537.36",
    os: "Windows10",
    browser: "Chrome 103.0.5060",
    browser_type: "Chrome",
};
/// The Go HTTP library's default, as sent by the 2025 spray campaign.
pub const FASTHTTP: Client = Client {
    ua: "fasthttp",
    os: "",
    browser: "",
    browser_type: "Other",
};
pub const BAV2ROPC: Client = Client {
    ua: "BAV2ROPC",
    os: "",
    browser: "",
    browser_type: "Other",
};
pub const EAS_IPHONE: Client = Client {
    ua: "Apple-iPhone15C2/2104.95",
    os: "Ios",
    browser: "",
    browser_type: "Other",
};
/// IMAP and SMTP logons pass no user agent at all.
pub const NO_UA: Client = Client {
    ua: "",
    os: "",
    browser: "",
    browser_type: "Other",
};

pub const CLIENT_BROWSER: &str = "Browser";
pub const CLIENT_MOBILE_DESKTOP: &str = "Mobile Apps and Desktop clients";
pub const CLIENT_IMAP: &str = "IMAP4";
pub const CLIENT_SMTP: &str = "Authenticated SMTP";
pub const CLIENT_OTHER: &str = "Other clients";
pub const CLIENT_EAS: &str = "Exchange ActiveSync";

/// (display form, ASCII form for the UPN).
pub static FIRST_NAMES: &[(&str, &str)] = &[
    ("Adele", "adele"),
    ("Alex", "alex"),
    ("Allan", "allan"),
    ("Amara", "amara"),
    ("Ben", "ben"),
    ("Bianca", "bianca"),
    ("Carlos", "carlos"),
    ("Chen", "chen"),
    ("Christie", "christie"),
    ("Dana", "dana"),
    ("Diego", "diego"),
    ("Elena", "elena"),
    ("Emily", "emily"),
    ("Farah", "farah"),
    ("Grady", "grady"),
    ("Hannah", "hannah"),
    ("Henrietta", "henrietta"),
    ("Isaiah", "isaiah"),
    ("Ivan", "ivan"),
    ("Jamal", "jamal"),
    ("José", "jose"),
    ("Joni", "joni"),
    ("Kenji", "kenji"),
    ("Lee", "lee"),
    ("Lidia", "lidia"),
    ("Lynne", "lynne"),
    ("Łukasz", "lukasz"),
    ("Megan", "megan"),
    ("Miriam", "miriam"),
    ("Nestor", "nestor"),
    ("Nia", "nia"),
    ("Olga", "olga"),
    ("Omar", "omar"),
    ("Patti", "patti"),
    ("Pradeep", "pradeep"),
    ("Priya", "priya"),
    ("Raul", "raul"),
    ("Renée", "renee"),
    ("Sakura", "sakura"),
    ("Samir", "samir"),
    ("Søren", "soren"),
    ("Tomás", "tomas"),
    ("Uma", "uma"),
    ("Victor", "victor"),
    ("Wendy", "wendy"),
    ("Xavier", "xavier"),
    ("Yara", "yara"),
    ("Zoë", "zoe"),
];

pub static LAST_NAMES: &[(&str, &str)] = &[
    ("Álvarez", "alvarez"),
    ("Anderson", "anderson"),
    ("Bauer", "bauer"),
    ("Brooks", "brooks"),
    ("Campbell", "campbell"),
    ("Castillo", "castillo"),
    ("Chowdhury", "chowdhury"),
    ("Cohen", "cohen"),
    ("Dubois", "dubois"),
    ("Edwards", "edwards"),
    ("Fischer", "fischer"),
    ("García", "garcia"),
    ("Gupta", "gupta"),
    ("Hansen", "hansen"),
    ("Ito", "ito"),
    ("Jensen", "jensen"),
    ("Kaur", "kaur"),
    ("Kim", "kim"),
    ("Kowalski", "kowalski"),
    ("Larsen", "larsen"),
    ("Lopez", "lopez"),
    ("Meyer", "meyer"),
    ("Müller", "muller"),
    ("Nakamura", "nakamura"),
    ("Nguyen", "nguyen"),
    ("Novak", "novak"),
    ("Nuñez", "nunez"),
    ("O'Brien", "obrien"),
    ("Okafor", "okafor"),
    ("Patel", "patel"),
    ("Petrov", "petrov"),
    ("Quinn", "quinn"),
    ("Rossi", "rossi"),
    ("Schmidt", "schmidt"),
    ("Silva", "silva"),
    ("Singh", "singh"),
    ("Tanaka", "tanaka"),
    ("Thompson", "thompson"),
    ("Vance", "vance"),
    ("Wagner", "wagner"),
    ("Walsh", "walsh"),
    ("Wilber", "wilber"),
    ("Yilmaz", "yilmaz"),
    ("Zhang", "zhang"),
];

/// Names an enumeration tool tries that are not in the directory.
pub static GUESSED_NAMES: &[&str] = &[
    "admin",
    "administrator",
    "test",
    "test1",
    "helpdesk",
    "it.support",
    "support",
    "info",
    "sales",
    "hr",
    "finance",
    "backup",
    "scanner",
    "service",
    "svc_sql",
    "j.smith",
    "jsmith",
    "m.jones",
    "david.wilson",
    "sarah.miller",
    "john.doe",
    "jane.doe",
    "ceo",
    "accounting",
    "office",
    "reception",
    "webmaster",
    "devops",
];

/// Texts Entra writes for the codes the generator uses.
pub mod reason {
    pub const BAD_PASSWORD: &str =
        "Error validating credentials due to invalid username or password.";
    pub const BAD_PASSWORD_DETAIL: &str =
        "The user didn't enter the right credentials. It's expected to see some number of these errors in your logs due to users making mistakes.";
    pub const BAD_PASSWORD_STEP: &str =
        "Invalid username or password or Invalid on-premise username or password.";
    pub const LOCKOUT: &str =
        "Account is locked because user tried to sign in too many times with an incorrect user ID or password.";
    pub const MALICIOUS_IP: &str =
        "Sign-in was blocked because it came from an IP address with malicious activity.";
    pub const MFA_REQUIRED: &str = "Strong Authentication is required.";
    pub const MFA_REQUIRED_NI: &str =
        "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access the resource.";
    pub const KMSI: &str =
        "This error occurred due to 'Keep me signed in' interrupt when the user was signing-in.";
    pub const ACCOUNT_PICKER: &str =
        "Either multiple user identities are available for the current request or selected account is not supported for the scenario.";
    pub const CA_BLOCK: &str = "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.";
    pub const RISK_BLOCK: &str = "User blocked due to risk on home tenant.";
    pub const MFA_FAILED: &str = "Authentication failed during strong authentication request.";
    pub const MFA_DENIED: &str = "MFA denied; user declined the authentication";
    pub const NOT_FOUND: &str =
        "User account does not exist in the directory. To sign into this application, the account must be added to the directory.";
    pub const DISABLED: &str =
        "User account is disabled. The account has been disabled by an administrator.";
    pub const SIGN_IN_FREQUENCY: &str =
        "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.";
    pub const TOKEN_EXPIRED_FREQ: &str =
        "The refresh token has expired or is invalid due to sign-in frequency checks by conditional access.";
    pub const BAD_CLIENT_SECRET: &str = "Invalid client secret is provided.";
    pub const MFA_DONE: &str = "MFA successfully completed";
    pub const MFA_BY_CLAIM: &str = "MFA requirement satisfied by claim in the token";
    pub const MFA_REQUIRED_STEP: &str = "MFA required in Azure AD";
    pub const MFA_COMPLETED_IN_AAD: &str = "MFA completed in Azure AD";
}

/// The audit log's symbolic `LogonError` for a code.
pub fn logon_error(code: i64) -> &'static str {
    match code {
        50126 => "InvalidUserNameOrPassword",
        50053 => "IdsLocked",
        50057 => "UserDisabled",
        50034 => "UserAccountNotFound",
        500121 => "AuthenticationFailedSasError",
        53003 => "BlockedByConditionalAccess",
        53011 => "UserBlockedDueToRisk",
        50055 => "InvalidPasswordExpiredPassword",
        _ => "",
    }
}
