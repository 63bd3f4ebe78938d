//! The inputs section: every file read, with its accounting and what
//! was rejected or skipped and why.

use crate::report::data::ReportData;
use crate::report::escape::{cell, esc, num, table};
use std::fmt::Write;

pub(super) fn inputs(out: &mut String, d: &ReportData) {
    out.push_str(
        "<section id=\"inputs\">\n<h2>Inputs</h2>\n<p class=\"muted\">Read = parsed + \
         rejected + skipped. Duplicates are parsed records also found in another input. \
         The SHA-256 identifies the exact file analysed.</p>\n",
    );
    if d.inputs.is_empty() {
        out.push_str("<p>No inputs.</p>\n</section>\n");
        return;
    }
    let mut body: Vec<Vec<String>> = d
        .inputs
        .iter()
        .map(|i| {
            let mut format = i.format.map_or_else(
                || "<span class=\"warn\">unknown</span>".into(),
                |f| esc(f.as_str()),
            );
            if i.compressed {
                format.push_str(" (compressed)");
            }
            vec![
                format!("<span class=\"mono path\">{}</span>", cell(&i.path)),
                format,
                num(i.bytes),
                format!("<span class=\"mono path\">{}</span>", cell(&i.sha256)),
                num(i.records_read),
                num(i.parsed),
                num(i.duplicates),
                if i.rejected > 0 {
                    format!("<span class=\"warn\">{}</span>", num(i.rejected))
                } else {
                    "0".into()
                },
                num(i.skipped),
                i.error.as_deref().map_or_else(String::new, |e| {
                    format!("<span class=\"warn\">{}</span>", cell(e))
                }),
            ]
        })
        .collect();
    let mut head = vec![
        ("File", false),
        ("Format", false),
        ("Bytes", true),
        ("SHA-256", false),
        ("Read", true),
        ("Parsed", true),
        ("Duplicates", true),
        ("Rejected", true),
        ("Skipped", true),
    ];
    // The error column only earns its width when some input failed.
    if d.inputs.iter().any(|i| i.error.is_some()) {
        head.push(("Error", false));
    } else {
        body.iter_mut().for_each(|row| {
            row.pop();
        });
    }
    table(out, &head, &body);
    for i in d.inputs {
        let has_detail = !i.rejected_by_reason.is_empty()
            || !i.skipped_by_reason.is_empty()
            || !i.problems.is_empty()
            || !i.notes.is_empty()
            || i.auth_details > 0;
        if !has_detail {
            continue;
        }
        let _ = writeln!(out, "<h3 class=\"mono path\">{}</h3>\n<ul>", cell(&i.path));
        for (reason, n) in &i.rejected_by_reason {
            let _ = writeln!(out, "<li>Rejected {}: {}</li>", num(*n), cell(reason));
        }
        for (reason, n) in &i.skipped_by_reason {
            let _ = writeln!(out, "<li>Skipped {}: {}</li>", num(*n), cell(reason));
        }
        for p in &i.problems {
            let _ = writeln!(
                out,
                "<li>Rejected at <span class=\"mono\">{}</span>: {}</li>",
                cell(&p.location),
                cell(&p.reason)
            );
        }
        for note in &i.notes {
            let _ = writeln!(out, "<li>{}</li>", cell(note));
        }
        if i.auth_details > 0 {
            let _ = writeln!(
                out,
                "<li>{} authentication-detail rows joined onto their sign-ins.</li>",
                num(i.auth_details)
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}
