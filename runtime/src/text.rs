//! Text rules for what clients send: identifiers normalised before uniqueness checks, and the
//! characters no string input may hold.

use unicode_normalization::UnicodeNormalization as _;

/// The Unicode `Default_Ignorable_Code_Point` property (DerivedCoreProperties.txt, Unicode
/// 16.0), ranges merged: characters a renderer shows as nothing (zero-width space and joiners,
/// soft hyphen, bidi controls, variation selectors, BOM, tags, fillers). Two identifiers that
/// differ only by them look identical.
const DEFAULT_IGNORABLE: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
];

/// Whether `c` is a `Default_Ignorable_Code_Point`.
pub fn is_default_ignorable(c: char) -> bool {
    let c = u32::from(c);
    DEFAULT_IGNORABLE
        .binary_search_by(|(start, end)| {
            if *end < c {
                std::cmp::Ordering::Less
            } else if *start > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Whether a string input refuses `c` by default: the C0 and C1 control characters and DEL,
/// except tab, line feed and carriage return.
pub fn is_refused_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// The first character of `text` a string input refuses, described for an error message.
pub fn refused_control(text: &str) -> Option<String> {
    text.chars()
        .find(|c| is_refused_control(*c))
        .map(|c| format!("contains the control character U+{:04X}", u32::from(c)))
}

/// Normalises an e-mail address before it is validated, stored or looked up: trimmed, Unicode
/// NFKC (fullwidth `ａ` is `a`), the domain in its IDNA A-label form (`bücher.example` is
/// `xn--bcher-kva.example`), lowercased. Invisible characters (`Default_Ignorable_Code_Point`:
/// zero-width space, soft hyphen, ...) and control characters are refused rather than dropped,
/// so a lookalike is an error and never a second account. The `Err` is the issue to report
/// for the field.
pub fn normalize_email(raw: &str) -> Result<String, String> {
    let invisible = |text: &str| {
        text.chars().find(|c| is_default_ignorable(*c)).map(|c| {
            format!(
                "contains the invisible character U+{:04X}; remove it",
                u32::from(c)
            )
        })
    };
    if let Some(issue) = invisible(raw).or_else(|| refused_control(raw)) {
        return Err(issue);
    }
    let text: String = raw.trim().nfkc().collect();
    if let Some(issue) = invisible(&text).or_else(|| refused_control(&text)) {
        return Err(issue);
    }
    let text = text.trim();
    match text.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
            let domain = idna::domain_to_ascii_strict(domain)
                .map_err(|_| "the domain is not a valid domain name".to_owned())?;
            Ok(format!("{}@{domain}", local.to_lowercase()))
        }
        // Not an address at all: the caller's validation (`email`) says so.
        _ => Ok(text.to_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ignorable_table_is_sorted_and_finds_its_members() {
        assert!(DEFAULT_IGNORABLE.windows(2).all(|w| w[0].1 < w[1].0));
        for c in [
            '\u{ad}',
            '\u{200b}',
            '\u{200c}',
            '\u{200d}',
            '\u{feff}',
            '\u{fe0f}',
            '\u{e0001}',
        ] {
            assert!(is_default_ignorable(c), "{:04X}", u32::from(c));
        }
        for c in ['a', ' ', '-', '\u{2010}', '\u{e1000}'] {
            assert!(!is_default_ignorable(c), "{:04X}", u32::from(c));
        }
    }

    #[test]
    fn emails_are_normalised_or_refused() {
        assert_eq!(
            normalize_email(" ALICE@EXAMPLE.COM "),
            Ok("alice@example.com".to_owned())
        );
        assert_eq!(
            normalize_email("ａｌｉｃｅ@example.com"),
            Ok("alice@example.com".to_owned())
        );
        assert_eq!(
            normalize_email("Jo@Bücher.Example"),
            Ok("jo@xn--bcher-kva.example".to_owned())
        );
        assert!(normalize_email("alice@exam\u{200b}ple.com").is_err());
        assert!(normalize_email("alice@exa\u{ad}mple.com").is_err());
        assert!(normalize_email("al\u{7}ice@example.com").is_err());
        assert!(normalize_email("alice@exa mple.com").is_err());
        assert_eq!(
            normalize_email("not an address"),
            Ok("not an address".to_owned())
        );
    }

    #[test]
    fn controls_other_than_tab_lf_cr_are_refused() {
        assert!(refused_control("a\tb\nc\r").is_none());
        assert!(refused_control("a\u{7}").is_some());
        assert!(refused_control("a\u{7f}").is_some());
        assert!(refused_control("a\u{85}").is_some());
        assert!(refused_control("a\u{9f}").is_some());
    }
}
