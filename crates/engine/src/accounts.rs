//! The workspace's chart of accounts mapped onto the roles of `contracts/BOOKING.md`.
//!
//! A platform books Stripe money, creator obligations, fees and revenue into accounts it
//! names itself (`1010 Stripe Balance`, `stripe_clearing`, …). Every place Closebook means
//! a role — what is reconciled against Stripe, where an adjustment or a transfer is booked,
//! whose obligation a creator's account is — asks this map, never a hard-coded name. The
//! defaults are BOOKING.md's. The map is kept in `workspace_meta` (`account_role.<role>`),
//! changed only through [`set`] (audited; flagged to reconciliation when a day is sealed).

use rusqlite::Connection;
use serde::Serialize;

use crate::payouts::PayoutError;
use crate::payouts::people::{self, Action, Signer};
use crate::workspace::Workspace;
use crate::{OpContext, audit};

/// A role an account plays in the platform's books.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The accounts reconciled against Stripe: this account and every account below it.
    StripeAccounts,
    /// Where Closebook books Stripe money (adjustments, transfers it makes): within the above.
    StripeBalance,
    Bank,
    /// A parent: one account per subscriber below it (`<parent>:<user_id>`).
    SubscriberFunds,
    /// A parent: one account per creator below it (`<parent>:<author_id>`).
    CreatorObligations,
    StripeFees,
    Disputes,
    PlatformFees,
    Unallocated,
}

/// How a role's account is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleShape {
    /// The account itself and everything below it.
    Subtree,
    /// Exactly this account.
    Account,
    /// The accounts directly below it, one per person.
    Parent,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::StripeAccounts,
        Role::StripeBalance,
        Role::Bank,
        Role::SubscriberFunds,
        Role::CreatorObligations,
        Role::StripeFees,
        Role::Disputes,
        Role::PlatformFees,
        Role::Unallocated,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Role::StripeAccounts => "stripe_accounts",
            Role::StripeBalance => "stripe_balance",
            Role::Bank => "bank",
            Role::SubscriberFunds => "subscriber_funds",
            Role::CreatorObligations => "creator_obligations",
            Role::StripeFees => "stripe_fees",
            Role::Disputes => "disputes",
            Role::PlatformFees => "platform_fees",
            Role::Unallocated => "unallocated",
        }
    }

    /// A role by its name (`stripe_balance`, or `stripe-balance` as a command line writes it).
    pub fn parse(s: &str) -> Option<Role> {
        let s = s.trim().replace('-', "_");
        Role::ALL.into_iter().find(|r| r.name() == s)
    }

    /// What the role is, in a person's words.
    pub fn label(self) -> &'static str {
        match self {
            Role::StripeAccounts => "Reconciled against Stripe (this account and below)",
            Role::StripeBalance => "Stripe balance (where Closebook books Stripe money)",
            Role::Bank => "Bank (reached by Stripe payouts)",
            Role::SubscriberFunds => "Subscriber funds (one account per subscriber below it)",
            Role::CreatorObligations => "Creator obligations (one account per creator below it)",
            Role::StripeFees => "Stripe fees",
            Role::Disputes => "Disputes",
            Role::PlatformFees => "Platform fees",
            Role::Unallocated => "Unallocated subscription money",
        }
    }

    pub fn default_account(self) -> &'static str {
        match self {
            Role::StripeAccounts => "assets:stripe",
            Role::StripeBalance => "assets:stripe:payments",
            Role::Bank => "assets:bank",
            Role::SubscriberFunds => "liabilities:subscribers",
            Role::CreatorObligations => "liabilities:creators",
            Role::StripeFees => "expenses:stripe_fees",
            Role::Disputes => "expenses:disputes",
            Role::PlatformFees => "income:platform_fees",
            Role::Unallocated => "income:unallocated",
        }
    }

    pub fn shape(self) -> RoleShape {
        match self {
            Role::StripeAccounts => RoleShape::Subtree,
            Role::SubscriberFunds | Role::CreatorObligations => RoleShape::Parent,
            _ => RoleShape::Account,
        }
    }

    fn setting(self) -> String {
        format!("account_role.{}", self.name())
    }
}

/// Whether `account` is `root` or lies below it.
pub fn within(account: &str, root: &str) -> bool {
    account == root
        || account
            .strip_prefix(root)
            .is_some_and(|rest| rest.starts_with(':'))
}

/// A string as an SQL literal (account names hold no control characters: [`valid_account`]).
pub(crate) fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The ledger's account-name rule, for the accounts a platform books and the ones a person
/// maps or chooses: a colon-separated path with no empty part; a part may hold single
/// spaces between words (`1010 Stripe Balance`), not at its ends, and no tab, newline or
/// other control character (a journal's account ends at two spaces or a tab).
pub fn valid_account(account: &str) -> Result<(), &'static str> {
    if account.split(':').any(|seg| seg.is_empty()) {
        return Err(
            "an account is a colon-separated path with no empty part, e.g. assets:stripe:payments",
        );
    }
    if account
        .chars()
        .any(|c| c.is_control() || (c.is_whitespace() && c != ' '))
    {
        return Err("an account name may not contain tabs, line breaks or control characters");
    }
    if account
        .split(':')
        .any(|seg| seg.starts_with(' ') || seg.ends_with(' ') || seg.contains("  "))
    {
        return Err(
            "an account name may hold single spaces between words, not at the ends of a part or two in a row",
        );
    }
    Ok(())
}

/// The workspace's accounts per role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleMap {
    accounts: [String; 9],
}

impl Default for RoleMap {
    fn default() -> RoleMap {
        RoleMap {
            accounts: Role::ALL.map(|r| r.default_account().to_string()),
        }
    }
}

impl RoleMap {
    pub fn get(&self, role: Role) -> &str {
        &self.accounts[role as usize]
    }

    /// Every role with its account, in [`Role::ALL`] order.
    pub fn entries(&self) -> impl Iterator<Item = (Role, &str)> {
        Role::ALL.into_iter().map(|r| (r, self.get(r)))
    }

    pub fn is_default(&self) -> bool {
        *self == RoleMap::default()
    }

    /// A creator's obligation account.
    pub fn creator(&self, author_id: &str) -> String {
        format!("{}:{author_id}", self.get(Role::CreatorObligations))
    }

    /// A subscriber's funds account.
    pub fn subscriber(&self, user_id: &str) -> String {
        format!("{}:{user_id}", self.get(Role::SubscriberFunds))
    }

    /// The SQL condition selecting the accounts reconciled against Stripe, written as a
    /// range over the account (so it reads an index) with the root as a literal: the
    /// reconciliation index is partial on exactly this range ([`reconcile_index_sql`]).
    pub fn stripe_sql(&self) -> String {
        let root = self.get(Role::StripeAccounts);
        format!(
            "account >= {lo} AND account < {hi} AND (account = {lo} OR account >= {below})",
            lo = literal(root),
            hi = literal(&format!("{root};")),
            below = literal(&format!("{root}:")),
        )
    }

    /// The SQL range of the accounts directly or indirectly below `role`'s account:
    /// `(lower bound inclusive, upper bound exclusive)` (';' follows ':').
    pub fn below_range(&self, role: Role) -> (String, String) {
        let a = self.get(role);
        (format!("{a}:"), format!("{a};"))
    }

    /// Whether `account` is one of the accounts reconciled against Stripe.
    pub fn is_stripe(&self, account: &str) -> bool {
        within(account, self.get(Role::StripeAccounts))
    }

    /// The map's own consistency: every account well formed; Closebook's Stripe balance
    /// within the reconciled accounts; no other role's account reconciled against Stripe
    /// (it would count as Stripe money); subscribers and creators apart.
    fn check(&self) -> Result<(), String> {
        for (role, account) in self.entries() {
            valid_account(account).map_err(|why| format!("{}: `{account}`: {why}", role.name()))?;
            if account.chars().count() > MAX_ACCOUNT_CHARS {
                return Err(format!(
                    "{}: an account name is at most {MAX_ACCOUNT_CHARS} characters",
                    role.name()
                ));
            }
        }
        let root = self.get(Role::StripeAccounts);
        if !within(self.get(Role::StripeBalance), root) {
            return Err(format!(
                "stripe_balance `{}` must be `{root}` or an account below it: Closebook's own Stripe bookings are reconciled with the rest",
                self.get(Role::StripeBalance)
            ));
        }
        for (role, account) in self.entries() {
            if !matches!(role, Role::StripeAccounts | Role::StripeBalance) && within(account, root)
            {
                return Err(format!(
                    "{} `{account}` lies within the accounts reconciled against Stripe (`{root}`): its postings would count as money at Stripe",
                    role.name()
                ));
            }
        }
        let (s, c) = (
            self.get(Role::SubscriberFunds),
            self.get(Role::CreatorObligations),
        );
        if within(s, c) || within(c, s) {
            return Err(format!(
                "subscriber_funds `{s}` and creator_obligations `{c}` must be apart: neither within the other"
            ));
        }
        Ok(())
    }
}

/// Longest account name a person may map (a platform's own names are taken as they come).
pub const MAX_ACCOUNT_CHARS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("{0}")]
    BadInput(String),
    #[error(transparent)]
    Payouts(#[from] PayoutError),
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
}

/// The workspace's map (defaults for every role not set).
pub fn load(conn: &Connection) -> Result<RoleMap, rusqlite::Error> {
    let mut map = RoleMap::default();
    for role in Role::ALL {
        if let Some(a) = crate::workspace::setting(conn, &role.setting())? {
            map.accounts[role as usize] = a;
        }
    }
    Ok(map)
}

/// The DDL of the reconciliation's covering index, partial on the map's Stripe accounts.
pub(crate) fn reconcile_index_sql(map: &RoleMap) -> String {
    format!(
        "CREATE INDEX ledger_postings_reconcile ON ledger_postings
            (created_at, stripe_object_id, entry_id, entry_type, amount_minor, currency, origin, account)
            WHERE {}",
        map.stripe_sql()
    )
}

/// `changes` applied to `old`, checked: what [`set`] would store (a workspace being
/// created checks its map with this before anything is written). The flag says the
/// reconciled accounts followed a Stripe balance mapped outside them.
pub fn apply(old: &RoleMap, changes: &[(Role, String)]) -> Result<(RoleMap, bool), AccountsError> {
    let mut map = old.clone();
    for (role, account) in changes {
        let account = account.trim();
        valid_account(account).map_err(|why| {
            AccountsError::BadInput(format!("{}: `{account}`: {why}", role.name()))
        })?;
        map.accounts[*role as usize] = account.to_string();
    }
    let gives_root = changes.iter().any(|(r, _)| *r == Role::StripeAccounts);
    let mut followed = false;
    if !gives_root && !within(map.get(Role::StripeBalance), map.get(Role::StripeAccounts)) {
        map.accounts[Role::StripeAccounts as usize] = map.get(Role::StripeBalance).to_string();
        followed = true;
    }
    map.check().map_err(AccountsError::BadInput)?;
    Ok((map, followed))
}

/// Parses `role=account` (as `closebook init --map` takes it).
pub fn parse_assignment(text: &str) -> Result<(Role, String), AccountsError> {
    let (role, account) = text.split_once('=').ok_or_else(|| {
        AccountsError::BadInput(format!(
            "`{text}` is not ROLE=ACCOUNT (roles: {})",
            Role::ALL.map(|r| r.name()).join(", ")
        ))
    })?;
    let role = Role::parse(role).ok_or_else(|| {
        AccountsError::BadInput(format!(
            "`{role}` is not a role; roles: {}",
            Role::ALL.map(|r| r.name()).join(", ")
        ))
    })?;
    Ok((role, account.trim().to_string()))
}

/// What [`set`] did.
#[derive(Debug, Clone, Serialize)]
pub struct MapChange {
    pub map: RoleMap,
    /// `(role, old, new)` for each role whose account changed.
    pub changed: Vec<(Role, String, String)>,
    /// The reconciled accounts followed a Stripe balance mapped outside them.
    pub stripe_accounts_followed: bool,
    /// A reconciled day was sealed: the next snapshot reports the change.
    pub flagged_sealed_day: Option<String>,
}

/// Maps roles to accounts (only those given change). Mapping the Stripe balance outside the
/// reconciled accounts, without mapping those too, makes the Stripe balance itself the
/// reconciled account. Recorded in the audit log; after a reconciled day, recorded as a
/// change to sealed data so that the next snapshot reports it. Once the roster has an
/// admin, only an admin (`by`) changes the map.
pub fn set(
    ws: &Workspace,
    by: Option<&Signer>,
    changes: &[(Role, String)],
    ctx: &OpContext,
) -> Result<MapChange, AccountsError> {
    let actor = people::admin_actor(ws, by, Action::MapAccounts, ctx)?;
    let old = load(&ws.conn)?;
    let (map, followed) = apply(&old, changes)?;
    let changed: Vec<(Role, String, String)> = Role::ALL
        .into_iter()
        .filter(|r| old.get(*r) != map.get(*r))
        .map(|r| (r, old.get(r).to_string(), map.get(r).to_string()))
        .collect();
    if changed.is_empty() {
        return Ok(MapChange {
            map,
            changed,
            stripe_accounts_followed: false,
            flagged_sealed_day: None,
        });
    }
    let sealed = crate::reconcile::sealed_until(ws)?;
    let tx = ws.conn.unchecked_transaction()?;
    for (role, _, new) in &changed {
        crate::workspace::set_setting(&tx, &role.setting(), new)?;
    }
    if old.get(Role::StripeAccounts) != map.get(Role::StripeAccounts) {
        // The reconciliation index covers exactly the reconciled accounts.
        tx.execute_batch("DROP INDEX IF EXISTS ledger_postings_reconcile")?;
        tx.execute_batch(&reconcile_index_sql(&map))?;
    }
    let what: Vec<String> = changed
        .iter()
        .map(|(r, o, n)| format!("{} {o} → {n}", r.name()))
        .collect();
    if let Some((day, until)) = &sealed {
        crate::reconcile::record_sealed_map_change(&tx, day, *until, &what.join(", "), ctx)?;
    }
    audit::append(
        &tx,
        ctx.now,
        &actor,
        "settings.accounts",
        &format!("account map: {}", what.join(", ")),
        &serde_json::json!({
            "changed": changed.iter().map(|(r, o, n)| serde_json::json!({"role": r.name(), "from": o, "to": n})).collect::<Vec<_>>(),
            "map": map.entries().map(|(r, a)| (r.name(), a)).collect::<std::collections::BTreeMap<_, _>>(),
        }),
    )?;
    tx.commit()?;
    Ok(MapChange {
        map,
        changed,
        stripe_accounts_followed: followed,
        flagged_sealed_day: sealed.map(|(d, _)| d),
    })
}

/// The ledger's accounts by name, at most `limit` of them (all with `None`); read from the
/// kept totals: a chart to choose roles from, or to find the roles no account plays.
pub fn ledger_accounts(
    conn: &Connection,
    limit: Option<usize>,
) -> Result<Vec<String>, rusqlite::Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT account FROM ledger_account_totals ORDER BY account LIMIT ?1",
    )?;
    // SQLite reads a negative LIMIT as none.
    let limit = limit.and_then(|l| i64::try_from(l).ok()).unwrap_or(-1);
    stmt.query_map([limit], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()
}

/// A role no account of the ledger plays yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleGap {
    pub role: Role,
    pub account: String,
    pub message: String,
}

/// The roles that no account of the ledger plays (read from the kept totals: a few
/// thousand rows). Empty for an empty ledger. Disputes and bank are reported too: a new
/// platform may simply have had none, which the message says.
pub fn gaps(conn: &Connection) -> Result<Vec<RoleGap>, rusqlite::Error> {
    let map = load(conn)?;
    let accounts = ledger_accounts(conn, None)?;
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (role, account) in map.entries() {
        let played = accounts.iter().any(|a| match role.shape() {
            RoleShape::Subtree => within(a, account),
            RoleShape::Account => a == account,
            RoleShape::Parent => a.len() > account.len() && within(a, account),
        });
        if !played {
            let hint = match role {
                Role::Disputes | Role::Bank | Role::StripeFees => {
                    " (a platform that has had none yet may leave it as it is)"
                }
                _ => "",
            };
            out.push(RoleGap {
                role,
                account: account.to_string(),
                message: format!(
                    "no account of the ledger is the {} role's `{account}`{}: if the platform names it otherwise, map it with `closebook accounts map --{} ACCOUNT`{hint}",
                    role.name(),
                    if role.shape() == RoleShape::Parent { " (or below it)" } else { "" },
                    role.name().replace('_', "-"),
                ),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_defaults_are_bookings() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.name()), Some(r));
            assert_eq!(Role::parse(&r.name().replace('_', "-")), Some(r));
        }
        assert_eq!(Role::parse("nothing"), None);
        let m = RoleMap::default();
        assert!(m.is_default());
        assert_eq!(m.creator("cr_1"), "liabilities:creators:cr_1");
        assert_eq!(m.subscriber("u_1"), "liabilities:subscribers:u_1");
        assert!(m.check().is_ok());
    }

    #[test]
    fn within_means_the_account_or_below_it() {
        assert!(within("assets:stripe", "assets:stripe"));
        assert!(within("assets:stripe:payments", "assets:stripe"));
        assert!(!within("assets:stripe2", "assets:stripe"));
        assert!(!within("assets:stripe-eur", "assets:stripe"));
        assert!(!within("assets", "assets:stripe"));
        assert!(within("1010 Stripe Balance", "1010 Stripe Balance"));
    }

    #[test]
    fn account_names_allow_single_spaces_between_words() {
        assert!(valid_account("1010 Stripe Balance").is_ok());
        assert!(valid_account("Assets:Stripe Clearing:USD").is_ok());
        for bad in [
            "", "a::b", ":a", " a", "a ", "a  b", "a\tb", "a\nb", "a: b", "a\u{7}b",
        ] {
            assert!(valid_account(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_stripe_condition_is_a_quoted_range() {
        let mut m = RoleMap::default();
        assert_eq!(
            m.stripe_sql(),
            "account >= 'assets:stripe' AND account < 'assets:stripe;' AND (account = 'assets:stripe' OR account >= 'assets:stripe:')"
        );
        m.accounts[Role::StripeAccounts as usize] = "O'Brien Stripe".into();
        assert!(m.stripe_sql().contains("'O''Brien Stripe'"));
    }

    #[test]
    fn an_inconsistent_map_is_refused() {
        let mut m = RoleMap::default();
        m.accounts[Role::StripeBalance as usize] = "1010 Stripe Balance".into();
        assert!(m.check().unwrap_err().contains("stripe_balance"));
        let mut m = RoleMap::default();
        m.accounts[Role::StripeFees as usize] = "assets:stripe:fees".into();
        assert!(m.check().unwrap_err().contains("stripe_fees"));
        let mut m = RoleMap::default();
        m.accounts[Role::CreatorObligations as usize] = "liabilities:subscribers:creators".into();
        assert!(m.check().unwrap_err().contains("apart"));
    }
}
