use proptest::prelude::*;

use super::*;

fn usd() -> Unit {
    Unit::iso("usd").unwrap()
}

#[test]
fn iso_table_is_sorted_unique_and_has_the_odd_exponents() {
    assert!(
        ISO_4217.windows(2).all(|w| w[0].0 < w[1].0),
        "table must be sorted for binary search"
    );
    for (code, exp) in [
        ("JPY", 0),
        ("KRW", 0),
        ("BHD", 3),
        ("KWD", 3),
        ("JOD", 3),
        ("USD", 2),
        ("CLF", 4),
    ] {
        assert_eq!(Unit::iso(code).unwrap().exponent(), exp, "{code}");
    }
    assert!(Unit::iso("xyz").is_none());
    assert!(Unit::iso("usdd").is_none());
}

#[test]
fn formats_with_each_currencys_own_decimals() {
    let jpy = Unit::iso("jpy").unwrap();
    let bhd = Unit::iso("bhd").unwrap();
    assert_eq!(Money::new(123_456, usd()).format(), "1,234.56 USD");
    assert_eq!(Money::new(-5, usd()).format(), "-0.05 USD");
    assert_eq!(Money::new(0, usd()).format(), "0.00 USD");
    assert_eq!(Money::new(1235, jpy).format_symbol(), "¥1,235");
    assert_eq!(Money::new(1235, jpy).format(), "1,235 JPY");
    assert_eq!(Money::new(12_345, bhd).format(), "12.345 BHD");
    assert_eq!(Money::new(-123_456, usd()).format_symbol(), "-$1,234.56");
    assert_eq!(
        Money::new(i64::MIN, usd()).format(),
        "-92,233,720,368,547,758.08 USD"
    );
    assert_eq!(Money::new(100, bhd).format_symbol(), "0.100 BHD");
    assert_eq!(Money::new(123_456, usd()).to_decimal_string(), "1234.56");
}

#[test]
fn parses_major_units_exactly_and_refuses_to_round() {
    assert_eq!(Money::parse("1,234.56", usd()).unwrap().minor(), 123_456);
    assert_eq!(Money::parse("25", usd()).unwrap().minor(), 2500);
    assert_eq!(Money::parse("-0.5", usd()).unwrap().minor(), -50);
    assert_eq!(
        Money::parse("12.345", Unit::iso("kwd").unwrap())
            .unwrap()
            .minor(),
        12_345
    );
    for bad in [
        "", "-", "1.234", "1.", "abc", "1,23.00", "1e3", "12,34", "1.2.3", "١٢",
    ] {
        assert!(
            Money::parse(bad, usd()).is_err(),
            "{bad:?} should be refused"
        );
    }
    assert!(Money::parse("1.5", Unit::iso("jpy").unwrap()).is_err());
    assert!(Money::parse("99999999999999999999", usd()).is_err());
}

/// What a person types, one answer or one error for every front end (the desktop sends the
/// text; the CLI's amount options are minor units, `parse_minor_units`).
#[test]
fn typed_amounts_have_one_reading() {
    let jpy = Unit::iso("jpy").unwrap();
    for (typed, minor) in [
        ("25", 2500),
        (" 25.5 ", 2550),
        ("+3", 300),
        ("-0.05", -5),
        ("0", 0),
        (".5", 50),
        ("1,234.56", 123_456),
        ("12,345,678.9", 1_234_567_890),
        ("$1,250", 125_000),
        ("-$12.00", -1200),
        ("$0.01", 1),
        // No float would keep these digits.
        ("90071992547409.93", 9_007_199_254_740_993),
    ] {
        assert_eq!(
            Money::parse(typed, usd()).map(|m| m.minor()).ok(),
            Some(minor),
            "{typed:?}"
        );
    }
    assert_eq!(Money::parse("¥1,235", jpy).unwrap().minor(), 1235);
    for (bad, why) in [
        ("12.345", "refusing to round"),
        ("12.340", "refusing to round"),
        ("1 250", "spaces inside"),
        ("1,25", "group digits by three"),
        ("12,3456.00", "group digits by three"),
        ("€12", "expected digits"),
        ("$-12", "expected digits"),
        ("--5", "expected digits"),
        ("1e3", "expected digits"),
        ("12.", "followed by digits"),
        ("", "no digits"),
        ("$", "no digits"),
        ("92,233,720,368,547,758.08", "too large"),
    ] {
        let e = Money::parse(bad, usd()).expect_err(bad).to_string();
        assert!(e.contains(why), "{bad:?}: {e}");
    }
    assert!(
        Money::parse("1.5", jpy)
            .unwrap_err()
            .to_string()
            .contains("0 decimal")
    );
}

#[test]
fn strict_minor_units_refuse_decimals_and_exponents() {
    assert_eq!(parse_minor_units("1250"), Ok(1250));
    assert_eq!(parse_minor_units("-7"), Ok(-7));
    for bad in [
        "12.50",
        "1e3",
        "",
        "-",
        "+5",
        " 7",
        "0x10",
        "9223372036854775808",
        "1_000",
    ] {
        assert!(parse_minor_units(bad).is_err(), "{bad:?}");
    }
    assert!(parse_minor_units("12.50").unwrap_err().contains("decimal"));
}

#[test]
fn mixing_units_is_an_error() {
    let eur = Unit::iso("eur").unwrap();
    let credits = Unit::new("ai_credit", 0, UnitKind::Commodity).unwrap();
    assert!(matches!(
        Money::new(1, usd()).checked_add(Money::new(1, eur)),
        Err(MoneyError::UnitMismatch { .. })
    ));
    assert!(
        Money::new(1, usd())
            .checked_sub(Money::new(1, credits))
            .is_err()
    );
    // A commodity with the same code as a currency is still a different unit.
    let fake = Unit::new("usd", 2, UnitKind::Commodity).unwrap();
    assert!(
        Money::new(1, usd())
            .checked_add(Money::new(1, fake))
            .is_err()
    );
}

#[test]
fn overflow_is_an_error_not_a_wrap() {
    assert!(matches!(
        Money::new(i64::MAX, usd()).checked_add(Money::new(1, usd())),
        Err(MoneyError::Overflow { .. })
    ));
    assert!(Money::new(i64::MIN, usd()).checked_neg().is_err());
    assert!(
        Money::new(i64::MIN, usd())
            .checked_sub(Money::new(1, usd()))
            .is_err()
    );
    assert!(Money::new(i64::MAX / 2 + 1, usd()).checked_mul(2).is_err());
}

#[test]
fn registry_knows_iso_and_declared_units_only() {
    let credits = Unit::new("SMS_credit", 0, UnitKind::Commodity).unwrap();
    assert_eq!(credits.code(), "sms_credit");
    let reg = UnitRegistry::new(vec![credits]);
    assert_eq!(reg.lookup("USD").unwrap(), usd());
    assert_eq!(reg.lookup("sms_credit").unwrap(), credits);
    assert!(matches!(
        reg.lookup("xxx1"),
        Err(MoneyError::UnknownUnit(_))
    ));
    assert!(Unit::new("1abc", 0, UnitKind::Commodity).is_err());
    assert!(Unit::new("a b", 0, UnitKind::Commodity).is_err());
    assert!(Unit::new("abc", 19, UnitKind::Commodity).is_err());
}

#[test]
fn half_even_rounding_examples() {
    // 7% of $1.50 = 10.5 cents -> 10 (tie to even); of $2.50 = 17.5 -> 18.
    assert_eq!(apply_bps_half_even(150, 700).unwrap(), 10);
    assert_eq!(apply_bps_half_even(250, 700).unwrap(), 18);
    assert_eq!(apply_bps_half_even(-250, 700).unwrap(), -18);
    assert_eq!(apply_bps_half_even(-150, 700).unwrap(), -10);
    assert_eq!(apply_bps_half_even(700_000, 700).unwrap(), 49_000); // seed 004: $7,000 -> $490
    assert_eq!(apply_bps_half_even(1, 5000).unwrap(), 0); // 0.5 -> 0
    assert_eq!(apply_bps_half_even(3, 5000).unwrap(), 2); // 1.5 -> 2
    assert_eq!(div_round_half_even(5, -2).unwrap(), -2);
    assert_eq!(div_round_half_even(7, -2).unwrap(), -4);
    assert!(div_round_half_even(1, 0).is_err());
    assert!(apply_bps_half_even(i64::MAX, 20_000).is_err());
}

fn any_unit() -> impl Strategy<Value = Unit> {
    (0..ISO_4217.len()).prop_map(|i| Unit::iso(ISO_4217[i].0).unwrap())
}

proptest! {
    #[test]
    fn format_then_parse_round_trips(minor in any::<i64>().prop_filter("MIN has no positive twin", |m| *m != i64::MIN), unit in any_unit()) {
        let m = Money::new(minor, unit);
        let text = m.format();
        let number = text.rsplit_once(' ').unwrap().0;
        prop_assert_eq!(Money::parse(number, unit).unwrap(), m);
        prop_assert_eq!(Money::parse(&m.to_decimal_string(), unit).unwrap(), m);
    }

    #[test]
    fn add_then_sub_is_identity_when_no_overflow(a in any::<i64>(), b in any::<i64>()) {
        let (x, y) = (Money::new(a, usd()), Money::new(b, usd()));
        match x.checked_add(y) {
            Ok(s) => prop_assert_eq!(s.checked_sub(y).unwrap(), x),
            Err(_) => prop_assert!(a.checked_add(b).is_none()),
        }
    }

    #[test]
    fn half_even_is_within_half_a_unit_and_ties_go_even(amount in -1_000_000_000_000i64..1_000_000_000_000, bps in 0u32..=10_000) {
        let r = apply_bps_half_even(amount, bps).unwrap();
        let exact_times_10k = i128::from(amount) * i128::from(bps);
        let err = (i128::from(r) * 10_000 - exact_times_10k).abs();
        prop_assert!(err <= 5_000);
        if err == 5_000 {
            prop_assert_eq!(r % 2, 0);
        }
    }

    #[test]
    fn half_even_is_odd_symmetric(amount in -1_000_000_000i64..1_000_000_000, bps in 0u32..=10_000) {
        prop_assert_eq!(apply_bps_half_even(-amount, bps).unwrap(), -apply_bps_half_even(amount, bps).unwrap());
    }

    #[test]
    fn fee_plus_net_is_gross(gross in 0i64..1_000_000_000_000, bps in 0u32..=10_000) {
        let fee = Money::new(gross, usd()).bps_half_even(bps).unwrap();
        let net = Money::new(gross, usd()).checked_sub(fee).unwrap();
        prop_assert_eq!(net.checked_add(fee).unwrap().minor(), gross);
        prop_assert!(fee.minor() >= 0 && fee.minor() <= gross);
    }
}
