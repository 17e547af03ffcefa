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

/// The newtype name [`allow_control`] asks for; [`Strict`] passes that subtree through
/// unchecked (the trick serde_json's `RawValue` uses to talk to its deserializer).
const ALLOW_CONTROL: &str = "$rampart::text::AllowControl";

/// serde `deserialize_with` for a `String` field that may hold control characters (a field
/// carrying terminal output, say): opts the field out of the refusal every other string of
/// a request body or query gets.
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Upload {
///     #[serde(deserialize_with = "rampart_runtime::text::allow_control")]
///     log: String,
/// }
/// ```
pub fn allow_control<'de, D: de::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct Raw;
    impl<'de> de::Visitor<'de> for Raw {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_newtype_struct<D: de::Deserializer<'de>>(
            self,
            deserializer: D,
        ) -> Result<String, D::Error> {
            <String as de::Deserialize>::deserialize(deserializer)
        }
        fn visit_str<E: de::Error>(self, value: &str) -> Result<String, E> {
            Ok(value.to_owned())
        }
        fn visit_string<E: de::Error>(self, value: String) -> Result<String, E> {
            Ok(value)
        }
    }
    deserializer.deserialize_newtype_struct(ALLOW_CONTROL, Raw)
}

/// [`allow_control`] for an `Option<String>` field.
pub fn allow_control_option<'de, D: de::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    struct Maybe;
    impl<'de> de::Visitor<'de> for Maybe {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            allow_control(d).map(Some)
        }
    }
    deserializer.deserialize_option(Maybe)
}

use serde::de;

/// A deserializer that refuses, in every string it hands out (values and keys), the control
/// characters [`is_refused_control`] names, so that `Json<T>` and `Query<T>` refuse them
/// for every type without each field saying so. The error is a serde error, so the
/// extractor's path tracking names the field (`notes[2].title`). A field deserialized with
/// [`allow_control`] is passed through unchecked.
pub(crate) struct Strict<D>(pub(crate) D);

struct Checked<V>(V);
struct StrictSeed<S>(S);
struct StrictAccess<A>(A);

fn check<E: de::Error>(text: &str) -> Result<(), E> {
    match refused_control(text) {
        Some(issue) => Err(E::custom(issue)),
        None => Ok(()),
    }
}

macro_rules! forward_deserialize {
    ($($method:ident),*) => {$(
        fn $method<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method(Checked(visitor))
        }
    )*};
}

impl<'de, D: de::Deserializer<'de>> de::Deserializer<'de> for Strict<D> {
    type Error = D::Error;

    forward_deserialize!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any
    );

    fn deserialize_unit_struct<V: de::Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_unit_struct(name, Checked(visitor))
    }

    fn deserialize_newtype_struct<V: de::Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        if name == ALLOW_CONTROL {
            return self.0.deserialize_newtype_struct(name, visitor);
        }
        self.0.deserialize_newtype_struct(name, Checked(visitor))
    }

    fn deserialize_tuple<V: de::Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, Checked(visitor))
    }

    fn deserialize_tuple_struct<V: de::Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple_struct(name, len, Checked(visitor))
    }

    fn deserialize_struct<V: de::Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct(name, fields, Checked(visitor))
    }

    fn deserialize_enum<V: de::Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_enum(name, variants, Checked(visitor))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

macro_rules! forward_visit {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method<E: de::Error>(self, value: $ty) -> Result<Self::Value, E> {
            self.0.$method(value)
        }
    )*};
}

impl<'de, V: de::Visitor<'de>> de::Visitor<'de> for Checked<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.expecting(f)
    }

    forward_visit!(
        visit_bool: bool,
        visit_i8: i8,
        visit_i16: i16,
        visit_i32: i32,
        visit_i64: i64,
        visit_i128: i128,
        visit_u8: u8,
        visit_u16: u16,
        visit_u32: u32,
        visit_u64: u64,
        visit_u128: u128,
        visit_f32: f32,
        visit_f64: f64,
        visit_bytes: &[u8],
        visit_borrowed_bytes: &'de [u8],
        visit_byte_buf: Vec<u8>
    );

    fn visit_char<E: de::Error>(self, value: char) -> Result<Self::Value, E> {
        check(value.encode_utf8(&mut [0; 4]))?;
        self.0.visit_char(value)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        check(value)?;
        self.0.visit_str(value)
    }

    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
        check(value)?;
        self.0.visit_borrowed_str(value)
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
        check(&value)?;
        self.0.visit_string(value)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.0.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.0.visit_unit()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.visit_some(Strict(d))
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.visit_newtype_struct(Strict(d))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.0.visit_seq(StrictAccess(seq))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(StrictAccess(map))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.0.visit_enum(StrictAccess(data))
    }
}

impl<'de, S: de::DeserializeSeed<'de>> de::DeserializeSeed<'de> for StrictSeed<S> {
    type Value = S::Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(Strict(d))
    }
}

impl<'de, A: de::SeqAccess<'de>> de::SeqAccess<'de> for StrictAccess<A> {
    type Error = A::Error;
    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(StrictSeed(seed))
    }
    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: de::MapAccess<'de>> de::MapAccess<'de> for StrictAccess<A> {
    type Error = A::Error;
    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(StrictSeed(seed))
    }
    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, A::Error> {
        self.0.next_value_seed(StrictSeed(seed))
    }
    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: de::EnumAccess<'de>> de::EnumAccess<'de> for StrictAccess<A> {
    type Error = A::Error;
    type Variant = StrictAccess<A::Variant>;
    fn variant_seed<V: de::DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), A::Error> {
        self.0
            .variant_seed(StrictSeed(seed))
            .map(|(value, variant)| (value, StrictAccess(variant)))
    }
}

impl<'de, A: de::VariantAccess<'de>> de::VariantAccess<'de> for StrictAccess<A> {
    type Error = A::Error;
    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }
    fn newtype_variant_seed<T: de::DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, A::Error> {
        self.0.newtype_variant_seed(StrictSeed(seed))
    }
    fn tuple_variant<V: de::Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, Checked(visitor))
    }
    fn struct_variant<V: de::Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.0.struct_variant(fields, Checked(visitor))
    }
}

#[cfg(test)]
mod strict_tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Note {
        #[allow(dead_code)]
        title: String,
        #[serde(default, deserialize_with = "allow_control")]
        raw: String,
        #[serde(default)]
        #[allow(dead_code)]
        tags: Vec<Option<String>>,
    }

    fn read(json: &str) -> Result<Note, String> {
        let mut de = serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize(Strict(&mut de))
            .map_err(|e| format!("{} {}", e.path(), e.inner()))
    }

    #[test]
    fn control_characters_are_refused_with_the_path_unless_allowed() {
        assert!(read(r#"{"title": "a\tb\nc\r"}"#).is_ok());
        let error = read(r#"{"title": "a\u0007"}"#).err().unwrap_or_default();
        assert!(
            error.starts_with("title contains the control character U+0007"),
            "{error}"
        );
        let error = read(r#"{"title": "ok", "tags": ["x", "\u0085"]}"#)
            .err()
            .unwrap_or_default();
        assert!(error.starts_with("tags[1] "), "{error}");
        let allowed = read(r#"{"title": "ok", "raw": "\u001b[31m"}"#);
        assert_eq!(allowed.map(|n| n.raw).ok().as_deref(), Some("\u{1b}[31m"));
    }
}
