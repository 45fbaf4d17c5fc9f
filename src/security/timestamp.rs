//! Timestamps as senders write them: unix seconds, unix milliseconds or RFC 3339.
//!
//! Every parser works on the raw header bytes and returns milliseconds since the unix epoch;
//! none of them panics, whatever the input.

use std::fmt;

/// How a scheme's timestamp header is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampFormat {
    /// Decimal seconds since the unix epoch (`1614265330`); the default.
    Unix,
    /// Decimal milliseconds since the unix epoch (`1614265330123`).
    UnixMs,
    /// An RFC 3339 date-time (`2021-07-25T10:00:00Z`).
    Rfc3339,
}

impl TimestampFormat {
    /// The spelling used in a scheme's JSON (`unix`, `unix_ms`, `rfc3339`).
    pub fn as_str(self) -> &'static str {
        match self {
            TimestampFormat::Unix => "unix",
            TimestampFormat::UnixMs => "unix_ms",
            TimestampFormat::Rfc3339 => "rfc3339",
        }
    }
}

/// Why a timestamp could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampError {
    /// The value is empty.
    Empty,
    /// A unix timestamp contains something other than the digits 0-9.
    NotDigits,
    /// The number does not fit the supported range.
    OutOfRange,
    /// The value is not an RFC 3339 date-time; the text says which part is wrong.
    NotRfc3339(&'static str),
}

impl fmt::Display for TimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimestampError::Empty => f.write_str("empty value"),
            TimestampError::NotDigits => f.write_str("not a decimal number"),
            TimestampError::OutOfRange => f.write_str("out of range"),
            TimestampError::NotRfc3339(what) => write!(f, "not an RFC 3339 date-time ({what})"),
        }
    }
}

impl std::error::Error for TimestampError {}

/// Reads `raw` in `format` and returns milliseconds since the unix epoch.
pub fn parse_timestamp(raw: &[u8], format: TimestampFormat) -> Result<i64, TimestampError> {
    match format {
        TimestampFormat::Unix => parse_digits(raw)?.checked_mul(1000).ok_or(TimestampError::OutOfRange),
        TimestampFormat::UnixMs => parse_digits(raw),
        TimestampFormat::Rfc3339 => parse_rfc3339(raw),
    }
}

/// Parses a non-empty run of ASCII digits (no sign, no spaces) into an `i64`.
fn parse_digits(raw: &[u8]) -> Result<i64, TimestampError> {
    if raw.is_empty() {
        return Err(TimestampError::Empty);
    }
    let mut value: i64 = 0;
    for &b in raw {
        if !b.is_ascii_digit() {
            return Err(TimestampError::NotDigits);
        }
        value =
            value.checked_mul(10).and_then(|v| v.checked_add(i64::from(b - b'0'))).ok_or(TimestampError::OutOfRange)?;
    }
    Ok(value)
}

/// Parses an RFC 3339 `date-time` (section 5.6) into milliseconds since the unix epoch.
///
/// Accepts `T`, `t` or a space between date and time, `Z`/`z` or `±HH:MM` offsets, any number of
/// fractional-second digits (truncated to milliseconds) and a leap second `:60` (counted as the
/// next second). Rejects anything else, including out-of-range fields such as `2021-02-29`.
pub fn parse_rfc3339(raw: &[u8]) -> Result<i64, TimestampError> {
    use TimestampError::NotRfc3339 as E;
    if raw.is_empty() {
        return Err(TimestampError::Empty);
    }
    let mut c = Cursor { s: raw, i: 0 };
    let year = c.number(4).ok_or(E("year"))?;
    c.expect(b'-').ok_or(E("expected '-' after the year"))?;
    let month = c.number(2).ok_or(E("month"))?;
    c.expect(b'-').ok_or(E("expected '-' after the month"))?;
    let day = c.number(2).ok_or(E("day"))?;
    match c.next() {
        Some(b'T' | b't' | b' ') => {}
        _ => return Err(E("expected 'T' between date and time")),
    }
    let hour = c.number(2).ok_or(E("hour"))?;
    c.expect(b':').ok_or(E("expected ':' after the hour"))?;
    let minute = c.number(2).ok_or(E("minute"))?;
    c.expect(b':').ok_or(E("expected ':' after the minute"))?;
    let second = c.number(2).ok_or(E("second"))?;
    let mut millis = 0;
    if c.peek() == Some(b'.') {
        c.i += 1;
        let start = c.i;
        while let Some(d) = c.peek().filter(u8::is_ascii_digit) {
            if c.i - start < 3 {
                millis = millis * 10 + i64::from(d - b'0');
            }
            c.i += 1;
        }
        let digits = c.i - start;
        if digits == 0 {
            return Err(E("fraction without digits"));
        }
        for _ in digits..3 {
            millis *= 10;
        }
    }
    let offset_minutes = match c.next() {
        Some(b'Z' | b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let oh = c.number(2).ok_or(E("offset hour"))?;
            c.expect(b':').ok_or(E("expected ':' in the offset"))?;
            let om = c.number(2).ok_or(E("offset minute"))?;
            if oh > 23 || om > 59 {
                return Err(E("offset out of range"));
            }
            let total = oh * 60 + om;
            if sign == b'-' { -total } else { total }
        }
        _ => return Err(E("expected 'Z' or an offset")),
    };
    if c.i != raw.len() {
        return Err(E("trailing characters"));
    }
    if !(1..=12).contains(&month) {
        return Err(E("month out of range"));
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(E("day out of range"));
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err(E("time out of range"));
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Ok(seconds * 1000 + millis)
}

/// A position in the bytes being parsed.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.i += 1;
        Some(b)
    }

    fn expect(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    /// Exactly `n` ASCII digits.
    fn number(&mut self, n: usize) -> Option<i64> {
        let digits = self.s.get(self.i..self.i + n)?;
        let mut v = 0i64;
        for &d in digits {
            if !d.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(d - b'0');
        }
        self.i += n;
        Some(v)
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc(s: &str) -> Result<i64, TimestampError> {
        parse_rfc3339(s.as_bytes())
    }

    #[test]
    fn unix_seconds_and_milliseconds() {
        assert_eq!(parse_timestamp(b"1614265330", TimestampFormat::Unix), Ok(1_614_265_330_000));
        assert_eq!(parse_timestamp(b"1614265330123", TimestampFormat::UnixMs), Ok(1_614_265_330_123));
        assert_eq!(parse_timestamp(b"0", TimestampFormat::Unix), Ok(0));
    }

    #[test]
    fn unix_rejects_anything_but_digits() {
        for bad in [&b"-1"[..], b"+1", b"1.5", b" 1", b"1e3", b"0x10", b"\xff"] {
            assert_eq!(parse_timestamp(bad, TimestampFormat::Unix), Err(TimestampError::NotDigits), "{bad:?}");
        }
        assert_eq!(parse_timestamp(b"", TimestampFormat::Unix), Err(TimestampError::Empty));
        assert_eq!(
            parse_timestamp(b"99999999999999999999999", TimestampFormat::UnixMs),
            Err(TimestampError::OutOfRange)
        );
        assert_eq!(parse_timestamp(b"9223372036854775807", TimestampFormat::Unix), Err(TimestampError::OutOfRange));
    }

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(rfc("1970-01-01T00:00:00Z"), Ok(0));
        // 2021-07-25T10:00:00Z is 1627207200 (date -u -d 2021-07-25T10:00:00Z +%s).
        assert_eq!(rfc("2021-07-25T10:00:00Z"), Ok(1_627_207_200_000));
        assert_eq!(rfc("2021-07-25T12:30:00+02:30"), Ok(1_627_207_200_000));
        assert_eq!(rfc("2021-07-25t09:00:00-01:00"), Ok(1_627_207_200_000));
        assert_eq!(rfc("2021-07-25 10:00:00z"), Ok(1_627_207_200_000));
        assert_eq!(rfc("2021-07-25T10:00:00.5Z"), Ok(1_627_207_200_500));
        assert_eq!(rfc("2021-07-25T10:00:00.123456789Z"), Ok(1_627_207_200_123));
        // Leap day and the last second of a leap-second day.
        assert_eq!(rfc("2000-02-29T00:00:00Z"), Ok(951_782_400_000));
        assert_eq!(rfc("2016-12-31T23:59:60Z"), Ok(1_483_228_800_000));
        assert_eq!(rfc("1969-12-31T23:59:59Z"), Ok(-1000));
    }

    #[test]
    fn rfc3339_rejects_malformed_values() {
        for bad in [
            "2021-07-25",
            "2021-07-25T10:00:00",
            "2021-07-25T10:00Z",
            "2021-7-25T10:00:00Z",
            "2021-13-01T00:00:00Z",
            "2021-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2021-04-31T00:00:00Z",
            "2021-07-25T24:00:00Z",
            "2021-07-25T10:60:00Z",
            "2021-07-25T10:00:61Z",
            "2021-07-25T10:00:00.Z",
            "2021-07-25T10:00:00+0200",
            "2021-07-25T10:00:00+24:00",
            "2021-07-25T10:00:00Zjunk",
            "2021-07-25X10:00:00Z",
            "1627207200",
            "２０２１-07-25T10:00:00Z",
        ] {
            assert!(matches!(rfc(bad), Err(TimestampError::NotRfc3339(_))), "{bad}");
        }
        assert_eq!(rfc(""), Err(TimestampError::Empty));
    }

    #[test]
    fn days_from_civil_matches_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1600, 1, 1), -135_140);
    }
}
