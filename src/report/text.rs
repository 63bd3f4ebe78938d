//! Terminal output helpers (log text itself is made terminal-safe by
//! `escape::safe`).

/// A severity label, coloured with ANSI escapes when `color` is set
/// (critical and high red, medium yellow, low cyan, info plain).
pub fn severity_label(sev: crate::model::Severity, color: bool) -> String {
    use crate::model::Severity::*;
    let code = match sev {
        Critical => "1;31",
        High => "31",
        Medium => "33",
        Low => "36",
        Info => "",
    };
    if color && !code.is_empty() {
        format!("\x1b[{code}m{:<8}\x1b[0m", sev.as_str())
    } else {
        format!("{:<8}", sev.as_str())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn colour_only_when_asked() {
        use crate::model::Severity;
        assert_eq!(super::severity_label(Severity::High, false), "high    ");
        assert!(super::severity_label(Severity::High, true).starts_with("\x1b[31m"));
    }
}
