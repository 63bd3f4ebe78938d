//! Terminal-safe text: log strings may carry escape sequences meant to
//! rewrite an analyst's terminal.

/// Replaces control characters (ESC, CR, BEL, …) with `?`.
pub fn safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_are_neutralised() {
        assert_eq!(super::safe("a\u{1b}[31mb\r"), "a?[31mb?");
    }
}
