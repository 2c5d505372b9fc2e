use super::*;
use crate::money::Unit;

fn leaf(account: &str, minor: i64) -> AccountBalance {
    AccountBalance {
        account: account.to_string(),
        balance: Money::new(minor, Unit::iso("usd").unwrap()).into(),
        postings: 1,
    }
}

/// Regression: `has_children` was computed in byte order, where `assets:bank-eur`
/// (`-` sorts before `:`) sits between `assets:bank` and `assets:bank:checking`.
#[test]
fn tree_marks_children_of_a_node_followed_by_a_dashed_sibling() {
    let leaves = [
        leaf("assets:bank-eur", 5),
        leaf("assets:bank2", 7),
        leaf("assets:bank:checking", 100),
        leaf("assets:bank:savings", 11),
    ];
    let tree = account_tree(&leaves).unwrap();
    let order: Vec<&str> = tree.iter().map(|n| n.account.as_str()).collect();
    assert_eq!(
        order,
        [
            "assets",
            "assets:bank",
            "assets:bank:checking",
            "assets:bank:savings",
            "assets:bank-eur",
            "assets:bank2"
        ]
    );
    let node = |a: &str| tree.iter().find(|n| n.account == a).unwrap();
    assert!(node("assets").has_children);
    assert!(node("assets:bank").has_children);
    assert!(!node("assets:bank-eur").has_children);
    assert!(!node("assets:bank:checking").has_children);
    assert_eq!(node("assets:bank").total[0].minor, 111);
    assert!(node("assets:bank").own.is_empty());
    assert_eq!(node("assets").total[0].minor, 123);
}
