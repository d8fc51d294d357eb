//! Escaping text for HTML and SVG, shared by the page ([`super::html`]) and its chart
//! ([`super::chart`]) so that neither depends on the other; and for Markdown
//! ([`super::markdown`]), where every string a peer or a log supplies goes through
//! [`markdown_text`].

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for Markdown (CommonMark and GitHub's tables): every ASCII punctuation
/// character that can open or close markup inside a line (emphasis, code, links, images,
/// tables, strikethrough, math) gets a backslash; `<`, `>` and `&` become character references
/// (so no raw HTML survives); line breaks and other control characters become spaces, so the
/// text never starts a line (where `-`, `1.` or `=` could start a block). The result renders as
/// the text itself, in a paragraph, a heading or a table cell.
pub fn markdown_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' | '\u{2028}' | '\u{2029}' => out.push(' '),
            c if c.is_control() => out.push(' '),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '!' | '|'
            | '~' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A value as Markdown code when it is plain hex (ids, digests, fingerprints the code
/// computed), otherwise as escaped text: a backtick in a code span would end it.
pub fn markdown_code(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit()) {
        format!("`{s}`")
    } else {
        markdown_text(s)
    }
}
