//! Reading what Redis answers: stream entries into [`Delivery`]s, and anything else that is not
//! the expected shape into [`QueueError::Protocol`]. Nothing here panics on a reply.

use ::redis::Value;

use super::super::queue::{Delivery, JobRecord, Poison, QueueError};

/// A reply's text, for the string-like kinds (binary is read lossily: a non-UTF-8 entry is a
/// poison message, not an error).
pub(super) fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Value::SimpleString(text) => Some(text.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        Value::Int(number) => Some(number.to_string()),
        Value::Okay => Some("OK".to_owned()),
        _ => None,
    }
}

fn items(value: &Value) -> Option<&[Value]> {
    match value {
        Value::Array(items) | Value::Set(items) => Some(items),
        _ => None,
    }
}

/// The reply's shape only: a reply can hold job records, whose payloads stay out of logs.
pub(super) fn unexpected(what: &str, value: &Value) -> QueueError {
    let shape = match value {
        Value::Nil => "nil".to_owned(),
        Value::Int(n) => format!("the integer {n}"),
        Value::Array(items) | Value::Set(items) => format!("{} items", items.len()),
        Value::BulkString(bytes) => format!("{} bytes", bytes.len()),
        Value::SimpleString(_) | Value::VerbatimString { .. } => "a string".to_owned(),
        Value::Okay => "OK".to_owned(),
        _ => "another kind of value".to_owned(),
    };
    QueueError::Protocol(format!("unexpected reply to {what}: {shape}"))
}

/// One stream entry: its id and its fields (`None` when the entry was deleted while pending,
/// as Redis 6.2's XAUTOCLAIM reports it).
pub(super) struct Entry {
    pub(super) id: String,
    pub(super) fields: Option<Vec<(String, String)>>,
}

/// `[[id, [field, value, ...]], ...]`.
pub(super) fn entries(what: &str, value: &Value) -> Result<Vec<Entry>, QueueError> {
    let Some(list) = items(value) else {
        return match value {
            Value::Nil => Ok(Vec::new()),
            other => Err(unexpected(what, other)),
        };
    };
    let mut out = Vec::with_capacity(list.len());
    for item in list {
        let Some([id, fields]) = items(item).and_then(|pair| <&[Value; 2]>::try_from(pair).ok())
        else {
            return Err(unexpected(what, item));
        };
        let Some(id) = text(id) else {
            return Err(unexpected(what, item));
        };
        let fields = match fields {
            Value::Nil => None,
            other => {
                let flat = items(other).ok_or_else(|| unexpected(what, other))?;
                Some(
                    flat.chunks(2)
                        .map(|pair| {
                            let name = pair.first().and_then(text).unwrap_or_default();
                            let value = pair.get(1).and_then(text).unwrap_or_default();
                            (name, value)
                        })
                        .collect(),
                )
            }
        };
        out.push(Entry { id, fields });
    }
    Ok(out)
}

/// XREADGROUP's reply: nil on timeout, else `[[stream, entries]]` (a map under RESP3).
pub(super) fn read_group(value: &Value) -> Result<Vec<Entry>, QueueError> {
    const WHAT: &str = "XREADGROUP";
    let mut out = Vec::new();
    match value {
        Value::Nil => {}
        Value::Map(streams) => {
            for (_, stream_entries) in streams {
                out.extend(entries(WHAT, stream_entries)?);
            }
        }
        other => {
            let streams = items(other).ok_or_else(|| unexpected(WHAT, other))?;
            for stream in streams {
                match items(stream) {
                    Some([_, stream_entries]) => out.extend(entries(WHAT, stream_entries)?),
                    _ => return Err(unexpected(WHAT, stream)),
                }
            }
        }
    }
    Ok(out)
}

/// XAUTOCLAIM's reply: `[next cursor, entries, deleted ids]` (no third element before 7.0).
pub(super) fn auto_claim(value: &Value) -> Result<(String, Vec<Entry>), QueueError> {
    const WHAT: &str = "XAUTOCLAIM";
    match items(value) {
        Some([cursor, claimed, ..]) => {
            let cursor = text(cursor).ok_or_else(|| unexpected(WHAT, value))?;
            Ok((cursor, entries(WHAT, claimed)?))
        }
        _ => Err(unexpected(WHAT, value)),
    }
}

/// The delivery of an entry of `queue` that Redis has now handed out `delivered` times (the
/// entry's delivery count): its `record` field decoded, or a poison message carrying the entry
/// as it was stored. The deliveries lost before the entry was written (its `lost` field, kept
/// by a release) count too.
pub(super) fn delivery(
    queue: &str,
    consumer: &str,
    id: String,
    fields: Vec<(String, String)>,
    delivered: u32,
) -> Delivery {
    let lost = fields
        .iter()
        .find(|(name, _)| name == "lost")
        .and_then(|(_, value)| value.parse::<u32>().ok())
        .unwrap_or(0);
    let record = match fields.iter().find(|(name, _)| name == "record") {
        Some((_, raw)) => serde_json::from_str::<JobRecord>(raw).map_err(|error| Poison {
            raw: raw.clone(),
            // Not serde's message: it quotes the values it refuses.
            reason: format!(
                "the queue entry does not decode as a job (line {}, column {})",
                error.line(),
                error.column()
            ),
        }),
        None => {
            let shown: serde_json::Map<String, serde_json::Value> = fields
                .into_iter()
                .map(|(name, value)| (name, serde_json::Value::String(value)))
                .collect();
            Err(Poison {
                raw: serde_json::Value::Object(shown).to_string(),
                reason: "the queue entry does not decode as a job: it has no `record` field"
                    .to_owned(),
            })
        }
    };
    Delivery {
        record,
        token: id,
        queue: queue.to_owned(),
        consumer: consumer.to_owned(),
        deliveries: lost.saturating_add(delivered.max(1)),
    }
}

/// The delivery count in the reply to `XPENDING stream group id id 1` (extended form:
/// `[[id, consumer, idle ms, delivery count]]`); `None` when the entry is not pending.
pub(super) fn delivery_count(value: &Value) -> Result<Option<u32>, QueueError> {
    const WHAT: &str = "XPENDING";
    let Some(list) = items(value) else {
        return Err(unexpected(WHAT, value));
    };
    let Some(first) = list.first() else {
        return Ok(None);
    };
    match items(first) {
        Some([_, _, _, count]) => {
            let count = int(WHAT, count)?;
            Ok(Some(u32::try_from(count).unwrap_or(u32::MAX)))
        }
        _ => Err(unexpected(WHAT, first)),
    }
}

/// The version in an `INFO server` reply (its `redis_version` line).
pub(super) fn redis_version(info: &str) -> Option<&str> {
    info.lines()
        .find_map(|line| line.trim_end().strip_prefix("redis_version:"))
        .map(str::trim)
}

/// `major.minor[.patch]` as numbers; a non-digit suffix on the last part (`7.2.0-rc1`) is
/// ignored. `None` for anything else.
pub(super) fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.split('.');
    let number = |part: &str, last: bool| {
        let digits = if last {
            let end = part
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(part.len());
            &part[..end]
        } else {
            part
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse::<u32>().ok()
    };
    let major = number(parts.next()?, false)?;
    let minor_text = parts.next()?;
    let patch_text = parts.next();
    if parts.next().is_some() {
        return None;
    }
    let minor = number(minor_text, patch_text.is_none())?;
    let patch = match patch_text {
        Some(text) => number(text, true)?,
        None => 0,
    };
    Some((major, minor, patch))
}

/// An integer reply.
pub(super) fn int(what: &str, value: &Value) -> Result<i64, QueueError> {
    match value {
        Value::Int(number) => Ok(*number),
        other => text(other)
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| unexpected(what, other)),
    }
}

/// An array reply of integers.
pub(super) fn ints(what: &str, value: &Value, count: usize) -> Result<Vec<i64>, QueueError> {
    match items(value) {
        Some(list) if list.len() == count => list.iter().map(|item| int(what, item)).collect(),
        _ => Err(unexpected(what, value)),
    }
}

/// An array reply of optional strings (nil or false as `None`).
pub(super) fn texts(what: &str, value: &Value) -> Result<Vec<Option<String>>, QueueError> {
    match items(value) {
        Some(list) => Ok(list.iter().map(text).collect()),
        None => Err(unexpected(what, value)),
    }
}

/// PUSH's reply: `[queued (1 or 0), id]`.
pub(super) fn pushed(value: &Value) -> Result<(bool, String), QueueError> {
    match items(value) {
        Some([queued, id]) => Ok((int("PUSH", queued)? == 1, text(id).unwrap_or_default())),
        _ => Err(unexpected("PUSH", value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_as_numbers() {
        assert_eq!(parse_version("7.0.15"), Some((7, 0, 15)));
        assert_eq!(parse_version("6.2.14"), Some((6, 2, 14)));
        assert_eq!(parse_version("255.255.255"), Some((255, 255, 255)));
        assert_eq!(parse_version("7.2"), Some((7, 2, 0)));
        assert_eq!(parse_version("7.2.0-rc1"), Some((7, 2, 0)));
        assert_eq!(parse_version("8.0-m02"), Some((8, 0, 0)));
        // Compared as numbers, not text: 10.0 is newer than 7.0, 7.10 newer than 7.9.
        assert!(parse_version("10.0.0") > parse_version("7.0.0"));
        assert!(parse_version("7.10.0") > parse_version("7.9.9"));
        for garbage in [
            "",
            "7",
            "seven",
            "7.x.1",
            "7..1",
            ".7.0",
            "7.0.1.2",
            "-7.0.0",
            "7.0.x",
            "99999999999.0.0",
            " 7.0.0",
        ] {
            assert_eq!(parse_version(garbage), None, "{garbage:?}");
        }
    }

    #[test]
    fn the_version_is_read_from_info_server() {
        let info = "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\nredis_mode:standalone\r\n";
        assert_eq!(redis_version(info), Some("7.0.15"));
        assert_eq!(redis_version("# Server\r\nredis_mode:standalone\r\n"), None);
        assert_eq!(redis_version(""), None);
    }

    #[test]
    fn a_delivery_counts_the_deliveries_lost_before_its_entry() {
        let fields = |lost: Option<&str>| {
            let mut fields = vec![("record".to_owned(), "{}".to_owned())];
            fields.extend(lost.map(|lost| ("lost".to_owned(), lost.to_owned())));
            fields
        };
        let count = |fields, delivered| delivery("q", "c", "1-0".into(), fields, delivered);
        assert_eq!(count(fields(None), 1).deliveries, 1);
        assert_eq!(count(fields(None), 4).deliveries, 4);
        assert_eq!(count(fields(Some("2")), 1).deliveries, 3);
        // A count that does not read is no count; never fewer than one delivery.
        assert_eq!(count(fields(Some("many")), 0).deliveries, 1);
        let pending = Value::Array(vec![Value::Array(vec![
            Value::BulkString(b"1-0".to_vec()),
            Value::BulkString(b"worker".to_vec()),
            Value::Int(12),
            Value::Int(3),
        ])]);
        assert!(matches!(delivery_count(&pending), Ok(Some(3))));
        assert!(matches!(delivery_count(&Value::Array(vec![])), Ok(None)));
        assert!(delivery_count(&Value::Int(3)).is_err());
    }
}
