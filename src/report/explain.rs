//! The text behind `entrasift explain CODE`: everything the compiled-in
//! catalog knows about one AADSTS code, as terminal text or as Markdown.
//!
//! Both renderings come from one intermediate document so they cannot drift
//! apart. Any input produces an answer: unknown or malformed codes get a
//! plain explanation, never an error, because the command is meant to be
//! pasted into during an incident.

use crate::model::codes::{self, CodeInfo, LockoutCause};

/// Terminal line width the text rendering wraps to.
const WIDTH: usize = 80;
/// Width of the label column inside list items.
const LABEL_WIDTH: usize = 10;
/// Longest slice of a rejected input echoed back; keeps pasted log lines
/// from flooding the terminal.
const ECHO_LIMIT: usize = 40;

/// Terminal text for `entrasift explain CODE`. Accepts `50053`,
/// `AADSTS50053`, `aadsts50053`, surrounding whitespace, and a pasted
/// message such as `AADSTS50053: The account is locked…`.
pub fn explain(code_text: &str) -> String {
    match parse_code(code_text) {
        Some(code) => match codes::lookup(code) {
            Some(info) => render_text(&describe(info)),
            None => unknown_code(code),
        },
        None => not_a_code(code_text),
    }
}

/// The same content as [`explain`] in Markdown, for reports. `None` when
/// the code is not in the catalog.
pub fn explain_markdown(code: i64) -> Option<String> {
    codes::lookup(code).map(|info| render_markdown(&describe(info)))
}

/// Reads a code the way users type or paste it. `None` when the text holds
/// no code.
pub fn parse_code(text: &str) -> Option<i64> {
    let text = text.trim();
    let text = match text.get(..6) {
        Some(prefix) if prefix.eq_ignore_ascii_case("aadsts") => text[6..].trim_start(),
        _ => text,
    };
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, rest) = text.split_at(digits_end);
    let rest = rest.trim_start();
    if digits.is_empty() || !(rest.is_empty() || rest.starts_with(':')) {
        return None;
    }
    digits.parse().ok()
}

fn unknown_code(code: i64) -> String {
    let body = format!(
        "entrasift counts a code it does not know as a failed sign-in. Read the failure \
         reason and additional details of the log entry for what happened. Microsoft's \
         lookup page, https://login.microsoftonline.com/error?code={code}, may know the \
         code (it needs network access)."
    );
    format!(
        "AADSTS{code} is not in the catalog ({} codes known).\n\n{}\n",
        codes::all().len(),
        wrap(&body, 0, 0)
    )
}

fn not_a_code(text: &str) -> String {
    let shown: String = text.trim().chars().take(ECHO_LIMIT).collect();
    let head = if shown.is_empty() {
        "No code given.".to_owned()
    } else {
        // escape_debug keeps control characters from a pasted line from
        // reaching the terminal raw.
        format!("\"{}\" is not an AADSTS code.", shown.escape_debug())
    };
    let hint = format!(
        "Give the number from the sign-in log, for example 50126 or AADSTS50126. The \
         catalog knows {} codes.",
        codes::all().len()
    );
    format!("{head}\n\n{}\n", wrap(&hint, 0, 0))
}

/// Rendering-neutral description of one code.
struct Doc {
    title: String,
    facts: Vec<(&'static str, String)>,
    sections: Vec<Section>,
}

struct Section {
    heading: &'static str,
    blocks: Vec<Block>,
}

enum Block {
    Para(String),
    Item {
        head: String,
        lines: Vec<(&'static str, String)>,
    },
}

fn describe(info: &CodeInfo) -> Doc {
    let title = if info.name.is_empty() {
        format!("AADSTS{}", info.code)
    } else {
        format!("AADSTS{}  {}", info.code, info.name)
    };
    let interrupt = if info.interrupt {
        "yes: Entra paused the sign-in for an extra step; not a failed attempt".to_owned()
    } else {
        "no".to_owned()
    };
    let mut facts = Vec::new();
    if info.name.is_empty() {
        facts.push(("Name", "(Microsoft publishes no name)".to_owned()));
    }
    facts.extend([
        ("Category", info.category.to_owned()),
        ("Relevance", info.relevance.as_str().to_owned()),
        (
            "Log status",
            codes::status_class(info.code).as_str().to_owned(),
        ),
        ("Interrupt", interrupt),
        ("Proves password", password_note(info)),
    ]);
    let check = if info.check.is_empty() {
        category_check(info.category)
    } else {
        info.check
    };
    let mut sections = vec![
        Section {
            heading: "Meaning",
            blocks: vec![Block::Para(info.meaning.to_owned())],
        },
        Section {
            heading: "What to check",
            blocks: vec![Block::Para(capitalize(check))],
        },
        Section {
            heading: "What to do",
            blocks: vec![Block::Para(info.remediation.to_owned())],
        },
    ];
    if info.code == 50053 {
        sections.push(lockout_section());
    }
    if codes::is_risk_block(info.code) {
        sections.push(risk_section(info.code));
    }
    Doc {
        title,
        facts,
        sections,
    }
}

fn password_note(info: &CodeInfo) -> String {
    match (info.code, info.proves_password) {
        (0, _) => "yes: the sign-in succeeded".to_owned(),
        // Disabled accounts are refused before the password is judged, yet
        // spray detections count the code as a hit: the account is real.
        (50057, _) => "counted as a hit: the account exists and is disabled; Entra \
                       checks that before the password"
            .to_owned(),
        (_, true) => "yes: Entra returns this only after the first factor passed; from \
                      a spraying source it means a valid password was found"
            .to_owned(),
        (_, false) => "no".to_owned(),
    }
}

fn lockout_section() -> Section {
    let mut blocks = vec![Block::Para(
        "Microsoft deliberately returns the same code for all of these so the caller \
         cannot tell which one hit them. The failure reason in your own log is what \
         separates them."
            .to_owned(),
    )];
    blocks.extend(LockoutCause::ALL.iter().map(|cause| Block::Item {
        head: format!("{} ({})", cause.label(), cause.as_str()),
        lines: vec![
            ("Recognise", capitalize(cause.marker())),
            ("Means", cause.explanation().to_owned()),
            ("Do", cause.remediation().to_owned()),
        ],
    }));
    Section {
        heading: "The causes behind 50053",
        blocks,
    }
}

fn risk_section(code: i64) -> Section {
    let mut blocks = vec![Block::Para(
        "Any of these returns the user to a safe risk state. Investigate the account \
         before picking one; if it was compromised, the password reset matters most."
            .to_owned(),
    )];
    blocks.extend(
        codes::risk_block_remediation()
            .iter()
            .map(|remedy| Block::Item {
                head: remedy.title.to_owned(),
                lines: vec![
                    ("Steps", remedy.steps.to_owned()),
                    ("Role", capitalize(remedy.role)),
                    ("Licence", capitalize(remedy.licence)),
                    ("Note", remedy.caveat.to_owned()),
                ],
            }),
    );
    blocks.push(Block::Para(
        "A user registered for self-service password reset can clear the block alone by \
         resetting the password; completing the MFA or password change that a risk \
         policy asks for clears it as well."
            .to_owned(),
    ));
    blocks.push(Block::Para(format!(
        "To find the entries in the portal: Microsoft Entra admin center > Monitoring & \
         health > Sign-in logs, filter on sign-in error code {code} and the user's UPN. \
         The guide lists the Reports Reader role and an Entra ID P1 licence for that."
    )));
    Section {
        heading: "Clearing the risk block",
        blocks,
    }
}

/// Where to look when the catalog has no code-specific hint.
fn category_check(category: &str) -> &'static str {
    match category {
        "success" => "who signed in, from where, and what preceded it",
        "credential" => "source IP, how many accounts it tried, and any success that follows",
        "lockout" => "the failure reason text and the source IP",
        "mfa" => "authentication details and additional details; prompts per user over time",
        "conditional_access" => "Conditional Access status and the policies applied",
        "risk" => "user and sign-in risk levels and the risk detections",
        "interrupt" => "the next entries of the same session to see whether sign-in completed",
        "token" => "whether a successful sign-in follows, and timing around password resets",
        "device" => "device ID, operating system, join type and compliance",
        "consent" => "the app name and ID and the permissions it asked for",
        "federation" => "the federated identity provider and the domain's federation settings",
        "service" => "whether it clears on retry; many users at once suggests an outage",
        "throttling" => "request volume per client app and source IP",
        "account_state" => "why the account is in this state and who is still using it",
        "user_not_found" => "distinct user names tried per source IP",
        "app_config" | "client_request" => {
            "the app ID, resource and client; usually a configuration problem, not an attack"
        }
        _ => "the failure reason and additional details of the entry",
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn render_text(doc: &Doc) -> String {
    let mut out = format!("{}\n", doc.title);
    let fact_width = doc.facts.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 2;
    for (key, value) in &doc.facts {
        let prefix = format!("  {key:<fact_width$}");
        let body = wrap(value, prefix.len(), prefix.len());
        out.push_str(&prefix);
        out.push_str(body.trim_start());
        out.push('\n');
    }
    for section in &doc.sections {
        out.push('\n');
        out.push_str(section.heading);
        out.push('\n');
        let mut previous_was_item = None;
        for block in &section.blocks {
            let is_item = matches!(block, Block::Item { .. });
            if previous_was_item.is_some_and(|prev| !(prev && is_item)) {
                out.push('\n');
            }
            previous_was_item = Some(is_item);
            match block {
                Block::Para(text) => {
                    out.push_str(&wrap(text, 2, 2));
                    out.push('\n');
                }
                Block::Item { head, lines } => {
                    out.push_str(&wrap(&format!("- {head}"), 2, 4));
                    out.push('\n');
                    for (label, text) in lines {
                        let prefix = format!("    {label:<LABEL_WIDTH$} ");
                        let body = wrap(text, prefix.len(), prefix.len());
                        out.push_str(&prefix);
                        out.push_str(body.trim_start());
                        out.push('\n');
                    }
                }
            }
        }
    }
    out
}

fn render_markdown(doc: &Doc) -> String {
    // Parts are joined by one blank line; list items of one list stay
    // together in a single part so Markdown keeps them in one list.
    let mut parts = vec![format!("### {}", doc.title)];
    parts.push(
        doc.facts
            .iter()
            .map(|(key, value)| format!("- **{key}:** {value}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    for section in &doc.sections {
        parts.push(format!("#### {}", section.heading));
        let mut list: Vec<String> = Vec::new();
        for block in &section.blocks {
            match block {
                Block::Para(text) => {
                    if !list.is_empty() {
                        parts.push(list.join("\n"));
                        list.clear();
                    }
                    parts.push(text.clone());
                }
                Block::Item { head, lines } => {
                    list.push(format!("- **{head}**"));
                    list.extend(
                        lines
                            .iter()
                            .map(|(label, text)| format!("  - *{label}:* {text}")),
                    );
                }
            }
        }
        if !list.is_empty() {
            parts.push(list.join("\n"));
        }
    }
    let mut out = parts.join("\n\n");
    out.push('\n');
    out
}

/// Greedy word wrap to [`WIDTH`]: `first` spaces before the first line,
/// `rest` before the others. A word longer than the line stays whole.
fn wrap(text: &str, first: usize, rest: usize) -> String {
    let mut out = " ".repeat(first);
    let mut line_len = first;
    let mut line_has_word = false;
    for word in text.split_whitespace() {
        let word_len = word.chars().count();
        if line_has_word && line_len + 1 + word_len > WIDTH {
            out.push('\n');
            out.push_str(&" ".repeat(rest));
            line_len = rest;
            line_has_word = false;
        }
        if line_has_word {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(word);
        line_len += word_len;
        line_has_word = true;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_spellings() {
        for text in [
            "50053",
            "AADSTS50053",
            "aadsts50053",
            "  AadSts50053 \n",
            "AADSTS 50053",
            "AADSTS50053: The account is locked, you've tried to sign in too many times.",
        ] {
            assert_eq!(parse_code(text), Some(50053), "{text:?}");
        }
        for text in [
            "",
            "   ",
            "AADSTS",
            "5005x",
            "-50053",
            "fifty",
            "AADSTS50053x",
            "99999999999999999999999",
            "é",
        ] {
            assert_eq!(parse_code(text), None, "{text:?}");
        }
    }

    #[test]
    fn known_code_shows_every_part() {
        let text = explain("50126");
        assert!(text.starts_with("AADSTS50126  InvalidUserNameOrPassword\n"));
        for needle in [
            "Category",
            "credential",
            "Relevance",
            "high",
            "Log status",
            "failure",
            "Interrupt",
            "Proves password",
            "Meaning",
            "What to check",
            "What to do",
            "spray",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
        assert!(text.lines().all(|l| l.chars().count() <= WIDTH), "{text}");
        assert_eq!(explain("AADSTS50126"), text);
        assert_eq!(explain(" aadsts50126 "), text);
    }

    #[test]
    fn interrupt_and_password_facts_are_stated() {
        let text = explain("50074");
        assert!(text.contains("interrupted"));
        assert!(text.contains("yes: Entra paused the sign-in"));
        assert!(text.contains("valid password was found"));
        let text = explain("500121");
        assert!(text.contains("Interrupt        no"), "{text}");
        // MFA is asked for only once the password was accepted.
        assert!(text.contains("Proves password  yes"), "{text}");
        assert!(explain("53003").contains("Proves password  yes"));
        assert!(explain("50126").contains("Proves password  no"));
    }

    #[test]
    fn unnamed_code_uses_category_hint_when_no_check() {
        let text = explain("50004");
        assert!(text.starts_with("AADSTS50004\n"));
        assert!(text.contains("(Microsoft publishes no name)"));
        assert!(text.contains("Whether it clears on retry"));
    }

    #[test]
    fn lockout_lists_the_three_causes() {
        let text = explain("AADSTS50053");
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for needle in [
            "The causes behind 50053",
            "Smart lockout (smart_lockout)",
            "Blocked malicious IP (malicious_ip)",
            "Blocked for high-confidence risk (high_risk_block)",
            "Reason undetermined (undetermined)",
            "\"too many times\"",
            "\"IP address with malicious activity\"",
            "\"built-in protections\"",
        ] {
            assert!(flat.contains(needle), "missing {needle:?} in\n{text}");
        }
        assert!(!text.contains("Clearing the risk block"));
        assert!(text.lines().all(|l| l.chars().count() <= WIDTH), "{text}");
    }

    #[test]
    fn risk_blocks_list_remedies_with_roles_and_licences() {
        for code in ["53011", "AADSTS530032"] {
            let text = explain(code);
            let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
            for needle in [
                "Clearing the risk block",
                "Admin password reset",
                "temporary password",
                "change it at the next sign-in",
                "User Administrator",
                "Dismiss the user risk",
                "Security Operator",
                "does not change the password",
                "Risk-based Conditional Access",
                "Microsoft Entra ID P2",
                "registered for MFA before the risk was raised",
                "password writeback",
            ] {
                assert!(
                    flat.contains(needle),
                    "{code}: missing {needle:?} in\n{text}"
                );
            }
            assert!(!text.contains("The causes behind 50053"));
            assert!(text.contains(".\n\n  A user registered"), "{text}");
            assert!(!text.contains("\n\n\n"));
        }
    }

    #[test]
    fn unknown_and_garbage_input_never_fail() {
        let text = explain("AADSTS12345");
        assert!(text.starts_with("AADSTS12345 is not in the catalog (446 codes known)."));
        assert!(text.contains("error?code=12345"));
        let text = explain("hello\u{1b}[31m");
        assert!(
            text.starts_with("\"hello\\u{1b}[31m\" is not an AADSTS code."),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'));
        assert!(explain("").starts_with("No code given."));
        assert!(explain(&"9".repeat(400)).contains("is not an AADSTS code"));
        assert!(explain(&"x".repeat(400)).len() < 300);
    }

    #[test]
    fn markdown_mirrors_the_text() {
        let md = explain_markdown(53011).expect("53011 is catalogued");
        assert!(md.starts_with("### AADSTS53011  UserBlockedDueToRisk\n\n- **Category:** risk\n"));
        assert!(!md.contains("\n\n\n"));
        assert!(md.contains("#### Clearing the risk block"));
        assert!(md.contains("- **Dismiss the user risk**\n  - *Steps:*"));
        assert!(md.contains("  - *Licence:* Microsoft Entra ID P2"));
        assert!(md.ends_with(".\n") && !md.ends_with("\n\n"));
        let md = explain_markdown(50053).expect("50053 is catalogued");
        assert!(md.contains("- **Smart lockout (smart_lockout)**"));
        assert_eq!(explain_markdown(12345), None);
    }

    #[test]
    fn every_catalog_code_explains_within_width() {
        for info in codes::all() {
            let text = explain(&info.code.to_string());
            assert!(text.contains(info.meaning.split_whitespace().next().unwrap_or("")));
            assert!(
                text.lines().all(|l| l.chars().count() <= WIDTH),
                "{} overflows:\n{text}",
                info.code
            );
        }
    }
}
