use super::*;
use crate::payouts::compute::Eligibility;

#[test]
fn states_move_only_forward() {
    use BatchState::*;
    assert!(
        Draft.can_become(Approved) && Approved.can_become(Executing) && Executing.can_become(Done)
    );
    assert!(Draft.can_become(Rejected) && Draft.can_become(Superseded));
    for (a, b) in [
        (Approved, Draft),
        (Done, Executing),
        (Rejected, Draft),
        (Draft, Executing),
        (Approved, Rejected),
        (Superseded, Approved),
    ] {
        assert!(!a.can_become(b), "{a:?} → {b:?}");
    }
}

/// [`ELIGIBILITY_SQL`] evaluated on one mirrored account (`None`: not mirrored).
fn eligibility_of(raw: Option<&str>, currency: &str) -> Eligibility {
    let c = rusqlite::Connection::open_in_memory().unwrap();
    let sql = format!(
        "SELECT {ELIGIBILITY_SQL} FROM (SELECT 'cr_1' AS author_id) a
         LEFT JOIN (SELECT 'acct_1' AS id, ?1 AS raw) s ON ?1 IS NOT NULL"
    );
    let e: String = c
        .query_row(&sql, rusqlite::params![raw, currency], |r| r.get(0))
        .unwrap();
    Eligibility::parse(&e).unwrap()
}

#[test]
fn eligibility_reads_the_mirrored_account() {
    let ok = r#"{"capabilities":{"transfers":"active"},"payouts_enabled":true,"default_currency":"usd","external_accounts":{"data":[]}}"#;
    assert_eq!(eligibility_of(Some(ok), "usd"), Eligibility::Eligible);
    assert_eq!(
        eligibility_of(Some(ok), "eur"),
        Eligibility::CurrencyUnsupported
    );
    let ext = r#"{"capabilities":{"transfers":"active"},"payouts_enabled":true,"default_currency":"gbp","external_accounts":{"data":[{"currency":"usd"}]}}"#;
    assert_eq!(eligibility_of(Some(ext), "usd"), Eligibility::Eligible);
    let inactive = r#"{"capabilities":{"transfers":"inactive"},"payouts_enabled":false}"#;
    assert_eq!(
        eligibility_of(Some(inactive), "usd"),
        Eligibility::TransfersInactive
    );
    let no_payouts = r#"{"capabilities":{"transfers":"active"},"payouts_enabled":false}"#;
    assert_eq!(
        eligibility_of(Some(no_payouts), "usd"),
        Eligibility::PayoutsDisabled
    );
    assert_eq!(eligibility_of(None, "usd"), Eligibility::AccountNotSynced);
}
