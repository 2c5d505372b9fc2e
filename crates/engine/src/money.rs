//! Exact money: integer minor units with their unit (an ISO 4217 currency or a declared
//! commodity), checked arithmetic, one named rounding function, parsing and display.
//!
//! There is no floating point in this module and none may be added: every amount is an
//! `i64` count of the unit's minor units (cents for USD, yen for JPY, fils for BHD).

use std::fmt;

use serde::{Deserialize, Serialize};

mod iso4217;

pub use iso4217::ISO_4217;

/// Longest unit code we accept (ISO codes are 3; declared commodities such as `ai_credit`
/// are longer). Kept inline so `Unit` is `Copy` and compares without allocation.
pub const MAX_UNIT_CODE_LEN: usize = 16;

/// Largest exponent a unit may declare. 18 keeps `10^exponent` inside `i64`.
pub const MAX_EXPONENT: u8 = 18;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("arithmetic overflow in {op} of {left} and {right} minor units")]
    Overflow {
        op: &'static str,
        left: i128,
        right: i128,
    },
    #[error("cannot combine {left} with {right}: amounts in different units never mix")]
    UnitMismatch { left: String, right: String },
    #[error("unknown currency or unit `{0}` (not in ISO 4217 and not declared in this workspace)")]
    UnknownUnit(String),
    #[error("invalid unit code `{code}`: {reason}")]
    InvalidUnitCode { code: String, reason: &'static str },
    #[error("cannot read `{input}` as an amount of {unit}: {reason}")]
    Parse {
        input: String,
        unit: String,
        reason: String,
    },
    #[error("division by zero")]
    DivisionByZero,
}

pub type Result<T> = std::result::Result<T, MoneyError>;

/// What kind of unit an amount is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// An ISO 4217 currency: real money.
    Currency,
    /// A declared non-money unit (seed 003's AI / SMS / email credits). Never mixes with money.
    Commodity,
}

/// A unit of account: a lower-case code (as Stripe writes currencies), its exponent and kind.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Unit {
    code: [u8; MAX_UNIT_CODE_LEN],
    len: u8,
    exponent: u8,
    kind: UnitKind,
}

impl Unit {
    /// Builds a unit after checking its code: 1–16 characters of `a-z`, `0-9` or `_`,
    /// starting with a letter. Upper-case input is folded to lower case.
    pub fn new(code: &str, exponent: u8, kind: UnitKind) -> Result<Unit> {
        let invalid = |reason| MoneyError::InvalidUnitCode {
            code: code.to_string(),
            reason,
        };
        if code.is_empty() || code.len() > MAX_UNIT_CODE_LEN {
            return Err(invalid("a unit code has 1 to 16 characters"));
        }
        if exponent > MAX_EXPONENT {
            return Err(invalid("the exponent must be 0 to 18"));
        }
        let mut bytes = [0u8; MAX_UNIT_CODE_LEN];
        for (i, b) in code.bytes().enumerate() {
            let b = b.to_ascii_lowercase();
            let ok = b.is_ascii_lowercase() || (i > 0 && (b.is_ascii_digit() || b == b'_'));
            if !ok {
                return Err(invalid(
                    "use letters, digits and `_`, starting with a letter",
                ));
            }
            bytes[i] = b;
        }
        Ok(Unit {
            code: bytes,
            len: code.len() as u8,
            exponent,
            kind,
        })
    }

    /// The ISO 4217 currency with this code (any case), if there is one.
    pub fn iso(code: &str) -> Option<Unit> {
        if code.len() != 3 {
            return None;
        }
        let upper = code.to_ascii_uppercase();
        ISO_4217
            .binary_search_by(|(c, _)| c.cmp(&upper.as_str()))
            .ok()
            .map(|i| {
                Unit::new(code, ISO_4217[i].1, UnitKind::Currency)
                    .expect("ISO table codes are valid")
            })
    }

    /// The code as stored: lower case (`usd`, `ai_credit`).
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code[..self.len as usize]).expect("unit codes are ASCII")
    }

    /// The code as shown to people: upper case for currencies (`USD`), as declared otherwise.
    pub fn display_code(&self) -> String {
        match self.kind {
            UnitKind::Currency => self.code().to_ascii_uppercase(),
            UnitKind::Commodity => self.code().to_string(),
        }
    }

    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    pub fn kind(&self) -> UnitKind {
        self.kind
    }

    /// `10^exponent`: how many minor units make one major unit.
    pub fn minor_per_major(&self) -> i64 {
        10i64.pow(u32::from(self.exponent))
    }
}

impl fmt::Debug for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(e{})", self.code(), self.exponent)
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_code())
    }
}

/// The units a workspace knows: every ISO 4217 currency plus the commodities it declared.
#[derive(Debug, Clone, Default)]
pub struct UnitRegistry {
    declared: Vec<Unit>,
}

impl UnitRegistry {
    pub fn new(declared: Vec<Unit>) -> UnitRegistry {
        UnitRegistry { declared }
    }

    /// Looks a code up: ISO 4217 first, then the declared commodities.
    pub fn lookup(&self, code: &str) -> Result<Unit> {
        if let Some(unit) = Unit::iso(code) {
            return Ok(unit);
        }
        let lower = code.to_ascii_lowercase();
        self.declared
            .iter()
            .find(|u| u.code() == lower)
            .copied()
            .ok_or_else(|| MoneyError::UnknownUnit(code.to_string()))
    }

    pub fn declared(&self) -> &[Unit] {
        &self.declared
    }
}

/// An exact amount: a count of minor units of one unit.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    unit: Unit,
}

impl Money {
    pub const fn new(minor: i64, unit: Unit) -> Money {
        Money { minor, unit }
    }

    pub fn zero(unit: Unit) -> Money {
        Money { minor: 0, unit }
    }

    pub fn minor(&self) -> i64 {
        self.minor
    }

    pub fn unit(&self) -> Unit {
        self.unit
    }

    fn same_unit(&self, other: &Money) -> Result<()> {
        if self.unit == other.unit {
            Ok(())
        } else {
            Err(MoneyError::UnitMismatch {
                left: self.unit.display_code(),
                right: other.unit.display_code(),
            })
        }
    }

    fn combine(
        self,
        other: Money,
        op: &'static str,
        f: fn(i64, i64) -> Option<i64>,
    ) -> Result<Money> {
        self.same_unit(&other)?;
        let minor = f(self.minor, other.minor).ok_or(MoneyError::Overflow {
            op,
            left: self.minor.into(),
            right: other.minor.into(),
        })?;
        Ok(Money {
            minor,
            unit: self.unit,
        })
    }

    pub fn checked_add(self, other: Money) -> Result<Money> {
        self.combine(other, "addition", i64::checked_add)
    }

    pub fn checked_sub(self, other: Money) -> Result<Money> {
        self.combine(other, "subtraction", i64::checked_sub)
    }

    pub fn checked_neg(self) -> Result<Money> {
        let minor = self.minor.checked_neg().ok_or(MoneyError::Overflow {
            op: "negation",
            left: self.minor.into(),
            right: 0,
        })?;
        Ok(Money {
            minor,
            unit: self.unit,
        })
    }

    /// Multiplies by a plain count (a quantity, never a rate: rates go through
    /// [`apply_bps_half_even`]).
    pub fn checked_mul(self, count: i64) -> Result<Money> {
        let minor = self.minor.checked_mul(count).ok_or(MoneyError::Overflow {
            op: "multiplication",
            left: self.minor.into(),
            right: count.into(),
        })?;
        Ok(Money {
            minor,
            unit: self.unit,
        })
    }

    /// Sums amounts of one unit; an empty sum is zero of `unit`.
    pub fn sum<I: IntoIterator<Item = Money>>(unit: Unit, items: I) -> Result<Money> {
        items
            .into_iter()
            .try_fold(Money::zero(unit), Money::checked_add)
    }

    /// `basis_points / 10_000` of this amount, rounded half-even to the minor unit.
    pub fn bps_half_even(self, basis_points: u32) -> Result<Money> {
        Ok(Money {
            minor: apply_bps_half_even(self.minor, basis_points)?,
            unit: self.unit,
        })
    }

    /// Reads a decimal amount written in major units exactly, as a person types it:
    /// `1234.56`, `-0.5`, `+3`, `1,234.56` (`,` grouping by three), `$1,234.56` or
    /// `-$12` (the unit's own symbol, as [`Money::format_symbol`] shows it). More decimals than
    /// the unit has is an error, never a rounding; so are spaces inside, other symbols and
    /// exponents. The one parser of typed amounts: the desktop sends the text, this decides.
    pub fn parse(input: &str, unit: Unit) -> Result<Money> {
        parse_major(input, unit).map(|minor| Money { minor, unit })
    }

    /// `1,234.56 USD`, `-1,235 JPY`, `12.345 BHD`.
    pub fn format(&self) -> String {
        format!(
            "{} {}",
            format_minor(self.minor, self.unit.exponent, true),
            self.unit.display_code()
        )
    }

    /// The number alone, grouped, in the unit's decimals: `-1,234.56` (the UI shows the
    /// currency beside it).
    pub fn format_number(&self) -> String {
        format_minor(self.minor, self.unit.exponent, true)
    }

    /// With the currency's usual symbol where one is unambiguous (`$1,234.56`, `¥1,235`,
    /// `−` for negatives), the code otherwise.
    pub fn format_symbol(&self) -> String {
        match symbol(self.unit) {
            Some(sym) => {
                let digits = format_minor_u(self.minor.unsigned_abs(), self.unit.exponent, true);
                if self.minor < 0 {
                    format!("-{sym}{digits}")
                } else {
                    format!("{sym}{digits}")
                }
            }
            None => self.format(),
        }
    }

    /// The amount as a plain decimal string in major units without grouping: `1234.56`.
    pub fn to_decimal_string(&self) -> String {
        format_minor(self.minor, self.unit.exponent, false)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.minor, self.unit.code())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format())
    }
}

/// The one rounding rule of Closebook: divides `numerator` by `denominator` and rounds
/// the quotient to the nearest integer, ties to the even neighbour ("banker's rounding").
pub fn div_round_half_even(numerator: i128, denominator: i128) -> Result<i128> {
    if denominator == 0 {
        return Err(MoneyError::DivisionByZero);
    }
    let (n, d) = if denominator < 0 {
        (
            numerator.checked_neg().ok_or(MoneyError::Overflow {
                op: "division",
                left: numerator,
                right: denominator,
            })?,
            -denominator,
        )
    } else {
        (numerator, denominator)
    };
    let q = n.div_euclid(d);
    let r = n.rem_euclid(d); // 0 <= r < d, and n = q*d + r
    let twice = r * 2;
    let rounded = if twice > d || (twice == d && q % 2 != 0) {
        q + 1
    } else {
        q
    };
    Ok(rounded)
}

/// `amount × basis_points / 10 000`, rounded half-even: the platform-fee rule
/// (700 bps = 7%). The result always fits in `i64` because `basis_points` is capped at
/// 10 000 (100%) by callers that accept user input; larger rates still work while the
/// product fits.
pub fn apply_bps_half_even(amount: i64, basis_points: u32) -> Result<i64> {
    let product = i128::from(amount) * i128::from(basis_points);
    let q = div_round_half_even(product, 10_000)?;
    i64::try_from(q).map_err(|_| MoneyError::Overflow {
        op: "basis-point multiplication",
        left: amount.into(),
        right: basis_points.into(),
    })
}

fn symbol(unit: Unit) -> Option<&'static str> {
    match unit.code() {
        "usd" => Some("$"),
        "eur" => Some("€"),
        "gbp" => Some("£"),
        "jpy" => Some("¥"),
        "inr" => Some("₹"),
        "krw" => Some("₩"),
        _ => None,
    }
}

fn format_minor(minor: i64, exponent: u8, grouped: bool) -> String {
    let body = format_minor_u(minor.unsigned_abs(), exponent, grouped);
    if minor < 0 { format!("-{body}") } else { body }
}

fn format_minor_u(abs: u64, exponent: u8, grouped: bool) -> String {
    let digits = abs.to_string();
    let exp = usize::from(exponent);
    let (int_part, frac_part) = if exp == 0 {
        (digits, String::new())
    } else if digits.len() > exp {
        let (i, f) = digits.split_at(digits.len() - exp);
        (i.to_string(), f.to_string())
    } else {
        ("0".to_string(), format!("{digits:0>exp$}"))
    };
    let int_part = if grouped {
        group_thousands(&int_part)
    } else {
        int_part
    };
    if exp == 0 {
        int_part
    } else {
        format!("{int_part}.{frac_part}")
    }
}

fn group_thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn parse_major(input: &str, unit: Unit) -> Result<i64> {
    let err = |reason: &str| MoneyError::Parse {
        input: input.to_string(),
        unit: unit.display_code(),
        reason: reason.to_string(),
    };
    let s = input.trim();
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let s = match symbol(unit) {
        Some(sym) => s.strip_prefix(sym).unwrap_or(s),
        None => s,
    };
    if s.is_empty() {
        return Err(err("no digits"));
    }
    if s.chars().any(char::is_whitespace) {
        return Err(err("spaces inside an amount; group thousands with `,`"));
    }
    let (int_part, frac_part) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if s.ends_with('.') {
        return Err(err("a decimal point must be followed by digits"));
    }
    let int_digits: String = int_part.chars().filter(|c| *c != ',').collect();
    // `.5` is half a unit: the whole part may be left out when there is a fraction.
    let bare_fraction = int_part.is_empty() && !frac_part.is_empty();
    if (int_digits.is_empty() && !bare_fraction) || !int_digits.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(err(
            "expected digits, optionally grouped with `,`, and one `.`",
        ));
    }
    if int_part.contains(',') && !valid_grouping(int_part) {
        return Err(err("thousands separators must group digits by three"));
    }
    if !frac_part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err("expected digits after the decimal point"));
    }
    if frac_part.len() > usize::from(unit.exponent) {
        return Err(err(&format!(
            "{} has {} decimal place(s); refusing to round",
            unit.display_code(),
            unit.exponent
        )));
    }
    let overflow = || err("amount too large");
    let mut minor: i64 = 0;
    for b in int_digits.bytes() {
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(b - b'0')))
            .ok_or_else(overflow)?;
    }
    for i in 0..usize::from(unit.exponent) {
        let d = frac_part
            .as_bytes()
            .get(i)
            .map_or(0, |b| i64::from(b - b'0'));
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(d))
            .ok_or_else(overflow)?;
    }
    Ok(if negative { -minor } else { minor })
}

fn valid_grouping(int_part: &str) -> bool {
    let groups: Vec<&str> = int_part.split(',').collect();
    let first_ok = !groups[0].is_empty() && groups[0].len() <= 3;
    first_ok && groups[1..].iter().all(|g| g.len() == 3)
}

/// Parses a strict integer count of minor units as it appears in import files and
/// database columns: an optional `-` and ASCII digits. `12.50`, `1e3`, `+5`, ` 7`, `0x10`
/// are all refused: a file that writes decimals is wrong, and guessing would be worse.
pub fn parse_minor_units(input: &str) -> std::result::Result<i64, &'static str> {
    let digits = input.strip_prefix('-').unwrap_or(input);
    if digits.is_empty() {
        return Err("empty amount");
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        if digits.contains('.') {
            return Err(
                "decimal amount; amounts are integers in minor units (cents), e.g. 1250 for 12.50",
            );
        }
        if digits.contains(['e', 'E']) {
            return Err("exponent notation; amounts are integers in minor units");
        }
        return Err("not an integer number of minor units");
    }
    input
        .parse::<i64>()
        .map_err(|_| "amount out of range for 64-bit minor units")
}

#[cfg(test)]
mod tests;
